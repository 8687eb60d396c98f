"""The pure-Python tokenizer: the executable specification of ``imapcore.syntax.tokens``.

Theory of operation
-------------------
Bytes are appended to one buffer by ``feed``; ``next_event`` consumes from its front and returns at most
one event per call, so nothing after the current command is tokenized early (that matters: ``ENABLE
UTF8=ACCEPT`` changes how the *next* command's quoted strings are read, and ``IDLE`` switches the next
line to line mode). The machine works a whole line at a time: a line is tokenized only once its line end
is in the buffer, which makes every result independent of how the stream was chunked. Literal data is
taken by count, in as many pieces as it arrives.

Precise rules the C twin (``native/tokenizer.c``) reproduces, beyond ``tokens.py``:

* A line's *content* is the bytes before its LF, minus one CR immediately before the LF. A line whose
  content exceeds ``max_line_bytes`` is "line too long"; it is detected as soon as more than
  ``max_line_bytes + 1`` bytes are buffered without a LF (or when the LF arrives), before any other check
  on that line, and the line is discarded as it arrives, never buffered.
* The line is tokenized left to right and the first offending byte decides the error:
  ``invalid character`` (a control byte, NUL, DEL, a CR that is not the line end, or 8-bit outside a
  quoted string or literal); ``unterminated quoted string``; ``invalid escape in quoted string`` (a
  backslash followed by anything but ``"`` or ``\\``); ``invalid character in quoted string`` (CR or
  NUL); ``8-bit character in quoted string`` (UTF-8 mode off); ``invalid literal marker``. Only when a
  quoted string scanned cleanly to its closing quote, in UTF-8 mode, is its content checked as UTF-8
  (strict RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF): ``invalid UTF-8 in quoted
  string``. Other control bytes (TAB...) are allowed inside quoted strings (RFC 9051 TEXT-CHAR).
* ``{`` and ``~{`` are markers only at a token boundary; inside a word ``~`` is an ordinary byte (``a~{3}``
  is the word ``a~`` then a literal marker). A marker is ``~?{`` 1*20DIGIT [``+``] ``}`` ending the line
  content, with a value below 2^63; anything else from ``{`` on is "invalid literal marker".
* Checks on a well-formed marker, in order: size > ``max_literal_bytes`` -> "literal too large"
  (TOOBIG); this is the (``max_literals_per_command`` + 1)-th literal -> "command too large" (TOOBIG);
  command bytes so far + size > ``max_command_bytes`` -> "command too large" (TOOBIG). Command bytes
  count every byte of the command's lines (line ends included) and of its literals; a line that takes
  the total over ``max_command_bytes`` is "command too large" too (checked after "line too long" and
  before tokenizing it).
* A literal (not literal8) containing NUL is "NUL in literal", checked when the literal is complete.
* Skipping after an error: discard to the end of the line; if that line's content ends with
  ``{`` 1*20DIGIT ``+}`` (a non-synchronizing marker, whatever precedes it), discard that many bytes
  and go on skipping the next line; a line ending otherwise ends the skip. The ERROR is reported when
  the skip ends, except for "literal too large" on a marker, reported at once (before the literal's
  bytes, which are then skipped as above if it was non-synchronizing). If a non-synchronizing literal to
  be discarded is larger than ``max_discard_bytes`` the error is reported at once with ``fatal`` true.
* The tag (``tokens.py``) is read from the first line; when that line is too long, only from its first
  ``max_line_bytes + 2`` bytes, and then the tag word must be followed by SP within them.
* After a fatal error the tokenizer ignores all input and returns ``NEED_MORE`` forever.
* Line mode: the line content is returned as ``LINE``; a NUL in it is ERROR "NUL in line" (no tag) and
  a too long line is ERROR "line too long" (no tag), each reported once the line's end arrived. Either
  way the tokenizer is back in command mode afterwards.
* ``NEED_LITERAL`` is reported once for every literal that passed the checks, synchronizing or not,
  whether or not its bytes are already buffered.
"""

from __future__ import annotations

import re

from .tokens import (
    COMMAND,
    ERROR,
    LBRACKET,
    LINE,
    LITERAL,
    LITERAL8,
    LPAREN,
    NEED_LITERAL,
    NEED_MORE,
    QUOTED,
    RBRACKET,
    RPAREN,
    SP,
    WORD,
    Limits,
)

# Error texts (shared word for word with the C twin).
E_EMPTY = "empty command line"
E_LINE_TOO_LONG = "line too long"
E_CHAR = "invalid character"
E_QUOTED_END = "unterminated quoted string"
E_QUOTED_ESCAPE = "invalid escape in quoted string"
E_QUOTED_CHAR = "invalid character in quoted string"
E_QUOTED_8BIT = "8-bit character in quoted string"
E_QUOTED_UTF8 = "invalid UTF-8 in quoted string"
E_MARKER = "invalid literal marker"
E_LITERAL_NUL = "NUL in literal"
E_LITERAL_TOOBIG = "literal too large"
E_COMMAND_TOOBIG = "command too large"
E_LINE_NUL = "NUL in line"

_MAX_NUMBER64 = (1 << 63) - 1

# One token at a time; group numbers are the token kinds SP..RBRACKET, WORD, QUOTED (simple form: no
# escapes, no 8-bit). Anything that does not match is handled by _slow_token.
_TOKEN = re.compile(
    rb"(\x20)|(\()|(\))|(\[)|(\])"
    rb"|((?!~\{)[\x21\x23-\x27\x2a-\x5a\x5c\x5e-\x7a\x7c-\x7e]+)"
    rb'|"([^"\\\r\n\x00\x80-\xff]*)"'
)
_MARKER = re.compile(rb"(~?)\{([0-9]{1,20})(\+?)\}\Z")
# The tag: a word (no '+') at the start of the first line, followed by SP or the line end.
_TAG_CHARS = rb"[\x21\x23-\x27\x2a\x2c-\x5a\x5c\x5e-\x7a\x7c-\x7e]+"
_TAG_LINE = re.compile(rb"(" + _TAG_CHARS + rb")(?:\x20|\r?\Z)")
_TAG_HEAD = re.compile(rb"(" + _TAG_CHARS + rb")\x20")
_SKIP_MARKER = re.compile(rb"\{([0-9]{1,20})\+\}\Z")

_PUNCT = {1: (SP, None), 2: (LPAREN, None), 3: (RPAREN, None), 4: (LBRACKET, None), 5: (RBRACKET, None)}
_NEED_MORE = (NEED_MORE,)

# Machine states.
_LINE_START = 0  # waiting for the first line of a command
_CONTINUATION = 1  # waiting for the line that follows a literal
_LITERAL = 2  # taking literal bytes
_SKIP_LINE = 3  # discarding to the end of a line
_SKIP_BYTES = 4  # discarding a non-synchronizing literal
_LINE_MODE = 5  # next line is returned raw
_FATAL = 6


class _TokenizeError(Exception):
    def __init__(self, message: str):
        self.message = message


def _tag_of(head: bytes, *, complete: bool) -> bytes | None:
    """The tag of a command from its first line (``complete``) or the head of a too-long one."""
    match = (_TAG_LINE if complete else _TAG_HEAD).match(head)
    return match.group(1) if match else None


class Tokenizer:
    """Frames and tokenizes a client stream; see ``imapcore.syntax.tokens`` for the events."""

    __slots__ = (
        "_limits",
        "_utf8",
        "_buf",
        "_scan",
        "_state",
        "_tokens",
        "_tag",
        "_command_bytes",
        "_literal_count",
        "_literal_need",
        "_literal_kind",
        "_literal_parts",
        "_skip_need",
        "_skip_tail",
        "_skip_error",
        "_skip_reported",
        "_skip_in_line_mode",
    )

    def __init__(self, limits: Limits | None = None, *, utf8: bool = False):
        self._limits = limits or Limits()
        self._utf8 = utf8
        self._buf = bytearray()
        self._scan = 0  # bytes of _buf already searched for LF
        self._state = _LINE_START
        self._tokens: list = []
        self._tag: bytes | None = None
        self._command_bytes = 0
        self._literal_count = 0
        self._literal_need = 0
        self._literal_kind = LITERAL
        self._literal_parts: list = []
        self._skip_need = 0
        self._skip_tail = b""
        self._skip_error: tuple = (None, "", None, False)
        self._skip_reported = False
        self._skip_in_line_mode = False

    # --- interface ---------------------------------------------------------------------------------

    @property
    def limits(self) -> Limits:
        return self._limits

    @property
    def utf8(self) -> bool:
        return self._utf8

    def set_utf8(self, enabled: bool = True) -> None:
        """Quoted strings may carry UTF-8 from the next command on (RFC 9051 §6.3.1, RFC 6855)."""
        self._utf8 = bool(enabled)

    def set_line_mode(self) -> None:
        """Return the next line raw (IDLE's DONE, AUTHENTICATE responses); call between commands."""
        if self._state != _FATAL:
            self._state = _LINE_MODE

    def feed(self, data: bytes) -> None:
        if self._state != _FATAL and data:
            self._buf += data

    def next_event(self) -> tuple:
        while True:
            state = self._state
            if state == _LINE_START or state == _CONTINUATION:
                event = self._line_event(state)
            elif state == _LITERAL:
                event = self._literal_event()
            elif state == _SKIP_LINE:
                event = self._skip_line_event()
            elif state == _SKIP_BYTES:
                event = self._skip_bytes_event()
            elif state == _LINE_MODE:
                event = self._line_mode_event()
            else:
                return _NEED_MORE
            if event is not None:
                return event

    # --- lines -------------------------------------------------------------------------------------

    def _find_line_end(self) -> int:
        """Index of the next LF in the buffer, or -1; remembers how far it looked."""
        lf = self._buf.find(b"\n", self._scan)
        if lf < 0:
            self._scan = len(self._buf)
        else:
            self._scan = 0
        return lf

    def _too_long_now(self) -> bool:
        return len(self._buf) > self._limits.max_line_bytes + 1

    def _line_event(self, state: int):
        buf = self._buf
        lf = self._find_line_end()
        limits = self._limits
        if state == _LINE_START:
            if lf < 0 and not self._too_long_now():
                return _NEED_MORE
            head_limit = limits.max_line_bytes + 2
            if 0 <= lf < head_limit:
                self._tag = _tag_of(bytes(buf[:lf]), complete=True)
            else:
                self._tag = _tag_of(bytes(buf[:head_limit]), complete=False)
            self._tokens = []
            self._command_bytes = 0
            self._literal_count = 0
        elif lf < 0 and not self._too_long_now():
            return _NEED_MORE
        if lf < 0:
            # Too long and still no line end: discard what we have and skip the rest of it.
            self._start_skip_line((self._tag, E_LINE_TOO_LONG, None, False))
            return None
        line = bytes(buf[:lf])
        del buf[: lf + 1]
        line_bytes = lf + 1
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > limits.max_line_bytes:
            return self._finish_skipped_line(line, (self._tag, E_LINE_TOO_LONG, None, False))
        if state == _LINE_START and not line:
            return (ERROR, None, E_EMPTY, None, False)
        self._command_bytes += line_bytes
        if self._command_bytes > limits.max_command_bytes:
            return self._finish_skipped_line(line, (self._tag, E_COMMAND_TOOBIG, "TOOBIG", False))
        try:
            marker = self._tokenize(line)
        except _TokenizeError as exc:
            return self._finish_skipped_line(line, (self._tag, exc.message, None, False))
        if marker is None:
            tokens = self._tokens
            self._tokens = []
            self._state = _LINE_START
            return (COMMAND, tokens)
        return self._begin_literal(*marker)

    def _tokenize(self, line: bytes):
        """Append the line's tokens; return ``(literal8, size, synchronizing)`` if it ends in a marker."""
        tokens = self._tokens
        append = tokens.append
        match = _TOKEN.match
        pos = 0
        end = len(line)
        while pos < end:
            m = match(line, pos)
            if m is not None:
                kind = m.lastindex
                if kind <= 5:
                    append(_PUNCT[kind])
                elif kind == 6:
                    append((WORD, m.group(6)))
                else:
                    append((QUOTED, m.group(7)))
                pos = m.end()
                continue
            byte = line[pos]
            if byte == 0x22:  # '"'
                pos = self._slow_quoted(line, pos + 1)
            elif byte == 0x7B or byte == 0x7E:  # '{' or '~{'
                marker = _MARKER.match(line, pos)
                if marker is None:
                    raise _TokenizeError(E_MARKER)
                size = int(marker.group(2))
                if size > _MAX_NUMBER64:
                    raise _TokenizeError(E_MARKER)
                return (bool(marker.group(1)), size, not marker.group(3))
            else:
                raise _TokenizeError(E_CHAR)
        return None

    def _slow_quoted(self, line: bytes, pos: int) -> int:
        """Scan a quoted string with escapes or 8-bit bytes; returns the position after it."""
        out = bytearray()
        end = len(line)
        utf8 = self._utf8
        high = False
        while pos < end:
            byte = line[pos]
            if byte == 0x22:
                value = bytes(out)
                if high:
                    try:
                        value.decode("utf-8")
                    except UnicodeDecodeError:
                        raise _TokenizeError(E_QUOTED_UTF8) from None
                self._tokens.append((QUOTED, value))
                return pos + 1
            if byte == 0x5C:  # backslash
                if pos + 1 < end and line[pos + 1] in (0x22, 0x5C):
                    out.append(line[pos + 1])
                    pos += 2
                    continue
                raise _TokenizeError(E_QUOTED_ESCAPE)
            if byte == 0x0D or byte == 0x00:
                raise _TokenizeError(E_QUOTED_CHAR)
            if byte >= 0x80:
                if not utf8:
                    raise _TokenizeError(E_QUOTED_8BIT)
                high = True
            out.append(byte)
            pos += 1
        raise _TokenizeError(E_QUOTED_END)

    # --- literals ----------------------------------------------------------------------------------

    def _begin_literal(self, literal8: bool, size: int, synchronizing: bool):
        limits = self._limits
        tag = self._tag
        if size > limits.max_literal_bytes:
            error = (tag, E_LITERAL_TOOBIG, "TOOBIG", False)
            if synchronizing:
                self._state = _LINE_START
                return (ERROR, *error)
            event = self._discard_literal(size, error, reported=True)
            return event if event is not None else (ERROR, *error)
        self._literal_count += 1
        if (
            self._literal_count > limits.max_literals_per_command
            or self._command_bytes + size > limits.max_command_bytes
        ):
            error = (tag, E_COMMAND_TOOBIG, "TOOBIG", False)
            if synchronizing:
                self._state = _LINE_START
                return (ERROR, *error)
            return self._discard_literal(size, error, reported=False)
        self._command_bytes += size
        self._literal_need = size
        self._literal_kind = LITERAL8 if literal8 else LITERAL
        self._literal_parts = []
        self._state = _LITERAL
        return (NEED_LITERAL, size, synchronizing, literal8, tag)

    def _literal_event(self):
        buf = self._buf
        take = min(self._literal_need, len(buf))
        if take:
            self._literal_parts.append(bytes(buf[:take]))
            del buf[:take]
            self._literal_need -= take
            self._scan = 0
        if self._literal_need:
            return _NEED_MORE
        value = b"".join(self._literal_parts)
        self._literal_parts = []
        if self._literal_kind == LITERAL and b"\x00" in value:
            self._start_skip_line((self._tag, E_LITERAL_NUL, None, False))
            return None
        self._tokens.append((self._literal_kind, value))
        self._state = _CONTINUATION
        return None

    # --- skipping after an error -------------------------------------------------------------------
    #
    # _skip_error is the ERROR of the command being skipped; _skip_reported says whether it was already
    # returned (literal too large is reported at once). When the skip ends it is returned if it was not.

    def _start_skip_line(self, error: tuple) -> None:
        """Discard the buffered part of a too-long line and go on skipping it."""
        self._skip_error = error
        self._skip_reported = False
        self._skip_tail = b""
        self._state = _SKIP_LINE

    def _finish_skipped_line(self, content: bytes, error: tuple, reported: bool = False):
        """A whole offending line was read: skip what its end announces, or end the skip."""
        self._tokens = []
        marker = _SKIP_MARKER.search(content[-24:])
        if marker is None:
            self._state = _LINE_START
            return None if reported else (ERROR, *error)
        return self._discard_literal(int(marker.group(1)), error, reported=reported)

    def _discard_literal(self, size: int, error: tuple, *, reported: bool):
        self._tokens = []
        if size > self._limits.max_discard_bytes:
            self._state = _FATAL
            self._buf = bytearray()
            return (ERROR, error[0], error[1], error[2], True)
        self._skip_need = size
        self._skip_error = error
        self._skip_reported = reported
        self._state = _SKIP_BYTES
        return None

    def _skip_bytes_event(self):
        buf = self._buf
        take = min(self._skip_need, len(buf))
        if take:
            del buf[:take]
            self._skip_need -= take
            self._scan = 0
        if self._skip_need:
            return _NEED_MORE
        self._skip_tail = b""
        self._state = _SKIP_LINE
        return None

    def _skip_line_event(self):
        buf = self._buf
        lf = self._find_line_end()
        if lf < 0:
            # Keep only the tail that could hold a marker; never buffer the skipped line.
            self._skip_tail = (self._skip_tail + bytes(buf[-32:]))[-32:]
            del buf[:]
            self._scan = 0
            return _NEED_MORE
        tail = (self._skip_tail + bytes(buf[:lf]))[-32:]
        del buf[: lf + 1]
        self._skip_tail = b""
        if tail.endswith(b"\r"):
            tail = tail[:-1]
        if self._skip_in_line_mode:
            # A too-long LINE: nothing it announces is a literal (it was not a command).
            self._skip_in_line_mode = False
            self._state = _LINE_START
            return (ERROR, *self._skip_error)
        return self._finish_skipped_line(tail, self._skip_error, self._skip_reported)

# --- line mode ---------------------------------------------------------------------------------

    def _line_mode_event(self):
        buf = self._buf
        lf = self._find_line_end()
        if lf < 0:
            if self._too_long_now():
                self._start_skip_line((None, E_LINE_TOO_LONG, None, False))
                self._skip_in_line_mode = True
                return None
            return _NEED_MORE
        line = bytes(buf[:lf])
        del buf[: lf + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        self._state = _LINE_START
        if len(line) > self._limits.max_line_bytes:
            return (ERROR, None, E_LINE_TOO_LONG, None, False)
        if b"\x00" in line:
            return (ERROR, None, E_LINE_NUL, None, False)
        return (LINE, line)
