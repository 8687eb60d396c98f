"""IMAP load generator on Trio: N concurrent clients over U users, a busy mail client's command mix.

    python -m benchmarks.load --host 127.0.0.1 --port 1143 --users 100 --clients 10 --seconds 20 \\
        [--logout-every-cycle] [--password secret] [--no-setup]

Users are ``user1..userU`` sharing one password. A setup step first brings every user's INBOX to
``--messages`` messages by APPEND over IMAP (so it works against any server), taking them from the
sample mbox. Then each client loops over cycles until ``--seconds`` have passed or ``--max-cycles``
cycles are done. One cycle is what a desktop client does when it checks mail:

    [LOGIN]  LIST "" *  STATUS INBOX (MESSAGES UNSEEN UIDNEXT)  SELECT INBOX
    FETCH 1:* (UID FLAGS)             <- "FETCH FLAGS", the figure the issue wants p99 < 10 ms for
    FETCH last-9:last (UID ENVELOPE)  FETCH k (BODY.PEEK[])  STORE k +FLAGS/-FLAGS (\\Seen)
    APPEND INBOX (\\Deleted) <message>  EXPUNGE  [LOGOUT]

With ``--logout-every-cycle`` each cycle opens a connection, logs in and logs out (users rotate so two
clients never share one at a time when U >= N); without it each client logs in once and repeats the
rest. The APPEND/EXPUNGE pair keeps mailbox sizes steady. Reported: commands/s over the measured
window, and p50/p90/p99 latency per command kind; failures are counted, never hidden.

Each APPEND is a message the server has never seen (a sample message behind a unique ``X-Load-Append``
header), as a client saving sent mail or a draft sends. ``--pooled-appends`` sends the sample messages
as they are instead: a content-addressed store (imapcore's) then recognizes the bytes and neither parses
nor writes them, which no real client's APPEND gets and which flattered imapcore against a server that
stores every copy (the persistent mix measured 0.9x Dovecot pooled against 0.6x distinct in one run).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

import trio

from benchmarks.common import ImapConnection, ImapError, percentile, sample_messages

KINDS = (
    "LOGIN", "LIST", "STATUS", "SELECT", "FETCH FLAGS", "FETCH ENVELOPE", "FETCH BODY", "STORE", "APPEND",
    "EXPUNGE", "LOGOUT",
)


@dataclass(frozen=True)
class LoadConfig:
    host: str
    port: int
    users: int = 100
    clients: int = 10
    seconds: float = 20.0
    password: str = "secret"
    user_prefix: str = "user"
    logout_every_cycle: bool = False
    max_cycles: int = 1_000_000
    messages: int = 20
    setup: bool = True
    seed: int = 1
    distinct_appends: bool = True  # each cycle's APPEND is new bytes (see the module docstring)


@dataclass
class LoadResult:
    config: LoadConfig
    elapsed_s: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cycles: int = 0

    @property
    def commands(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self) -> dict:
        kinds = {}
        for kind in KINDS:
            values = sorted(self.latencies.get(kind, []))
            if not values and not self.errors.get(kind):
                continue
            kinds[kind] = {
                "count": len(values),
                "errors": self.errors.get(kind, 0),
                "p50_ms": percentile(values, 0.50) * 1000,
                "p90_ms": percentile(values, 0.90) * 1000,
                "p99_ms": percentile(values, 0.99) * 1000,
            }
        return {
            "host": self.config.host,
            "port": self.config.port,
            "clients": self.config.clients,
            "users": self.config.users,
            "logout_every_cycle": self.config.logout_every_cycle,
            "seconds": round(self.elapsed_s, 2),
            "cycles": self.cycles,
            "commands": self.commands,
            "commands_per_s": round(self.commands_per_s, 1),
            "errors": sum(self.errors.values()),
            "kinds": kinds,
        }


def format_summary(summary: dict) -> str:
    mode = "LOGIN+LOGOUT every cycle" if summary["logout_every_cycle"] else "one LOGIN per client"
    lines = [
        f"{summary['host']}:{summary['port']}  {summary['clients']} clients, {summary['users']} users, {mode}",
        f"  {summary['commands']} commands in {summary['seconds']} s = {summary['commands_per_s']} commands/s"
        f"  ({summary['cycles']} cycles, {summary['errors']} errors)",
        f"  {'command':<15}{'count':>8}{'errors':>8}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}",
    ]
    for kind, row in summary["kinds"].items():
        lines.append(
            f"  {kind:<15}{row['count']:>8}{row['errors']:>8}{row['p50_ms']:>10.2f}{row['p90_ms']:>10.2f}{row['p99_ms']:>10.2f}"
        )
    return "\n".join(lines)


def _user(config: LoadConfig, index: int) -> str:
    return f"{config.user_prefix}{index % config.users + 1}"


def _login_command(user: str, password: str) -> bytes:
    return b'LOGIN "%s" "%s"' % (user.encode(), password.encode())


# -- setup -------------------------------------------------------------------------------------------


async def setup_users(config: LoadConfig, messages: list[bytes]) -> None:
    """Bring every user's INBOX to ``config.messages`` messages (APPEND over IMAP)."""
    limiter = trio.CapacityLimiter(max(1, config.clients))

    async def one(index: int) -> None:
        async with limiter:
            connection = await ImapConnection.open(config.host, config.port)
            try:
                await connection.ok(_login_command(_user(config, index), config.password))
                untagged, _ = await connection.ok(b"STATUS INBOX (MESSAGES)")
                present = 0
                for line in untagged:
                    if b"MESSAGES" in line:
                        present = int(line.split(b"MESSAGES", 1)[1].split(b")")[0])
                for n in range(present, config.messages):
                    await connection.ok(b"APPEND INBOX", messages[(index * 7 + n) % len(messages)])
                await connection.command(b"LOGOUT")
            finally:
                await connection.aclose()

    async with trio.open_nursery() as nursery:
        for index in range(config.users):
            nursery.start_soon(one, index)


# -- the mix -----------------------------------------------------------------------------------------


class _Client:
    def __init__(self, config: LoadConfig, result: LoadResult, number: int, messages: list[bytes]) -> None:
        self.config = config
        self.result = result
        self.number = number
        self.messages = messages
        self.random = random.Random(config.seed * 1000 + number)
        self.connection: ImapConnection | None = None
        self.appended = 0
        self.nonce = time.time_ns()  # unique across runs too: a server never sees the same bytes twice

    async def timed(self, kind: str, text: bytes, literal: bytes | None = None) -> list[bytes]:
        started = time.perf_counter()
        try:
            untagged, tagged = await self.connection.command(text, literal)
        except (ImapError, OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            self.result.errors[kind] += 1
            raise
        elapsed = time.perf_counter() - started
        if tagged.split(b" ", 2)[1:2] != [b"OK"] and kind != "LOGOUT":
            self.result.errors[kind] += 1
            raise ImapError(f"{kind}: {tagged[:200]!r}")
        self.result.latencies[kind].append(elapsed)
        return untagged

    async def connect_and_login(self, user: str) -> None:
        self.connection = await ImapConnection.open(self.config.host, self.config.port)
        await self.timed("LOGIN", _login_command(user, self.config.password))

    async def cycle(self) -> None:
        untagged = []
        await self.timed("LIST", b'LIST "" "*"')
        await self.timed("STATUS", b"STATUS INBOX (MESSAGES UNSEEN UIDNEXT)")
        untagged = await self.timed("SELECT", b"SELECT INBOX")
        exists = 0
        for line in untagged:
            parts = line.split()
            if len(parts) == 3 and parts[2] == b"EXISTS":
                exists = int(parts[1])
        if exists:
            await self.timed("FETCH FLAGS", b"FETCH 1:* (UID FLAGS)")
            await self.timed("FETCH ENVELOPE", b"FETCH %d:%d (UID ENVELOPE)" % (max(1, exists - 9), exists))
            k = self.random.randint(1, exists)
            await self.timed("FETCH BODY", b"FETCH %d (BODY.PEEK[])" % k)
            sign = b"+" if self.random.random() < 0.5 else b"-"
            await self.timed("STORE", b"STORE %d %sFLAGS (\\Seen)" % (k, sign))
        message = self.messages[self.random.randrange(len(self.messages))]
        if self.config.distinct_appends:
            self.appended += 1
            message = b"X-Load-Append: %d.%d.%d\r\n" % (self.nonce, self.number, self.appended) + message
        await self.timed("APPEND", b"APPEND INBOX (\\Deleted)", message)
        await self.timed("EXPUNGE", b"EXPUNGE")

    async def logout(self) -> None:
        if self.connection is None:
            return
        try:
            with trio.move_on_after(5):
                await self.timed("LOGOUT", b"LOGOUT")
        finally:
            await self.connection.aclose()
            self.connection = None

    async def run(self) -> None:
        config = self.config
        cycle = 0
        try:
            while cycle < config.max_cycles:
                try:
                    if config.logout_every_cycle:
                        await self.connect_and_login(_user(config, self.number + cycle * config.clients))
                        await self.cycle()
                        await self.logout()
                    else:
                        if self.connection is None:
                            await self.connect_and_login(_user(config, self.number))
                        await self.cycle()
                    self.result.cycles += 1
                except (ImapError, OSError, trio.BrokenResourceError, trio.ClosedResourceError):
                    if self.connection is not None:
                        await self.connection.aclose()
                        self.connection = None
                    await trio.sleep(0.05)  # a failing server must not turn this into a busy loop
                cycle += 1
        finally:
            if self.connection is not None:
                with trio.CancelScope(shield=True):
                    await self.connection.aclose()


async def run_load(config: LoadConfig, messages: list[bytes] | None = None) -> LoadResult:
    messages = messages or sample_messages(40)
    if config.setup:
        with trio.fail_after(600):
            await setup_users(config, messages)
    result = LoadResult(config)
    clients = [_Client(config, result, n, messages) for n in range(config.clients)]
    started = time.perf_counter()
    with trio.move_on_after(config.seconds):
        async with trio.open_nursery() as nursery:
            for client in clients:
                nursery.start_soon(client.run)
    result.elapsed_s = time.perf_counter() - started
    return result


def parse_args(argv: list[str] | None = None) -> LoadConfig:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--password", default="secret")
    parser.add_argument("--user-prefix", default="user")
    parser.add_argument("--logout-every-cycle", action="store_true")
    parser.add_argument("--max-cycles", type=int, default=1_000_000, help="per client")
    parser.add_argument("--messages", type=int, default=20, help="messages per INBOX after setup")
    parser.add_argument("--no-setup", action="store_true", help="skip the APPEND setup step")
    parser.add_argument("--pooled-appends", action="store_true",
                        help="APPEND the sample messages unchanged (a content-addressed store dedups them)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    config = LoadConfig(
        host=args.host, port=args.port, users=args.users, clients=args.clients, seconds=args.seconds,
        password=args.password, user_prefix=args.user_prefix, logout_every_cycle=args.logout_every_cycle,
        max_cycles=args.max_cycles, messages=args.messages, setup=not args.no_setup,
        distinct_appends=not args.pooled_appends,
    )
    return config, args.json


def main(argv: list[str] | None = None) -> int:
    config, as_json = parse_args(argv)
    result = trio.run(run_load, config)
    summary = result.summary()
    print(json.dumps(summary, indent=2) if as_json else format_summary(summary))
    return 0 if result.commands else 1


if __name__ == "__main__":
    sys.exit(main())
