"""Response objects and their wire form (RFC 9051 §7).

Three kinds of server responses exist: tagged completions (``a1 OK [CODE] text``), untagged responses
(``* OK ...`` status responses and ``* 3 EXISTS``-style data), and continuation requests (``+ ...``).
Each is a frozen dataclass with ``to_bytes(utf8)``; ``Connection.send`` calls it and also reads the
response to drive the state table, so handlers only ever *describe* what to say.

Data responses are written from a small value model, so the atom / quoted / literal choice is made in
one place (``imapcore.protocol.encode``) from the value's grammar slot, never by hand:

=====================  =============================================================================
Python value           wire form
=====================  =============================================================================
``None``               ``NIL``
``int``                a number
``str`` / ``bytes``    an IMAP ``string``: quoted when it can be, otherwise a literal (8-bit, CR/LF,
                       NUL or long values); ``str`` is UTF-8
``AString(v)``         an ``astring`` (bare atom when the value is one): mailbox names, charsets
``Atom(text)``         written as is after a check: keywords (``EXISTS``), flags (``\\Seen``),
                       capability names
``Literal(data)``      always a literal (``~{n}`` literal8 when ``binary``)
``Raw(data)``          pre-serialized bytes (ENVELOPE and BODYSTRUCTURE from ``imapcore.mail``)
``tuple`` / ``list``   a parenthesised list, items separated by one SP
=====================  =============================================================================

The ``utf8`` flag (UTF8=ACCEPT or IMAP4rev2 enabled, RFC 9051 §6.3.1, RFC 6855 §3) allows UTF-8 in
quoted strings and response text; without it 8-bit strings become literals and 8-bit text is replaced.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from enum import Enum

from . import encode
from .codes import ResponseCode


class IdentityEnum(Enum):
    """An Enum hashed by identity. Its members are keys of tables every command looks up; Enum's own
    ``__hash__`` is Python code (a hash of the name), and members are singletons compared by identity,
    so the identity hash is as good and much cheaper."""

    __hash__ = object.__hash__


class Status(IdentityEnum):
    OK = "OK"
    NO = "NO"
    BAD = "BAD"
    PREAUTH = "PREAUTH"
    BYE = "BYE"


# --- values -------------------------------------------------------------------------------------------

# A flag (RFC 9051 §9 flag / flag-extension / flag-keyword), a LIST attribute ("\" atom) or "\*", or a
# plain atom such as a capability or data keyword.
_ATOM_LIKE = re.compile(r"(\\?[^\x00-\x20\x7f-\uffff(){%*\"\\\]]+|\\\*)\Z")


#: Texts already checked by ``Atom``: the same few (flags, EXISTS, LIST attributes) come back in every
#: response, and a set lookup is cheaper than the pattern. Bounded: a client's keywords cannot grow it.
_CHECKED_ATOMS: set[str] = set()
_CHECKED_ATOMS_MAX = 4096


@dataclass(frozen=True, slots=True)
class Atom:
    text: str

    def __post_init__(self) -> None:
        text = self.text
        if text in _CHECKED_ATOMS:
            return
        if _ATOM_LIKE.match(text) is None:
            raise ValueError(f"not an atom or flag: {text!r}")
        if len(_CHECKED_ATOMS) < _CHECKED_ATOMS_MAX and type(text) is str:
            _CHECKED_ATOMS.add(text)


@dataclass(frozen=True, slots=True)
class AString:
    value: str | bytes


@dataclass(frozen=True, slots=True)
class Literal:
    data: bytes
    binary: bool = False


@dataclass(frozen=True, slots=True)
class Raw:
    data: bytes


def encode_value(value: object, utf8: bool, out: list[bytes]) -> None:
    """Append the wire form of ``value`` to ``out`` (see the table in the module docstring)."""
    kind = type(value)
    # The common exact types first (one comparison each instead of the isinstance chain below).
    if kind is Atom:
        out.append(value.text.encode("ascii"))
        return
    if kind is int:
        if value < 0:
            raise ValueError("IMAP numbers are unsigned")
        out.append(b"%d" % value)
        return
    if kind is tuple:
        if not value:
            out.append(b"()")
            return
        out.append(b"(")
        first = True
        for item in value:
            if first:
                first = False
            else:
                out.append(b" ")
            encode_value(item, utf8, out)
        out.append(b")")
        return
    if value is None:
        out.append(b"NIL")
    elif isinstance(value, bool):
        raise TypeError("booleans have no IMAP form")
    elif isinstance(value, int):
        if value < 0:
            raise ValueError("IMAP numbers are unsigned")
        out.append(b"%d" % value)
    elif isinstance(value, (str, bytes)):
        out.append(encode.string(value, utf8))
    elif isinstance(value, Atom):
        out.append(value.text.encode("ascii"))
    elif isinstance(value, AString):
        out.append(encode.astring(value.value, utf8))
    elif isinstance(value, Raw):
        out.append(value.data)
    elif isinstance(value, Literal):
        out.append(encode.literal(value.data, value.binary))
    elif isinstance(value, (tuple, list)):
        out.append(b"(")
        for index, item in enumerate(value):
            if index:
                out.append(b" ")
            encode_value(item, utf8, out)
        out.append(b")")
    else:
        raise TypeError(f"no IMAP form for {type(value).__name__}")


# --- response text ------------------------------------------------------------------------------------

_DEFAULT_TEXT = {
    Status.OK: "Completed",
    Status.NO: "Failed",
    Status.BAD: "Invalid command",
    Status.PREAUTH: "Logged in",
    Status.BYE: "Closing connection",
}
_LINE_BREAKS = re.compile(r"[\r\n\x00]+")


def _text(text: str, status: Status | None, utf8: bool) -> bytes:
    """resp-text's ``text``: no CR, LF or NUL (a handler's message can never inject a response line);
    UTF-8 only in UTF-8 mode (RFC 9051 §9 ``text``); never empty, for IMAP4rev1 clients (RFC 3501 has
    ``text = 1*TEXT-CHAR``). Short texts (the fixed "SELECT completed" kind) are remembered."""
    if len(text) <= _CACHED_TEXT_MAX:
        return _short_text(text, status, utf8)
    return _encode_text(text, status, utf8)


_CACHED_TEXT_MAX = 80


@functools.lru_cache(maxsize=512)
def _short_text(text: str, status: Status | None, utf8: bool) -> bytes:
    return _encode_text(text, status, utf8)


def _encode_text(text: str, status: Status | None, utf8: bool) -> bytes:
    text = _LINE_BREAKS.sub(" ", text)
    if not text and status is not None:
        text = _DEFAULT_TEXT[status]
    return text.encode("utf-8") if utf8 else text.encode("ascii", "replace")


def _resp_text(status: Status, code: ResponseCode | None, text: str, utf8: bool) -> bytes:
    body = _text(text, status, utf8)
    if code is None:
        return body
    return b"[" + code.to_bytes() + b"] " + body


# --- responses ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaggedResponse:
    """``tag OK|NO|BAD [code] text`` completing the command with that tag (RFC 9051 §7.1)."""

    tag: str
    status: Status
    text: str = ""
    code: ResponseCode | None = None

    def to_bytes(self, utf8: bool = False) -> bytes:
        code = self.code
        # Every command ends with one of these and most say the same thing each time ("OK FETCH
        # completed"): what follows the tag is remembered for short texts and codes without arguments
        # ([READ-WRITE], not [APPENDUID ...], whose numbers would only crowd the cache).
        if (code is None or not code.args) and len(self.text) <= _CACHED_TEXT_MAX:
            tail = _short_tagged_tail(self.status, code, self.text, utf8)
        else:
            tail = _tagged_tail(self.status, code, self.text, utf8)
        return self.tag.encode("ascii") + tail


def _tagged_tail(status: Status, code: ResponseCode | None, text: str, utf8: bool) -> bytes:
    """What follows the tag of a completion: `` OK|NO|BAD [code] text`` and CRLF."""
    if status not in (Status.OK, Status.NO, Status.BAD):
        raise ValueError(f"a tagged response is OK, NO or BAD, not {status.value}")
    return b" %b %b\r\n" % (status.value.encode("ascii"), _resp_text(status, code, text, utf8))


_short_tagged_tail = functools.lru_cache(maxsize=512)(_tagged_tail)


@dataclass(frozen=True, slots=True)
class StatusResponse:
    """Untagged ``* OK|NO|BAD|PREAUTH|BYE [code] text`` (RFC 9051 §7.1)."""

    status: Status
    text: str = ""
    code: ResponseCode | None = None

    def to_bytes(self, utf8: bool = False) -> bytes:
        return b"* %b %b\r\n" % (
            self.status.value.encode("ascii"),
            _resp_text(self.status, self.code, self.text, utf8),
        )


@dataclass(frozen=True, slots=True)
class DataResponse:
    """Untagged data: ``* `` followed by ``items`` separated by SP, e.g. ``(3, Atom("EXISTS"))``."""

    items: tuple

    def to_bytes(self, utf8: bool = False) -> bytes:
        out = [b"* "]
        for index, item in enumerate(self.items):
            if index:
                out.append(b" ")
            encode_value(item, utf8, out)
        out.append(b"\r\n")
        return b"".join(out)


@dataclass(frozen=True, slots=True)
class Enabled:
    """``* ENABLED cap...`` (RFC 5161 §3.2). A class of its own because sending it with UTF8=ACCEPT or
    IMAP4rev2 switches the connection to UTF-8 mode."""

    capabilities: tuple[str, ...]

    def to_bytes(self, utf8: bool = False) -> bytes:
        return DataResponse((Atom("ENABLED"), *map(Atom, self.capabilities))).to_bytes(utf8)


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """``* seq FETCH (name value ...)`` for one message (IDLE pushes, flag updates). ``items`` are
    ``(name, value)`` pairs; the name is written as is (``"FLAGS"``, ``"BODY[HEADER]<0>"``). Batches of
    many messages go through ``imapcore.protocol.fetch.serialize_fetch_batch`` instead."""

    seq: int
    items: tuple[tuple[str, object], ...]

    def to_bytes(self, utf8: bool = False) -> bytes:
        out = [b"* %d FETCH (" % self.seq]
        for index, (name, value) in enumerate(self.items):
            if index:
                out.append(b" ")
            out.append(name.encode("ascii") + b" ")
            encode_value(value, utf8, out)
        out.append(b")\r\n")
        return b"".join(out)


@dataclass(frozen=True, slots=True)
class UntaggedBytes:
    """Untagged responses already serialized (a FETCH batch); must be whole lines starting with ``*``."""

    data: bytes

    def to_bytes(self, utf8: bool = False) -> bytes:
        if not self.data.startswith(b"* ") or not self.data.endswith(b"\r\n"):
            raise ValueError("pre-serialized untagged data must be complete '* ...\\r\\n' lines")
        return self.data


@dataclass(frozen=True, slots=True)
class ContinuationRequest:
    """``+ text`` (RFC 9051 §7.5), or ``+ base64`` when ``challenge`` is given (a SASL challenge,
    RFC 9051 §6.2.2; an empty challenge is ``+ `` and an empty line after it)."""

    text: str = "Ready"
    challenge: bytes | None = None

    def to_bytes(self, utf8: bool = False) -> bytes:
        if self.challenge is not None:
            return b"+ " + base64.b64encode(self.challenge) + b"\r\n"
        return b"+ " + _text(self.text, Status.OK, utf8) + b"\r\n"


Response = TaggedResponse | StatusResponse | DataResponse | Enabled | FetchResponse | UntaggedBytes | ContinuationRequest


# --- small builders for common data responses (RFC 9051 §7.2-§7.4) -----------------------------------


def exists(count: int) -> DataResponse:
    return DataResponse((count, Atom("EXISTS")))


def expunge(seq: int) -> DataResponse:
    return DataResponse((seq, Atom("EXPUNGE")))


def capability(capabilities: tuple[str, ...] | list[str]) -> DataResponse:
    return DataResponse((Atom("CAPABILITY"), *map(Atom, capabilities)))


def flags(flag_names: tuple[str, ...] | list[str]) -> DataResponse:
    return DataResponse((Atom("FLAGS"), tuple(map(Atom, flag_names))))


def list_mailbox(attributes: tuple[str, ...] | list[str], delimiter: str | None, name: str, kind: str = "LIST") -> DataResponse:
    """``* LIST (\\HasNoChildren) "/" INBOX`` (RFC 9051 §7.3.1); the name is an astring, the
    delimiter a quoted character or NIL. ``kind`` is "LSUB" for the rev1 command."""
    return DataResponse((Atom(kind), tuple(map(Atom, attributes)), delimiter, AString(name)))


def search(numbers: list[int] | tuple[int, ...], modseq: int | None = None) -> DataResponse:
    """``* SEARCH 2 3 6`` (RFC 3501 §7.2.5), with ``(MODSEQ n)`` for CONDSTORE (RFC 7162 §3.1.5)."""
    items: tuple = (Atom("SEARCH"), *numbers)
    if modseq is not None:
        items += ((Atom("MODSEQ"), modseq),)
    return DataResponse(items)


def status_data(mailbox: str, items: list[tuple[str, int]] | tuple[tuple[str, int], ...]) -> DataResponse:
    """``* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)`` (RFC 9051 §7.3.4)."""
    attributes: list = []
    for name, value in items:
        attributes += [Atom(name), value]
    return DataResponse((Atom("STATUS"), AString(mailbox), tuple(attributes)))
