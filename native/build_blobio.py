"""cffi build script of the one-call blob file writer (out-of-line API mode): ``imapcore._cblobio``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails
``BlobStore.write`` (imapcore/store/blobs.py) writes with ``os`` calls. Run directly
(``python native/build_blobio.py``) it builds the extension in place, into ``imapcore/_cblobio*.so``.
"""

import os
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

CDEF = """
int imc_write_file(const char *temporary, const char *final, const char *data, size_t length);
int imc_write_new_file(const char *temporary, const char *final, const char *data, size_t length);
int imc_missing_files(const char *paths, size_t count, unsigned char *missing);
"""


def make_builder() -> FFI:
    builder = FFI()
    builder.cdef(CDEF)
    builder.set_source(
        "imapcore._cblobio",
        '#include "blobio.c"',
        include_dirs=[str(HERE)],
        extra_compile_args=["-O2", "-Wall", "-Wextra"],
    )
    return builder


ffibuilder = make_builder()


def build_in_place() -> Path:
    """Compile into imapcore/ next to the sources, for an editable install."""
    root = HERE.parent
    build_dir = root / "native" / "_build" / "blobio"
    build_dir.mkdir(parents=True, exist_ok=True)
    so = make_builder().compile(tmpdir=str(build_dir), verbose=False)
    target = root / "imapcore" / Path(so).name
    os.replace(so, target)
    return target


if __name__ == "__main__":
    print(build_in_place())
    sys.exit(0)
