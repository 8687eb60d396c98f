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

from dataclasses import dataclass, replace

from .headers import HeaderBlock, header_end
from .params import main_value_is_clean, parse_value

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
    header_cut: bool = False  # the header ran into a delimiter line without its blank line
    # Content-* fields count (Dovecot's IS_MIME): always in a multipart; for a message (top level or
    # encapsulated) only with a MIME-Version or a Content-Type field. Otherwise Content-Transfer-Encoding,
    # Content-ID and the rest are ignored, as in Dovecot (RFC 2045 §4 ties them to MIME-Version).
    is_mime: bool = True

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
    part, _ = _parse_entity(raw, 0, len(raw), b"text", b"plain", 0, [MAX_PARTS], (), False)
    return part


def _content_type(header: HeaderBlock, default_type: bytes, default_subtype: bytes):
    """``(type, subtype, params, explicit, type as written, subtype as written)``."""
    value = header.get(b"content-type")
    if value is not None:
        main, params = parse_value(value)
        kind, _, sub = main.partition(b"/")
        kind, sub = kind.strip(), sub.strip()
        if kind and sub and main_value_is_clean(value):
            return kind.lower(), sub.lower(), tuple(params), True, kind, sub
        # RFC 2045 §5.2: "It is also recommend that this default be assumed when a syntactically
        # invalid Content-Type header field is encountered." (Dovecot reports ("garbage" "") instead.)
        return b"text", b"plain", (), False, b"text", b"plain"
    # RFC 2045 §5.2 default: text/plain; charset=us-ascii (message/rfc822 in a digest, RFC 2046 §5.1.5).
    return default_type, default_subtype, (), False, default_type, default_subtype


class _Hit:
    """A delimiter line: where it starts, which boundary of the stack it matched, where the next line is."""

    __slots__ = ("line", "level", "close", "next_line", "terminated")

    def __init__(self, line: int, level: int, close: bool, next_line: int, terminated: bool) -> None:
        self.line = line
        self.level = level
        self.close = close
        self.next_line = next_line
        self.terminated = terminated  # the delimiter line has its line break (the data goes on)


def _next_delimiter(raw: bytes, position: int, limit: int, stack: tuple[bytes, ...]) -> _Hit | None:
    """The first line at or after ``position`` (a line start) that starts with ``--`` and a boundary of
    ``stack``. The innermost boundary is tried first, so an inner boundary that extends an outer one
    ("b2" inside "b") is still the inner one's, as in Dovecot."""
    if not stack:
        return None
    if len(stack) == 1:
        # The common case: one boundary, searched for directly (bytes.find is a fast C scan).
        needle = b"--" + stack[0]
        line = position if raw.startswith(needle, position) else raw.find(b"\n" + needle, position, limit)
        if line < 0:
            return None
        if line != position:
            line += 1
        if line + len(needle) > limit:
            return None
        return _hit(raw, line, line + len(needle), 0, limit)
    line = position
    while line < limit:
        if raw.startswith(b"--", line):
            for level in range(len(stack) - 1, -1, -1):
                boundary = stack[level]
                after = line + 2 + len(boundary)
                if after <= limit and raw.startswith(boundary, line + 2):
                    return _hit(raw, line, after, level, limit)
        found = raw.find(b"\n--", line, limit)
        if found < 0:
            return None
        line = found + 1
    return None


def _hit(raw: bytes, line: int, after: int, level: int, limit: int) -> _Hit:
    close = after + 2 <= limit and raw.startswith(b"--", after)
    newline = raw.find(b"\n", after, limit)
    return _Hit(line, level, close, limit if newline < 0 else newline + 1, newline >= 0)


def _content_end(raw: bytes, body_start: int, stop: int, at_delimiter: bool) -> int:
    """Where an entity's content ends when the next delimiter line starts at ``stop``: the line break
    before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), unless nothing is left of the body."""
    if not at_delimiter:
        return stop
    end = stop
    if end > body_start and raw[end - 1] == 0x0A:
        end -= 1
        if end > body_start and raw[end - 1] == 0x0D:
            end -= 1
    return end


def _parse_entity(
    raw: bytes,
    start: int,
    limit: int,
    default_type: bytes,
    default_subtype: bytes,
    depth: int,
    budget: list[int],
    stack: tuple[bytes, ...],
    in_multipart: bool = True,
) -> tuple[MimePart, int]:
    """Parse the entity starting at ``start``. It ends at the first delimiter line of an enclosing
    multipart (``stack``, outermost first) or at ``limit``. Returns the part and where it stopped (the
    start of that delimiter line, or ``limit``). ``budget`` is the one-element count of parts left;
    ``in_multipart`` is false for a message (the top level or an encapsulated one)."""
    part, stop = _scan_entity(raw, start, limit, default_type, default_subtype, depth, budget, stack)
    if not in_multipart and b"mime-version" not in part.header.index and b"content-type" not in part.header.index:
        part = replace(part, is_mime=False)
    return part, stop


def _scan_entity(
    raw: bytes,
    start: int,
    limit: int,
    default_type: bytes,
    default_subtype: bytes,
    depth: int,
    budget: list[int],
    stack: tuple[bytes, ...],
) -> tuple[MimePart, int]:
    """The work of ``_parse_entity``: header, type, and the body's extent and structure."""
    hit = _next_delimiter(raw, start, limit, stack)
    header_limit = hit.line if hit is not None else limit
    body_start = header_end(raw, start, header_limit)
    header = HeaderBlock.parse(raw[start:body_start])
    kind, sub, params, explicit, kind_text, sub_text = _content_type(header, default_type, default_subtype)

    def leaf(stop: int, at_delimiter: bool) -> tuple[MimePart, int]:
        end = _content_end(raw, body_start, stop, at_delimiter)
        return MimePart(start, body_start, end, header, kind, sub, params, explicit, kind_text, sub_text), stop

    if body_start >= header_limit and hit is not None and not raw[start:body_start].endswith(b"\n\n") and not raw[
        start:body_start
    ].endswith(b"\n\r\n"):
        # A header cut short by a delimiter owns its last line break in sizes (Dovecot's reading); the
        # sections module leaves that line break out of HEADER and MIME, as Dovecot does too.
        part = MimePart(start, body_start, header_limit, header, kind, sub, params, explicit, kind_text, sub_text,
                        header_cut=True)
        return part, hit.line
    if depth >= MAX_DEPTH:
        return leaf(header_limit, hit is not None)

    if kind == b"multipart":
        boundary = next((value for key, value in params if key.lower() == b"boundary"), None)
        if not boundary:
            return _multipart(raw, start, body_start, header, (kind, sub, params, explicit, kind_text, sub_text),
                              (), header_limit, hit is not None)
        inner_stack = stack + (boundary,)
        level = len(inner_stack) - 1
        child_type, child_sub = (b"message", b"rfc822") if sub == b"digest" else (b"text", b"plain")
        children: list[MimePart] = []
        found = _next_delimiter(raw, body_start, limit, inner_stack)  # end of the preamble
        # A delimiter cut off at the very end of the data (no line break) opens no part (Dovecot).
        while found is not None and found.level == level and not found.close and found.terminated and budget[0] > 0:
            budget[0] -= 1
            child, child_stop = _parse_entity(raw, found.next_line, limit, child_type, child_sub, depth + 1, budget,
                                              inner_stack)
            children.append(child)
            found = _next_delimiter(raw, child_stop, limit, inner_stack) if child_stop < limit else None
        epilogue_start = None
        if found is not None and found.level == level and found.close:
            # The epilogue runs to the next delimiter of an enclosing multipart.
            epilogue_start = found.next_line
            found = _next_delimiter(raw, found.next_line, limit, stack)
        elif found is not None and found.level == level:
            found = None  # part budget spent: the rest belongs to the last part / the multipart
        stop = found.line if found is not None else limit
        part, stop = _multipart(raw, start, body_start, header, (kind, sub, params, explicit, kind_text, sub_text),
                                tuple(children), stop, found is not None)
        if epilogue_start is not None and part.end < epilogue_start <= stop:
            # An empty epilogue: the close delimiter line keeps its own line break (as in Dovecot).
            part = MimePart(part.start, part.body_start, epilogue_start, part.header, part.type, part.subtype,
                            part.params, part.explicit_type, part.type_text, part.subtype_text, part.children)
        return part, stop

    if kind == b"message" and sub == b"rfc822":
        inner, stop = _parse_entity(raw, body_start, limit, b"text", b"plain", depth + 1, budget, stack, False)
        end = inner.end
        part = MimePart(start, body_start, end, header, kind, sub, params, explicit, kind_text, sub_text, (), inner)
        return part, stop
    return leaf(header_limit, hit is not None)


def _multipart(raw, start, body_start, header, content_type, children, stop, at_delimiter):
    kind, sub, params, explicit, kind_text, sub_text = content_type
    end = _content_end(raw, body_start, stop, at_delimiter)
    part = MimePart(start, body_start, end, header, kind, sub, params, explicit, kind_text, sub_text, children)
    return part, stop


def iter_parts(part: MimePart):
    """Depth-first walk over ``part`` and everything under it (children and encapsulated messages)."""
    stack = [part]
    while stack:
        current = stack.pop()
        yield current
        if current.message is not None:
            stack.append(current.message)
        stack.extend(reversed(current.children))
