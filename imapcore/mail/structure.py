"""ENVELOPE, BODY and BODYSTRUCTURE values in IMAP syntax (RFC 9051 §7.5.2, §9 ``envelope``, ``body``).

Built from the byte-offset MIME tree (``mime``), so sizes and line counts are those of the raw bytes.
Strings go through ``imapcore.protocol.encode`` with ``utf8=False``: 8-bit header bytes become literals,
which every client accepts whatever it enabled, so the stored value is session independent.

Choices that follow Dovecot (our second opinion in tests/mail): header values are unfolded with outer
whitespace stripped; parameter values are unquoted and RFC 2231 continuations merged; an absent
Content-Transfer-Encoding is "7bit"; type, subtype and encoding are given in lower case... as written
by the sender for encodings; extension data always carries all four single-part fields.
"""

from __future__ import annotations

import re

from imapcore.protocol.encode import nstring, string

from .addresses import Address, parse_address_list
from .headers import HeaderBlock
from .mime import MimePart
from .params import parse_value, single_token


def _nstring(value: bytes | None) -> bytes:
    return nstring(value)


_SPACE_RUN = re.compile(rb"[ \t\r\n]+")


def _raw_nstring(header: HeaderBlock, name: bytes) -> bytes:
    """Date, Message-ID, In-Reply-To: unfolded but otherwise as sent (Dovecot keeps their spacing)."""
    item = header.last_field(name)
    return b"NIL" if item is None else nstring(item.unstripped_value)


def _text_nstring(value: bytes | None) -> bytes:
    """The ENVELOPE subject: runs of whitespace become one space, as Dovecot sends it."""
    if value is None:
        return b"NIL"
    return nstring(_SPACE_RUN.sub(b" ", value).strip(b" "))


def _addresses(value: bytes | None) -> bytes:
    addresses = parse_address_list(value)
    if not addresses:
        return b"NIL"
    return b"(" + b"".join(_address(item) for item in addresses) + b")"


def _address(item: Address) -> bytes:
    return b"(%s %s %s %s)" % (_nstring(item.name), _nstring(item.adl), _nstring(item.mailbox), _nstring(item.host))


def envelope(header: HeaderBlock) -> bytes:
    """RFC 9051 §7.5.2 ENVELOPE: date subject from sender reply-to to cc bcc in-reply-to message-id."""
    # Dovecot takes the last occurrence of a repeated field; RFC 5322 §3.6 allows only one.
    get = header.get_last
    from_value = get(b"from")
    sender = get(b"sender")
    reply_to = get(b"reply-to")
    from_list = _addresses(from_value)
    # RFC 9051 §7.5.2: "If the Sender or Reply-To header lines are absent in the [RFC-5322] header, or
    # are present but empty, the server sets the corresponding member of the envelope to be the same
    # value as the from member".
    sender_list = _addresses(sender) if sender else from_list
    if sender_list == b"NIL":
        sender_list = from_list
    reply_list = _addresses(reply_to) if reply_to else from_list
    if reply_list == b"NIL":
        reply_list = from_list
    return b"(%s %s %s %s %s %s %s %s %s %s)" % (
        _raw_nstring(header, b"date"),
        _text_nstring(get(b"subject")),
        from_list,
        sender_list,
        reply_list,
        _addresses(get(b"to")),
        _addresses(get(b"cc")),
        _addresses(get(b"bcc")),
        _raw_nstring(header, b"in-reply-to"),
        _raw_nstring(header, b"message-id"),
    )


def _params(params, text_default: bool = False) -> bytes:
    if text_default and not any(name.lower() == b"charset" for name, _ in params):
        # Dovecot names the RFC 2045 §5.2 default charset of text parts explicitly, after the others.
        params = tuple(params) + ((b"charset", b"us-ascii"),)
    if not params:
        return b"NIL"
    return b"(" + b" ".join(string(name) + b" " + string(value) for name, value in params) + b")"


def _disposition(header: HeaderBlock) -> bytes:
    value = header.get(b"content-disposition")
    if value is None:
        return b"NIL"
    kind, params = parse_value(value)
    kind = kind.partition(b"/")[0]  # a disposition is a single token
    if not kind:
        return b"NIL"
    return b"(" + string(kind) + b" " + _params(params) + b")"


def _language(header: HeaderBlock) -> bytes:
    value = header.get(b"content-language")
    if value is None:
        return b"NIL"
    # RFC 3282: a comma-separated list of language tags.
    tags = [tag.strip() for tag in value.replace(b"\t", b" ").split(b",")]
    tags = [tag.split(b"(")[0].strip() for tag in tags]
    tags = [tag for tag in tags if tag]
    if not tags:
        return b"NIL"
    return b"(" + b" ".join(string(tag) for tag in tags) + b")"


def _encoding(header: HeaderBlock) -> bytes:
    # RFC 2045 §6.1: one token; anything else counts as absent, i.e. 7bit (as Dovecot reads it).
    return string(single_token(header.get(b"content-transfer-encoding")) or b"7bit")


_NO_FIELDS = HeaderBlock(())


def line_count(raw: bytes, start: int, end: int) -> int:
    """Lines of a body: its line feeds (a last line without one does not count, as in Dovecot)."""
    return raw.count(b"\n", start, end)


def body_structure(raw: bytes, part: MimePart, extended: bool) -> bytes:
    """BODYSTRUCTURE (``extended``) or BODY of ``part`` (RFC 9051 §9 ``body``)."""
    return body_and_structure(raw, part)[1 if extended else 0]


def body_and_structure(raw: bytes, part: MimePart) -> tuple[bytes, bytes]:
    """BODY and BODYSTRUCTURE of ``part`` in one walk: BODYSTRUCTURE is BODY with extension data after
    the same fields, so each part's common fields (and its line count) are computed once."""
    header = part.header
    if part.is_multipart:
        if part.children:
            pairs = [body_and_structure(raw, child) for child in part.children]
            inner_body = b"".join(pair[0] for pair in pairs)
            inner_structure = b"".join(pair[1] for pair in pairs)
        else:
            # RFC 9051 §9 needs at least one body part: report an empty text/plain one, as Dovecot does.
            inner_body, inner_structure = _empty_text_part(False), _empty_text_part(True)
        subtype = string(part.subtype_text)
        extension = b"".join((b" ", _params(part.params), b" ", _disposition(header), b" ", _language(header),
                              b" ", _nstring(header.get(b"content-location"))))
        return (b"(" + inner_body + b" " + subtype + b")",
                b"(" + inner_structure + b" " + subtype + extension + b")")
    if not part.is_mime:
        header = _NO_FIELDS  # Content-* fields of a non-MIME message are not looked at (see mime.py)
    pieces = [
        string(part.type_text),
        string(part.subtype_text),
        _params(part.params, part.type == b"text"),
        _nstring(header.get(b"content-id")),
        _nstring(header.get(b"content-description")),
        _encoding(header),
        b"%d" % part.body_size,
    ]
    if part.message is not None:
        inner = part.message
        inner_body, inner_structure = body_and_structure(raw, inner)
        common = b" ".join(pieces) + b" " + envelope(inner.header) + b" "
        lines = b" %d" % line_count(raw, part.body_start, part.end)
        body = common + inner_body + lines
        structure = common + inner_structure + lines
    else:
        if part.type == b"text":
            pieces.append(b"%d" % line_count(raw, part.body_start, part.end))
        body = structure = b" ".join(pieces)
    extension = b" ".join((
        _nstring(header.get(b"content-md5")),
        _disposition(header),
        _language(header),
        _nstring(header.get(b"content-location")),
    ))
    return b"(" + body + b")", b"(" + structure + b" " + extension + b")"


def _empty_text_part(extended: bool) -> bytes:
    base = b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0'
    return base + (b" NIL NIL NIL NIL)" if extended else b")")
