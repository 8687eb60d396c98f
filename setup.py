"""Build glue: the grammar ships inside the package, the C tokenizer is optional.

Two things pyproject.toml cannot say on its own:

* ``grammar/*.lark`` lives at the top of the repository (the design fixes the layout), but an installed
  copy must never read the source checkout. ``build_py`` copies the grammar into ``imapcore/_grammar/``
  inside the wheel, where ``imapcore.syntax.grammar`` finds it with ``importlib.resources``.
* The C parts in ``native/`` are built with cffi (out-of-line API mode). Where no C compiler works the
  build of those extensions is skipped with a warning and the pure-Python twins are used, so
  ``pip install .`` still succeeds (the same pattern markupsafe uses for its speedups).
"""

import os
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent

# Every cffi build script present in native/ becomes an extension module.
CFFI_MODULES = [
    f"native/{p.name}:ffibuilder" for p in sorted((HERE / "native").glob("build_*.py"))
]


class build_py_with_grammar(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "imapcore" / "_grammar"
        target.mkdir(parents=True, exist_ok=True)
        for src in sorted((HERE / "grammar").glob("*.lark")):
            shutil.copyfile(src, target / src.name)
        (target / "__init__.py").write_text('"""The Lark grammar of IMAP, copied from grammar/ at build time."""\n')


class optional_build_ext(build_ext):
    """Build the C speedups when a compiler works; otherwise warn and go on."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # distutils raises several unrelated types here
            self._warn(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._warn(exc)

    @staticmethod
    def _warn(exc):
        print(
            f"WARNING: the C speedups could not be built ({exc!r}); "
            "imapcore will use its pure-Python tokenizer and serializer.",
            file=sys.stderr,
        )


if os.environ.get("IMAPCORE_NO_C") == "1":
    CFFI_MODULES = []

setup(
    cffi_modules=CFFI_MODULES,
    cmdclass={"build_py": build_py_with_grammar, "build_ext": optional_build_ext},
)
