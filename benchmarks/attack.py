"""Attack while serving: a connection flood with password guessing from one address, and a legitimate
client working at the same time from another.

    python -m benchmarks.attack [--seconds 20] [--rate 1000] [--attacker-concurrency 200]

Three parts, each against a fresh ``imapcore serve`` subprocess with the *default* limits (nothing is
raised for the attack run: the point is what the shipped defaults do):

1. **Flood.** An attacker *process* (this module with ``--role attacker``) opens connections from
   127.0.0.3 at ``--rate`` per second (at most ``--attacker-concurrency`` in flight) for ``--seconds``;
   on every connection that is greeted with ``* OK`` it tries ``LOGIN`` with a wrong password (user names
   alternate between a real user and unknown ones). It reports connections made, admitted, refused
   (``* BYE [UNAVAILABLE]``), and every LOGIN answer with its time.
2. **Legitimate client**, from 127.0.0.2 during the flood: a persistent session running a normal mix
   (NOOP, STATUS, SELECT, FETCH flags and envelopes, FETCH a body, SEARCH, APPEND) at ~20 commands/s,
   and every 2 s a new connection that is greeted, logs in (the verification cache answers a known
   password) and logs out. Every command's latency is recorded; success = tagged OK.
3. **Memory.** The server's VmRSS is sampled every 0.1 s during the flood (peak reported). For
   comparison a second fresh server holds as many *idle* logged-in clients (LOGIN, SELECT, IDLE) as
   the attacker keeps in flight; that server's per-address and per-user limits are raised through its
   ``--config`` file, because those idle clients all come from one address and one user.

Figures the issue asks for: legitimate p99 < 100 ms and 100 % success during a 1,000 connections/s
flood from one address; at most 10 guesses a minute answered once the first few failed; memory under
the flood within 2x of memory with the same number of idle clients.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from benchmarks.common import ImapConnection, percentile, raise_fd_limit, read_rss_kib  # noqa: E402
from support.live_servers import imapcore_server  # noqa: E402

USER, PASSWORD = "alice", "alice-pw"
VICTIM = "victim"
ATTACKER_ADDRESS = "127.0.0.3"
LEGIT_ADDRESS = "127.0.0.2"
MESSAGE = (b"From: a@example.org\r\nTo: alice@example.org\r\nSubject: hello there\r\n"
           b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n" + b"Some text of a normal message.\r\n" * 40)


# --- sockets from a chosen loopback address ------------------------------------------------------------


async def open_from(source: str, host: str, port: int) -> trio.SocketStream:
    sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_STREAM)
    try:
        await sock.bind((source, 0))
        await sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


async def connect_from(source: str, host: str, port: int) -> tuple[ImapConnection, bytes]:
    connection = ImapConnection(await open_from(source, host, port))
    greeting = await connection.read_response()
    return connection, greeting


# --- the attacker (its own process) ---------------------------------------------------------------------


async def attack(host: str, port: int, source: str, seconds: float, rate: float, concurrency: int) -> dict:
    stats = {"connections": 0, "admitted": 0, "refused": 0, "connect_errors": 0, "guesses": 0,
             "unanswered": 0, "successes": 0}
    answers: list[tuple[float, str]] = []  # (time since start, answer kind)
    limiter = trio.CapacityLimiter(concurrency)
    start = trio.current_time()
    deadline = start + seconds

    async def one(n: int, token: object) -> None:
        try:
            with trio.move_on_after(max(0.0, deadline - trio.current_time())):
                try:
                    connection, greeting = await connect_from(source, host, port)
                except (OSError, trio.BrokenResourceError, EOFError):
                    stats["connect_errors"] += 1
                    return
                try:
                    stats["connections"] += 1
                    if not greeting.startswith(b"* OK"):
                        stats["refused"] += 1
                        return
                    stats["admitted"] += 1
                    user = VICTIM if n % 2 else f"guess{n}"
                    stats["guesses"] += 1
                    try:
                        _, tagged = await connection.command(b'LOGIN %s "wrong-%d"' % (user.encode(), n))
                    except (OSError, trio.BrokenResourceError, EOFError, Exception):
                        stats["unanswered"] += 1
                        return
                    kind = tagged.split(b" ", 2)[2][:30].decode(errors="replace") if tagged.count(b" ") >= 2 else "?"
                    if b" OK " in tagged:
                        stats["successes"] += 1
                    answers.append((trio.current_time() - start, kind))
                finally:
                    await connection.aclose()
        finally:
            limiter.release_on_behalf_of(token)

    async with trio.open_nursery() as nursery:
        n = 0
        next_at = start
        while trio.current_time() < deadline:
            token = object()
            await limiter.acquire_on_behalf_of(token)
            nursery.start_soon(one, n, token)
            n += 1
            next_at += 1.0 / rate
            delay = next_at - trio.current_time()
            if delay > 0:
                await trio.sleep(delay)
            elif n % 50 == 0:
                await trio.sleep(0)  # let the connections progress when behind schedule
    stats["attempted"] = n
    stats["seconds"] = trio.current_time() - start
    stats["answers"] = answers
    stats["peak_in_flight"] = concurrency
    return stats


# --- the legitimate client -------------------------------------------------------------------------------


class Legit:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.ok = 0
        self.failed: list[str] = []

    def note(self, kind: str, elapsed: float, ok: bool, detail: str = "") -> None:
        self.latencies.setdefault(kind, []).append(elapsed)
        if ok:
            self.ok += 1
        else:
            self.failed.append(f"{kind}: {detail[:100]}")

    async def timed(self, connection: ImapConnection, kind: str, text: bytes, literal: bytes | None = None) -> None:
        start = time.perf_counter()
        try:
            _, tagged = await connection.command(text, literal)
            ok = tagged.split(b" ", 2)[1] == b"OK"
            detail = tagged.decode(errors="replace")
        except Exception as error:  # a failure is a figure, not a crash
            ok, detail = False, repr(error)
        self.note(kind, time.perf_counter() - start, ok, detail)

    async def session(self, host: str, port: int, stop: trio.Event) -> None:
        connection, _ = await connect_from(LEGIT_ADDRESS, host, port)
        await connection.ok(b'LOGIN "%s" "%s"' % (USER.encode(), PASSWORD.encode()))
        mix = (
            ("NOOP", b"NOOP", None), ("STATUS", b"STATUS INBOX (MESSAGES UNSEEN UIDNEXT)", None),
            ("SELECT", b"SELECT INBOX", None), ("FETCH FLAGS", b"FETCH 1:* (UID FLAGS)", None),
            ("FETCH ENVELOPE", b"FETCH 1:10 (UID ENVELOPE)", None), ("FETCH BODY", b"FETCH 3 BODY.PEEK[]", None),
            ("SEARCH", b"UID SEARCH SUBJECT hello", None), ("APPEND", b"APPEND Archive", MESSAGE),
        )
        n = 0
        while not stop.is_set():
            kind, text, literal = mix[n % len(mix)]
            await self.timed(connection, kind, text, literal)
            n += 1
            with trio.move_on_after(0.05):
                await stop.wait()
        await connection.command(b"LOGOUT")
        await connection.aclose()

    async def reconnects(self, host: str, port: int, stop: trio.Event) -> None:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                connection, greeting = await connect_from(LEGIT_ADDRESS, host, port)
                self.note("CONNECT", time.perf_counter() - start, greeting.startswith(b"* OK"),
                          greeting.decode(errors="replace"))
                await self.timed(connection, "LOGIN", b'LOGIN "%s" "%s"' % (USER.encode(), PASSWORD.encode()))
                await connection.command(b"LOGOUT")
                await connection.aclose()
            except Exception as error:
                self.note("CONNECT", time.perf_counter() - start, False, repr(error))
            with trio.move_on_after(2.0):
                await stop.wait()

    def summary(self) -> dict:
        every = sorted(v for values in self.latencies.values() for v in values)
        total = self.ok + len(self.failed)
        return {
            "commands": total,
            "success_rate": self.ok / total if total else float("nan"),
            "p50_ms": percentile(every, 0.50) * 1000,
            "p90_ms": percentile(every, 0.90) * 1000,
            "p99_ms": percentile(every, 0.99) * 1000,
            "max_ms": (every[-1] if every else float("nan")) * 1000,
            "per_kind_p99_ms": {k: percentile(sorted(v), 0.99) * 1000 for k, v in self.latencies.items()},
            "failures": self.failed[:5],
        }


# --- the runs -------------------------------------------------------------------------------------------


async def _prepare(host: str, port: int) -> None:
    connection, _ = await connect_from(LEGIT_ADDRESS, host, port)
    await connection.ok(b'LOGIN "%s" "%s"' % (USER.encode(), PASSWORD.encode()))
    for _ in range(20):
        await connection.ok(b"APPEND INBOX", MESSAGE)
    await connection.command(b"LOGOUT")
    await connection.aclose()


async def flood_run(host: str, port: int, pid: int, args) -> dict:
    await _prepare(host, port)
    legit = Legit()
    stop = trio.Event()
    rss_samples: list[int] = []
    attacker_output: dict = {}

    async def sample_rss() -> None:
        while not stop.is_set():
            rss_samples.append(read_rss_kib(pid))
            with trio.move_on_after(0.1):
                await stop.wait()

    async def run_attacker() -> None:
        command = [sys.executable, "-m", "benchmarks.attack", "--role", "attacker", "--port", str(port),
                   "--seconds", str(args.seconds), "--rate", str(args.rate),
                   "--attacker-concurrency", str(args.attacker_concurrency)]
        done = await trio.run_process(command, capture_stdout=True, check=True,
                                      cwd=str(Path(__file__).resolve().parent.parent))
        attacker_output.update(json.loads(done.stdout))
        stop.set()

    rss_before = read_rss_kib(pid)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sample_rss)
        nursery.start_soon(legit.session, host, port, stop)
        nursery.start_soon(legit.reconnects, host, port, stop)
        nursery.start_soon(run_attacker)
    return {"legit": legit.summary(), "attacker": attacker_output, "rss_before_kib": rss_before,
            "rss_peak_kib": max(rss_samples), "rss_after_kib": read_rss_kib(pid)}


async def idle_run(host: str, port: int, pid: int, count: int) -> dict:
    await _prepare(host, port)
    rss_before = read_rss_kib(pid)
    release = trio.Event()
    limiter = trio.CapacityLimiter(100)

    async def idler(task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with limiter:
            connection, _ = await connect_from(LEGIT_ADDRESS, host, port)
            await connection.ok(b'LOGIN "%s" "%s"' % (USER.encode(), PASSWORD.encode()))
            await connection.ok(b"SELECT INBOX")
            await connection.stream.send_all(b"i IDLE\r\n")
            await connection.read_response()
        task_status.started()
        await release.wait()
        await connection.aclose()

    async with trio.open_nursery() as nursery:
        for _ in range(count):
            await nursery.start(idler)
        await trio.sleep(1.0)
        rss_idle = read_rss_kib(pid)
        release.set()
    return {"idle_clients": count, "rss_before_kib": rss_before, "rss_idle_kib": rss_idle}


def _per_minute_after_first(answers: list, first: int = 5) -> tuple[int, float]:
    """Guesses answered (any answer) after the first ``first`` failures, and that count per minute."""
    answered = sorted(t for t, kind in answers)
    if len(answered) <= first:
        return 0, 0.0
    after = answered[first:]
    window = max(answered[-1], 1e-9) - answered[first - 1]
    return len(after), len(after) / max(window, 60.0) * 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.attack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="attacker connections per second")
    parser.add_argument("--attacker-concurrency", type=int, default=200)
    parser.add_argument("--role", choices=("main", "attacker"), default="main")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    raise_fd_limit(args.attacker_concurrency * 4 + 1000)

    if args.role == "attacker":
        result = trio.run(attack, "127.0.0.1", args.port, ATTACKER_ADDRESS, args.seconds, args.rate,
                          args.attacker_concurrency)
        print(json.dumps(result))
        return 0

    users = {USER: PASSWORD, VICTIM: "victim-pw"}
    with imapcore_server(users) as server:
        flood = trio.run(flood_run, server.host, server.port, server.pid, args)
    with tempfile.TemporaryDirectory(prefix="imapcore-attack-") as tmp:
        config = Path(tmp) / "idle.toml"
        limit = args.attacker_concurrency + 100
        config.write_text(f"[limits]\nmax_connections_per_ip = {limit}\nmax_sessions_per_user = {limit}\n")
        with imapcore_server(users, extra_args=("--config", str(config))) as server:
            idle = trio.run(idle_run, server.host, server.port, server.pid, args.attacker_concurrency)

    legit, attacker = flood["legit"], flood["attacker"]
    answers = attacker.pop("answers")
    kinds: dict[str, int] = {}
    for _, kind in answers:
        kinds[kind] = kinds.get(kind, 0) + 1
    after_count, per_minute = _per_minute_after_first(answers)
    achieved = attacker["connections"] / attacker["seconds"]
    print(f"attacker ({ATTACKER_ADDRESS}): {attacker['connections']} connections in {attacker['seconds']:.1f} s "
          f"= {achieved:.0f}/s (target {args.rate:.0f}/s); admitted {attacker['admitted']}, "
          f"refused with BYE {attacker['refused']}, connect errors {attacker['connect_errors']}")
    waiting = attacker["guesses"] - len(answers) - attacker["unanswered"]
    print(f"  guesses sent {attacker['guesses']}, answered {len(answers)} ({kinds}), still waiting their turn "
          f"when the run ended {waiting}, connection lost {attacker['unanswered']}; successes {attacker['successes']} "
          f"(success rate {attacker['successes'] / max(1, attacker['guesses']):.1%})")
    print(f"  guesses answered after the first 5: {after_count} = {per_minute:.1f}/minute (target <= 10)")
    print(f"legitimate client ({LEGIT_ADDRESS}): {legit['commands']} commands, success "
          f"{legit['success_rate']:.1%}; latency p50 {legit['p50_ms']:.1f} ms, p90 {legit['p90_ms']:.1f} ms, "
          f"p99 {legit['p99_ms']:.1f} ms, max {legit['max_ms']:.1f} ms (target p99 < 100 ms, 100 %)")
    print("  p99 per kind: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(legit["per_kind_p99_ms"].items())))
    if legit["failures"]:
        print(f"  failures: {legit['failures']}")
    ratio = flood["rss_peak_kib"] / idle["rss_idle_kib"]
    print(f"server memory: under the flood peak {flood['rss_peak_kib'] / 1024:.1f} MiB (from "
          f"{flood['rss_before_kib'] / 1024:.1f}); with {idle['idle_clients']} idle clients "
          f"{idle['rss_idle_kib'] / 1024:.1f} MiB (from {idle['rss_before_kib'] / 1024:.1f}); "
          f"ratio {ratio:.2f} (target <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
