"""The ``imapcore`` command line.

Each subcommand lives with the layer it belongs to and registers itself through a small
``register(subparsers)`` function; this module only assembles them, so adding a command never means
editing another layer. Imports are lazy so that ``imapcore --version`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__

# Modules that contribute subcommands, in the order they are listed by --help.
SUBCOMMAND_MODULES = (
    "imapcore.server.cli",
    "imapcore.syntax.cli",
    "imapcore.store.cli",
    "imapcore.conformance.cli",
)


#: The optional C parts (native/build_*.py) besides the tokenizer, each with a Python twin.
_C_PARTS = ("_cserialize", "_cterms", "_cfold", "_cblobio", "_cwakeup")


def _version_text() -> str:
    from importlib.util import find_spec

    from .syntax.tokenizer import IMPLEMENTATION

    built = [name[2:] for name in _C_PARTS if find_spec(f"imapcore.{name}") is not None]
    return (f"imapcore {__version__} (tokenizer: {IMPLEMENTATION}; "
            f"other C parts built: {', '.join(built) or 'none'})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imapcore", description="An IMAP4rev2 mail server.")
    parser.add_argument("--version", action="store_true", help="print the version and which tokenizer is active")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):  # that layer is not part of this build yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(_version_text())
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
