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
typedef struct imc_fetch_columns {
    const int64_t *seq;
    const int64_t *uid;
    const int64_t *size;
    const int64_t *modseq;
    const char *flags;
    const int64_t *flags_len;
    const char *date;
    const int64_t *date_len;
    const char *envelope;
    const int64_t *envelope_len;
    const char *bodystructure;
    const int64_t *bodystructure_len;
    const int64_t *extra_count;
    const char *extra_names;
    const int64_t *extra_name_len;
    const char *extra_values;
    const int64_t *extra_value_len;
    const int64_t *body_count;
    const char *body_names;
    const int64_t *body_name_len;
    const char *body_data;
    const int64_t *body_data_len;
} imc_fetch_columns;

size_t imc_fetch_assemble(size_t nrows, const imc_fetch_columns *c, char *out);
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
