"""FETCH response serialization: the C assembler against the pure-Python twin, in one run.

``python -m benchmarks.serialize [--rows 1000] [--repeat 30]``

The batch is what a client syncing a folder asks for (``FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE
BODYSTRUCTURE)``): 1,000 rows whose ENVELOPE and BODYSTRUCTURE are the real values ``imapcore.mail``
computes for the messages of ``/work/shared/data/sample-500.mbox`` (each message used twice), with
realistic flags. Both paths get the same ``FetchRow`` list and must produce the same bytes (checked
before timing). A second, informative line adds ``BODY.PEEK[]`` literals (whole messages), where both
paths are dominated by copying the bodies.

Figures printed: median time per batch, rows/s, MB/s of output, and the C/Python speed ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import mailbox
import statistics
import sys
import time
from pathlib import Path

from imapcore.protocol import fetch
from imapcore.protocol.fetch import FetchRow, format_internaldate

MBOX = Path("/work/shared/data/sample-500.mbox")
FLAG_SETS = [(), ("\\Seen",), ("\\Seen", "\\Answered"), ("\\Seen", "$Forwarded"), ("\\Flagged", "\\Seen", "$Junk")]


def load_messages(limit: int) -> list[bytes]:
    box = mailbox.mbox(str(MBOX), create=False)
    messages = []
    for key in box.iterkeys():
        messages.append(box.get_bytes(key))
        if len(messages) >= limit:
            break
    return messages


def build_rows(count: int, with_bodies: bool) -> list[FetchRow]:
    from imapcore.mail.summary import summarize

    messages = load_messages(min(count, 500))
    summaries = [summarize(raw) for raw in messages]
    date = format_internaldate(dt.datetime(2024, 6, 13, 10, 0, 0, tzinfo=dt.timezone.utc))
    rows = []
    for index in range(count):
        raw = messages[index % len(messages)]
        summary = summaries[index % len(summaries)]
        rows.append(
            FetchRow(
                seq=index + 1,
                uid=1000 + index * 3,
                flags=FLAG_SETS[index % len(FLAG_SETS)],
                size=len(raw),
                internaldate=date if with_bodies else None,
                envelope=summary.envelope,
                bodystructure=summary.bodystructure,
                bodies=((b"BODY[]", raw),) if with_bodies else (),
            )
        )
    return rows


def time_it(function, rows, repeat: int) -> float:
    function(rows)  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(rows)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(title: str, rows: list[FetchRow], repeat: int) -> None:
    reference = fetch.serialize_fetch_batch_py(rows)
    print(f"{title}: {len(rows)} rows, {len(reference) / 1e6:.2f} MB of responses")
    python_s = time_it(fetch.serialize_fetch_batch_py, rows, repeat)
    print(f"  pure Python : {python_s * 1e3:8.3f} ms/batch  {len(rows) / python_s:12,.0f} rows/s  "
          f"{len(reference) / python_s / 1e6:8.0f} MB/s")
    if fetch._lib is None:
        print("  C           : not built (imapcore._cserialize missing)")
        return
    if fetch.serialize_fetch_batch_c(rows) != reference:
        raise SystemExit("C and Python outputs differ")
    c_s = time_it(fetch.serialize_fetch_batch_c, rows, repeat)
    print(f"  C (cffi)    : {c_s * 1e3:8.3f} ms/batch  {len(rows) / c_s:12,.0f} rows/s  "
          f"{len(reference) / c_s / 1e6:8.0f} MB/s")
    print(f"  ratio C / Python: {python_s / c_s:.1f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    if not MBOX.exists():
        print(f"{MBOX} not found", file=sys.stderr)
        return 1
    report("UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE", build_rows(args.rows, with_bodies=False), args.repeat)
    report("... plus INTERNALDATE and BODY[] literals", build_rows(args.rows, with_bodies=True), max(3, args.repeat // 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
