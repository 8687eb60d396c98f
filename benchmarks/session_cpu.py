"""Server CPU per command of the persistent mix: ``python -m benchmarks.session_cpu [--seconds 15] [--runs 3]``.

The figure the session path is tuned against. Commands per second on a shared 2-core machine move
with whatever else runs; the CPU the server spends per command moves much less, and split by thread it
says where to look: the Trio thread (parsing, handlers, inline store reads, serialization, socket calls)
or the worker threads (deliveries, fsyncs, writes that found the store's writer busy).

Each run starts ``imapcore serve --workers 1`` (one process: the figure is per process; more workers
divide the load, not the cost) with a fresh data directory, fills the INBOXes by APPEND, runs
``benchmarks.load``'s persistent mix (10 clients, one LOGIN each) for a few seconds to warm up, then
measures for ``--seconds``: the server's CPU time from ``/proc`` (user and system, the main thread
apart from the others) divided by the commands completed. Prints every run and the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from benchmarks.common import sample_messages  # noqa: E402
from benchmarks.load import LoadConfig, format_summary, run_load  # noqa: E402
from support.live_servers import imapcore_server  # noqa: E402

PASSWORD = "bench-pw"
CLIENTS = 10
WARM_UP_S = 3.0


def thread_times(pid: int) -> dict[str, tuple[int, int]]:
    """``{thread id: (user ticks, system ticks)}`` of every thread of ``pid`` (Linux ``/proc``)."""
    times: dict[str, tuple[int, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            # Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a worker thread that ended meanwhile
        times[task.name] = (int(fields[11]), int(fields[12]))
    return times


def one_run(seconds: float, messages: list[bytes]) -> dict:
    users = {f"user{n}": PASSWORD for n in range(1, CLIENTS + 1)}
    with imapcore_server(users, cli_users=1, extra_args=("--workers", "1")) as server:
        def config(duration: float, setup: bool) -> LoadConfig:
            return LoadConfig(
                host=server.host, port=server.port, users=CLIENTS, clients=CLIENTS, seconds=duration,
                password=PASSWORD, logout_every_cycle=False, setup=setup,
            )

        trio.run(run_load, config(WARM_UP_S, True), messages)
        before = thread_times(server.pid)
        started = time.perf_counter()
        result = trio.run(run_load, config(seconds, False), messages)
        elapsed = time.perf_counter() - started
        after = thread_times(server.pid)
    tick = os.sysconf("SC_CLK_TCK")
    per_command = 1e6 / tick / max(result.commands, 1)
    main = str(server.pid)

    def spent(threads) -> tuple[float, float]:
        user = sum(after[t][0] - before.get(t, (0, 0))[0] for t in threads)
        system = sum(after[t][1] - before.get(t, (0, 0))[1] for t in threads)
        return user * per_command, system * per_command

    main_user, main_system = spent([main] if main in after else [])
    other_user, other_system = spent([t for t in after if t != main])
    return {
        "commands_per_s": result.commands / elapsed,
        "us_per_command": main_user + main_system + other_user + other_system,
        "main_us": main_user + main_system,
        "main_user_us": main_user,
        "main_system_us": main_system,
        "other_threads_us": other_user + other_system,
        "summary": format_summary(result.summary()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latencies", action="store_true", help="print each run's latency table")
    args = parser.parse_args()
    messages = sample_messages(40)
    runs = []
    for number in range(1, args.runs + 1):
        run = one_run(args.seconds, messages)
        runs.append(run)
        if args.latencies:
            print(run["summary"])
        print(
            f"run {number}: {run['us_per_command']:.0f} us/command (Trio thread {run['main_us']:.0f}: user "
            f"{run['main_user_us']:.0f}, system {run['main_system_us']:.0f}; other threads "
            f"{run['other_threads_us']:.0f}), {run['commands_per_s']:.0f} commands/s",
            flush=True,
        )
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "summary"}
    print(
        f"median of {len(runs)}: {median['us_per_command']:.0f} us/command (Trio thread {median['main_us']:.0f}, "
        f"other threads {median['other_threads_us']:.0f}), {median['commands_per_s']:.0f} commands/s"
    )


if __name__ == "__main__":
    main()
