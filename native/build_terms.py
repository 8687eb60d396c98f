"""cffi build script of the index-word extractor (out-of-line API mode): ``imapcore._cterms``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails the
pure-Python twin ``index_terms`` in ``imapcore/store/fulltext.py`` is used. Run directly
(``python native/build_terms.py``) it builds the extension in place, into ``imapcore/_cterms*.so``, for
an editable checkout.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cffi exec()s this file: native/ is not on sys.path
import cffibuild  # noqa: E402

CDEF = """
long imc_index_terms(const char *text, size_t length, char *out);
"""


def make_builder():
    return cffibuild.inline_extension("_cterms", CDEF, '#include "terms.c"')


ffibuilder = make_builder()

if __name__ == "__main__":
    cffibuild.main(make_builder, "terms")
