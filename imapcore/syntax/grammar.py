"""Finds and loads the Lark grammar of IMAP (``grammar/imap.lark``).

An installed imapcore carries the grammar inside the package (``setup.py`` copies ``grammar/*.lark``
into ``imapcore/_grammar/`` at build time), and must never read a source checkout that happens to lie
around; only when that package data is absent (an editable install or a plain checkout) is the
repository's ``grammar/`` folder used.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

GRAMMAR_FILE = "imap.lark"


def grammar_source() -> tuple[str, str]:
    """Return ``(text, where)`` of the grammar: package data first, the checkout only as a fallback."""
    try:
        package = resources.files("imapcore._grammar")
        resource = package.joinpath(GRAMMAR_FILE)
        if resource.is_file():
            return resource.read_text(encoding="utf-8"), f"imapcore._grammar/{GRAMMAR_FILE}"
    except ModuleNotFoundError:
        pass
    path = Path(__file__).resolve().parent.parent.parent / "grammar" / GRAMMAR_FILE
    return path.read_text(encoding="utf-8"), str(path)


@functools.cache
def grammar_text() -> str:
    return grammar_source()[0]
