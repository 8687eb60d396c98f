"""Connections idling in IDLE: server memory per connection, and how fast one new message reaches all.

    python -m benchmarks.idle [--counts 1000 10000] [--connect-concurrency 200]

For each count N: start a fresh ``imapcore serve`` (subprocess, its connection limits raised through a
``--config`` TOML file, its RLIMIT_NOFILE raised in ``preexec_fn``), make one warm-up session, read the
server's RSS (``VmRSS`` in /proc/<pid>/status), open N connections from this one Trio process (its fd
limit raised too), each doing LOGIN, SELECT INBOX, IDLE; read the RSS again once all N are idling:
(after - before) / N is the memory per connection. Then a separate connection APPENDs one message and
every idler waits for its ``* n EXISTS``: the time from sending APPEND until the last idler saw it is
the fan-out time. Targets (issue): <= 50 KiB per connection, <= 2 s fan-out at 10,000 connections.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from benchmarks.common import ImapConnection, ImapError, percentile, raise_fd_limit, read_rss_kib  # noqa: E402
from benchmarks.common import sample_messages  # noqa: E402
from support.live_servers import imapcore_server  # noqa: E402

USER, PASSWORD = "idler", "idle-pw"


async def _idler(host, port, ready: list, seen: dict, index: int, go: trio.Event, limiter, task_status) -> None:
    async with limiter:
        connection = await ImapConnection.open(host, port)
        await connection.ok(b'LOGIN "%s" "%s"' % (USER.encode(), PASSWORD.encode()))
        untagged, _ = await connection.ok(b"SELECT INBOX")
        exists = next(int(line.split()[1]) for line in untagged if line.endswith(b" EXISTS"))
        tag = connection.next_tag()
        await connection.stream.send_all(tag + b" IDLE\r\n")
        while True:
            response = await connection.read_response()
            if response.startswith(b"+"):
                break
    ready.append(index)
    task_status.started()
    try:
        while True:
            response = await connection.read_response()
            parts = response.split()
            if len(parts) == 3 and parts[2] == b"EXISTS" and int(parts[1]) > exists:
                seen[index] = time.perf_counter()
                break
        await go.wait()  # keep the connection open until the measurement is over
    finally:
        await connection.aclose()


async def measure(host: str, port: int, pid: int, count: int, concurrency: int) -> dict:
    message = sample_messages(1)[0]
    # Warm-up: one full session so code paths and caches (password verification) are loaded.
    warm = await ImapConnection.open(host, port)
    await warm.ok(b'LOGIN "%s" "%s"' % (USER.encode(), PASSWORD.encode()))
    await warm.ok(b"SELECT INBOX")
    await warm.command(b"LOGOUT")
    await warm.aclose()
    await trio.sleep(0.5)
    rss_before = read_rss_kib(pid)

    ready: list[int] = []
    seen: dict[int, float] = {}
    go = trio.Event()
    limiter = trio.CapacityLimiter(concurrency)
    result: dict = {"connections": count}
    async with trio.open_nursery() as nursery:
        started = time.perf_counter()
        with trio.fail_after(600):
            async with trio.open_nursery() as starters:
                for index in range(count):
                    starters.start_soon(nursery.start, _idler, host, port, ready, seen, index, go, limiter)
        result["connect_s"] = time.perf_counter() - started
        await trio.sleep(1.0)
        rss_after = read_rss_kib(pid)
        result.update(rss_before_kib=rss_before, rss_after_kib=rss_after)
        result["kib_per_connection"] = (rss_after - rss_before) / count

        writer = await ImapConnection.open(host, port)
        await writer.ok(b'LOGIN "%s" "%s"' % (USER.encode(), PASSWORD.encode()))
        sent = time.perf_counter()
        await writer.ok(b"APPEND INBOX", message)
        appended = time.perf_counter()
        with trio.move_on_after(60):
            while len(seen) < count:
                await trio.sleep(0.005)
        delays = sorted(t - sent for t in seen.values())
        result.update(
            append_s=appended - sent,
            reached=len(seen),
            all_reached_s=delays[-1] if len(seen) == count else float("nan"),
            p50_s=percentile(delays, 0.5),
            p99_s=percentile(delays, 0.99),
        )
        await writer.command(b"LOGOUT")
        await writer.aclose()
        go.set()
    return result


def run_count(count: int, concurrency: int) -> dict:
    limit = count + 1000
    with tempfile.TemporaryDirectory(prefix="imapcore-idle-bench-") as tmp:
        config = Path(tmp) / "idle.toml"
        config.write_text(
            "[limits]\n"
            f"max_connections = {limit}\nmax_connections_per_ip = {limit}\nmax_sessions_per_user = {limit}\n"
        )
        with imapcore_server({USER: PASSWORD}, nofile=limit + 1000, extra_args=("--config", str(config))) as server:
            return trio.run(measure, server.host, server.port, server.pid, count, concurrency)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.idle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--connect-concurrency", type=int, default=200)
    args = parser.parse_args(argv)
    got = raise_fd_limit(max(args.counts) + 1000)
    if got < max(args.counts) + 100:
        print(f"fd limit {got} is too low for {max(args.counts)} connections", file=sys.stderr)
        return 2
    for count in args.counts:
        r = run_count(count, args.connect_concurrency)
        print(
            f"{r['connections']:>6} idling: connected in {r['connect_s']:.1f} s; server RSS "
            f"{r['rss_before_kib'] / 1024:.1f} -> {r['rss_after_kib'] / 1024:.1f} MiB = "
            f"{r['kib_per_connection']:.1f} KiB/connection; APPEND took {r['append_s'] * 1000:.1f} ms; "
            f"EXISTS reached {r['reached']}/{r['connections']}, all in {r['all_reached_s']:.3f} s "
            f"(p50 {r['p50_s']:.3f} s, p99 {r['p99_s']:.3f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
