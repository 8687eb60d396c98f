"""cffi build script of the GIL-free one-shot wake-up (out-of-line API mode): ``imapcore._cwakeup``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails
``imapcore/store/wakeup.py`` uses ``threading.Event``. Run directly (``python native/build_wakeup.py``)
it builds the extension in place, into ``imapcore/_cwakeup*.so``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cffi exec()s this file: native/ is not on sys.path
import cffibuild  # noqa: E402

CDEF = """
typedef struct { ...; } imc_wakeup;
int imc_wakeup_init(imc_wakeup *wakeup);
void imc_wakeup_set(imc_wakeup *wakeup);
int imc_wakeup_wait(imc_wakeup *wakeup, double timeout);
"""


def make_builder():
    return cffibuild.inline_extension("_cwakeup", CDEF, '#include "wakeup.c"', libraries=["pthread"])


ffibuilder = make_builder()

if __name__ == "__main__":
    cffibuild.main(make_builder, "wakeup")
