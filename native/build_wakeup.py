"""cffi build script of the GIL-free one-shot wake-up (out-of-line API mode): ``imapcore._cwakeup``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``; when the build fails
``imapcore/store/wakeup.py`` uses ``threading.Event``. Run directly (``python native/build_wakeup.py``)
it builds the extension in place, into ``imapcore/_cwakeup*.so``.
"""

import os
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

CDEF = """
typedef struct { ...; } imc_wakeup;
int imc_wakeup_init(imc_wakeup *wakeup);
void imc_wakeup_set(imc_wakeup *wakeup);
int imc_wakeup_wait(imc_wakeup *wakeup, double timeout);
"""


def make_builder() -> FFI:
    builder = FFI()
    builder.cdef(CDEF)
    builder.set_source(
        "imapcore._cwakeup",
        '#include "wakeup.c"',
        include_dirs=[str(HERE)],
        extra_compile_args=["-O2", "-Wall", "-Wextra"],
        libraries=["pthread"],
    )
    return builder


ffibuilder = make_builder()


def build_in_place() -> Path:
    """Compile into imapcore/ next to the sources, for an editable install."""
    root = HERE.parent
    build_dir = root / "native" / "_build" / "wakeup"
    build_dir.mkdir(parents=True, exist_ok=True)
    so = make_builder().compile(tmpdir=str(build_dir), verbose=False)
    target = root / "imapcore" / Path(so).name
    os.replace(so, target)
    return target


if __name__ == "__main__":
    print(build_in_place())
    sys.exit(0)
