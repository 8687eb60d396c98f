"""``imapcore parse``: the grammar's debugging tool.

Reads a client byte stream on stdin (for instance a recorded ``NN.client.imap``) and prints one JSON
object per line: ``{"tag", "command", "arguments"}`` for each command, ``{"tag", "error"}`` for each
command a server would answer with BAD (``"tag": null`` for ``* BAD``), ``{"line"}`` for IDLE's DONE
and SASL responses. Literals are consumed from the stream as they come; there is no one to send ``+``
to. See ``imapcore.syntax.stream`` for how non-command lines are recognised.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import sys

from .tokens import Limits

_BYTES_PREVIEW = 120


def to_json(value):
    """A JSON-friendly view of command values (bytes shown as text with their length)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, bytes):
        text = value[:_BYTES_PREVIEW].decode("utf-8", "backslashreplace")
        return {"bytes": len(value), "text": text + ("..." if len(value) > _BYTES_PREVIEW else "")}
    if isinstance(value, (tuple, list)):
        return [to_json(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return value


def describe(item) -> dict:
    from .commands import Command
    from .parser import CommandSyntaxError
    from .stream import FramingError, StreamLine

    if isinstance(item, Command):
        arguments = to_json(item)
        tag = arguments.pop("tag")
        return {"tag": tag, "command": item.name, "arguments": arguments}
    if isinstance(item, CommandSyntaxError):
        return {"tag": item.tag, "error": item.message}
    if isinstance(item, FramingError):
        result = {"tag": item.tag, "error": item.message}
        if item.code:
            result["code"] = item.code
        if item.fatal:
            result["fatal"] = True
        return result
    if isinstance(item, StreamLine):
        return {"line": item.data.decode("utf-8", "backslashreplace")}
    raise TypeError(f"unexpected stream item {item!r}")


def run(args) -> int:
    from .stream import iter_stream

    data = sys.stdin.buffer.read()
    limits = Limits(max_line_bytes=args.max_line_bytes, max_literal_bytes=args.max_literal_bytes)
    out = sys.stdout
    try:
        for item in iter_stream(data, limits=limits):
            out.write(json.dumps(describe(item), ensure_ascii=False) + "\n")
        out.flush()
    except BrokenPipeError:  # `imapcore parse < x | head`: the reader is gone, which is fine
        sys.stdout = None
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse a client byte stream from stdin; print one JSON object per command or error",
        description=__doc__.split("\n\n")[1],
    )
    defaults = Limits()
    parser.add_argument("--max-line-bytes", type=int, default=defaults.max_line_bytes)
    parser.add_argument("--max-literal-bytes", type=int, default=defaults.max_literal_bytes)
    parser.set_defaults(func=run)
