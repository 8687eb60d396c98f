"""A small, tolerant reader of server responses for the conformance harness (sans-IO).

The harness must keep going whatever a server sends, so this reader never raises on odd input: bytes go
in with ``feed``, whole responses come out of ``next_response``. A response is one line plus the literals
it announces (``{n}`` / ``~{n}`` at the end of a line, RFC 9051 §4.3). Bare LF is accepted as a line end
(tolerance, not a blessing: a script sees the text and can fail on it).

Each response is turned into a *canonical text* so scripts compare meaning, not the server's encoding
choices: every string — quoted, literal or literal8 — becomes ``"..."`` with ``\\`` and ``"`` escaped,
CR, LF and TAB written ``\\r``, ``\\n``, ``\\t``, other control bytes and bytes that are not UTF-8 as
``\\xNN``. RFC 9051 §4.3 lets a server pick quoted or literal freely, so two correct servers can send
different bytes for the same value; after canonicalisation they read the same.

Limits protect the harness from a server that never stops talking: a line longer than ``max_line`` or a
response larger than ``max_response`` raises ``ResponseTooLarge`` (the runner fails that script).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    UNTAGGED = "untagged"
    TAGGED = "tagged"
    CONTINUATION = "continuation"


@dataclass(frozen=True, slots=True)
class Response:
    kind: Kind
    tag: str  # "*" for untagged, "+" for continuations
    text: str  # canonical text (see the module docstring)
    raw: bytes

    @property
    def status(self) -> str:
        """The status word of a tagged/untagged status response (OK/NO/BAD/BYE/PREAUTH), else ''."""
        words = self.text.split(" ", 2)
        return words[1].upper() if len(words) > 1 else ""


class ResponseTooLarge(Exception):
    pass


_LITERAL_AT_END = re.compile(rb"(~?)\{(\d{1,12})\+?\}\r?\n?\Z")


def escape_string(data: bytes) -> str:
    """The canonical text of a string's content (without the surrounding quotes)."""
    out: list[str] = []
    text = data.decode("utf-8", errors="surrogateescape")
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    return "".join(out)


def _canonical_segment(segment: bytes) -> str:
    """Canonical text of one line segment: quoted strings re-escaped, everything else kept."""
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        quote = segment.find(b'"', i)
        if quote < 0:
            out.append(segment[i:].decode("utf-8", errors="backslashreplace"))
            break
        out.append(segment[i:quote].decode("utf-8", errors="backslashreplace"))
        j = quote + 1
        content = bytearray()
        while j < n and segment[j] != 0x22:
            if segment[j] == 0x5C and j + 1 < n:
                j += 1
            content.append(segment[j])
            j += 1
        out.append('"' + escape_string(bytes(content)) + '"')
        i = j + 1
    return "".join(out)


class ResponseReader:
    """Feed bytes, take responses. Never raises on malformed input except for the size limits."""

    def __init__(self, max_line: int = 1 << 20, max_response: int = 64 << 20) -> None:
        self.max_line = max_line
        self.max_response = max_response
        self._buffer = bytearray()
        self._parts: list[str] = []  # canonical pieces of the response being assembled
        self._raw = bytearray()
        self._literal_needed = -1  # bytes of literal still to come, -1 when reading a line

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def take_pending(self) -> bytes:
        """The bytes not yet part of a response (to re-feed after the stream changes, e.g. COMPRESS)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def next_response(self) -> Response | None:
        while True:
            if self._literal_needed >= 0:
                if len(self._buffer) < self._literal_needed:
                    return None
                data = bytes(self._buffer[: self._literal_needed])
                del self._buffer[: self._literal_needed]
                self._raw += data
                self._parts.append('"' + escape_string(data) + '"')
                self._literal_needed = -1
                continue
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self.max_line:
                    raise ResponseTooLarge(f"a line longer than {self.max_line} bytes without a line end")
                return None
            line = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            self._raw += line
            if len(self._raw) > self.max_response:
                raise ResponseTooLarge(f"a response larger than {self.max_response} bytes")
            match = _LITERAL_AT_END.search(line)
            if match is not None:
                self._parts.append(_canonical_segment(line[: match.start()]))
                self._literal_needed = int(match.group(2))
                if len(self._raw) + self._literal_needed > self.max_response:
                    raise ResponseTooLarge(f"a literal of {self._literal_needed} bytes")
                continue
            self._parts.append(_canonical_segment(line.rstrip(b"\r\n")))
            text = "".join(self._parts)
            raw = bytes(self._raw)
            self._parts.clear()
            self._raw.clear()
            return _classify(text, raw)


def _classify(text: str, raw: bytes) -> Response:
    if text.startswith("*"):
        return Response(Kind.UNTAGGED, "*", text, raw)
    if text.startswith("+"):
        return Response(Kind.CONTINUATION, "+", text, raw)
    tag = text.split(" ", 1)[0]
    return Response(Kind.TAGGED, tag, text, raw)
