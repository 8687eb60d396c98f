"""SORT and THREAD keys from data parsed once at delivery: the first From/To/Cc address (and the raw
In-Reply-To/Message-ID) read back from the stored ENVELOPE, and the string forms RFC 5256 §3 and RFC 5957
sort by.

The store keeps every message's ENVELOPE in IMAP syntax (``structure.envelope``), so SORT need not
reparse the header: ``envelope_first_addresses`` reads the few values it needs from that text. The
ENVELOPE is what FETCH ENVELOPE answers, so SORT FROM and the client's own view of the sender agree
(both take the last From: when a message has several, as Dovecot does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .encoded_words import decode_header_value
from .search import search_fold

#: ENVELOPE positions (RFC 9051 §7.5.2): date subject from sender reply-to to cc bcc in-reply-to message-id.
_FIELDS = {"from": 2, "to": 5, "cc": 6}


@dataclass(frozen=True, slots=True)
class EnvelopeAddress:
    name: bytes | None  # the display name as sent (RFC 2047 encoded words not decoded)
    mailbox: bytes
    host: bytes | None  # None for a group's start marker


class EnvelopeSyntaxError(ValueError):
    pass


# One token of ENVELOPE syntax: "(", ")", NIL, a quoted string, or a literal's {n} header.
_TOKEN = re.compile(rb' *(?:(\()|(\))|(NIL)|"((?:[^"\\]|\\.)*)"|\{(\d+)\+?\}\r\n)', re.I | re.S)
_QUOTED_PAIR = re.compile(rb"\\(.)", re.S)


def _parse(data: bytes, position: int, limit: int | None = None):
    """One value at ``position``: a list, NIL, a quoted string or a literal; returns (value, end).
    With ``limit``, reading stops once the outer list has that many members (SORT FROM needs only
    the first three of an ENVELOPE's ten).

    A regular-expression scanner with an explicit stack: SORT reads thousands of these, and a
    character loop in Python was several times slower.
    """
    stack: list[list] = []
    match_token = _TOKEN.match
    while True:
        token = match_token(data, position)
        if token is None:
            raise EnvelopeSyntaxError(f"unexpected {data[position:position + 20]!r}")
        position = token.end()
        opening, closing, _nil, quoted, literal = token.groups()
        if opening is not None:
            stack.append([])
            continue
        if closing is not None:
            if not stack:
                raise EnvelopeSyntaxError("unbalanced )")
            value = stack.pop()
        elif quoted is not None:
            value = _QUOTED_PAIR.sub(rb"\1", quoted) if b"\\" in quoted else quoted
        elif literal is not None:
            size = int(literal)
            value = data[position:position + size]
            if len(value) != size:
                raise EnvelopeSyntaxError("truncated literal")
            position += size
        else:
            value = None
        if not stack:
            return value, position
        stack[-1].append(value)
        if limit is not None and len(stack) == 1 and len(stack[0]) >= limit:
            return stack[0], position


def envelope_first_addresses(
    envelope: bytes, fields: Iterable[str] = ("from", "to", "cc")
) -> dict[str, EnvelopeAddress | None]:
    """The first address of each of ``fields`` (from, to, cc) of a stored ENVELOPE; a group counts by
    its name. Only the ENVELOPE members up to the last field asked for are read."""
    wanted = {field: _FIELDS[field] for field in fields}
    value, _end = _parse(envelope, 0, limit=max(wanted.values(), default=0) + 1)
    if not isinstance(value, list) or len(value) <= max(wanted.values(), default=0):
        raise EnvelopeSyntaxError("an ENVELOPE has ten members")
    out: dict[str, EnvelopeAddress | None] = {}
    for field, index in wanted.items():
        first = None
        for address in value[index] or ():
            # A group's start marker (mailbox = the group name, host NIL) counts as an address: it is
            # the first addr-mailbox of the list (RFC 9051 §7.5.2), and Dovecot sorts groups by it.
            if isinstance(address, list) and len(address) == 4 and address[2] is not None:
                first = EnvelopeAddress(address[0], address[2], address[3])
                break
        out[field] = first
    return out


def envelope_reply_ids(envelope: bytes) -> tuple[str | None, str | None]:
    """The raw In-Reply-To and Message-ID texts of a stored ENVELOPE (RFC 9051 §7.5.2, members 9, 10).

    THREAD needs the first *valid* id of In-Reply-To (RFC 5256 §3), which may not be the first
    ``<...>`` of the header; the ENVELOPE keeps the whole field.
    """
    value, _end = _parse(envelope, 0)
    if not isinstance(value, list) or len(value) < 10:
        raise EnvelopeSyntaxError("an ENVELOPE has ten members")
    in_reply_to, message_id = value[8], value[9]
    return (
        in_reply_to.decode("utf-8", "replace") if isinstance(in_reply_to, bytes) else None,
        message_id.decode("utf-8", "replace") if isinstance(message_id, bytes) else None,
    )


def mailbox_key(address: EnvelopeAddress | None) -> str:
    """RFC 5256 §3 FROM/TO/CC: the addr-mailbox, compared case-insensitively; '' when absent."""
    if address is None:
        return ""
    return search_fold(address.mailbox.decode("utf-8", "replace"))


def display_key(address: EnvelopeAddress | None) -> str:
    """RFC 5957 §3 DISPLAYFROM/DISPLAYTO: the decoded display name, or else the address itself."""
    if address is None:
        return ""
    if address.name:
        return search_fold(decode_header_value(address.name))
    spec = address.mailbox if address.host is None else address.mailbox + b"@" + address.host
    return search_fold(spec.decode("utf-8", "replace"))
