"""Message flags as the store keeps them: five system flags in a bitmask, keywords as text.

RFC 9051 §2.3.2: system flags begin with ``\\`` and are case-insensitive; they are kept as bits so that
SEARCH on them is an integer test and the per-mailbox UNSEEN/DELETED counters are trigger arithmetic.
Keywords (atoms such as ``$Forwarded``) are kept in a space-padded string `` a b `` so a keyword test is
``instr(keywords, ' a ')``. ``\\Recent`` is not a stored flag (rev1 only; the session owns it), and other
``\\``-names are refused. The API speaks ``frozenset[str]`` with canonical spellings (``\\Seen``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from functools import lru_cache

from .errors import InvalidFlag


class SystemFlag(enum.IntFlag):
    SEEN = 1
    ANSWERED = 2
    FLAGGED = 4
    DELETED = 8
    DRAFT = 16


SYSTEM_FLAG_NAMES = {
    SystemFlag.SEEN: "\\Seen",
    SystemFlag.ANSWERED: "\\Answered",
    SystemFlag.FLAGGED: "\\Flagged",
    SystemFlag.DELETED: "\\Deleted",
    SystemFlag.DRAFT: "\\Draft",
}
_BY_LOWER = {name.lower(): bit for bit, name in SYSTEM_FLAG_NAMES.items()}

# RFC 9051 §9: flag-keyword = "$MDNSent" / "$Forwarded" / ... / atom; ATOM-CHAR excludes atom-specials.
_KEYWORD = re.compile(r"[^\x00-\x20\x7f-\U0010ffff(){%*\"\\\]]+\Z")


class FlagMode(enum.Enum):
    """STORE FLAGS / +FLAGS / -FLAGS (RFC 9051 §6.4.6)."""

    REPLACE = "FLAGS"
    ADD = "+FLAGS"
    REMOVE = "-FLAGS"


def encode(flags: Iterable[str]) -> tuple[int, frozenset[str]]:
    """Split flag names into (system bitmask, keyword set); raises ``InvalidFlag``."""
    bits = 0
    keywords = set()
    for flag in flags:
        if flag.startswith("\\"):
            bit = _BY_LOWER.get(flag.lower())
            if bit is None:
                raise InvalidFlag(flag)
            bits |= bit
        else:
            if not _KEYWORD.match(flag):
                raise InvalidFlag(flag)
            keywords.add(flag)
    return bits, frozenset(keywords)


def keywords_text(keywords: Iterable[str]) -> str:
    words = sorted(set(keywords))
    return " " + " ".join(words) + " " if words else ""


def parse_keywords(text: str) -> frozenset[str]:
    return frozenset(text.split())


@lru_cache(maxsize=4096)
def decode(bits: int, keywords: str) -> frozenset[str]:
    """Bitmask and keyword text back to a flag set (cached: few distinct combinations per mailbox)."""
    names = [name for bit, name in SYSTEM_FLAG_NAMES.items() if bits & bit]
    names.extend(keywords.split())
    return frozenset(names)
