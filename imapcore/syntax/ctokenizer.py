"""The C tokenizer (``native/tokenizer.c`` through cffi), with the interface of ``pytokenizer``.

Importing this module raises ImportError when the extension ``imapcore._ctokenizer`` was not built (no
C compiler at install time); ``imapcore.syntax.tokenizer`` then falls back to the pure-Python twin.

The C side owns the input buffer and the state machine. For a COMMAND it leaves in one buffer the tag,
each token value, and the token kinds, separated by NUL bytes (no value but a literal8 can contain one:
NUL is not a CHAR8), so this wrapper makes one ``bytes`` object and splits it in one call. The kinds
string is the command's *shape*; for each shape seen, a small template (cached, bounded) interleaves
the values with the constant punctuation tokens using C-level builtins (zip, itemgetter) rather than
a Python loop per token. Event tuples, error texts and codes are exactly those of
``imapcore.syntax.pytokenizer`` (the executable specification).
"""

from __future__ import annotations

from operator import itemgetter

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
_COMMAND_RAW = 5  # IMAP_EV_COMMAND_RAW: a command with a literal8, whose values may hold NUL
# Above this size a command's values are copied one by one rather than split (big literals).
_SPLIT_MAX = 16 * 1024

# The C side keeps sizes in 64 bits; clamping at 2^62 keeps its sums from overflowing. A limit that
# large is unlimited for any real stream.
_LIMIT_MAX = 1 << 62

_unpack = ffi.unpack
_next = lib.imap_tok_next
_feed = lib.imap_tok_feed

# shape (the kinds of a command's tokens, as bytes) -> (value kinds, punctuation tokens, picker).
# Shared by all tokenizers; bounded, because shapes come from clients.
_SHAPES: dict = {}
_SHAPES_MAX = 4096


def _template(shape: bytes):
    """How to assemble a command of this shape from the split buffer (tag, values..., shape)."""
    value_kinds = [0]  # pairs with the tag, which is never picked
    punctuation = []
    order = []
    values = sum(1 for kind in shape if kind >= WORD)
    for kind in shape:
        if kind >= WORD:
            value_kinds.append(kind)
            order.append(len(value_kinds) - 1)
        else:
            order.append(1 + values + len(punctuation))
            punctuation.append(_PUNCT[kind])
    # itemgetter of one index returns the item, not a 1-tuple: pick it twice and keep one.
    picker = itemgetter(*order) if len(order) > 1 else itemgetter(order[0], order[0])
    template = (tuple(value_kinds), punctuation, picker, len(order) == 1)
    if len(_SHAPES) < _SHAPES_MAX:
        _SHAPES[shape] = template
    return template


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
        if kind == COMMAND and t.arena_len <= _SPLIT_MAX:
            parts = _unpack(t.out, t.arena_len).split(b"\0")
            shape = parts[-1]
            value_kinds, punctuation, picker, single = _SHAPES.get(shape) or _template(shape)
            tokens = [*picker([*zip(value_kinds, parts), *punctuation])]
            if single:
                del tokens[1]
            return (COMMAND, tokens)
        if kind == 0:
            return _NEED_MORE
        if kind == COMMAND or kind == _COMMAND_RAW:
            return (COMMAND, self._raw_tokens())
        tag = _unpack(t.out, t.tag_len) if t.has_tag else None
        if kind == NEED_LITERAL:
            return (NEED_LITERAL, t.literal_size, bool(t.literal_sync), bool(t.literal8), tag)
        if kind == LINE:
            return (LINE, _unpack(t.out, t.arena_len))
        message, code = _ERRORS[t.error]
        return (ERROR, tag, message, code, bool(t.fatal))

    def _raw_tokens(self) -> list:
        """Tokens copied one by one from their offsets: for a command with a literal8 (which may
        contain NUL, so splitting would be wrong) or a big one (one copy per value, no split scan)."""
        t = self._t
        count = t.ntokens
        out = t.out
        tokens = []
        append = tokens.append
        start = t.tag_len + 1
        for token_kind, end in zip(_unpack(t.kinds, count), _unpack(t.ends, count)):
            if token_kind < WORD:
                append(_PUNCT[token_kind])
            else:
                append((token_kind, _unpack(out + start, end - start)))
                start = end + 1
        return tokens
