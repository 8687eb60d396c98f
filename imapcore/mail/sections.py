"""BODY[section], BINARY[section] and partial fetches (RFC 9051 §6.4.5, RFC 3516).

Sections are slices of the raw message located with the byte-offset MIME tree, so BODY[...] returns the
octets as stored. Part numbering (RFC 9051 §6.4.5): the parts of a multipart are numbered from 1; a
message/rfc822 part's sub-parts are those of the encapsulated message; a message (the top level or an
encapsulated one) that is not multipart has just a part 1, itself. A part that does not exist yields
empty data, which is what Dovecot answers (``BODY[9] ""``).

``HEADER``, ``HEADER.FIELDS``, ``HEADER.FIELDS.NOT`` and ``TEXT`` after a part number address the message
encapsulated in that message/rfc822 part; ``MIME`` addresses a part's own MIME header.
"""

from __future__ import annotations

from imapcore.syntax.model import Partial, Section

from .mime import MimePart, parse_message
from .text import UnknownCTE, decode_transfer, transfer_encoding

__all__ = ["UnknownCTE", "apply_partial", "binary_size", "decode_binary", "extract_section", "find_part"]


def _numbered(entity: MimePart, is_message: bool) -> tuple[MimePart, ...]:
    if entity.is_multipart:
        return entity.children
    if entity.message is not None:
        return _numbered(entity.message, True)
    return (entity,) if is_message else ()


def find_part(root: MimePart, path: tuple[int, ...]) -> MimePart | None:
    """The entity that part number ``path`` names, or None when there is no such part."""
    current = root
    is_message = True
    for number in path:
        parts = _numbered(current, is_message)
        if number < 1 or number > len(parts):
            return None
        current = parts[number - 1]
        is_message = False
    return current


def _header_bytes(raw: bytes, entity: MimePart) -> bytes:
    header = raw[entity.start : entity.body_start]
    if entity.header_cut:
        # A header that ran into a delimiter line: its last line break is the delimiter's (Dovecot).
        if header.endswith(b"\r\n"):
            return header[:-2]
        if header.endswith(b"\n"):
            return header[:-1]
    return header


def _select_fields(raw: bytes, entity: MimePart, names: tuple[str, ...], keep: bool) -> bytes:
    wanted = {name.lower().encode("ascii", "replace") for name in names}
    chosen = [
        field.raw for field in entity.header.fields if (field.is_field and field.name.lower() in wanted) == keep
    ]
    # Each field keeps its own line end; one lacking it (a header cut short) gets CRLF so the fields
    # stay separate, and the blank line that ends a header follows (RFC 9051 §6.4.5 example).
    out = b"".join(item if item.endswith(b"\n") else item + b"\r\n" for item in chosen)
    if entity.header_cut:
        return out  # no blank line ended this header, and Dovecot adds none
    if keep:
        return out + b"\r\n"
    # HEADER.FIELDS.NOT ends with the header's own blank line (CRLF or bare LF); a header cut short has
    # none. (Dovecot does the same; for HEADER.FIELDS it always adds CRLF.)
    header = raw[entity.start : entity.body_start]
    if header.endswith(b"\n\r\n") or header == b"\r\n":
        return out + b"\r\n"
    if header.endswith(b"\n\n") or header == b"\n":
        return out + b"\n"
    return out


def extract_section(raw: bytes, section: Section, tree: MimePart | None = None) -> bytes:
    """The octets of ``BODY[section]`` (no partial applied). ``tree`` may pass an already parsed tree."""
    root = tree if tree is not None else parse_message(raw)
    entity = find_part(root, section.part) if section.part else root
    if entity is None:
        return b""
    text = section.text.upper() if section.text else None
    if text is None:
        if not section.part:
            return raw[root.start : root.end]
        return raw[entity.body_start : entity.end]
    if text == "MIME":
        # RFC 9051 §6.4.5: the MIME header of the part (only meaningful with a part number).
        return _header_bytes(raw, entity)
    message = entity
    if section.part:
        # HEADER/TEXT after a part number refer to the encapsulated message of a message/rfc822 part.
        if entity.message is None:
            return b""
        message = entity.message
    if text == "HEADER":
        return _header_bytes(raw, message)
    if text == "TEXT":
        return raw[message.body_start : message.end]
    if text == "HEADER.FIELDS":
        return _select_fields(raw, message, section.fields, True)
    if text == "HEADER.FIELDS.NOT":
        return _select_fields(raw, message, section.fields, False)
    return b""


def apply_partial(data: bytes, partial: Partial | None) -> bytes:
    """``<offset.length>`` (RFC 9051 §6.4.5): an offset past the end gives empty data."""
    if partial is None:
        return data
    if partial.length is None:
        return data[partial.offset :]
    return data[partial.offset : partial.offset + partial.length]


def decode_binary(raw: bytes, part: tuple[int, ...], tree: MimePart | None = None) -> bytes:
    """``BINARY[part]`` (RFC 3516 §4.2): the part's body with its Content-Transfer-Encoding undone.

    An empty ``part`` is the whole message, as is. A part that does not exist gives empty data. Raises
    ``UnknownCTE`` when the encoding is not one we can decode (the server answers [UNKNOWN-CTE]).
    """
    root = tree if tree is not None else parse_message(raw)
    if not part:
        return raw
    entity = find_part(root, part)
    if entity is None:
        return b""
    body = raw[entity.body_start : entity.end]
    if entity.is_multipart or entity.message is not None:
        return body  # RFC 2045 §6.4: composite types are never encoded beyond 7bit/8bit/binary
    return decode_transfer(body, transfer_encoding(entity))


def binary_size(raw: bytes, part: tuple[int, ...], tree: MimePart | None = None) -> int:
    """``BINARY.SIZE[part]`` (RFC 3516 §4.2): octets of the decoded part; raises ``UnknownCTE``."""
    return len(decode_binary(raw, part, tree))
