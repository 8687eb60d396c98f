"""``imapcore fsck`` and ``imapcore gc``: store maintenance from the command line.

Both take ``--data-dir DIR`` (default ``$IMAPCORE_DATA`` or ``./imapcore-data``) and ``--config FILE``
(a TOML file whose top-level ``data_dir``, or ``[store] data_dir``, is used when ``--data-dir`` is not
given). They may run beside a live server: their changes are SQLite write transactions (see
``maintenance.py``).
Exit status: 0 clean, 1 problems found (fsck), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="store directory (default: $IMAPCORE_DATA or ./imapcore-data)")
    parser.add_argument("--config", help="TOML configuration file (its data_dir is used)")


def resolve_data_dir(args: argparse.Namespace) -> Path:
    if args.data_dir:
        return Path(args.data_dir)
    if args.config:
        with open(args.config, "rb") as handle:
            config = tomllib.load(handle)
        value = config.get("data_dir") or config.get("store", {}).get("data_dir")
        if value:
            return Path(value)
    return Path(os.environ.get("IMAPCORE_DATA") or "./imapcore-data")


def _open(args):
    from .store import Store

    data_dir = resolve_data_dir(args)
    if not (data_dir / "meta.sqlite3").exists():
        print(f"no store at {data_dir}", file=sys.stderr)
        return None
    # process_shared: a collection here and a delivery in a running server exclude each other (locking.py).
    return Store.open(data_dir, process_shared=True)


def run_fsck(args: argparse.Namespace) -> int:
    store = _open(args)
    if store is None:
        return 2
    with store:
        report = store.fsck(repair=not args.no_repair, verify_hashes=not args.no_verify)
    print(f"blobs checked: {report.blobs_checked}")
    for label, items in (
        ("corrupt blob", report.corrupt_blobs),
        ("missing blob", report.missing_blobs),
        ("unreferenced blob (run gc)", report.unreferenced_blobs),
        ("repaired" if not args.no_repair else "wrong", report.counters_repaired),
        ("problem", report.problems),
    ):
        for item in items:
            print(f"{label}: {item}")
    print("clean" if report.clean else "NOT CLEAN")
    return 0 if report.clean else 1


def run_gc(args: argparse.Namespace) -> int:
    store = _open(args)
    if store is None:
        return 2
    with store:
        removed = store.gc()
    for blob_id in removed:
        print(f"removed {blob_id}")
    print(f"{len(removed)} unreferenced blob(s) removed")
    return 0


def register(subparsers) -> None:
    fsck = subparsers.add_parser("fsck", help="verify blobs and references, repair counters")
    _add_common(fsck)
    fsck.add_argument("--no-repair", action="store_true", help="report counter differences without fixing them")
    fsck.add_argument("--no-verify", action="store_true", help="check blob files exist without hashing them")
    fsck.set_defaults(func=run_fsck)
    gc = subparsers.add_parser("gc", help="remove blobs no message refers to")
    _add_common(gc)
    gc.set_defaults(func=run_gc)
