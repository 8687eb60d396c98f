"""A mailbox's UIDs as sorted, disjoint ``(low, high)`` runs, kept in the mailbox row.

SELECT must tell the session which UIDs exist (sequence number n is the n-th UID). Reading a million UIDs
out of the message table costs hundreds of milliseconds in Python; the run list of a mailbox where
messages are appended in order and expunged now and then is short (one run per hole), so the store keeps
it up to date in the same transaction as each append, copy, move and expunge, and SELECT reads one small
value. ``fsck`` rebuilds it from the message table and reports any difference.

Stored as JSON text ``[low1, high1, low2, high2, ...]``.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable

Runs = list[tuple[int, int]]

#: ``json.dumps(..., separators=...)`` builds an encoder per call; one made once is twice as fast.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def decode(text: str) -> Runs:
    flat = json.loads(text)
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def encode(runs: Runs) -> str:
    return _COMPACT.encode([bound for run in runs for bound in run])


def from_uids(sorted_uids: Iterable[int]) -> Runs:
    runs: Runs = []
    for uid in sorted_uids:
        if runs and uid == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], uid)
        else:
            runs.append((uid, uid))
    return runs


def append_run(runs: Runs, low: int, high: int) -> Runs:
    """Add ``low..high``, all above every UID already present (new UIDs only ever grow)."""
    if low > high:
        return runs
    if runs and runs[-1][1] >= low:
        raise ValueError("new UIDs must be above every existing UID")
    if runs and runs[-1][1] + 1 == low:
        return runs[:-1] + [(runs[-1][0], high)]
    return runs + [(low, high)]


def append_run_text(text: str, low: int, high: int) -> str:
    """``encode(append_run(decode(text), low, high))`` touching only the end of the encoded text.

    Every APPEND extends its mailbox's runs; a mailbox with many holes has a long run list, and decoding
    and re-encoding all of it per delivery cost more than the rest of the row updates.
    """
    if low > high:
        return text
    if text == "[]":
        return f"[{low},{high}]"
    head, last_high = text[:-1].rsplit(",", 1)
    if int(last_high) >= low:
        raise ValueError("new UIDs must be above every existing UID")
    if int(last_high) + 1 == low:
        return f"{head},{high}]"
    return f"{text[:-1]},{low},{high}]"


def remove(runs: Runs, sorted_uids: list[int]) -> Runs:
    """``runs`` without the given UIDs (ascending); UIDs not present are ignored."""
    if not sorted_uids:
        return runs
    result: Runs = []
    for low, high in runs:
        start = bisect.bisect_left(sorted_uids, low)
        stop = bisect.bisect_right(sorted_uids, high)
        if start == stop:
            result.append((low, high))
            continue
        current = low
        for uid in sorted_uids[start:stop]:
            if uid > current:
                result.append((current, uid - 1))
            current = uid + 1
        if current <= high:
            result.append((current, high))
    return result


def count(runs: Runs) -> int:
    return sum(high - low + 1 for low, high in runs)


def expand(runs: Runs) -> tuple[int, ...]:
    return tuple(uid for low, high in runs for uid in range(low, high + 1))
