"""What every ``native/build_*.py`` shares: how an extension is declared and how it is built in place.

``setup.py`` turns each ``native/build_*.py`` into a cffi extension (out-of-line API mode) through its
``ffibuilder``; run directly, a build script compiles its extension into ``imapcore/`` for an editable
checkout. cffi runs the build scripts with ``exec`` (not as imports), so each one puts this folder on
``sys.path`` before importing this module.
"""

import os
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

#: Every part is built with optimisation and the usual warnings (the CI build shows none).
COMPILE_ARGS = ["-O2", "-Wall", "-Wextra"]


def inline_extension(module: str, cdef: str, source: str, **options) -> FFI:
    """The builder of ``imapcore.<module>``: ``cdef`` declares what Python calls, ``source`` is the C
    (usually ``#include "part.c"``: one small file the compiler sees whole), with this folder on the
    include path."""
    builder = FFI()
    builder.cdef(cdef)
    options.setdefault("include_dirs", [str(HERE)])
    options["extra_compile_args"] = COMPILE_ARGS + options.get("extra_compile_args", [])
    builder.set_source(f"imapcore.{module}", source, **options)
    return builder


def build_in_place(make_builder, name: str) -> Path:
    """Compile a fresh builder from ``make_builder()`` into imapcore/, next to the sources."""
    build_dir = HERE / "_build" / name
    build_dir.mkdir(parents=True, exist_ok=True)
    so = make_builder().compile(tmpdir=str(build_dir), verbose=False)
    target = HERE.parent / "imapcore" / Path(so).name
    os.replace(so, target)
    return target


def main(make_builder, name: str) -> None:
    """``python native/build_<name>.py``: build in place and print where the module went."""
    print(build_in_place(make_builder, name))
    sys.exit(0)
