"""cffi build script of the one-call blob file writer (out-of-line API mode): ``imapcore._cblobio``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails
``BlobStore.write`` (imapcore/store/blobs.py) writes with ``os`` calls. Run directly
(``python native/build_blobio.py``) it builds the extension in place, into ``imapcore/_cblobio*.so``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cffi exec()s this file: native/ is not on sys.path
import cffibuild  # noqa: E402

CDEF = """
int imc_write_file(const char *temporary, const char *final, const char *data, size_t length);
int imc_write_new_file(const char *temporary, const char *final, const char *data, size_t length);
int imc_missing_files(const char *paths, size_t count, unsigned char *missing);
int imc_retire_files(const char *paths, const char *pooled, size_t count, size_t keep, unsigned char *removed);
int imc_write_pooled_file(const char *pooled, const char *temporary, const char *final, const char *data,
                          size_t length);
"""


def make_builder():
    return cffibuild.inline_extension("_cblobio", CDEF, '#include "blobio.c"')


ffibuilder = make_builder()

if __name__ == "__main__":
    cffibuild.main(make_builder, "blobio")
