"""Helpers for the abuse suite: a subprocess server with small limits and short timers, clients bound to
chosen loopback addresses, the server's memory, and a well-behaved client that runs alongside an attack.

Every loopback address 127.0.0.0/8 routes on Linux's ``lo``, so a test plays several client addresses by
binding its client sockets to 127.0.0.N before connecting to the server on 127.0.0.1. Each test uses its
own attacker addresses and user names, so bans and failure counts of one test never leak into another
that shares the module's server.
"""

from __future__ import annotations

import math
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trio

from imapcore.server.users import add_user
from imapcore.store import Store
from support.server import ImapTestClient, server_process
from support.workers_kit import tree_rss_kib

PASSWORD = "correct horse"
#: Users of the suite: the well-behaved client logs in as ``good``; tests attack the others.
USERS = ("good", "victim", "flooded", "slow", "reader", "shape", "quota", "admin", "crowd", "rate", "literal")

#: Limits small enough that every attack hits them within a second or two.
CONFIG = """\
admin_users = ["admin"]
[limits]
max_connections = 80
max_connections_per_ip = 20
max_sessions_per_user = 4
max_literal_bytes = 1048576
max_literal_bytes_before_login = 1024
max_mailbox_name_bytes = 100
max_mailbox_depth = 4
max_mailboxes_per_user = 12
max_keywords_per_mailbox = 8
max_search_depth = 8
command_burst = 60
commands_per_s = 30
auth_free_failures = 2
auth_delay_s = 0.4
auth_delay_max_s = 1.0
auth_ban_failures = 8
auth_ban_s = 30
[timeouts]
tls_handshake_s = 2
pre_login_s = 2
login_deadline_s = 4
idle_timeout_s = 4
idle_rearm_s = 4
send_stall_s = 2
shutdown_grace_s = 1
"""

#: Messages the never-reading client asks for: 12 x 256 KiB in ``reader``'s INBOX.
BIG_MESSAGE = b"Subject: big\r\nFrom: a@example.org\r\n\r\n" + (b"y" * 78 + b"\r\n") * 3300
BIG_COUNT = 12


@dataclass
class AbuseServer:
    port: int
    tls_port: int
    pid: int
    data_dir: Path

    def log_text(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")

    def client_ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.data_dir / "tls-selfsigned-cert.pem"))
        context.check_hostname = False
        return context


@contextmanager
def abuse_server(tmp_path: Path):
    data_dir = Path(tmp_path) / "imapcore-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    with Store.open(data_dir) as store:
        for name in USERS:
            add_user(store, name, PASSWORD)
        for i in range(BIG_COUNT):
            store.append("reader", "INBOX", BIG_MESSAGE + b"%d\r\n" % i)
        for i in range(5):
            store.append("good", "INBOX", b"Subject: hello %d\r\n\r\nbody\r\n" % i)
    config = Path(tmp_path) / "abuse.toml"
    config.write_text(CONFIG)
    with server_process(tmp_path, extra_args=("--config", str(config))) as srv:
        yield AbuseServer(srv.port, srv.tls_port, srv.process.pid, srv.data_dir)


def rss_kib(pid: int) -> int:
    """The server's resident memory in KiB, its worker processes included."""
    return tree_rss_kib(pid)


async def open_from(source: str, port: int, *, rcvbuf: int | None = None) -> trio.SocketStream:
    """A TCP stream to 127.0.0.1:``port`` from the loopback address ``source``."""
    sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:
            sock.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_RCVBUF, rcvbuf)
        await sock.bind((source, 0))
        with trio.fail_after(5):
            await sock.connect(("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


async def client_from(source: str, port: int, *, timeout: float = 10.0, rcvbuf: int | None = None,
                      read_greeting: bool = True) -> ImapTestClient:
    client = ImapTestClient(await open_from(source, port, rcvbuf=rcvbuf), timeout)
    if read_greeting:
        client.greeting = await client.read_line()
    return client


async def login(client: ImapTestClient, user: str, password: str = PASSWORD, tag: str = "L") -> bytes:
    """LOGIN; the tagged line."""
    return (await client.command(tag, f'LOGIN "{user}" "{password}"'))[-1]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class WellBehaved:
    """A polite client (from 127.0.0.2, user ``good``): NOOP, FETCH, STATUS, SEARCH at ~10 commands/s,
    within the command-rate budget; ``latencies`` of every command, ``failures`` of any kind."""

    port: int
    source: str = "127.0.0.2"
    user: str = "good"
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    async def run(self, stop: trio.Event, task_status=trio.TASK_STATUS_IGNORED) -> None:
        try:
            client = await client_from(self.source, self.port, timeout=5)
            tagged = await login(client, self.user)
            if b"OK" not in tagged:
                self.failures.append(f"login: {tagged!r}")
                task_status.started()
                return
            await client.command("S", "SELECT INBOX")
        except (OSError, EOFError, trio.TooSlowError, trio.BrokenResourceError) as error:
            self.failures.append(f"connect/login: {error!r}")
            task_status.started()
            return
        task_status.started()
        commands = ("NOOP", "FETCH 1:* (FLAGS UID)", "STATUS INBOX (MESSAGES UNSEEN)", "SEARCH SUBJECT hello")
        n = 0
        try:
            while not stop.is_set():
                text = commands[n % len(commands)]
                tag = f"W{n}"
                start = time.monotonic()
                lines = await client.command(tag, text, timeout=5)
                self.latencies.append(time.monotonic() - start)
                if not lines[-1].startswith(f"{tag} OK".encode()):
                    self.failures.append(f"{text}: {lines[-1]!r}")
                n += 1
                with trio.move_on_after(0.1):
                    await stop.wait()
            await client.command("Z", "LOGOUT")
        except (OSError, EOFError, trio.TooSlowError, trio.BrokenResourceError) as error:
            self.failures.append(f"during the attack: {error!r}")
        finally:
            await client.aclose()

    def check(self, min_commands: int = 5, max_latency_s: float = 1.0) -> None:
        assert not self.failures, self.failures
        assert len(self.latencies) >= min_commands, self.latencies
        assert max(self.latencies) < max_latency_s, sorted(self.latencies)[-5:]
