"""cffi build script of the FETCH response assembler (out-of-line API mode): ``imapcore._cserialize``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails the
pure-Python twin in ``imapcore/protocol/fetch.py`` is used. Run directly
(``python native/build_serializer.py``) it builds the extension in place, into
``imapcore/_cserialize*.so``, for an editable checkout.
"""

import os
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

CDEF = """
int imc_fetch_rows(void *rows_obj, void *result_obj);
"""


def make_builder() -> FFI:
    builder = FFI()
    builder.cdef(CDEF)
    # The whole implementation is one small file: include it into the generated module (no header to
    # keep in step with it, and the compiler sees everything at once).
    builder.set_source(
        "imapcore._cserialize",
        '#include "serializer.c"',
        include_dirs=[str(HERE)],
        extra_compile_args=["-O2", "-Wall", "-Wextra"],
    )
    return builder


ffibuilder = make_builder()


def build_in_place() -> Path:
    """Compile into imapcore/ next to the sources, for an editable install."""
    root = HERE.parent
    build_dir = root / "native" / "_build" / "serializer"
    build_dir.mkdir(parents=True, exist_ok=True)
    so = make_builder().compile(tmpdir=str(build_dir), verbose=False)
    target = root / "imapcore" / Path(so).name
    os.replace(so, target)
    return target


if __name__ == "__main__":
    print(build_in_place())
    sys.exit(0)
