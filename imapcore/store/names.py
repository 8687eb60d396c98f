"""Mailbox names: validation and normalisation before anything touches the database.

Names reach the store as Unicode text (the session has already decoded modified UTF-7 or UTF-8), with
``/`` as the hierarchy delimiter. A name is refused (``InvalidMailboxName``, code CANNOT) when it is empty,
has an empty level (leading, trailing or doubled ``/``), a ``.`` or ``..`` level (they read as paths to
people and to tools that export mailboxes to directories), a control character, a LIST wildcard (``*``
or ``%``, RFC 9051 §6.3.9: a name containing them could never be listed unambiguously), more than
``MAX_NAME_BYTES`` bytes of UTF-8 or more than ``MAX_LEVELS`` levels.

``INBOX`` is case-insensitive (RFC 9051 §5.1); any spelling of it alone, or as the first level, is
normalised to ``INBOX`` so that ``inbox/x`` and ``INBOX/x`` are the same mailbox.
"""

from __future__ import annotations

import functools
import re

from .errors import InvalidMailboxName

DELIMITER = "/"
MAX_NAME_BYTES = 1000
MAX_LEVELS = 50
INBOX = "INBOX"

_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f*%]")


@functools.lru_cache(maxsize=1024)  # pure, and asked for the same few names at every command
def normalize(name: str) -> str:
    """Return the canonical form of a valid mailbox name, or raise ``InvalidMailboxName``."""
    if not isinstance(name, str):
        raise InvalidMailboxName(repr(name), "not text")
    if name == "":
        raise InvalidMailboxName(name, "empty name")
    bad = _FORBIDDEN.search(name)
    if bad:
        raise InvalidMailboxName(name, f"forbidden character {bad.group()!r}")
    try:
        encoded_length = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates from a broken decoder
        raise InvalidMailboxName(name, "not valid Unicode") from None
    if encoded_length > MAX_NAME_BYTES:
        raise InvalidMailboxName(name, f"longer than {MAX_NAME_BYTES} bytes")
    levels = name.split(DELIMITER)
    if len(levels) > MAX_LEVELS:
        raise InvalidMailboxName(name, f"more than {MAX_LEVELS} levels")
    for level in levels:
        if level == "":
            raise InvalidMailboxName(name, "empty hierarchy level")
        if level in (".", ".."):
            raise InvalidMailboxName(name, f"{level!r} is not allowed as a level")
    if levels[0].upper() == INBOX:
        levels[0] = INBOX
    return DELIMITER.join(levels)


def parents(name: str) -> list[str]:
    """The superior names of a normalised name, outermost first: ``a/b/c`` -> ``['a', 'a/b']``."""
    levels = name.split(DELIMITER)
    return [DELIMITER.join(levels[:i]) for i in range(1, len(levels))]


def is_inbox(name: str) -> bool:
    return name == INBOX
