"""cffi build script of the index-word extractor (out-of-line API mode): ``imapcore._cterms``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails the
pure-Python twin ``index_terms`` in ``imapcore/store/fulltext.py`` is used. Run directly
(``python native/build_terms.py``) it builds the extension in place, into ``imapcore/_cterms*.so``, for
an editable checkout.
"""

import os
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

CDEF = """
long imc_index_terms(const char *text, size_t length, char *out);
"""


def make_builder() -> FFI:
    builder = FFI()
    builder.cdef(CDEF)
    builder.set_source(
        "imapcore._cterms",
        '#include "terms.c"',
        include_dirs=[str(HERE)],
        extra_compile_args=["-O2", "-Wall", "-Wextra"],
    )
    return builder


ffibuilder = make_builder()


def build_in_place() -> Path:
    """Compile into imapcore/ next to the sources, for an editable install."""
    root = HERE.parent
    build_dir = root / "native" / "_build" / "terms"
    build_dir.mkdir(parents=True, exist_ok=True)
    so = make_builder().compile(tmpdir=str(build_dir), verbose=False)
    target = root / "imapcore" / Path(so).name
    os.replace(so, target)
    return target


if __name__ == "__main__":
    print(build_in_place())
    sys.exit(0)
