"""UID sets: a ``SequenceSet`` in UID terms (``*`` = the largest UID in use) or a plain iterable of UIDs.

Message operations take either form. ``_resolve_uids`` returns the UIDs that exist, ascending;
``_uid_clause`` returns an SQL condition on ``m.uid`` with its parameters. A set of a few ranges becomes
``BETWEEN`` tests (the primary key ``(mailbox_id, uid)`` serves them); a long list of ranges, from
clients that send every UID, goes through ``json_each`` or a filter in Python instead of a huge SQL text.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable

from imapcore.syntax.model import SequenceSet

UidSet = SequenceSet | Iterable[int]

# Above this many ranges a UID set is filtered in Python rather than as OR'ed BETWEENs.
_MAX_SQL_RANGES = 32


class UidSets:
    """Mixin of ``Store``: UID set resolution against the message table."""

    def _resolve_uids(self, conn, mailbox_id: int, uid_set: UidSet) -> list[int]:
        """The existing UIDs of ``uid_set`` (``*`` is the largest UID in use), ascending."""
        if isinstance(uid_set, SequenceSet):
            largest = conn.execute("SELECT max(uid) FROM messages WHERE mailbox_id = ?", (mailbox_id,)).fetchone()[0]
            if largest is None:
                return []
            ranges = _merge(sorted(uid_set.iter_ranges(largest)))
        else:
            wanted = sorted(set(uid_set))
            if not wanted:
                return []
            ranges = _ranges_of(wanted)
        if len(ranges) <= _MAX_SQL_RANGES:
            clause = " OR ".join(["uid BETWEEN ? AND ?"] * len(ranges))
            params = [mailbox_id, *itertools.chain.from_iterable(ranges)]
            return [
                uid
                for (uid,) in conn.execute(
                    f"SELECT uid FROM messages WHERE mailbox_id = ? AND ({clause}) ORDER BY uid", params
                )
            ]
        return _filter_ranges(
            (uid for (uid,) in conn.execute(
                "SELECT uid FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid",
                (mailbox_id, ranges[0][0], max(high for _low, high in ranges)),
            )),
            ranges,
        )

    def _uid_clause(self, conn, mailbox_id: int, uid_set: UidSet) -> tuple[str, list]:
        """SQL condition on ``m.uid`` for a UID set, with its parameters."""
        if isinstance(uid_set, SequenceSet):
            largest = conn.execute("SELECT max(uid) FROM messages WHERE mailbox_id = ?", (mailbox_id,)).fetchone()[0]
            if largest is None:
                return "0", []
            ranges = _merge(sorted(uid_set.iter_ranges(largest)))
        else:
            wanted = sorted(set(uid_set))
            if not wanted:
                return "0", []
            ranges = _ranges_of(wanted)
        if len(ranges) <= _MAX_SQL_RANGES:
            return "(" + " OR ".join(["m.uid BETWEEN ? AND ?"] * len(ranges)) + ")", list(
                itertools.chain.from_iterable(ranges)
            )
        return "m.uid IN (SELECT value FROM json_each(?))", [_json_list(_expand(ranges))]


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _ranges_of(sorted_uids: list[int]) -> list[tuple[int, int]]:
    ranges = []
    start = previous = sorted_uids[0]
    for uid in sorted_uids[1:]:
        if uid != previous + 1:
            ranges.append((start, previous))
            start = uid
        previous = uid
    ranges.append((start, previous))
    return ranges


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged


def _expand(ranges: list[tuple[int, int]]) -> list[int]:
    return [uid for low, high in ranges for uid in range(low, high + 1)]


def _json_list(values: list[int]) -> str:
    return "[" + ",".join(map(str, values)) + "]"


def _filter_ranges(uids: Iterable[int], ranges: list[tuple[int, int]]) -> list[int]:
    import bisect

    lows = [low for low, _high in ranges]
    result = []
    for uid in uids:
        index = bisect.bisect_right(lows, uid) - 1
        if index >= 0 and uid <= ranges[index][1]:
            result.append(uid)
    return result

