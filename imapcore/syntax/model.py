"""Values shared by every layer: sequence sets, search keys, body sections.

The parser builds these from commands; ``mail`` and ``store`` consume them (section extraction, search
matching, SQL). They are frozen and hashable, and know nothing of the wire beyond ``__str__`` giving the
IMAP form back (used by the serializer, the conformance harness and the round-trip property tests).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field

#: ``*`` in a sequence set: "the largest number in use" (RFC 9051 §9 seq-number).
STAR = 0


@dataclass(frozen=True, slots=True)
class SequenceSet:
    """An IMAP sequence set (RFC 9051 §9 ``sequence-set``), or ``$`` (RFC 5182 SEARCHRES).

    ``ranges`` holds ``(low, high)`` pairs exactly as written, with ``STAR`` (0) for ``*``; a single number
    ``n`` is ``(n, n)``. Order and overlaps are kept as sent (a server answers in ascending order anyway).
    ``saved`` is true for ``$``, whose value is the session's saved search result; then ``ranges`` is
    empty.
    """

    ranges: tuple[tuple[int, int], ...] = ()
    saved: bool = False

    @classmethod
    def single(cls, number: int) -> SequenceSet:
        return cls(((number, number),))

    def iter_ranges(self, largest: int) -> Iterator[tuple[int, int]]:
        """Yield normalised ``(low, high)`` with ``*`` replaced by ``largest`` and ``low <= high``.

        RFC 9051 §9: ``*`` is the largest number in use; ``n:m`` equals ``m:n``.
        """
        for low, high in self.ranges:
            low = largest if low == STAR else low
            high = largest if high == STAR else high
            yield (low, high) if low <= high else (high, low)

    def contains(self, number: int, largest: int) -> bool:
        return any(low <= number <= high for low, high in self.iter_ranges(largest))

    def has_star(self) -> bool:
        return any(STAR in pair for pair in self.ranges)

    def __str__(self) -> str:
        if self.saved:
            return "$"

        def one(n: int) -> str:
            return "*" if n == STAR else str(n)

        return ",".join(one(lo) if lo == hi else f"{one(lo)}:{one(hi)}" for lo, hi in self.ranges)


# --- Search keys (RFC 9051 §6.4.4 and extensions) ---------------------------------------------------
#
# A search program is a tree of SearchKey leaves under SearchAnd / SearchOr / SearchNot. Leaf names are
# upper-case and their ``args`` are, by name:
#
#   no arguments      ALL ANSWERED DELETED DRAFT FLAGGED SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN
#                     NEW OLD RECENT (rev1, RFC 3501 §6.4.4)   SAVEDATESUPPORTED (RFC 8514)
#   (str,)            KEYWORD UNKEYWORD (flag keyword)
#                     BCC CC FROM SUBJECT TO BODY TEXT (the string, decoded from the command's CHARSET)
#                     EMAILID THREADID (RFC 8474 objectid)
#   (str, str)        HEADER (field name, string)
#   (date,)           BEFORE ON SINCE SENTBEFORE SENTON SENTSINCE (RFC 9051)
#                     SAVEDBEFORE SAVEDON SAVEDSINCE (RFC 8514)
#   (int,)            LARGER SMALLER (octets)   OLDER YOUNGER (seconds, RFC 5032 WITHIN)
#   (SequenceSet,)    UID, and SEQ for a bare sequence set
#   (int, entry)      MODSEQ (RFC 7162 §3.1.5): mod-sequence value, and ``None`` or a
#                     ``(entry-name, entry-type)`` pair of str (entry-type "priv", "shared" or "all")


@dataclass(frozen=True, slots=True)
class SearchKey:
    name: str
    args: tuple = ()


@dataclass(frozen=True, slots=True)
class SearchAnd:
    """All of ``keys`` (a parenthesised list, or the top level of a SEARCH command)."""

    keys: tuple = ()


@dataclass(frozen=True, slots=True)
class SearchOr:
    left: object
    right: object


@dataclass(frozen=True, slots=True)
class SearchNot:
    key: object


SearchProgram = SearchKey | SearchAnd | SearchOr | SearchNot

#: Names of search keys that take no argument.
FLAG_SEARCH_KEYS = frozenset(
    "ALL ANSWERED DELETED DRAFT FLAGGED SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN "
    "NEW OLD RECENT SAVEDATESUPPORTED".split()
)


# --- Body sections (RFC 9051 §6.4.5 ``section``) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    """A body section: ``BODY[<part>.<text>]``.

    ``part`` is the numeric path (``(1, 2)`` for ``1.2``; empty for the whole message). ``text`` is
    ``None`` (the whole part), ``"HEADER"``, ``"HEADER.FIELDS"``, ``"HEADER.FIELDS.NOT"``, ``"TEXT"`` or
    ``"MIME"``. ``fields`` are the header field names of HEADER.FIELDS(.NOT) as sent (compare them
    case-insensitively).
    """

    part: tuple[int, ...] = ()
    text: str | None = None
    fields: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        pieces = [".".join(map(str, self.part))] if self.part else []
        if self.text:
            pieces.append(self.text)
        spec = ".".join(pieces)
        if self.fields:
            spec += " (" + " ".join(self.fields) + ")"
        return spec


@dataclass(frozen=True, slots=True)
class Partial:
    """``<offset.length>`` of a section (RFC 9051 §6.4.5); ``length`` None means to the end."""

    offset: int
    length: int | None = None


Date = _dt.date
