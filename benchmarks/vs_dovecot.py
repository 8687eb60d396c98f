"""imapcore against Dovecot, same load, same run: ``python -m benchmarks.vs_dovecot [--seconds 20]``.

Starts imapcore (``imapcore serve`` as a subprocess on random loopback ports with a fresh data
directory; users created with ``imapcore user add``) and Debian's Dovecot (``tests/support/dovecot.py``:
its own temporary configuration on loopback, Maildir, the same users and passwords), fills every
INBOX with the same messages by APPEND, then runs ``benchmarks.load`` against each, one after the
other (both servers up, each mix measured on imapcore then at once on Dovecot), for the two mixes of
the issue:

* ``login-logout``: LOGIN and LOGOUT every cycle, 10 clients over 100 users (target: imapcore >= 1.5x);
* ``persistent``: one LOGIN per client, 10 clients (target: imapcore >= 1.0x);

and prints both figures, the ratio, FETCH FLAGS p99 (target < 10 ms on imapcore), and each server's CPU
per command (its whole process tree, exited per-login processes included). The load generator shares
the machine with the server under test, equally for both: once the machine is saturated, the CPU per
command is what decides the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from benchmarks.common import sample_messages, tree_cpu_s  # noqa: E402
from benchmarks.load import LoadConfig, format_summary, run_load, setup_users  # noqa: E402
from support.live_servers import dovecot_server, imapcore_server  # noqa: E402

PASSWORD = "bench-pw"
MIXES = (("login-logout", True), ("persistent", False))


async def _setup(config: LoadConfig, messages) -> None:
    with trio.fail_after(600):
        await setup_users(config, messages)


def run_mix(server, users: int, clients: int, seconds: float, logout: bool, setup: bool, messages,
            distinct_appends: bool = True) -> dict:
    config = LoadConfig(
        host=server.host, port=server.port, users=users, clients=clients, seconds=seconds,
        password=PASSWORD, logout_every_cycle=logout, setup=False, distinct_appends=distinct_appends,
    )
    if setup:  # before the CPU is read: the setup's APPENDs are not the mix's
        trio.run(_setup, config, messages)
    cpu_before = tree_cpu_s(server.pid) if server.pid else None
    result = trio.run(run_load, config, messages)
    summary = result.summary()
    if cpu_before is not None and result.commands:
        # Server CPU per command, the load generator excluded: with both on this one machine the figure
        # that decides the ratio once the machine is saturated.
        summary["server_cpu_us_per_command"] = round((tree_cpu_s(server.pid) - cpu_before) / result.commands * 1e6)
    print(f"[{server.kind}] " + format_summary(summary), flush=True)
    if "server_cpu_us_per_command" in summary:
        print(f"  server CPU {summary['server_cpu_us_per_command']} us per command", flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.vs_dovecot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per mix and server")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument(
        "--cli-users", type=int, default=None,
        help="create only this many users with 'imapcore user add' (the rest through the store API it "
        "uses; default: all of them through the command line)",
    )
    parser.add_argument("--workers", default="auto",
                        help="imapcore serve --workers (default auto, imapcore's own default: one worker "
                        "process per CPU)")
    parser.add_argument("--pooled-appends", action="store_true",
                        help="APPEND the sample messages unchanged instead of new bytes each time (see "
                        "benchmarks/load.py: imapcore's content-addressed store then skips their parsing)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = parser.parse_args(argv)

    users = {f"user{i}": PASSWORD for i in range(1, args.users + 1)}
    messages = sample_messages(40)
    figures: dict[str, dict[str, dict]] = {"imapcore": {}, "dovecot": {}}
    with contextlib.ExitStack() as stack:
        servers = {}
        for kind in ("imapcore", "dovecot"):
            started = time.monotonic()
            if kind == "imapcore":
                cli_users = args.users if args.cli_users is None else args.cli_users
                context = imapcore_server(users, cli_users=cli_users, extra_args=("--workers", str(args.workers)))
            else:
                context = dovecot_server(users)
            servers[kind] = stack.enter_context(context)
            server = servers[kind]
            detail = f" (--workers {args.workers})" if kind == "imapcore" else ""
            print(f"{kind}{detail} ready on {server.host}:{server.port} after {time.monotonic() - started:.1f} s",
                  flush=True)
        # Both servers run for the whole benchmark and each mix is measured on one right after the other:
        # the machine is shared (other load comes and goes), so the two figures of a ratio are taken as
        # close together in time as possible instead of minutes apart.
        for index, (name, logout) in enumerate(MIXES):
            for kind in ("imapcore", "dovecot"):
                figures[kind][name] = run_mix(
                    servers[kind], args.users, args.clients, args.seconds, logout, setup=index == 0, messages=messages,
                    distinct_appends=not args.pooled_appends,
                )

    appends = "pooled (repeated bytes)" if args.pooled_appends else "distinct (new bytes each time)"
    print(f"\n=== imapcore vs Dovecot (same machine, same run; APPENDs {appends}) ===")
    for name, _ in MIXES:
        ours, theirs = figures["imapcore"][name], figures["dovecot"][name]
        ratio = ours["commands_per_s"] / theirs["commands_per_s"] if theirs["commands_per_s"] else float("nan")
        p99 = ours["kinds"].get("FETCH FLAGS", {}).get("p99_ms", float("nan"))
        p99_d = theirs["kinds"].get("FETCH FLAGS", {}).get("p99_ms", float("nan"))
        cpu = ""
        if "server_cpu_us_per_command" in ours and "server_cpu_us_per_command" in theirs:
            cpu = (f"  server CPU/cmd {ours['server_cpu_us_per_command']} us "
                   f"(dovecot {theirs['server_cpu_us_per_command']} us)")
        print(
            f"{name:<13} imapcore {ours['commands_per_s']:>8.1f} cmd/s ({ours['errors']} errors)  "
            f"dovecot {theirs['commands_per_s']:>8.1f} cmd/s ({theirs['errors']} errors)  ratio {ratio:.2f}x  "
            f"FETCH FLAGS p99 {p99:.2f} ms (dovecot {p99_d:.2f} ms){cpu}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
