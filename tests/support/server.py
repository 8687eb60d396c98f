"""Start the real imapcore server for tests, and a tiny line-based IMAP client to talk to it.

In process (Trio tests)::

    async with running_server(tmp_path, users={"alice": "secret"}) as srv:
        client = await ImapTestClient.connect(srv.port)
        ...                       # srv.tls_port, srv.store (deliver with srv.store.append(...))

As a subprocess (the real ``python -m imapcore serve``, for real clients and signal tests)::

    with server_process(tmp_path, users={"alice": "secret"}) as srv:
        imaplib.IMAP4("127.0.0.1", srv.port)   # srv.tls_port, srv.data_dir, srv.process

Both bind random loopback ports (``--listen 127.0.0.1:0``) and read the actual ones back, so tests never
guess ports or sleep to wait for the server. Users are created straight in the store before the server
starts (argon2 hashing costs ~0.1 s per user).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import select
import signal
import ssl
import subprocess
import sys
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import trio

from imapcore.server.config import Config, Timeouts
from imapcore.server.users import add_user
from imapcore.store import InProcessFeed, Store


def create_users(data_dir: Path, users: dict[str, str] | None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if not users:
        return
    with Store.open(data_dir) as store:
        existing = set(store.users())
        for name, password in users.items():
            if name not in existing:
                add_user(store, name, password)


# --- in process ---------------------------------------------------------------------------------------


@dataclass
class RunningServer:
    port: int
    tls_port: int
    store: Store
    config: Config
    data_dir: Path
    shutdown: trio.Event

    def client_ssl_context(self) -> ssl.SSLContext:
        """Trusts the server's self-signed certificate (generated in the data directory)."""
        context = ssl.create_default_context(cafile=str(self.data_dir / "tls-selfsigned-cert.pem"))
        context.check_hostname = False
        return context


@asynccontextmanager
async def running_server(tmp_path: Path, users: dict[str, str] | None = None, **config_fields):
    """Run ``imapcore.server.app.serve`` in this Trio run; ``config_fields`` override ``Config``
    fields (``timeouts=Timeouts(...)``, ``limits=Limits(...)``)."""
    from imapcore.server.app import serve

    data_dir = Path(tmp_path) / "imapcore-data"
    create_users(data_dir, users)
    config = Config(data_dir=str(data_dir), listen=("127.0.0.1:0",), listen_tls=("127.0.0.1:0",), **config_fields)
    store = Store.open(data_dir, feed=InProcessFeed())
    shutdown = trio.Event()
    try:
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(
                functools.partial(serve, config, shutdown=shutdown, handle_signals=False, store=store)
            )
            port = next(b.port for b in bound if b.kind == "STARTTLS")
            tls_port = next(b.port for b in bound if b.kind == "TLS")
            try:
                yield RunningServer(port, tls_port, store, config, data_dir, shutdown)
            finally:
                shutdown.set()
    finally:
        store.close()


def quick_timeouts(**fields) -> Timeouts:
    """Timeouts suited to tests (short grace, handshake and pre-login timers)."""
    base = dict(tls_handshake_s=5.0, pre_login_s=30.0, shutdown_grace_s=2.0, send_stall_s=10.0)
    base.update(fields)
    return dataclasses.replace(Timeouts(), **base)


# --- subprocess ---------------------------------------------------------------------------------------


@dataclass
class ServerProcess:
    process: subprocess.Popen
    port: int
    tls_port: int
    data_dir: Path
    output: list[str]  # stdout lines read so far

    def read_stdout_until_exit(self, timeout: float = 15.0) -> str:
        out, _ = self.process.communicate(timeout=timeout)
        return "".join(self.output) + (out or b"").decode()


_LISTEN = re.compile(r"listening on (?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\s]+)):(?P<port>\d+) \((?P<kind>\w+)\)")


@contextmanager
def server_process(tmp_path: Path, users: dict[str, str] | None = None, extra_args: tuple[str, ...] = (),
                   start_timeout: float = 30.0, env: dict[str, str] | None = None):
    """Run ``python -m imapcore serve`` on random loopback ports; stop it (SIGTERM, then SIGKILL) at
    the end. Its log (stderr) goes to ``data_dir/server.log``."""
    data_dir = Path(tmp_path) / "imapcore-data"
    create_users(data_dir, users)
    log = open(data_dir / "server.log", "ab")
    command = [sys.executable, "-m", "imapcore", "serve", "--data-dir", str(data_dir),
               "--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", *extra_args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log,
                               env={**os.environ, **(env or {})})
    output: list[str] = []
    ports: dict[str, int] = {}
    pending = b""
    try:
        deadline = time.monotonic() + start_timeout
        while len(ports) < 2:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                raise RuntimeError(f"imapcore serve did not start: {''.join(output)!r}, see {data_dir / 'server.log'}")
            # Unbuffered reads of the pipe: a buffered readline could hide a second line from select.
            ready, _, _ = select.select([process.stdout], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                continue
            pending += chunk
            while b"\n" in pending:
                raw_line, _, pending = pending.partition(b"\n")
                line = raw_line.decode() + "\n"
                output.append(line)
                match = _LISTEN.search(line)
                if match:
                    ports[match["kind"]] = int(match["port"])
        if pending:
            output.append(pending.decode())
        yield ServerProcess(process, ports["STARTTLS"], ports["TLS"], data_dir, output)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()
        log.close()


# --- a tiny client --------------------------------------------------------------------------------------


class ImapTestClient:
    """Line-based IMAP client for transcript tests: send raw bytes, read response lines (a literal is
    read whole and appended to its line). Every read is bounded by ``timeout`` seconds."""

    def __init__(self, stream: trio.abc.Stream, timeout: float = 10.0) -> None:
        self.stream = stream
        self.timeout = timeout
        self._buffer = bytearray()

    @classmethod
    async def connect(cls, port: int, *, tls_context: ssl.SSLContext | None = None, timeout: float = 10.0,
                      read_greeting: bool = True):
        stream: trio.abc.Stream = await trio.open_tcp_stream("127.0.0.1", port)
        if tls_context is not None:
            stream = trio.SSLStream(stream, tls_context, server_hostname="localhost")
            with trio.fail_after(timeout):
                await stream.do_handshake()
        client = cls(stream, timeout)
        if read_greeting:
            client.greeting = await client.read_line()
        return client

    async def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        await self.stream.send_all(data)

    async def _fill(self) -> None:
        chunk = await self.stream.receive_some(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self._buffer += chunk

    async def read_line(self, timeout: float | None = None) -> bytes:
        """One response line with its CRLF; ``{n}`` literals are included in the line."""
        with trio.fail_after(timeout or self.timeout):
            line = bytearray()
            while True:
                while b"\r\n" not in self._buffer:
                    await self._fill()
                end = self._buffer.index(b"\r\n") + 2
                part = bytes(self._buffer[:end])
                del self._buffer[:end]
                line += part
                match = re.search(rb"\{(\d+)\}\r\n$", part)
                if not match:
                    return bytes(line)
                size = int(match.group(1))
                while len(self._buffer) < size:
                    await self._fill()
                line += self._buffer[:size]
                del self._buffer[:size]

    async def command(self, tag: str, text: str, timeout: float | None = None) -> list[bytes]:
        """Send ``tag text`` and return every line up to and including the tagged completion."""
        await self.send(f"{tag} {text}\r\n")
        return await self.read_until_tagged(tag, timeout)

    async def read_until_tagged(self, tag: str, timeout: float | None = None) -> list[bytes]:
        lines = []
        prefix = tag.encode() + b" "
        while True:
            line = await self.read_line(timeout)
            lines.append(line)
            if line.startswith(prefix):
                return lines

    async def at_eof(self, timeout: float = 5.0) -> bool:
        """True when the server closes the connection (after what is already buffered)."""
        with trio.fail_after(timeout):
            try:
                while True:
                    await self._fill()
            except (EOFError, trio.BrokenResourceError):
                return True

    async def aclose(self) -> None:
        with trio.move_on_after(2):
            try:
                await self.stream.aclose()
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
