"""The contract between the tokenizers (C and pure Python) and everything above them.

Theory of operation
-------------------
IMAP is framed by lines, except that a line may end by announcing a literal (``{n}``, ``{n+}`` or
``~{n}``) whose ``n`` raw bytes follow, after which the same command continues on the next line. The
tokenizer is a resumable state machine: it is fed arbitrary chunks (``feed``) and asked for events
(``next_event``). It frames one command at a time, splits it into *lexical* tokens, enforces the size
limits while framing (so nothing is ever buffered without bound), and resynchronises after an error.

It does no parsing: whether ``FETCH`` is a command name or a mailbox called FETCH is decided by the Lark
grammar (``imapcore/syntax/parser.py`` maps each lexical token to a grammar terminal according to the
parser state). Two implementations exist with exactly this interface and exactly the same output on
every input: ``imapcore/syntax/pytokenizer.py`` (the executable specification) and the C tokenizer in
``native/tokenizer.c`` (wrapped by ``imapcore/syntax/ctokenizer.py``). ``imapcore.syntax.tokenizer``
picks one; ``IMAPCORE_PURE_PYTHON=1`` forces the Python twin.

Lexical rules (RFC 9051 §9 "Formal Syntax", §4.3 strings, RFC 7888 literals)
----------------------------------------------------------------------------
Within a command line, at a token boundary:

* ``0x20`` is one ``SP`` token. Two spaces are two SP tokens (the grammar rejects them).
* ``(`` ``)`` ``[`` ``]`` are ``LPAREN`` ``RPAREN`` ``LBRACKET`` ``RBRACKET``.
* ``"`` starts a quoted string (``QUOTED``). Inside: ``\\"`` and ``\\\\`` are the only escapes (any other
  byte after a backslash is an error); CR, LF or NUL is an error; bytes >= 0x80 are an error unless UTF-8
  mode is on (``set_utf8(True)``, after ENABLE UTF8=ACCEPT / IMAP4rev2), and then the content must be
  valid UTF-8. The value is the unescaped content.
* ``{`` starts a literal marker ``{`` 1*DIGIT [``+``] ``}`` which must be followed by CRLF; ``~{`` starts a
  literal8 marker of the same shape. The number has at most 20 digits and must fit in 63 bits (RFC 9051
  number64). The marker ends the line; the next ``n`` bytes are the literal's value (``LITERAL`` or
  ``LITERAL8``), after which tokenizing continues on the same command. A literal may not contain NUL
  (RFC 9051 CHAR8); a literal8 may.
* Any other byte in 0x21-0x7E starts a ``WORD``: the maximal run of bytes in 0x21-0x7E other than
  ``( ) [ ] { "``. (So ``\\Seen``, ``1:*,5``, ``<0.100>``, ``BODY.PEEK``, ``%``, ``NIL`` and ``~`` are words;
  ``~`` immediately followed by ``{`` is the start of a literal8 marker, not a word.)
* CRLF ends the command. A bare LF is accepted as a line end as well (robustness, like Dovecot); a CR not
  followed by LF is an error.
* Any other byte (controls, NUL, 8-bit outside a quoted string or literal, ``{`` that does not form a
  valid marker) is an error.

An empty line (CRLF alone) is an error "empty command line" with no tag.

The tag of a command, reported with errors, is the first token of its first line when that token is a
WORD followed by SP or the line end, and contains no ``+`` (RFC 9051 ``tag``); otherwise errors carry no
tag (``* BAD``).

Line mode: after ``set_line_mode()``, the next complete line (without its line end) is returned as a
``LINE`` event, whatever it contains except NUL (IDLE's ``DONE``, AUTHENTICATE's base64 responses),
subject to the line length limit; then the tokenizer is back in command mode.

Limits and errors
-----------------
``Limits`` holds the configurable bounds. On an error the tokenizer skips the rest of the offending
command without buffering it: it discards to the end of the line; if that line ends with a
*non-synchronizing* literal marker (``{n+}``) it also discards those ``n`` bytes and keeps skipping the
following line, because the client sends them without waiting; a synchronizing marker ends the command
(the client waits for a continuation that will not come). Then it reports one ``ERROR`` event.

* a line longer than ``max_line_bytes`` -> ERROR "line too long"; skipped as above (non-fatal).
* a synchronizing literal larger than ``max_literal_bytes`` -> ERROR with ``code="TOOBIG"`` reported as
  soon as the marker's line is complete, before the client sends the data (RFC 7889, RFC 9051 §7.1);
  the command is abandoned (non-fatal).
* a non-synchronizing literal larger than ``max_literal_bytes`` (RFC 7888 §4, choice 1): ERROR with
  ``code="TOOBIG"`` at once, then its bytes are discarded as they arrive. If it is also larger than
  ``max_discard_bytes`` the stream cannot reasonably be resynchronised: the ERROR is ``fatal`` (the
  server answers ``* BYE`` and closes; RFC 7888 §4, choice 2).
* more than ``max_literals_per_command`` literals, or more than ``max_command_bytes`` in one command
  (lines plus literals) -> ERROR ``code="TOOBIG"`` "command too large"; skipped as above.

Events
------
``next_event()`` returns one of these tuples (tuples, not objects: this is the hot path):

* ``(NEED_MORE,)`` - feed more bytes.
* ``(NEED_LITERAL, size, synchronizing, literal8, tag)`` - a literal marker's line is complete and within
  limits. For a synchronizing literal the connection now sends ``+`` (RFC 9051 §7.5); the tokenizer then
  consumes the literal as it is fed.
* ``(COMMAND, tokens)`` - a complete command. ``tokens`` is a list of ``(kind, value)`` pairs; ``value`` is
  ``bytes`` for WORD, QUOTED, LITERAL and LITERAL8 and ``None`` for punctuation and SP. The line end is not
  a token.
* ``(LINE, data)`` - a line in line mode, ``bytes`` without its line end.
* ``(ERROR, tag, message, code, fatal)`` - ``tag`` is ``bytes`` or ``None``; ``message`` a short ASCII
  text for the BAD/NO response; ``code`` ``None`` or a response-code atom such as ``"TOOBIG"``; ``fatal``
  means the stream cannot be resynchronised (send ``* BYE`` and close).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class TokenKind(IntEnum):
    SP = 1
    LPAREN = 2
    RPAREN = 3
    LBRACKET = 4
    RBRACKET = 5
    WORD = 6
    QUOTED = 7
    LITERAL = 8
    LITERAL8 = 9


class EventKind(IntEnum):
    NEED_MORE = 0
    NEED_LITERAL = 1
    COMMAND = 2
    LINE = 3
    ERROR = 4


# Plain ints for the hot path (IntEnum members compare equal to these).
SP, LPAREN, RPAREN, LBRACKET, RBRACKET, WORD, QUOTED, LITERAL, LITERAL8 = range(1, 10)
NEED_MORE, NEED_LITERAL, COMMAND, LINE, ERROR = range(5)


@dataclass(frozen=True)
class Limits:
    """Framing limits. Defaults follow the issue: 64 KiB lines, 64 MiB literals (the APPENDLIMIT)."""

    max_line_bytes: int = 64 * 1024
    max_literal_bytes: int = 64 * 1024 * 1024
    max_command_bytes: int = 64 * 1024 * 1024 + 1024 * 1024
    max_literals_per_command: int = 1000
    max_discard_bytes: int = 256 * 1024 * 1024
