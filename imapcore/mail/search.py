"""Does one message match a search program? (RFC 9051 §6.4.4 and the extensions the server announces.)

``matches(program, message, context)`` walks the ``imapcore.syntax.model`` search tree (SearchKey leaves
under SearchAnd / SearchOr / SearchNot) against a ``SearchableMessage``: the per-message facts the store
has (flags, dates, size, MODSEQ, object ids) plus the ``MessageSummary`` of its blob, loaded lazily from
``load_raw`` when the store did not hand one over, so flag-only searches never touch message bodies.

Semantics, with the text that fixes them:

* strings match as case-insensitive substrings of decoded values (RFC 9051 §6.4.4: "In all search keys
  that use strings, a message matches the key if the string is a substring of the associated text",
  "Consider using [IMAP-I18N]"): both sides go through ``search_fold``, Unicode casefolding then NFKD
  decomposition, the shape of RFC 5051 i;unicode-casemap (RFC 5255's default comparator) that Dovecot
  applies too, so "re" is found in "crème" and "CAFÉ" in "cafe\u0301". Other layers that search (the
  store's index) must fold with the same function to agree with this reference;
* FROM/TO/CC/BCC/SUBJECT/HEADER look at every occurrence of the field, RFC 2047-decoded; HEADER with an
  empty string matches every message that has the field;
* BODY looks at the decoded text parts, TEXT at those and at the header (names and decoded values);
* BEFORE/ON/SINCE compare INTERNALDATE's date in its own time zone ("disregarding time and timezone");
  SENTBEFORE/SENTON/SENTSINCE compare the Date: header's date part in the zone written in it; a message
  without a usable Date: falls back to its INTERNALDATE (as RFC 5256 §2.2 does for SORT);
* SAVEDBEFORE/SAVEDON/SAVEDSINCE use the save date, and the INTERNALDATE when there is none (RFC 8514
  §4: "MUST use the internal date attribute instead");
* OLDER/YOUNGER (RFC 5032 §3): INTERNALDATE at most / at least ``now - interval``, both inclusive;
* NEW is RECENT and not SEEN, OLD is not RECENT (RFC 3501 §6.4.4); RECENT is the ``\\Recent`` flag;
* MODSEQ (RFC 7162 §3.1.5) compares the message's mod-sequence; the entry name is accepted and, as RFC
  7162 allows for servers without per-flag mod-sequences, ignored;
* UID/SEQ sets resolve ``*`` against the largest UID / sequence number, and ``$`` against the saved
  result (RFC 5182), held in the context as UIDs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from imapcore._native import use_c
from imapcore.syntax.model import SearchAnd, SearchKey, SearchNot, SearchOr, SequenceSet

from .summary import MessageSummary, summarize


@dataclass(frozen=True, slots=True)
class SearchableMessage:
    """What search needs to know about one message of the selected mailbox."""

    seq: int
    uid: int
    flags: frozenset[str]  # system flags with their backslash ("\\Seen"), keywords as stored
    internal_date: datetime  # aware
    size: int
    summary: MessageSummary | None = None  # computed from ``load_raw`` when None and a key needs it
    load_raw: Callable[[], bytes] | None = None
    save_date: datetime | None = None
    modseq: int = 0
    email_id: str | None = None
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class SearchContext:
    """Facts about the mailbox and the moment of the search, shared by every message of one SEARCH."""

    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    largest_seq: int = 0
    largest_uid: int = 0
    saved_uids: frozenset[int] = frozenset()  # RFC 5182 "$"
    savedate_supported: bool = True


_FLAG_KEYS = {
    "ANSWERED": ("\\answered", True),
    "DELETED": ("\\deleted", True),
    "DRAFT": ("\\draft", True),
    "FLAGGED": ("\\flagged", True),
    "SEEN": ("\\seen", True),
    "RECENT": ("\\recent", True),
    "UNANSWERED": ("\\answered", False),
    "UNDELETED": ("\\deleted", False),
    "UNDRAFT": ("\\draft", False),
    "UNFLAGGED": ("\\flagged", False),
    "UNSEEN": ("\\seen", False),
    "OLD": ("\\recent", False),
}

_ADDRESS_KEYS = {"FROM": "from", "TO": "to", "CC": "cc", "BCC": "bcc", "SUBJECT": "subject"}


class _Evaluation:
    """One message under evaluation: caches the summary and lower-cased flags across keys."""

    __slots__ = ("message", "context", "_summary", "_flags")

    def __init__(self, message: SearchableMessage, context: SearchContext) -> None:
        self.message = message
        self.context = context
        self._summary = message.summary
        self._flags: frozenset[str] | None = None

    @property
    def flags(self) -> frozenset[str]:
        if self._flags is None:
            # Flag and keyword names compare case-insensitively (as Dovecot and Cyrus do).
            self._flags = frozenset(flag.lower() for flag in self.message.flags)
        return self._flags

    @property
    def summary(self) -> MessageSummary:
        if self._summary is None:
            raw = self.message.load_raw() if self.message.load_raw is not None else b""
            self._summary = summarize(raw)
        return self._summary

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for field_name, value in self.summary.headers if field_name == wanted]


def search_fold_py(text: str) -> str:
    """The comparison form of a string for SEARCH: casefolded, then NFKD-decomposed (RFC 5051 shape).
    The specification of the C twin ``native/fold.c``."""
    if text.isascii():
        return text.lower()  # casefold and NFKD are both plain lower-casing on ASCII
    return unicodedata.normalize("NFKD", text.casefold())


try:
    from imapcore._cfold import ffi as _ffi, lib as _lib
except ImportError:  # not built (no compiler at install time)
    _ffi = _lib = None
else:
    # The tables were generated from the building interpreter's Unicode data: only trusted for the same.
    if _ffi.string(_lib.imc_fold_unidata_version()).decode() != unicodedata.unidata_version:
        _ffi = _lib = None

#: Below this many characters the Python twin is as fast as the trip through cffi.
_C_FROM = 512


def _fold_utf8_c(data: bytes) -> bytes | None:
    """``native/fold.c`` on UTF-8 ``data``; None when the C side declines (a run of combining marks too
    long for it): the caller then uses the Python twin."""
    capacity = len(data) + (len(data) >> 1) + 64
    out = _ffi.new("char[]", capacity)
    written = _lib.imc_search_fold(data, len(data), out, capacity)
    if written == -2:  # grew more than by half: retry with room for the worst case
        capacity = len(data) * _lib.imc_fold_max_growth() + 16
        out = _ffi.new("char[]", capacity)
        written = _lib.imc_search_fold(data, len(data), out, capacity)
    return None if written < 0 else _ffi.unpack(out, written)


def search_fold_c(text: str) -> str:
    """``search_fold_py`` computed by ``native/fold.c`` with the GIL released (cffi drops it for the
    call): deliveries fold every message's text, and the other deliveries wait for the GIL meanwhile."""
    if _lib is None:
        raise RuntimeError("imapcore._cfold is not built for this Unicode version")
    if text.isascii():
        return text.lower()
    try:
        folded = _fold_utf8_c(text.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8, the twin handles it
        return search_fold_py(text)
    return search_fold_py(text) if folded is None else folded.decode("utf-8")


def search_fold_utf8(text: str) -> bytes:
    """``search_fold(text)`` as UTF-8 bytes: what the store keeps (as TEXT) for SEARCH BODY/TEXT. The C
    side produces UTF-8, so this skips decoding its output and SQLite's re-encoding of the str. A lone
    surrogate (a UTF-7 part can decode to one) becomes "?"."""
    if not use_c(_lib) or len(text) < _C_FROM or text.isascii():
        return search_fold(text).encode("utf-8", "replace")
    try:
        folded = _fold_utf8_c(text.encode("utf-8"))
    except UnicodeEncodeError:
        folded = None
    return search_fold_py(text).encode("utf-8", "replace") if folded is None else folded


def _search_fold_fast(text: str) -> str:
    return search_fold_c(text) if len(text) >= _C_FROM else search_fold_py(text)


if use_c(_lib):
    search_fold = _search_fold_fast
    FOLD_IMPLEMENTATION = "C (cffi)"
else:
    search_fold = search_fold_py
    FOLD_IMPLEMENTATION = "python"


def _contains(haystack: str, needle: str) -> bool:
    return search_fold(needle) in search_fold(haystack)


def _in_set(number: int, sequence_set: SequenceSet, largest: int, saved: frozenset[int], uid: int) -> bool:
    if sequence_set.saved:
        return uid in saved
    return sequence_set.contains(number, largest)


def _date_matches(name: str, moment: date, target: date) -> bool:
    if name.endswith("BEFORE"):
        return moment < target
    if name.endswith("ON"):
        return moment == target
    return moment >= target  # SINCE


def _leaf(key: SearchKey, ev: _Evaluation) -> bool:
    name = key.name.upper()
    args = key.args
    message = ev.message
    if name == "ALL":
        return True
    flag = _FLAG_KEYS.get(name)
    if flag is not None:
        return (flag[0] in ev.flags) == flag[1]
    if name == "NEW":
        return "\\recent" in ev.flags and "\\seen" not in ev.flags
    if name == "KEYWORD":
        return str(args[0]).lower() in ev.flags
    if name == "UNKEYWORD":
        return str(args[0]).lower() not in ev.flags
    if name in _ADDRESS_KEYS:
        return any(_contains(value, args[0]) for value in ev.header_values(_ADDRESS_KEYS[name]))
    if name == "HEADER":
        values = ev.header_values(args[0])
        if not args[1]:
            return bool(values)
        return any(_contains(value, args[1]) for value in values)
    if name == "BODY":
        return _contains(ev.summary.text, args[0])
    if name == "TEXT":
        summary = ev.summary
        if _contains(summary.text, args[0]):
            return True
        return any(_contains(f"{field_name}: {value}", args[0]) for field_name, value in summary.headers)
    if name == "LARGER":
        return message.size > args[0]
    if name == "SMALLER":
        return message.size < args[0]
    if name in ("BEFORE", "ON", "SINCE"):
        # The date of INTERNALDATE in its own zone (RFC 9051 §6.4.4 "disregarding time and timezone").
        return _date_matches(name, message.internal_date.date(), args[0])
    if name in ("SENTBEFORE", "SENTON", "SENTSINCE"):
        sent = ev.summary.sent_date or message.internal_date
        return _date_matches(name, sent.date(), args[0])
    if name in ("SAVEDBEFORE", "SAVEDON", "SAVEDSINCE"):
        saved = message.save_date or message.internal_date
        return _date_matches(name, saved.date(), args[0])
    if name == "SAVEDATESUPPORTED":
        return ev.context.savedate_supported
    if name == "OLDER":
        return message.internal_date <= ev.context.now - timedelta(seconds=args[0])
    if name == "YOUNGER":
        return message.internal_date >= ev.context.now - timedelta(seconds=args[0])
    if name == "UID":
        return _in_set(message.uid, args[0], ev.context.largest_uid, ev.context.saved_uids, message.uid)
    if name == "SEQ":
        return _in_set(message.seq, args[0], ev.context.largest_seq, ev.context.saved_uids, message.uid)
    if name == "MODSEQ":
        return message.modseq >= args[0]
    if name == "EMAILID":
        return message.email_id is not None and message.email_id == args[0]
    if name == "THREADID":
        return message.thread_id is not None and message.thread_id == args[0]
    raise ValueError(f"unknown search key {key.name!r}")


def _evaluate(program, ev: _Evaluation) -> bool:
    if isinstance(program, SearchKey):
        return _leaf(program, ev)
    if isinstance(program, SearchAnd):
        return all(_evaluate(item, ev) for item in program.keys)
    if isinstance(program, SearchOr):
        return _evaluate(program.left, ev) or _evaluate(program.right, ev)
    if isinstance(program, SearchNot):
        return not _evaluate(program.key, ev)
    raise TypeError(f"not a search program: {program!r}")


def matches(program, message: SearchableMessage, context: SearchContext | None = None) -> bool:
    """True when ``message`` satisfies ``program``. Raises ValueError only for an unknown key name,
    which the parser never produces."""
    return _evaluate(program, _Evaluation(message, context if context is not None else SearchContext()))


def needs_summary(program) -> bool:
    """True when evaluating ``program`` may read the message contents (so the store loads them)."""
    if isinstance(program, SearchKey):
        return program.name.upper() in {
            "FROM", "TO", "CC", "BCC", "SUBJECT", "HEADER", "BODY", "TEXT",
            "SENTBEFORE", "SENTON", "SENTSINCE",
        }
    if isinstance(program, SearchAnd):
        return any(needs_summary(item) for item in program.keys)
    if isinstance(program, SearchOr):
        return needs_summary(program.left) or needs_summary(program.right)
    if isinstance(program, SearchNot):
        return needs_summary(program.key)
    return False
