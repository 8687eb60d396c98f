"""SORT and THREAD over a large mailbox: ``python -m benchmarks.sort_thread [--messages N] [--old REV]``.

Prints figures; asserts nothing. The mailbox is the 500-message sample mbox copied until it holds N
distinct messages (default 10,000): every copy rewrites the ids in Message-ID, In-Reply-To and References
so each copy is its own set of threads and every message is a distinct blob, as in a real mailbox.

Measured (best of 3, the blocking functions the handlers run in a worker thread, search excluded):

* ``sort_uids`` for several criteria lists, and THREAD REFERENCES / ORDEREDSUBJECT (``thread_uids``);
* with ``--old REV``, the ``sort_uids`` of ``imapcore/commands/search.py`` at git revision REV (the version
  that read and parsed every matched blob), on the same store, and checks both give the same order.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.corpus import sample_mbox  # noqa: E402

from imapcore.commands.search import sort_uids, thread_uids  # noqa: E402
from imapcore.store import NewMessage, Store  # noqa: E402
from imapcore.syntax.commands import SortCriterion  # noqa: E402

CRITERIA = {
    "ARRIVAL": ("ARRIVAL",),
    "DATE": ("DATE",),
    "SUBJECT": ("SUBJECT",),
    "FROM": ("FROM",),
    "REVERSE DATE": ("-DATE",),
    "SUBJECT DATE": ("SUBJECT", "DATE"),
    "DISPLAYFROM SIZE": ("DISPLAYFROM", "SIZE"),
    "TO CC": ("TO", "CC"),
}
_ID_HEADER = re.compile(rb"^(message-id|in-reply-to|references):[^\r\n]*(\r\n[ \t][^\r\n]*)*", re.I | re.M)
_ID = re.compile(rb"<([^<>@]*)@")


def _copy(raw: bytes, copy: int) -> bytes:
    if copy == 0:
        return raw
    head, sep, body = raw.partition(b"\r\n\r\n")
    head = _ID_HEADER.sub(lambda m: _ID.sub(lambda i: b"<" + i.group(1) + b".c%d@" % copy, m.group(0)), head)
    return head + sep + body + b"\r\ncopy %d\r\n" % copy  # distinct bytes even without ids


def _criteria(names) -> tuple[SortCriterion, ...]:
    return tuple(SortCriterion(name.lstrip("-"), name.startswith("-")) for name in names)


def _best(fn, repeat=3):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _old_sort(rev: str):
    source = subprocess.run(["git", "show", f"{rev}:imapcore/commands/search.py"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode()
    source = source.replace("\n@handles(", "\n# @handles(")  # the live module owns the handlers
    module = types.ModuleType("old_search")
    module.__package__ = "imapcore.commands"
    exec(compile(source, f"{rev}:search.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module.sort_uids


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sort_thread", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--old", help="git revision whose sort_uids to compare with")
    args = parser.parse_args(argv)
    sample = [raw for _name, raw in sample_mbox()]
    if not sample:
        sys.exit("the sample mbox is missing")
    raws = [_copy(sample[n % len(sample)], n // len(sample)) for n in range(args.messages)]
    workdir = Path(tempfile.mkdtemp(prefix="imapcore-sort-"))
    try:
        store = Store.open(workdir, synchronous="OFF", durable=False)
        store.create_user("bench")
        start = time.perf_counter()
        for offset in range(0, len(raws), 500):
            store.append_many("bench", "INBOX", [NewMessage(raw) for raw in raws[offset:offset + 500]])
        print(f"loaded {len(raws)} messages in {time.perf_counter() - start:.1f} s")
        mailbox_id = store.mailbox("bench", "INBOX").id
        uids = list(store.uids(mailbox_id))
        old = _old_sort(args.old) if args.old else None
        for label, names in CRITERIA.items():
            criteria = _criteria(names)
            seconds, new_order = _best(lambda: sort_uids(store, mailbox_id, uids, criteria))
            line = f"SORT ({label}) {len(uids)} messages: {seconds * 1000:.0f} ms"
            if old is not None:
                old_seconds, old_order = _best(lambda: old(store, mailbox_id, uids, criteria), repeat=1)
                same = "same order" if old_order == new_order else "ORDER DIFFERS"
                line += f"; before {old_seconds * 1000:.0f} ms ({old_seconds / seconds:.0f}x), {same}"
            print(line)
        for algorithm in ("REFERENCES", "ORDEREDSUBJECT"):
            seconds, nodes = _best(lambda: thread_uids(store, mailbox_id, uids, algorithm))
            print(f"THREAD {algorithm} {len(uids)} messages: {seconds * 1000:.0f} ms ({len(nodes)} threads)")
        store.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
