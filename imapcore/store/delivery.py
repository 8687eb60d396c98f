"""What the store computes once per blob at delivery, from ``imapcore.mail.summarize``.

``prepare_blob`` turns a message's bytes into a ``ParsedBlob``: the pre-serialized ENVELOPE, BODY and
BODYSTRUCTURE, PREVIEW, the sent date, threading headers, the EMAILID/THREADID (RFC 8474), the header
index rows and the two full-text columns. A message the parser cannot understand is still stored byte
for byte: its parsed fields are ``None`` (``parsed`` false) and FETCH falls back to parsing the blob.

Identifiers (RFC 8474 §5): EMAILID is derived from the content hash, so every copy of the same bytes has
the same EMAILID, as the RFC asks of copies. THREADID is derived from the thread's root Message-ID (the
first References entry, else In-Reply-To, else the message's own Message-ID): replies carrying References
land in their parent's thread; a message with none of those headers is its own thread.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from imapcore.mail.search import search_fold, search_fold_utf8

from .fulltext import index_terms_utf8

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParsedBlob:
    blob_id: str
    size: int
    parsed: bool
    envelope: bytes | None
    body: bytes | None
    bodystructure: bytes | None
    preview: str | None
    sent_date: int | None
    sent_day: int | None
    subject: str | None
    base_subject: str | None
    message_id: str | None
    in_reply_to: str | None
    refs: str | None
    email_id: str
    thread_id: str
    headers: tuple[tuple[str, str], ...]  # (lower-case name, search-folded decoded value)
    # The two full-text columns as UTF-8 (stored as TEXT; kept as bytes because the C folding produces
    # UTF-8, so neither Python nor SQLite has to convert 20 KB twice per message):
    header_text: bytes  # "header": decoded "name: value" lines, search-folded
    body_text: bytes  # "body": the decoded text parts, search-folded
    # What the trigram index gets (fulltext.index_terms, as UTF-8), or None: computed later by the deferred
    # indexer (``fulltext.index_pending``), which is what deliveries do (fulltext.py, "Deferred indexing").
    header_terms: bytes | None
    body_terms: bytes | None
    #: Stored without its summary for now (``deferred_blob``): ``blobs.parsed`` = 2 and a
    #: ``parse_pending`` row; every field above but the ids is empty until ``Store.parse_deferred``.
    deferred: bool = False


#: ``blobs.parsed``: 1 summarized, 0 the summary failed (FETCH and SORT parse such a blob themselves),
#: 2 not summarized yet (``deferred_blob``; the same fallbacks, and SEARCH parses it first).
PARSED, UNPARSABLE, DEFERRED = 1, 0, 2


def insert_header_index(conn, num: int, headers: tuple[tuple[str, str], ...]) -> None:
    """Blob ``num``'s rows of the header index (``ParsedBlob.headers``), for SEARCH HEADER and the like."""
    conn.executemany("INSERT INTO blob_headers (blob, name, value_folded) VALUES (?, ?, ?)",
                     [(num, name, value) for name, value in headers])


def default_summarize(raw: bytes):
    from imapcore.mail import summarize

    return summarize(raw)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _thread_id(blob_id: str, message_id: str | None, in_reply_to: str | None, references: tuple[str, ...]) -> str:
    root = (references[0] if references else None) or in_reply_to or message_id
    return "T" + (_short_hash(root) if root else blob_id[:24])


def deferred_blob(raw: bytes, blob_id: str) -> ParsedBlob:
    """A new blob stored without its summary, which ``Store.parse_deferred`` computes later: in a
    batch a moment after the APPEND, or before a SEARCH of its mailbox needs it; a message expunged
    before then (a draft saved again) is never parsed. Only the ids are computed now, from the header
    alone, so that EMAILID and THREADID (RFC 8474 §5.1: immutable) are the ones it keeps."""
    from imapcore.mail.summary import message_ids

    message_id, in_reply_to, references = message_ids(raw)
    return ParsedBlob(
        blob_id, len(raw), False, None, None, None, None, None, None, None, None, None, None, None,
        "M" + blob_id[:24], _thread_id(blob_id, message_id, in_reply_to, references), (), b"", b"", None, None,
        deferred=True,
    )


def prepare_blob(raw: bytes, blob_id: str, summarize: Callable[[bytes], object], *,
                 index_terms_now: bool = False) -> ParsedBlob:
    email_id = "M" + blob_id[:24]
    try:
        summary = summarize(raw)
    except Exception:  # a malformed message is stored as is; the failure is logged, not fatal
        log.exception("could not parse message %s; storing it unparsed", blob_id)
        return ParsedBlob(
            blob_id, len(raw), False, None, None, None, None, None, None, None, None, None, None, None,
            email_id, "T" + blob_id[:24], (), b"", b"", b"", b"",
        )
    references = tuple(summary.references or ())
    thread_id = _thread_id(blob_id, summary.message_id, summary.in_reply_to, references)
    sent: _dt.datetime | None = summary.sent_date
    sent_date = sent_day = None
    if sent is not None:
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=_dt.timezone.utc)
        sent_date = int(sent.timestamp())
        sent_day = sent.date().toordinal()  # the date as written, in its own zone
    # Folded here with ``search_fold``, the comparison form of imapcore.mail.search (casefold + NFKD), as
    # the needle is in search.py, so the index and the linear scan agree exactly.
    headers = tuple((name.lower(), search_fold(value)) for name, value in summary.headers)
    header_text = search_fold_utf8("\n".join(f"{name}: {value}" for name, value in summary.headers))
    body_text = search_fold_utf8(summary.text or "")
    return ParsedBlob(
        blob_id=blob_id,
        size=len(raw),
        parsed=True,
        envelope=summary.envelope,
        body=summary.body,
        bodystructure=summary.bodystructure,
        preview=summary.preview,
        sent_date=sent_date,
        sent_day=sent_day,
        subject=summary.subject,
        base_subject=summary.base_subject,
        message_id=summary.message_id,
        in_reply_to=summary.in_reply_to,
        refs=" ".join(references) or None,
        email_id=email_id,
        thread_id=thread_id,
        headers=headers,
        header_text=header_text,
        body_text=body_text,
        header_terms=index_terms_utf8(header_text) if index_terms_now else None,
        body_terms=index_terms_utf8(body_text) if index_terms_now else None,
    )
