"""cffi build script of the FETCH response assembler (out-of-line API mode): ``imapcore._cserialize``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails the
pure-Python twin in ``imapcore/protocol/fetch.py`` is used. Run directly
(``python native/build_serializer.py``) it builds the extension in place, into
``imapcore/_cserialize*.so``, for an editable checkout.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cffi exec()s this file: native/ is not on sys.path
import cffibuild  # noqa: E402

CDEF = """
int imc_fetch_rows(void *rows_obj, void *result_obj);
"""


def make_builder():
    return cffibuild.inline_extension("_cserialize", CDEF, '#include "serializer.c"')


ffibuilder = make_builder()

if __name__ == "__main__":
    cffibuild.main(make_builder, "serializer")
