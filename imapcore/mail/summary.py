"""Everything the store keeps about a message blob, computed once at delivery: ``summarize(raw)``.

The summary holds the IMAP values a FETCH needs without reparsing (ENVELOPE, BODY, BODYSTRUCTURE,
PREVIEW) and the decoded values SEARCH, SORT and THREAD need (dates, subjects, message ids, decoded
headers, decoded text). ``summarize`` never raises: any bytes are a message, perhaps an odd one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .encoded_words import decode_header_value
from .headers import HeaderBlock, first_values, header_end
from .mime import MimePart, parse_message
from .structure import body_and_structure, envelope
from .text import base_subject, message_text, parse_date, preview

_MSG_ID = re.compile(rb"<[^<>]*>")


@dataclass(frozen=True, slots=True)
class MessageSummary:
    envelope: bytes  # the ENVELOPE value in IMAP syntax
    body: bytes  # the BODY value (non-extensible BODYSTRUCTURE)
    bodystructure: bytes  # the BODYSTRUCTURE value with extension data
    preview: str  # RFC 8970 PREVIEW text (<= 256 characters, whitespace collapsed)
    sent_date: datetime | None  # Date: header, timezone-aware; None if absent/unparseable
    subject: str  # decoded (RFC 2047) Subject, '' if absent
    base_subject: str  # RFC 5256 §2.1 base subject
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]  # (lower-case field name, decoded unfolded value), in order
    text: str  # decoded text/* content for full-text search, subject excluded


def _first_msg_id(value: bytes | None) -> str | None:
    if not value:
        return None
    match = _MSG_ID.search(value)
    chosen = match.group(0) if match else value.strip()
    return chosen.decode("utf-8", "replace") or None


def _all_msg_ids(value: bytes | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(item.decode("utf-8", "replace") for item in _MSG_ID.findall(value))


def summarize_part(raw: bytes, root: MimePart) -> MessageSummary:
    header = root.header
    subject = decode_header_value(header.get(b"subject") or b"")
    decoded: dict[int, str] = {}  # text part -> its decoded text, shared by the search text and PREVIEW
    text = message_text(raw, root, decoded)
    body, bodystructure = body_and_structure(raw, root)
    return MessageSummary(
        envelope=envelope(header),
        body=body,
        bodystructure=bodystructure,
        preview=preview(raw, root, decoded),
        sent_date=parse_date(header.get(b"date")),
        subject=subject,
        base_subject=base_subject(subject),
        message_id=_first_msg_id(header.get(b"message-id")),
        in_reply_to=_first_msg_id(header.get(b"in-reply-to")),
        references=_all_msg_ids(header.get(b"references")),
        headers=tuple(
            (item.name.decode("ascii", "replace").lower(), decode_header_value(item.value))
            for item in header.fields
            if item.is_field
        ),
        text=text,
    )


_ID_FIELDS = (b"message-id", b"in-reply-to", b"references")


def message_ids(raw: bytes) -> tuple[str | None, str | None, tuple[str, ...]]:
    """``summarize(raw)``'s message_id, in_reply_to and references, read from the top-level header
    alone (what THREADID needs when the rest of the summary is left for later)."""
    try:
        values = first_values(raw[:header_end(raw, 0, len(raw))], _ID_FIELDS)
        return (_first_msg_id(values.get(b"message-id")), _first_msg_id(values.get(b"in-reply-to")),
                _all_msg_ids(values.get(b"references")))
    except Exception:  # as summarize: any bytes are a message (its fallback has no ids)
        return None, None, ()


def summarize(raw: bytes) -> MessageSummary:
    """The summary of ``raw``; never raises (a last-resort fallback treats the bytes as plain text)."""
    try:
        return summarize_part(raw, parse_message(raw))
    except RecursionError:
        return _fallback(raw)
    except Exception:  # the contract is total: no input may break delivery
        return _fallback(raw)


def _fallback(raw: bytes) -> MessageSummary:
    size = len(raw)
    lines = raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0)
    body = b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d)' % (size, lines)
    return MessageSummary(
        envelope=b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
        body=body,
        bodystructure=body[:-1] + b" NIL NIL NIL NIL)",
        preview="",
        sent_date=None,
        subject="",
        base_subject="",
        message_id=None,
        in_reply_to=None,
        references=(),
        headers=(),
        text=raw.decode("utf-8", "replace"),
    )
