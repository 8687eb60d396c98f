"""cffi build script of the GIL-free group flush thread (out-of-line API mode): ``imapcore._cflusher``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails
``imapcore/store/syncing.py`` flushes in the waiting thread (``GroupSync``) and the event loop hands its
waits to a worker thread. Run directly (``python native/build_flusher.py``) it builds the extension in
place, into ``imapcore/_cflusher*.so``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cffi exec()s this file: native/ is not on sys.path
import cffibuild  # noqa: E402

CDEF = """
#define IMC_FLUSH_FSYNC 0
#define IMC_FLUSH_SYNCFS 1
typedef struct imc_flusher imc_flusher;
imc_flusher *imc_flusher_new(int kind, const char *path);
int imc_flusher_fd(imc_flusher *flusher);
uint64_t imc_flusher_note(imc_flusher *flusher);
int imc_flusher_pending(imc_flusher *flusher);
uint64_t imc_flusher_flushes(imc_flusher *flusher);
int imc_flusher_state(imc_flusher *flusher, uint64_t ticket);
int imc_flusher_request(imc_flusher *flusher, uint64_t ticket);
int imc_flusher_wait(imc_flusher *flusher, uint64_t ticket);
void imc_flusher_free(imc_flusher *flusher);
"""


def make_builder():
    return cffibuild.inline_extension("_cflusher", CDEF, '#include "flusher.c"', libraries=["pthread"])


ffibuilder = make_builder()

if __name__ == "__main__":
    cffibuild.main(make_builder, "flusher")
