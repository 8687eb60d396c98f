"""The MIME tree of a message as byte offsets into the raw message (RFC 2045, RFC 2046).

``parse_message(raw)`` returns the root ``MimePart``. Every part records where its header starts, where
its body starts and where it ends, so BODYSTRUCTURE sizes and line counts are those of the raw bytes
exactly, and BODY[section] extraction is slicing. Nothing is decoded or copied here.

Scanning follows RFC 2046 §5.1.1 the way Dovecot applies it to real mail:

* a delimiter is a line starting with ``--boundary`` (anything after it on the line is ignored); the line
  break before it belongs to the delimiter, so it is not part of the preceding body part;
* the preamble before the first delimiter and the epilogue after ``--boundary--`` are not parts;
* a missing close delimiter ends the last part at the end of the enclosing entity (truncated mail);
* a multipart without a boundary parameter, or with no delimiter in its body, has no parts;
* message/rfc822 bodies are parsed as messages (RFC 2046 §5.2.1); in multipart/digest the default type
  of a part is message/rfc822 (RFC 2046 §5.1.5), elsewhere text/plain; charset=us-ascii (RFC 2045 §5.2);
* nesting deeper than ``MAX_DEPTH`` stops being interpreted (the rest is an opaque leaf), so hostile
  input cannot exhaust the stack, and after ``MAX_PARTS`` parts no more delimiters are looked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from .headers import HeaderBlock, header_end
from .params import parse_value

MAX_DEPTH = 50
#: Parts interpreted per message; past this a multipart's last part runs to its end. Real mail has
#: tens of parts; the bound keeps one hostile message from costing seconds per parse.
MAX_PARTS = 5000


@dataclass(frozen=True, slots=True)
class MimePart:
    """One entity. ``start``..``body_start`` is its header (blank line included), then the body to ``end``.

    ``children`` are the parts of a multipart; ``message`` is the encapsulated message of a
    message/rfc822 part (itself a ``MimePart`` whose header is the message header).
    """

    start: int
    body_start: int
    end: int
    header: HeaderBlock
    type: bytes  # lower case, e.g. b"text"
    subtype: bytes  # lower case, e.g. b"plain"
    params: tuple[tuple[bytes, bytes], ...]
    explicit_type: bool  # a Content-Type header was present and usable
    type_text: bytes  # type and subtype as written (BODYSTRUCTURE reports them so, like Dovecot)
    subtype_text: bytes
    children: tuple[MimePart, ...] = ()
    message: MimePart | None = None

    @property
    def is_multipart(self) -> bool:
        return self.type == b"multipart"

    @property
    def is_message(self) -> bool:
        return self.message is not None

    def param(self, name: bytes) -> bytes | None:
        for key, value in self.params:
            if key.lower() == name:
                return value
        return None

    @property
    def body_size(self) -> int:
        return self.end - self.body_start


def parse_message(raw: bytes) -> MimePart:
    return _parse_entity(raw, 0, len(raw), b"text", b"plain", 0, [MAX_PARTS])


def _content_type(header: HeaderBlock, default_type: bytes, default_subtype: bytes):
    """``(type, subtype, params, explicit, type as written, subtype as written)``."""
    value = header.get(b"content-type")
    if value is not None:
        main, params = parse_value(value)
        kind, _, sub = main.partition(b"/")
        kind, sub = kind.strip(), sub.strip()
        if kind and sub:
            return kind.lower(), sub.lower(), tuple(params), True, kind, sub
        # RFC 2045 §5.2: "It is also recommend that this default be assumed when a syntactically
        # invalid Content-Type header field is encountered." (Dovecot reports ("garbage" "") instead.)
        return b"text", b"plain", (), False, b"text", b"plain"
    # RFC 2045 §5.2 default: text/plain; charset=us-ascii (message/rfc822 in a digest, RFC 2046 §5.1.5).
    return default_type, default_subtype, (), False, default_type, default_subtype


def _parse_entity(
    raw: bytes, start: int, end: int, default_type: bytes, default_subtype: bytes, depth: int, budget: list[int]
) -> MimePart:
    """Parse the entity at ``raw[start:end]``; ``budget`` is the one-element count of parts left."""
    body_start = header_end(raw, start, end)
    header = HeaderBlock.parse(raw[start:body_start])
    kind, sub, params, explicit, kind_text, sub_text = _content_type(header, default_type, default_subtype)
    if depth >= MAX_DEPTH:
        return MimePart(start, body_start, end, header, kind, sub, params, explicit, kind_text, sub_text)
    if kind == b"multipart":
        boundary = None
        for key, value in params:
            if key.lower() == b"boundary":
                boundary = value
                break
        children: tuple[MimePart, ...] = ()
        if boundary:
            child_type, child_sub = (b"message", b"rfc822") if sub == b"digest" else (b"text", b"plain")
            children = tuple(
                _parse_entity(raw, part_start, part_end, child_type, child_sub, depth + 1, budget)
                for part_start, part_end in _split_multipart(raw, body_start, end, boundary, budget)
            )
        return MimePart(start, body_start, end, header, kind, sub, params, explicit, kind_text, sub_text, children)
    if kind == b"message" and sub == b"rfc822":
        inner = _parse_entity(raw, body_start, end, b"text", b"plain", depth + 1, budget)
        return MimePart(start, body_start, end, header, kind, sub, params, explicit, kind_text, sub_text, (), inner)
    return MimePart(start, body_start, end, header, kind, sub, params, explicit, kind_text, sub_text)


def _split_multipart(raw: bytes, start: int, end: int, boundary: bytes, budget: list[int]) -> list[tuple[int, int]]:
    """``(start, end)`` of each body part between delimiter lines ``--boundary`` (RFC 2046 §5.1.1)."""
    delimiter = b"--" + boundary
    ranges: list[tuple[int, int]] = []
    part_start: int | None = None
    position = start
    while position < end and budget[0] > 0:
        found = raw.find(delimiter, position, end)
        if found < 0:
            break
        if found != start and raw[found - 1] != 0x0A:  # not at a line start: body text
            position = found + 1
            continue
        line_end = raw.find(b"\n", found, end)
        next_line = end if line_end < 0 else line_end + 1
        is_close = raw.startswith(b"--", found + len(delimiter)) and found + len(delimiter) + 2 <= end
        if part_start is not None:
            # The CRLF (or bare LF) before the delimiter belongs to the delimiter.
            part_end = found
            if part_end > part_start and raw[part_end - 1] == 0x0A:
                part_end -= 1
                if part_end > part_start and raw[part_end - 1] == 0x0D:
                    part_end -= 1
            ranges.append((part_start, part_end))
            budget[0] -= 1
        if is_close:
            return ranges
        part_start = next_line
        position = next_line
    if part_start is not None:
        ranges.append((part_start, max(part_start, end)))
    return ranges


def iter_parts(part: MimePart):
    """Depth-first walk over ``part`` and everything under it (children and encapsulated messages)."""
    stack = [part]
    while stack:
        current = stack.pop()
        yield current
        if current.message is not None:
            stack.append(current.message)
        stack.extend(reversed(current.children))
