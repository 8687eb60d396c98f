"""Whether to use an optional C part (``native/``) or its Python twin: the one switch every module shares.

A C part is used when its cffi extension was built and ``IMAPCORE_PURE_PYTHON=1`` is not set (CI runs
the syntax and protocol tests with the Python twins too). The tokenizer states its choice in
``imapcore/syntax/tokenizer.py``; the other parts call ``use_c``.
"""

from __future__ import annotations

import os


def use_c(lib: object | None) -> bool:
    """True when ``lib`` (a cffi ``lib``, or None when the extension is absent) should be used."""
    return lib is not None and os.environ.get("IMAPCORE_PURE_PYTHON") != "1"
