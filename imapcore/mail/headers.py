"""RFC 5322 header blocks read at the byte level, with offsets kept.

A header block is split into fields without decoding anything: each ``Field`` keeps the exact bytes it
occupied (``raw``, folding and line ends included), so BODY[HEADER.FIELDS] can hand back the original
octets, while ``value`` gives the unfolded value for ENVELOPE and search. Decoding (RFC 2047 encoded
words, charsets) lives in ``encoded_words``; structured values (Content-Type parameters) in ``params``.

Malformed input is taken as the big servers take it: a bare LF ends a line like CRLF, a line without a
colon inside the header is kept as a line no name look-up finds, 8-bit bytes are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The blank line that ends the header (RFC 5322 §2.1): a line that is empty or only "\r".
_BLANK_LINE = re.compile(rb"\n\r?\n")
_FOLDING = re.compile(rb"\r?\n[ \t]*")
# Lines end at LF only (a bare CR is data, as in Dovecot); the last line may lack its LF.
_FIELD_NAME = re.compile(rb"[\x21-\x7e]+\Z")
_LINES = re.compile(rb"[^\n]*\n|[^\n]+")


@dataclass(frozen=True, slots=True)
class Field:
    """One header field: ``name`` as written (case kept), ``raw`` the whole field with its line end."""

    name: bytes
    raw: bytes
    is_field: bool = True  # False for a header line without "name:" (kept for HEADER, found by no name)

    @property
    def lower_name(self) -> bytes:
        return self.name.lower()

    @property
    def unstripped_value(self) -> bytes:
        """The value with only its line breaks removed and leading blanks skipped: Dovecot's ENVELOPE
        date, message-id and in-reply-to strings (trailing and inner whitespace kept as sent)."""
        colon = self.raw.find(b":")
        if colon < 0:
            return b""
        # Blanks right after the colon go; a folded continuation keeps its leading blanks.
        return self.raw[colon + 1 :].lstrip(b" \t").replace(b"\r", b"").replace(b"\n", b"")

    @property
    def value(self) -> bytes:
        """The unfolded value (RFC 5322 §2.2.3), outer whitespace stripped.

        A line break and the whitespace after it become one space, as Dovecot unfolds for ENVELOPE.
        """
        return unfolded_value(self.raw)


def unfolded_value(raw: bytes) -> bytes:
    """``Field.value`` of a field's raw bytes: after the first colon, unfolded, outer blanks stripped."""
    colon = raw.find(b":")
    if colon < 0:
        return b""
    body = raw[colon + 1 :].strip(b" \t\r\n")
    if b"\n" in body:
        body = _FOLDING.sub(b" ", body)
    return body


def header_end(raw: bytes, start: int = 0, end: int | None = None) -> int:
    """Offset just past the header block of the entity at ``raw[start:end]`` (the blank line included).

    RFC 5322 §2.1: the header ends at the first empty line. Without one, the whole entity is header
    (a message with no body), which is what Dovecot does too.
    """
    if end is None:
        end = len(raw)
    if start >= end:
        return end
    if raw.startswith(b"\r\n", start) and start + 2 <= end:
        return start + 2
    if raw[start : start + 1] == b"\n":
        return start + 1
    match = _BLANK_LINE.search(raw, start, end)
    if match is None:
        return end
    return match.end()


def split_fields(block: bytes) -> list[Field]:
    """The fields of a header block, in order (a line that is not a field becomes a nameless one)."""
    fields: list[Field] = []
    if not block:
        return fields
    lines = _LINES.findall(block)
    current: list[bytes] | None = None
    current_name = b""
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                current.append(line)
            continue
        stripped = line.rstrip(b"\r\n")
        if not stripped:
            break  # the blank line that ends the block
        if current is not None:
            fields.append(Field(current_name, b"".join(current)))
            current = None
        colon = line.find(b":")
        name = line[:colon].rstrip(b" \t") if colon > 0 else b""
        if _FIELD_NAME.match(name) is None:  # empty, or a byte outside 33..126 (ftext, RFC 5322 §3.6.8)
            # Not "name:" (RFC 5322 §3.6.8): kept as a line of its own that no name look-up finds, so
            # HEADER and HEADER.FIELDS.NOT still return it (as Dovecot does).
            fields.append(Field(stripped, line, False))
            continue
        current_name = name
        current = [line]
    if current is not None:
        fields.append(Field(current_name, b"".join(current)))
    return fields


#: A line ``split_fields`` ends the block at: nothing but CRs before its LF (or before the end).
_END_LINE = re.compile(rb"^\r*\n|^\r+\Z", re.M)


def first_values(block: bytes, names: tuple[bytes, ...]) -> dict[bytes, bytes]:
    """``{name: HeaderBlock.parse(block).get(name)}`` for the lower-case ``names`` present, without
    building every field: what APPEND needs from a header it does not parse yet (three ids), at a
    third of the cost. Same lines, same end of block, same unfolding as ``split_fields``."""
    limit = len(block)
    if b"\r\r" in block or block[:1] in (b"\r", b"\n") or block.endswith(b"\r"):
        # Only then can a line before the end be "empty" for ``split_fields`` (a block cut by
        # ``header_end`` ends at its first blank line otherwise).
        end_line = _END_LINE.search(block)
        if end_line is not None:
            limit = end_line.start()
    lowered = block[:limit].lower()
    found: dict[bytes, bytes] = {}
    for name in names:
        start = _field_start(lowered, name)
        if start < 0:
            continue
        # The field: its line, then every line starting with a blank (a folded continuation).
        stop = lowered.find(b"\n", start)
        while stop != -1 and stop + 1 < limit and lowered[stop + 1] in (0x20, 0x09):
            stop = lowered.find(b"\n", stop + 1)
        found[name] = unfolded_value(block[start:limit if stop == -1 else stop + 1])
    return found


def _field_start(lowered: bytes, name: bytes) -> int:
    """Where the first line "``name`` blanks ``:``" begins in ``lowered`` (-1 if none): ``split_fields``'
    test for a field (the name up to the line's first colon, blanks stripped)."""
    at = 0 if lowered.startswith(name) else lowered.find(b"\n" + name) + 1
    if at == 0 and not lowered.startswith(name):
        return -1
    while True:
        after = at + len(name)
        while lowered[after:after + 1] in (b" ", b"\t"):
            after += 1
        if lowered[after:after + 1] == b":":
            return at
        at = lowered.find(b"\n" + name, at) + 1
        if at == 0:
            return -1


@dataclass(frozen=True, slots=True)
class HeaderBlock:
    """The fields of one entity's header, with look-up by lower-case name (first, last or all)."""

    fields: tuple[Field, ...]
    # lower-case name -> positions in ``fields``; built once, since ENVELOPE and BODYSTRUCTURE ask for
    # a dozen names per entity.
    index: dict[bytes, list[int]] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def parse(cls, block: bytes) -> HeaderBlock:
        fields = tuple(split_fields(block))
        index: dict[bytes, list[int]] = {}
        for position, item in enumerate(fields):
            if item.is_field:
                index.setdefault(item.name.lower(), []).append(position)
        return cls(fields, index)

    def _positions(self, name: bytes) -> list[int]:
        if not self.index and self.fields:
            for position, item in enumerate(self.fields):
                if item.is_field:
                    self.index.setdefault(item.name.lower(), []).append(position)
        return self.index.get(name, [])

    def get(self, name: bytes) -> bytes | None:
        """Unfolded value of the first field named ``name`` (lower case), or None."""
        positions = self._positions(name)
        return self.fields[positions[0]].value if positions else None

    def get_last(self, name: bytes) -> bytes | None:
        """Unfolded value of the last field named ``name``: Dovecot's ENVELOPE takes the last one."""
        positions = self._positions(name)
        return self.fields[positions[-1]].value if positions else None

    def last_field(self, name: bytes) -> Field | None:
        positions = self._positions(name)
        return self.fields[positions[-1]] if positions else None

    def get_all(self, name: bytes) -> list[bytes]:
        return [self.fields[position].value for position in self._positions(name)]


def comment_end(value: bytes, start: int) -> int | None:
    """Index just past the RFC 5322 §3.2.2 comment opening at ``value[start]`` (``(``), or None if unclosed.

    Comments nest and a backslash quotes the next byte; both header tokenizers (addresses, MIME
    parameters) skip comments the same way.
    """
    depth, i, n = 0, start, len(value)
    while i < n:
        ch = value[i]
        if ch == 0x5C:
            i += 2
            continue
        if ch == 0x28:
            depth += 1
        elif ch == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None
