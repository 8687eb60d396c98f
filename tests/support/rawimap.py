"""A minimal blocking IMAP client over a plain socket, for scripted sessions and raw commands (IDLE).

Libraries hide the wire; the oracle transcripts and a few client tests need it: exact command bytes out,
exact responses in. ``RawSession`` reads whole responses (a response line plus any literals it carries,
``{n}`` and ``~{n}``), sends synchronizing literals by waiting for the server's ``+`` continuation, and
bounds every wait with a socket timeout and an overall deadline.

    with RawSession("127.0.0.1", port) as s:
        s.command(b"LOGIN alice secret")
        untagged, tagged = s.command(b"SELECT INBOX")
"""

from __future__ import annotations

import re
import socket
import time

_LITERAL_AT_END = re.compile(rb"~?\{(\d+)\+?\}\r\n$")
_TAGGED = re.compile(rb"^([A-Za-z0-9.]+) (OK|NO|BAD)\b", re.I)


class ImapTimeout(Exception):
    pass


def make_message(
    subject: str = "Hello",
    body: str = "Hello there.\r\n",
    sender: str = "Alice Example <alice@example.org>",
    to: str = "Bob Example <bob@example.org>",
    date: str = "Mon, 01 Jan 2024 10:00:00 +0000",
    message_id: str | None = None,
    extra_headers: str = "",
) -> bytes:
    """A small RFC 5322 message with CRLF line ends."""
    mid = message_id or f"<{abs(hash((subject, body))) % 10**12}@example.org>"
    text = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {mid}\r\n"
        f"{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}"
    )
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


class RawSession:
    """One connection; ``command`` sends ``TAG text`` and returns (untagged responses, tagged line)."""

    def __init__(self, host: str, port: int, timeout: float = 10.0, tag_prefix: str = "t") -> None:
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._buffer = b""
        self._counter = 0
        self.tag_prefix = tag_prefix
        self.greeting = self.read_response()

    # -- reading ---------------------------------------------------------------------------------------

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ImapTimeout("no data before the deadline")
        self.sock.settimeout(min(remaining, self.timeout))
        try:
            data = self.sock.recv(65536)
        except socket.timeout as exc:
            raise ImapTimeout("no data before the deadline") from exc
        if not data:
            raise ConnectionError("server closed the connection")
        self._buffer += data

    def _read_line(self, deadline: float) -> bytes:
        while b"\r\n" not in self._buffer:
            self._fill(deadline)
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line + b"\r\n"

    def _read_exact(self, size: int, deadline: float) -> bytes:
        while len(self._buffer) < size:
            self._fill(deadline)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read_response(self, timeout: float | None = None) -> bytes:
        """One complete response (with literals inlined), without the final CRLF."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        out = b""
        while True:
            line = self._read_line(deadline)
            out += line
            match = _LITERAL_AT_END.search(line)
            if not match:
                return out[:-2]
            out += self._read_exact(int(match.group(1)), deadline)

    def has_buffered(self) -> bool:
        return bool(self._buffer)

    # -- writing ---------------------------------------------------------------------------------------

    def next_tag(self) -> str:
        self._counter += 1
        return f"{self.tag_prefix}{self._counter}"

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_command(self, text: bytes, literals: tuple[bytes, ...] = (), tag: str | None = None) -> str:
        """Send ``TAG text``; each ``{}`` placeholder in ``text`` takes the next literal (synchronizing).

        Untagged responses that arrive while waiting for a continuation are kept for the caller.
        """
        tag = tag or self.next_tag()
        pieces = text.split(b"{}")
        if len(pieces) - 1 != len(literals):
            raise ValueError("literal placeholders and literals differ in number")
        self.pending: list[bytes] = []
        self.send(tag.encode() + b" " + pieces[0])
        for literal, rest in zip(literals, pieces[1:]):
            self.send(b"{%d}\r\n" % len(literal))
            while True:
                response = self.read_response()
                if response.startswith(b"+"):
                    break
                self.pending.append(response)
                if response.startswith(tag.encode() + b" "):
                    return tag  # refused before the literal: the tagged answer is in pending
            self.send(literal + rest)
        self.send(b"\r\n")
        return tag

    def collect(self, tag: str, timeout: float | None = None) -> tuple[list[bytes], bytes]:
        """Read until the tagged response for ``tag``; returns (untagged and continuations, tagged)."""
        untagged = list(getattr(self, "pending", []))
        self.pending = []
        for index, response in enumerate(untagged):
            if response.startswith(tag.encode() + b" "):
                return untagged[:index], response
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            response = self.read_response(max(0.01, deadline - time.monotonic()))
            if response.startswith(tag.encode() + b" "):
                return untagged, response
            untagged.append(response)

    def command(self, text: bytes | str, literals: tuple[bytes, ...] = (), timeout: float | None = None):
        if isinstance(text, str):
            text = text.encode()
        tag = self.send_command(text, literals)
        return self.collect(tag, timeout)

    def wait_for(self, pattern: bytes, timeout: float) -> list[bytes]:
        """Read responses until one matches the regex ``pattern``; returns all read, in order."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            response = self.read_response(max(0.01, deadline - time.monotonic()))
            seen.append(response)
            if re.search(pattern, response):
                return seen

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> RawSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def login(host: str, port: int, user: str, password: str, timeout: float = 10.0) -> RawSession:
    session = RawSession(host, port, timeout=timeout)
    _, tagged = session.command(f'LOGIN "{user}" "{password}"')
    if b" OK" not in tagged:
        session.close()
        raise RuntimeError(f"LOGIN failed: {tagged!r}")
    return session
