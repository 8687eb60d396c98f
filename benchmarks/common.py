"""Shared pieces of the server benchmarks: a small Trio IMAP client, sample messages, percentiles.

``ImapConnection`` speaks just enough IMAP for load generation against any server: tagged commands,
responses read whole (a line plus its literals), synchronizing literals for APPEND, and IDLE. It keeps
no parsed state; callers look at the raw responses. Every read is bounded by ``trio.fail_after`` in the
caller or by the benchmark's overall deadline.
"""

from __future__ import annotations

import mailbox
import math
import os
import re
from pathlib import Path

import trio

SAMPLE_MBOX = Path("/work/shared/data/sample-500.mbox")
_LITERAL_AT_END = re.compile(rb"~?\{(\d+)\+?\}\r\n$")


class ImapError(Exception):
    pass


class ImapConnection:
    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self._buffer = bytearray()
        self._counter = 0

    @classmethod
    async def open(cls, host: str, port: int) -> ImapConnection:
        stream = await trio.open_tcp_stream(host, port)
        connection = cls(stream)
        greeting = await connection.read_response()
        if not greeting.startswith(b"* OK"):
            await stream.aclose()
            raise ImapError(f"unexpected greeting {greeting[:100]!r}")
        return connection

    async def _fill(self) -> None:
        data = await self.stream.receive_some(65536)
        if not data:
            raise ImapError("connection closed by the server")
        self._buffer += data

    async def _read_line(self) -> bytes:
        while True:
            index = self._buffer.find(b"\r\n")
            if index >= 0:
                line = bytes(self._buffer[: index + 2])
                del self._buffer[: index + 2]
                return line
            await self._fill()

    async def read_response(self) -> bytes:
        out = b""
        while True:
            line = await self._read_line()
            out += line
            match = _LITERAL_AT_END.search(line)
            if not match:
                return out[:-2]
            size = int(match.group(1))
            while len(self._buffer) < size:
                await self._fill()
            out += bytes(self._buffer[:size])
            del self._buffer[:size]

    def next_tag(self) -> bytes:
        self._counter += 1
        return b"b%d" % self._counter

    async def command(self, text: bytes, literal: bytes | None = None) -> tuple[list[bytes], bytes]:
        """Send ``tag text`` (with one synchronizing literal appended if given); returns (untagged, tagged)."""
        tag = self.next_tag()
        untagged: list[bytes] = []
        if literal is None:
            await self.stream.send_all(tag + b" " + text + b"\r\n")
        else:
            await self.stream.send_all(tag + b" " + text + b" {%d}\r\n" % len(literal))
            while True:
                response = await self.read_response()
                if response.startswith(b"+"):
                    break
                if response.startswith(tag + b" "):
                    return untagged, response
                untagged.append(response)
            await self.stream.send_all(literal + b"\r\n")
        while True:
            response = await self.read_response()
            if response.startswith(tag + b" "):
                return untagged, response
            untagged.append(response)

    async def ok(self, text: bytes, literal: bytes | None = None) -> tuple[list[bytes], bytes]:
        untagged, tagged = await self.command(text, literal)
        if tagged.split(b" ", 2)[1:2] != [b"OK"]:
            raise ImapError(f"{text[:60]!r} failed: {tagged[:200]!r}")
        return untagged, tagged

    async def aclose(self) -> None:
        with trio.move_on_after(2) as scope:
            scope.shield = True
            try:
                await self.stream.aclose()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                pass


def sample_messages(count: int, max_bytes: int = 200_000) -> list[bytes]:
    """Up to ``count`` messages from the sample mbox (CRLF line ends), skipping very large ones."""
    messages: list[bytes] = []
    if SAMPLE_MBOX.exists():
        for message in mailbox.mbox(str(SAMPLE_MBOX)):
            raw = message.as_bytes()
            raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            if len(raw) <= max_bytes:
                messages.append(raw)
            if len(messages) >= count:
                break
    while len(messages) < count:  # no sample file: synthetic messages of a few KB
        n = len(messages)
        body = "".join(f"Line {i} of synthetic message {n}.\r\n" for i in range(60))
        messages.append(
            (
                f"From: Sender {n} <sender{n}@example.org>\r\nTo: user@example.org\r\n"
                f"Subject: Synthetic {n}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
                f"Message-ID: <synthetic-{n}@example.org>\r\n\r\n{body}"
            ).encode()
        )
    return messages


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def read_rss_kib(pid: int) -> int:
    """Resident set size of a server in KiB, its worker processes included (``tests/support``)."""
    from support.workers_kit import tree_rss_kib

    return tree_rss_kib(pid)


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and all its descendants: those alive,
    and those that exited and were reaped (in their parent's cutime/cstime), so that Dovecot's short
    per-login processes count as much as imapcore's long-lived workers. Linux /proc only."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited meanwhile
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
    members = {pid}
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in members and child not in members:
                members.add(child)
                grew = True
    return sum(times.get(member, 0.0) for member in members)


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards ``wanted`` (capped by the hard limit)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
