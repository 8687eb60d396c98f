"""Store benchmarks: ``python -m benchmarks.store [--quick] [--only NAME ...] [sizes...]``.

Prints figures; asserts nothing. Each part builds its own store in a temporary directory.

* append   durable APPEND of distinct ~20 KB messages (blob and metadata on disk before the call
           returns), one appender, then several threads, then MULTIAPPEND batches; synchronous FULL and
           NORMAL; each the median of ``--rounds`` runs, with the process CPU time per message, the
           WAL fsyncs and checkpoints per message. The full-text index is deferred (store/fulltext.py):
           the delivering threads index the backlog in batches during the run, so its cost is inside
           the figure, and what is left pending at the end is indexed and timed before the run counts
           as done; the indexer's own rate is measured apart too.
* fetch    UID, FLAGS and ENVELOPE for N messages with ``fetch_rows`` (pre-serialized ENVELOPE).
* search   SEARCH over N distinct generated messages: flag, UID, date, header and FTS body keys.
* select   STATUS and SELECT on a mailbox of N messages. The mailbox is filled with bulk SQL
           (a recursive CTE inserting N rows that all point at one blob, through the real counter
           triggers), then 1,000 scattered messages are flagged and expunged through the store API so
           the UID list has holes. Disclosed because it is not N deliveries.
* shared   U users each receiving the same M messages: disk used by blobs and by the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.store_corpus import make_message  # noqa: E402

from imapcore.store import FlagMode, NewMessage, Store  # noqa: E402
from imapcore.syntax.model import STAR, SearchKey, SequenceSet  # noqa: E402

ALL = SequenceSet(((1, STAR),))


def _disk(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def _best(fn, repeat=5):
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _bulk_load(store: Store, user: str, mailbox: str, raws, batch=500, flags_for=None):
    for start in range(0, len(raws), batch):
        chunk = raws[start:start + batch]
        store.append_many(
            user, mailbox,
            [NewMessage(raw, flags_for(start + i) if flags_for else frozenset()) for i, raw in enumerate(chunk)],
        )


def _fsync_latency_ms(workdir: Path, rounds: int = 50) -> float:
    """The floor under a durable APPEND on this machine right now (shared machines vary a lot)."""
    probe = workdir / "fsync-probe"
    probe.mkdir(exist_ok=True)
    start = time.perf_counter()
    for i in range(rounds):
        fd = os.open(probe / f"f{i}", os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"x" * 20000)
        os.fsync(fd)
        os.close(fd)
        directory = os.open(probe, os.O_RDONLY)
        os.fsync(directory)
        os.close(directory)
    elapsed = (time.perf_counter() - start) / rounds * 1000
    return elapsed  # the files stay until the end of the run: see _create_latency_us


def _create_latency_us(workdir: Path, rounds: int = 200) -> float:
    """What creating one empty file costs in this directory now (each blob is a new file).

    On ext4 this depends on the directory's block group: a new inode skips every inode of the group
    deleted in the last 60 s (300 s while its inode-table block is still dirty; ``recently_deleted`` in
    fs/ext4/ialloc.c), each skip a buffer lookup. Where a test suite or an earlier benchmark round has just
    removed thousands of files (/tmp on a CI machine), a create measured 0.6-0.9 ms of system CPU instead
    of 10-20 us. So the benchmark removes nothing until it is done, and prints this floor."""
    probe = workdir / "create-probe"
    probe.mkdir(exist_ok=True)
    start = time.perf_counter()
    for i in range(rounds):
        os.close(os.open(probe / f"c{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return (time.perf_counter() - start) / rounds * 1e6


def _deliver(store: Store, raws, threads: int, per_commit: int = 1) -> None:
    """Deliver ``raws`` to u/INBOX from ``threads`` threads, ``per_commit`` messages per APPEND call."""
    def worker(part):
        for i in range(0, len(part), per_commit):
            if per_commit == 1:
                store.append("u", "INBOX", part[i])
            else:
                store.append_many("u", "INBOX", [NewMessage(raw) for raw in part[i:i + per_commit]])

    if threads == 1:
        worker(raws)
        return
    workers = [threading.Thread(target=worker, args=(raws[i::threads],)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()


def bench_append(args, workdir: Path) -> None:
    """Durable APPEND, each configuration ``--rounds`` times on fresh stores; the median is the figure
    (the test machine is shared and noisy). CPU is this process's user + system time per message, the
    figure that does not depend on what the neighbours do."""
    count = args.append
    # The switch interval ``imapcore serve`` uses (server/cli.py). 1 ms and 5 ms measured the same here
    # (16 appenders: 653-688 against 680-689 messages/s) since deliveries parse one at a time.
    sys.setswitchinterval(0.005)
    configs = [
        ("one appender, synchronous=FULL", "FULL", 1, 1),
        ("one appender, synchronous=NORMAL", "NORMAL", 1, 1),
        ("4 appender threads, synchronous=FULL", "FULL", 4, 1),
        ("16 appender threads, synchronous=FULL", "FULL", 16, 1),
        ("MULTIAPPEND of 10 per call, synchronous=FULL", "FULL", 1, 10),
    ]
    seed = 1_000_000
    real = None
    if args.append_mbox:
        import mailbox

        real = [message.as_bytes() for message in mailbox.mbox(args.append_mbox)][:count]
        count = len(real)
        print(f"append: the {count} messages of {args.append_mbox} (mean {sum(map(len, real)) // count} bytes, "
              f"median {statistics.median(map(len, real)):.0f}) per run, durable, median of {args.rounds} runs")
    else:
        print(f"append: {count} distinct messages of ~{len(make_message(seed, body_kb=args.append_kb)) // 1024} KB "
              f"each per run, durable (blob + metadata on disk before the call returns), median of {args.rounds} runs")
    create_us = _create_latency_us(workdir)
    print(f"  this disk now: write 20 KB + fsync file + fsync directory = {_fsync_latency_ms(workdir):.2f} ms; "
          f"create an empty file = {create_us:.0f} us")
    if create_us > 100:
        print("  (file creation is slow in this directory, likely many files deleted here in the last minutes: "
              "the figures below pay it per message; --dir on the disk that will hold the mail measures that)")
    for label, synchronous, threads, per_commit in configs:
        rates, cpus, fsyncs, checkpoints = [], [], [], []
        for round_number in range(args.rounds):
            raws = real or [make_message(seed + i, body_kb=args.append_kb) for i in range(count)]
            seed += count
            path = workdir / f"append-{len(rates)}-{threads}-{per_commit}-{synchronous}"
            with Store.open(path, synchronous=synchronous) as store:
                store.create_user("u")
                before = os.times()
                start = time.perf_counter()
                _deliver(store, raws, threads, per_commit)
                store.index_pending()  # the rest of the deferred full-text index: part of the job
                elapsed = time.perf_counter() - start
                after = os.times()
                fsyncs.append(store._wal_sync.flushes / count)
                checkpoints.append(store._checkpointer.checkpoints)
            # Kept until the whole run is over: removing 2,000 files here would slow every file creation
            # of the next round in the same block group (see _create_latency_us).
            rates.append(count / elapsed)
            cpus.append((after.user - before.user + after.system - before.system) / count * 1000)
        print(f"  {label:46s} {statistics.median(rates):7.0f} messages/s  "
              f"(runs {', '.join(f'{rate:.0f}' for rate in rates)}; CPU {statistics.median(cpus):.2f} ms/message; "
              f"{statistics.median(fsyncs):.2f} WAL fsyncs/message, {statistics.median(checkpoints):.0f} checkpoints)")
    # The deferred indexer alone: deliveries that leave the whole index to it, then one index_pending.
    raws = real[:500] if real else [make_message(seed + i, body_kb=args.append_kb) for i in range(500)]
    seed += len(raws)
    path = workdir / "append-indexer"
    with Store.open(path, synchronous="FULL") as store:
        store.create_user("u")
        store.fulltext_batch = 10**9
        _deliver(store, raws, 4)
        before = os.times()
        start = time.perf_counter()
        indexed = store.index_pending()
        elapsed = time.perf_counter() - start
        after = os.times()
    print(f"  deferred full-text indexer alone: {indexed / elapsed:7.0f} messages/s "
          f"(CPU {(after.user - before.user + after.system - before.system) / indexed * 1000:.2f} ms/message; "
          f"included in the figures above)")
    from imapcore.mail import summarize
    from imapcore.store.delivery import default_summarize, prepare_blob
    from imapcore.store.blobs import blob_id_of

    raws = [make_message(seed + i, body_kb=args.append_kb) for i in range(200)]
    start = time.process_time()
    for raw in raws:
        summarize(raw)
    middle = time.process_time()
    for raw in raws:
        prepare_blob(raw, blob_id_of(raw), default_summarize)
    end = time.process_time()
    print(f"  (imapcore.mail.summarize alone: {len(raws) / (middle - start):6.0f} messages/s, "
          f"{(middle - start) / len(raws) * 1000:.2f} ms; prepare_blob (summarize, search folding, header "
          f"rows; no index words) {(end - middle) / len(raws) * 1000:.2f} ms CPU)")


def bench_fetch(args, workdir: Path) -> None:
    count = args.fetch
    with Store.open(workdir / "fetch", durable=False, synchronous="OFF") as store:
        store.create_user("u")
        _bulk_load(store, "u", "INBOX", [make_message(i, body_kb=0.5) for i in range(count)],
                   flags_for=lambda i: frozenset({"\\Seen"}) if i % 3 else frozenset())
        box = store.mailbox("u", "INBOX").id
        store.fetch_rows(box, ALL, ["flags", "envelope"])  # warm the page cache
        elapsed, rows = _best(lambda: store.fetch_rows(box, ALL, ["flags", "envelope"]))
        assert len(rows) == count and rows[0].envelope.startswith(b"(")
        print(f"fetch: UID FLAGS ENVELOPE for {count} messages: {elapsed * 1000:.1f} ms "
              f"= {count / elapsed:,.0f} messages/s")
        elapsed, rows = _best(lambda: store.fetch_rows(box, ALL, ["flags"]))
        print(f"fetch: UID FLAGS for {count} messages: {elapsed * 1000:.1f} ms = {count / elapsed:,.0f} messages/s")


def bench_search(args, workdir: Path) -> None:
    count = args.search
    rng = random.Random(1)
    start = time.perf_counter()
    with Store.open(workdir / "search", durable=False, synchronous="OFF") as store:
        store.create_user("u")
        raws = [make_message(i, body_kb=0.3) for i in range(count)]
        _bulk_load(store, "u", "INBOX", raws, batch=1000,
                   flags_for=lambda i: frozenset({"\\Flagged"}) if rng.random() < 0.05 else frozenset())
        print(f"search: {count} distinct messages loaded in {time.perf_counter() - start:.1f} s")
        # The full-text index is deferred (store/fulltext.py): a bulk load leaves most blobs pending, and
        # the server indexes them within seconds (every 5 s). BODY/TEXT on pending blobs is exact but a
        # scan of their stored text; the figures are for the indexed steady state, the scan shown apart.
        box = store.mailbox("u", "INBOX").id
        pending = store.pending_index_count()
        needle = SearchKey("BODY", (f"seed{count // 3}",))
        elapsed, hits = _best(lambda: store.search(box, needle), repeat=1)
        print(f"  (before indexing: {pending} blobs pending; body word seed{count // 3} by scanning their text "
              f"{elapsed * 1000:.1f} ms, {len(hits)} hits)")
        start = time.perf_counter()
        store.index_pending()
        print(f"  indexed {pending} pending blobs in {time.perf_counter() - start:.1f} s")
        box = store.mailbox("u", "INBOX").id
        uids = store.select("u", "INBOX").uids
        today = dt.datetime.now(dt.timezone.utc).date()
        keys = [
            ("flag FLAGGED", SearchKey("FLAGGED")),
            ("flag UNSEEN", SearchKey("UNSEEN")),
            ("UID range", SearchKey("UID", (SequenceSet(((count // 4, count // 2),)),))),
            ("date SINCE today", SearchKey("SINCE", (today,))),
            ("date BEFORE today", SearchKey("BEFORE", (today,))),
            ("header FROM juergen", SearchKey("FROM", ("juergen",))),
            ("header SUBJECT foxtrot", SearchKey("SUBJECT", ("foxtrot",))),
            (f"body word seed{count // 2} (FTS)", SearchKey("BODY", (f"seed{count // 2}",))),
            ("body word straße (FTS, common)", SearchKey("BODY", ("straße",))),
            ("text word xray (FTS, common)", SearchKey("TEXT", ("xray",))),
            ("body 'alpha bravo' (FTS + text check)", SearchKey("BODY", ("alpha bravo",))),
            ("body 'xq' (2 chars: text scan)", SearchKey("BODY", ("xq",))),
        ]
        for label, key in keys:
            elapsed, hits = _best(lambda key=key: store.search(box, key, uids=uids), repeat=3)
            print(f"  {label:34s} {elapsed * 1000:8.1f} ms  ({len(hits)} hits)")


def bench_select(args, workdir: Path) -> None:
    count = args.select
    with Store.open(workdir / "select", durable=False, synchronous="OFF") as store:
        store.create_user("u")
        store.append("u", "INBOX", make_message(1))
        box = store.mailbox("u", "INBOX").id
        start = time.perf_counter()
        conn = store._writer
        with store._lock:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "WITH RECURSIVE n(uid) AS (SELECT 2 UNION ALL SELECT uid + 1 FROM n WHERE uid < ?) "
                "INSERT INTO messages (mailbox_id, uid, blob, size, internal_date, internal_tz, internal_day, "
                "save_date, flags, keywords, modseq, recent) "
                "SELECT ?, uid, (SELECT blob FROM messages WHERE mailbox_id = ? AND uid = 1), 1000, "
                "1700000000 + uid, 0, 738000, 1700000000, uid % 2, '', uid + 1, 0 FROM n",
                (count, box, box),
            )
            conn.execute(
                "UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, uid_ranges = ? WHERE id = ?",
                (count + 1, count + 1, f"[1,{count}]", box),
            )
            conn.execute("COMMIT")
        print(f"select: {count} messages inserted with bulk SQL in {time.perf_counter() - start:.1f} s")
        holes = sorted(random.Random(2).sample(range(1, count + 1), 1000))
        store.store_flags(box, holes, FlagMode.ADD, ["\\Deleted"])
        store.expunge(box)
        elapsed, status = _best(lambda: store.status("u", "INBOX"))
        print(f"  STATUS (MESSAGES UIDNEXT UNSEEN SIZE HIGHESTMODSEQ): {elapsed * 1000:.2f} ms "
              f"(messages={status.messages}, unseen={status.unseen})")
        elapsed, snapshot = _best(lambda: store.select("u", "INBOX"))
        print(f"  SELECT snapshot (counters, {len(snapshot.uid_ranges)} UID runs, keywords): {elapsed * 1000:.2f} ms")
        elapsed, _ = _best(lambda: store.select("u", "INBOX").uids, repeat=2)
        print(f"  SELECT + expanding all {snapshot.status.messages} UIDs in Python: {elapsed * 1000:.1f} ms")


def bench_shared(args, workdir: Path) -> None:
    users, count = args.users, args.shared
    raws = [make_message(500_000 + i, body_kb=args.shared_kb) for i in range(count)]
    one_copy = sum(len(raw) for raw in raws)
    path = workdir / "shared"
    start = time.perf_counter()
    with Store.open(path, durable=False, synchronous="OFF") as store:
        for n in range(users):
            store.create_user(f"user{n}")
            _bulk_load(store, f"user{n}", "INBOX", raws, batch=1000)
        store._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    blobs = _disk(path / "blobs")
    database = sum(_disk_file(path / name) for name in ("meta.sqlite3", "meta.sqlite3-wal"))
    print(f"shared: {users} users x {count} identical messages ({one_copy / 1e6:.1f} MB once), "
          f"delivered in {time.perf_counter() - start:.1f} s")
    print(f"  blobs on disk {blobs / 1e6:.1f} MB, database {database / 1e6:.1f} MB "
          f"({database / (users * count):.0f} bytes per message row incl. one parsed copy per blob), "
          f"total {(blobs + database) / 1e6:.1f} MB vs {users * one_copy / 1e6:.1f} MB for {users} copies")


def _disk_file(path: Path) -> int:
    try:
        return os.stat(path).st_blocks * 512
    except FileNotFoundError:
        return 0


PARTS = {"append": bench_append, "fetch": bench_fetch, "search": bench_search, "select": bench_select,
         "shared": bench_shared}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a run of a few seconds")
    parser.add_argument("--only", nargs="*", choices=sorted(PARTS), help="run only these parts")
    parser.add_argument("--append", type=int, help="messages per APPEND run (default 2000)")
    parser.add_argument("--append-kb", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3, help="runs per APPEND configuration (median shown)")
    parser.add_argument("--append-mbox", help="APPEND the messages of this mbox (real mail) instead of generated ones")
    parser.add_argument("--fetch", type=int, help="messages for FETCH (default 10000)")
    parser.add_argument("--search", type=int, help="messages for SEARCH (default 100000)")
    parser.add_argument("--select", type=int, help="messages for SELECT/STATUS (default 1000000)")
    parser.add_argument("--users", type=int, help="users for the shared-delivery figure (default 100)")
    parser.add_argument("--shared", type=int, help="messages each user receives (default 10000)")
    parser.add_argument("--shared-kb", type=float, default=4.0)
    parser.add_argument("--dir", help="work directory (default: a temporary directory, removed after)")
    args = parser.parse_args(argv)
    quick = {"append": 300, "fetch": 10000, "search": 10000, "select": 100000, "users": 10, "shared": 1000}
    full = {"append": 2000, "fetch": 10000, "search": 100000, "select": 1000000, "users": 100, "shared": 10000}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="imapcore-bench-", dir=os.environ.get("TMPDIR", "/tmp")))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        for name in args.only or PARTS:
            PARTS[name](args, workdir)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
