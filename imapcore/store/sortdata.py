"""What SORT and THREAD need about messages, read from the parsed columns the store already keeps.

Delivery (``delivery.py``) stores per blob the sent date, the decoded and base subjects, the threading
headers and the ENVELOPE; ``sort_rows`` reads them for a set of UIDs in one query, so SORT and THREAD do
not open and reparse message blobs. A blob the parser could not understand at delivery (``parsed`` = 0),
or not summarized yet (``parsed`` = 2, ``Store.parse_deferred``), has those columns empty; its row is
completed from ``Store.summarize`` over the blob's bytes, which is what the store would have kept.

An additive helper over the existing tables (no schema change); blocking, like every store read.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import NamedTuple

from .delivery import PARSED
from .uidsets import UidSet

_MSG_ID = re.compile(r"<[^<>]*>")


class SortRow(NamedTuple):
    uid: int
    size: int
    internal_date: int  # seconds since the epoch (UTC)
    sent_date: int | None  # the Date: header in UTC seconds; None when absent or unparseable
    subject: str  # decoded Subject, '' when absent
    base_subject: str  # RFC 5256 §2.1
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    envelope: bytes | None  # IMAP ENVELOPE syntax


def sort_rows(store, mailbox_id: int, uids: UidSet) -> list[SortRow]:
    """One ``SortRow`` per existing message of ``uids``, ascending by UID."""
    conn = store._reader()
    clause, params = store._uid_clause(conn, mailbox_id, uids)
    cursor = conn.execute(
        "SELECT m.uid, m.size, m.internal_date, b.parsed, b.id, b.sent_date, b.subject, b.base_subject, "
        "b.message_id, b.in_reply_to, b.refs, b.envelope FROM messages m JOIN blobs b ON b.num = m.blob "
        f"WHERE m.mailbox_id = ? AND {clause} ORDER BY m.uid",
        (mailbox_id, *params),
    )
    rows = []
    for row in cursor:
        uid, size, internal_date, parsed, blob_id, sent, subject, base, message_id, in_reply_to, refs, envelope = row
        if parsed != PARSED:  # not summarized (yet): from the blob itself
            rows.append(_from_blob(store, uid, size, internal_date, blob_id))
            continue
        rows.append(SortRow(
            uid, size, internal_date, sent, subject or "", base or "", message_id, in_reply_to,
            tuple(_MSG_ID.findall(refs)) if refs else (), envelope,
        ))
    return rows


def _from_blob(store, uid: int, size: int, internal_date: int, blob_id: str) -> SortRow:
    try:
        summary = store.summarize(store.read_blob(blob_id))
    except Exception:  # the same stance as delivery: an unreadable message sorts as an empty one
        return SortRow(uid, size, internal_date, None, "", "", None, None, (), None)
    sent = summary.sent_date
    if sent is not None and sent.tzinfo is None:
        sent = sent.replace(tzinfo=_dt.timezone.utc)
    return SortRow(
        uid, size, internal_date, int(sent.timestamp()) if sent is not None else None, summary.subject,
        summary.base_subject, summary.message_id, summary.in_reply_to, tuple(summary.references),
        summary.envelope,
    )
