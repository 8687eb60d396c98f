"""The conformance suite: one module per area, each holding its scripts in ``SCRIPTS`` (the text format
described in ``imapcore.conformance``). Scripts live in Python modules so they ship inside the wheel
with no package-data configuration."""

from __future__ import annotations

import importlib
import pkgutil

from ..script import Script, ScriptError, parse_scripts


def load_all() -> list[Script]:
    """Every script of every module in this package, in module order; names must be unique."""
    scripts: list[Script] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        text = getattr(module, "SCRIPTS", None)
        if text is None:
            continue
        scripts += parse_scripts(text, source=f"{module_info.name}.py")
    seen: set[str] = set()
    for script in scripts:
        if script.name in seen:
            raise ScriptError(f"two scripts are named {script.name!r}")
        seen.add(script.name)
    return scripts
