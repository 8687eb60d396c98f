"""Real IMAP servers on 127.0.0.1 for client, oracle and benchmark runs: imapcore or Dovecot, same shape.

The real-client tests and the Dovecot oracle run the same scenario against both servers, so both are
wrapped in one small interface, ``LiveServer`` (``kind``, ``host``, ``port``, ``users``, ``log()``):

    with live_server("imapcore", users={"u1": "pw"}) as server:
        imaplib.IMAP4(server.host, server.port).login("u1", "pw")

imapcore runs as a subprocess through its documented command line (``imapcore user add NAME
--password P --data-dir DIR``, then ``imapcore serve --data-dir DIR --listen 127.0.0.1:P --listen-tls
127.0.0.1:Q``), so what is tested is what an operator runs. Creating a user through the command line
costs a Python start and an argon2 hash, so only the first ``cli_users`` users go that way; the others
are written with the store API the command uses (``Store.create_user`` with an argon2id hash), sharing
one hash per distinct password. Dovecot is ``support.dovecot.DovecotServer`` with the same special-use
mailboxes imapcore gives every new user, so LIST answers are comparable.

Every start waits for the greeting (bounded), and every stop terminates the process group with a
bounded wait, then kills it: no server outlives its ``with`` block.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from support.dovecot import SPECIAL_USE_MAILBOXES, DovecotServer, dovecot_available

SERVER_KINDS = ("imapcore", "dovecot")

#: How long a server may take to print its greeting.
START_TIMEOUT_S = 30.0
#: How long a graceful stop may take before the process group is killed.
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_greeting(host: str, port: int, deadline: float, process: subprocess.Popen | None = None) -> bool:
    """Poll until a connection to host:port gets an ``* OK`` greeting (or the process dies)."""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                sock.settimeout(3.0)
                if sock.recv(200).startswith(b"* OK"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def imapcore_command(*args: str) -> list[str]:
    """The argv that runs the installed ``imapcore`` command line with this interpreter."""
    return [sys.executable, "-m", "imapcore.cli", *args]


def add_users_cli(data_dir: Path, users: dict[str, str], timeout: float = 60.0) -> None:
    """``imapcore user add NAME --password P --data-dir DIR`` for each user (the operator's path)."""
    for name, password in users.items():
        result = subprocess.run(
            imapcore_command("user", "add", name, "--password", password, "--data-dir", str(data_dir)),
            capture_output=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"imapcore user add {name} failed ({result.returncode}):\n"
                f"{result.stdout.decode(errors='replace')}{result.stderr.decode(errors='replace')}"
            )


def add_users_direct(data_dir: Path, users: dict[str, str]) -> None:
    """Create users with the store API ``imapcore user add`` uses; one argon2 hash per distinct password."""
    from imapcore.auth.passwords import hash_password
    from imapcore.store import Store

    hashes: dict[str, str] = {}
    store = Store.open(data_dir)
    try:
        for name, password in users.items():
            if password not in hashes:
                hashes[password] = hash_password(password)
            store.create_user(name, hashes[password])
    finally:
        store.close()


def _raise_nofile(limit: int):
    def preexec() -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = min(limit, hard) if hard != resource.RLIM_INFINITY else limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
        os.setsid()  # our own process group, so stop() reaches every child

    return preexec


@dataclass
class LiveServer:
    """A server listening on ``host:port`` (cleartext; STARTTLS where offered) with ``users``."""

    kind: str
    host: str
    port: int
    users: dict[str, str]
    pid: int
    directory: Path
    tls_port: int | None = None
    _log: object = field(default=None, repr=False)

    def log(self) -> str:
        return self._log() if callable(self._log) else ""

    @property
    def cert_file(self) -> Path | None:
        """imapcore's self-signed certificate (generated into the data directory on first start)."""
        if self.kind != "imapcore":
            return None
        from imapcore.server.tls import CERT_NAME

        path = self.directory / CERT_NAME
        return path if path.exists() else None


@contextlib.contextmanager
def imapcore_server(
    users: dict[str, str],
    *,
    cli_users: int = 1,
    nofile: int | None = None,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """Run ``imapcore serve`` on fresh random loopback ports with a fresh data directory."""
    directory = Path(tempfile.mkdtemp(prefix="imapcore-live-"))
    data_dir = directory / "data"
    process: subprocess.Popen | None = None
    log_path = directory / "server.log"
    try:
        names = list(users)
        add_users_cli(data_dir, {n: users[n] for n in names[:cli_users]})
        if names[cli_users:]:
            add_users_direct(data_dir, {n: users[n] for n in names[cli_users:]})
        for attempt in range(3):  # a bounded retry covers the free-port race
            port, tls_port = free_port(), free_port()
            argv = imapcore_command(
                "serve",
                "--data-dir", str(data_dir),
                "--listen", f"127.0.0.1:{port}",
                "--listen-tls", f"127.0.0.1:{tls_port}",
                *extra_args,
            )
            with open(log_path, "ab") as log_file:
                process = subprocess.Popen(
                    argv,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_raise_nofile(nofile or 1024),
                    env={**os.environ, **(env or {})},
                )
            if wait_for_greeting("127.0.0.1", port, time.monotonic() + START_TIMEOUT_S, process):
                break
            _stop(process)
            process = None
        if process is None:
            raise RuntimeError(f"imapcore serve did not start:\n{log_path.read_text(errors='replace')}")
        yield LiveServer(
            kind="imapcore",
            host="127.0.0.1",
            port=port,
            users=dict(users),
            pid=process.pid,
            directory=data_dir,
            tls_port=tls_port,
            _log=lambda: log_path.read_text(errors="replace") if log_path.exists() else "",
        )
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(directory, ignore_errors=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def dovecot_server(users: dict[str, str], extra_config: str = "auth_failure_delay = 0\n") -> Iterator[LiveServer]:
    """Debian's Dovecot with the same users and imapcore's default special-use mailboxes."""
    with DovecotServer(users, extra_config=extra_config, namespace_config=SPECIAL_USE_MAILBOXES) as d:
        yield LiveServer(
            kind="dovecot",
            host=d.host,
            port=d.port,
            users=dict(users),
            pid=d._process.pid if d._process else 0,
            directory=d.directory,
            _log=d.log,
        )


@contextlib.contextmanager
def live_server(kind: str, users: dict[str, str], **options) -> Iterator[LiveServer]:
    if kind == "imapcore":
        with imapcore_server(users, **options) as server:
            yield server
    elif kind == "dovecot":
        with dovecot_server(users, **{k: v for k, v in options.items() if k == "extra_config"}) as server:
            yield server
    else:
        raise ValueError(f"unknown server kind {kind!r}")


def skip_unless_available(kind: str) -> None:
    import pytest

    if kind == "dovecot" and not dovecot_available():
        pytest.skip("dovecot is not installed (tests/run.sh installs dovecot-imapd)")


class UserPool:
    """Hands out users never used before on one server, so tests sharing a server stay independent."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self._names = list(server.users)

    def take(self) -> tuple[str, str]:
        if not self._names:
            raise RuntimeError("user pool exhausted: raise the pool size of the fixture")
        name = self._names.pop(0)
        return name, self.server.users[name]


def pool_users(count: int, prefix: str = "user", password: str = "secret-pw") -> dict[str, str]:
    return {f"{prefix}{i}": password for i in range(1, count + 1)}
