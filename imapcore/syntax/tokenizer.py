"""Chooses the tokenizer: the C one when it was built, the pure-Python twin otherwise.

``IMAPCORE_PURE_PYTHON=1`` forces the Python twin (CI runs the syntax tests both ways). Both expose the
interface described in ``imapcore.syntax.tokens``.
"""

from __future__ import annotations

import os

if os.environ.get("IMAPCORE_PURE_PYTHON") == "1":
    from .pytokenizer import Tokenizer

    IMPLEMENTATION = "python (forced by IMAPCORE_PURE_PYTHON=1)"
else:
    try:
        from .ctokenizer import Tokenizer
    except ImportError:  # the C extension was not built (no compiler at install time)
        from .pytokenizer import Tokenizer

        IMPLEMENTATION = "python (C extension not built)"
    else:
        IMPLEMENTATION = "C (cffi)"

__all__ = ["Tokenizer", "IMPLEMENTATION"]
