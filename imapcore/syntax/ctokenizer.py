"""The C tokenizer (``native/tokenizer.c`` through cffi), with the interface of ``pytokenizer``.

Importing this module raises ImportError when the extension ``imapcore._ctokenizer`` was not built (no
C compiler at install time); ``imapcore.syntax.tokenizer`` then falls back to the pure-Python twin.

The C side owns the input buffer and the state machine; after each event the values of a command's
tokens lie back to back in one C buffer (the "arena", after the tag), with an array of token kinds and
one of end offsets. This wrapper copies the arena into one ``bytes`` object and slices it, so a command
costs one C call and one pass over its tokens here. Event tuples, error texts and codes are exactly
those of ``imapcore.syntax.pytokenizer`` (the executable specification).
"""

from __future__ import annotations

from .._ctokenizer import ffi, lib  # ImportError when the C extension is missing
from .pytokenizer import (
    E_COMMAND_TOOBIG,
    E_EMPTY,
    E_CHAR,
    E_LINE_NUL,
    E_LINE_TOO_LONG,
    E_LITERAL_NUL,
    E_LITERAL_TOOBIG,
    E_MARKER,
    E_QUOTED_8BIT,
    E_QUOTED_CHAR,
    E_QUOTED_END,
    E_QUOTED_ESCAPE,
    E_QUOTED_UTF8,
)
from .tokens import COMMAND, ERROR, LBRACKET, LINE, LPAREN, NEED_LITERAL, RBRACKET, RPAREN, SP, WORD, Limits

# IMAP_ERR_* numbers of tokenizer.h -> (message, response code).
_ERRORS = {
    1: (E_EMPTY, None),
    2: (E_LINE_TOO_LONG, None),
    3: (E_CHAR, None),
    4: (E_QUOTED_END, None),
    5: (E_QUOTED_ESCAPE, None),
    6: (E_QUOTED_CHAR, None),
    7: (E_QUOTED_8BIT, None),
    8: (E_QUOTED_UTF8, None),
    9: (E_MARKER, None),
    10: (E_LITERAL_NUL, None),
    11: (E_LITERAL_TOOBIG, "TOOBIG"),
    12: (E_COMMAND_TOOBIG, "TOOBIG"),
    13: (E_LINE_NUL, None),
    # The C side could not allocate memory for this command: it is abandoned like a too large one.
    14: (E_COMMAND_TOOBIG, "TOOBIG"),
}

_NEED_MORE = (0,)
_PUNCT = (None, (SP, None), (LPAREN, None), (RPAREN, None), (LBRACKET, None), (RBRACKET, None))

# The C side keeps sizes in 64 bits; clamping at 2^62 keeps its sums from overflowing. A limit that
# large is unlimited for any real stream.
_LIMIT_MAX = 1 << 62

_unpack = ffi.unpack
_buffer = ffi.buffer
_next = lib.imap_tok_next
_feed = lib.imap_tok_feed


def _limit(value: int, name: str) -> int:
    value = int(value)
    if value < 0:
        raise ValueError(f"Limits.{name} must not be negative")
    return min(value, _LIMIT_MAX)


class Tokenizer:
    """Frames and tokenizes a client stream; see ``imapcore.syntax.tokens`` for the events."""

    __slots__ = ("_t", "_limits")

    def __init__(self, limits: Limits | None = None, *, utf8: bool = False):
        self._limits = limits = limits or Limits()
        raw = lib.imap_tok_new()
        if raw == ffi.NULL:
            raise MemoryError("cannot allocate a tokenizer")
        t = self._t = ffi.gc(raw, lib.imap_tok_free)
        t.max_line_bytes = _limit(limits.max_line_bytes, "max_line_bytes")
        t.max_literal_bytes = _limit(limits.max_literal_bytes, "max_literal_bytes")
        t.max_command_bytes = _limit(limits.max_command_bytes, "max_command_bytes")
        t.max_literals_per_command = _limit(limits.max_literals_per_command, "max_literals_per_command")
        t.max_discard_bytes = _limit(limits.max_discard_bytes, "max_discard_bytes")
        t.utf8 = 1 if utf8 else 0

    # --- interface ---------------------------------------------------------------------------------

    @property
    def limits(self) -> Limits:
        return self._limits

    @property
    def utf8(self) -> bool:
        return bool(self._t.utf8)

    def set_utf8(self, enabled: bool = True) -> None:
        """Quoted strings may carry UTF-8 from the next command on (RFC 9051 §6.3.1, RFC 6855)."""
        self._t.utf8 = 1 if enabled else 0

    def set_line_mode(self) -> None:
        """Return the next line raw (IDLE's DONE, AUTHENTICATE responses); call between commands."""
        lib.imap_tok_set_line_mode(self._t)

    def feed(self, data: bytes) -> None:
        if type(data) is not bytes:
            data = bytes(data)
        if _feed(self._t, data, len(data)):
            raise MemoryError("cannot buffer the input")

    def next_event(self) -> tuple:
        t = self._t
        kind = _next(t)
        if kind == COMMAND:
            count = t.ntokens
            arena = _buffer(t.arena, t.arena_len)[:]
            tokens = []
            append = tokens.append
            start = t.tag_len
            for token_kind, end in zip(_unpack(t.kinds, count), _unpack(t.ends, count)):
                if token_kind < WORD:
                    append(_PUNCT[token_kind])
                else:
                    append((token_kind, arena[start:end]))
                start = end
            return (COMMAND, tokens)
        if kind == 0:
            return _NEED_MORE
        tag = _buffer(t.arena, t.tag_len)[:] if t.has_tag else None
        if kind == NEED_LITERAL:
            return (NEED_LITERAL, t.literal_size, bool(t.literal_sync), bool(t.literal8), tag)
        if kind == LINE:
            return (LINE, _buffer(t.arena, t.arena_len)[:])
        message, code = _ERRORS[t.error]
        return (ERROR, tag, message, code, bool(t.fatal))
