"""Command -> bytes: the client-side wire form of a ``Command`` (RFC 9051 §9), the parser's inverse.

Used by the round-trip properties (``parse(unparse(cmd)) == cmd``), the fuzzer's seeds and the
conformance harness, which plays a client. Strings are written in the simplest form that carries them:
an atom when every character is an ASTRING-CHAR, a quoted string when it is 7-bit text without CR, LF
or NUL (or UTF-8 text when ``utf8`` is set), a synchronizing literal otherwise. Message data is always a
literal (``~{n}`` for literal8). The bytes end with CRLF.
"""

from __future__ import annotations

import datetime as _dt
import re

from . import commands as c
from .model import SearchAnd, SearchKey, SearchNot, SearchOr, Section, SequenceSet

_ASTRING_ATOM = re.compile(r"[!#$&'+,\-./0-9:;<=>?@A-Z\[\]^_`a-z|}~]+\Z")
_LIST_ATOM = re.compile(r"[!#$%&'*+,\-./0-9:;<=>?@A-Z\[\]^_`a-z|}~]+\Z")
_QUOTABLE = re.compile(r"[\x01-\x09\x0b\x0c\x0e-\x7f]*\Z")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class _Writer:
    def __init__(self, utf8: bool):
        self.utf8 = utf8
        self.parts: list[bytes] = []

    def raw(self, text: str | bytes) -> None:
        self.parts.append(text.encode("ascii") if isinstance(text, str) else text)

    def string(self, text: str) -> None:
        """string = quoted / literal."""
        data = text.encode("utf-8", "surrogateescape")
        quotable = _QUOTABLE.match(text) is not None or (
            self.utf8 and b"\x00" not in data and b"\r" not in data and b"\n" not in data and _is_utf8(data)
        )
        if quotable:
            self.parts.append(b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"')
        else:
            self.literal(data)

    def astring(self, text: str) -> None:
        if _ASTRING_ATOM.match(text):
            self.raw(text)
        else:
            self.string(text)

    def list_mailbox(self, text: str) -> None:
        if _LIST_ATOM.match(text):
            self.raw(text)
        else:
            self.string(text)

    def nstring(self, text: str | None) -> None:
        if text is None:
            self.raw("NIL")
        else:
            self.string(text)

    def literal(self, data: bytes, literal8: bool = False) -> None:
        self.parts.append(b"%s{%d}\r\n" % (b"~" if literal8 else b"", len(data)) + data)

    def getvalue(self) -> bytes:
        return b"".join(self.parts) + b"\r\n"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _date(value: _dt.date) -> str:
    return f"{value.day}-{_MONTHS[value.month - 1]}-{value.year:04d}"


def _date_time(value: _dt.datetime) -> str:
    offset = value.utcoffset() or _dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (
        f'"{value.day:02d}-{_MONTHS[value.month - 1]}-{value.year:04d} '
        f'{value.hour:02d}:{value.minute:02d}:{value.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}"'
    )


def _sequence_set(value: SequenceSet) -> str:
    return str(value)


def _joined(w: _Writer, items, write) -> None:
    for index, item in enumerate(items):
        if index:
            w.raw(" ")
        write(item)


def _flag_list(w: _Writer, flags) -> None:
    w.raw("(" + " ".join(flags) + ")")


def _section(w: _Writer, section: Section) -> None:
    pieces = [".".join(map(str, section.part))] if section.part else []
    if section.text:
        pieces.append(section.text)
    w.raw("[" + ".".join(pieces))
    if section.text and section.text.startswith("HEADER.FIELDS"):
        w.raw(" (")
        _joined(w, section.fields, w.astring)
        w.raw(")")
    w.raw("]")


def _fetch_item(w: _Writer, item: c.FetchItem) -> None:
    name = item.name
    if name in ("BODY", "BINARY", "BINARY.SIZE") and item.section is not None:
        w.raw(name + (".PEEK" if item.peek else ""))
        if name == "BODY":
            _section(w, item.section)
        else:
            w.raw("[" + ".".join(map(str, item.section.part)) + "]")
        if item.partial is not None:
            w.raw(f"<{item.partial.offset}.{item.partial.length}>")
    elif name == "PREVIEW" and item.lazy:
        w.raw("PREVIEW (LAZY)")
    else:
        w.raw(name)


def _search_key(w: _Writer, key) -> None:
    if isinstance(key, SearchAnd):
        w.raw("(")
        _joined(w, key.keys, lambda k: _search_key(w, k))
        w.raw(")")
    elif isinstance(key, SearchOr):
        w.raw("OR ")
        _search_key(w, key.left)
        w.raw(" ")
        _search_key(w, key.right)
    elif isinstance(key, SearchNot):
        w.raw("NOT ")
        _search_key(w, key.key)
    elif isinstance(key, SearchKey):
        name, args = key.name, key.args
        if name == "SEQ":
            w.raw(_sequence_set(args[0]))
        elif name == "UID":
            w.raw("UID " + _sequence_set(args[0]))
        elif name == "HEADER":
            w.raw("HEADER ")
            w.astring(args[0])
            w.raw(" ")
            w.astring(args[1])
        elif name == "MODSEQ":
            w.raw("MODSEQ ")
            if args[1] is not None:
                w.string(args[1][0])
                w.raw(" " + args[1][1] + " ")
            w.raw(str(args[0]))
        elif not args:
            w.raw(name)
        else:
            value = args[0]
            w.raw(name + " ")
            if isinstance(value, _dt.date):
                w.raw(_date(value))
            elif isinstance(value, int):
                w.raw(str(value))
            elif name in ("KEYWORD", "UNKEYWORD", "EMAILID", "THREADID"):
                w.raw(value)
            else:
                w.astring(value)
    else:
        raise TypeError(f"not a search key: {key!r}")


def _search_program(w: _Writer, criteria: SearchAnd) -> None:
    _joined(w, criteria.keys, lambda k: _search_key(w, k))


def _return_options(w: _Writer, options) -> None:
    w.raw(" RETURN (")
    parts = []
    for option in options:
        if option.partial is not None:
            parts.append(f"PARTIAL {option.partial[0]}:{option.partial[1]}")
        else:
            parts.append(option.name)
    w.raw(" ".join(parts) + ")")


def _append_message(w: _Writer, message: c.AppendMessage) -> None:
    if message.flags is not None:
        w.raw(" ")
        _flag_list(w, message.flags)
    if message.internal_date is not None:
        w.raw(" " + _date_time(message.internal_date))
    w.raw(" ")
    kind = message.kind
    if kind is c.AppendKind.LITERAL:
        w.literal(message.data)
    elif kind is c.AppendKind.LITERAL8:
        w.literal(message.data, literal8=True)
    elif kind is c.AppendKind.UTF8:
        w.raw("UTF8 (")
        w.literal(message.data, literal8=True)
        w.raw(")")
    else:
        w.raw("CATENATE (")
        for index, part in enumerate(message.parts):
            if index:
                w.raw(" ")
            if part.url is not None:
                w.raw("URL ")
                w.astring(part.url)
            else:
                w.raw("TEXT ")
                w.literal(part.text or b"", literal8=part.literal8)
        w.raw(")")


def _select(w: _Writer, cmd) -> None:
    w.astring(cmd.mailbox)
    params = []
    if cmd.condstore:
        params.append("CONDSTORE")
    q = cmd.qresync
    if q is not None:
        text = f"QRESYNC ({q.uid_validity} {q.mod_seq}"
        if q.known_uids is not None:
            text += " " + _sequence_set(q.known_uids)
        if q.known_sequence_set is not None:
            text += f" ({_sequence_set(q.known_sequence_set)} {_sequence_set(q.known_uid_set)})"
        params.append(text + ")")
    if params:
        w.raw(" (" + " ".join(params) + ")")


def _body(w: _Writer, cmd: c.Command) -> None:  # noqa: C901 - one branch per command, on purpose
    if isinstance(cmd, c.Id):
        w.raw(" ")
        if cmd.parameters is None:
            w.raw("NIL")
        else:
            w.raw("(")
            for index, (field, value) in enumerate(cmd.parameters):
                if index:
                    w.raw(" ")
                w.string(field)
                w.raw(" ")
                w.nstring(value)
            w.raw(")")
    elif isinstance(cmd, c.Authenticate):
        w.raw(" " + cmd.mechanism)
        if cmd.initial_response is not None:
            w.raw(" " + cmd.initial_response)
    elif isinstance(cmd, c.Login):
        w.raw(" ")
        w.astring(cmd.username)
        w.raw(" ")
        w.astring(cmd.password)
    elif isinstance(cmd, c.Enable):
        w.raw(" " + " ".join(cmd.capabilities))
    elif isinstance(cmd, (c.Select, c.Examine)):
        w.raw(" ")
        _select(w, cmd)
    elif isinstance(cmd, c.Create):
        w.raw(" ")
        w.astring(cmd.mailbox)
        if cmd.special_use:
            w.raw(" (USE (" + " ".join(cmd.special_use) + "))")
    elif isinstance(cmd, c.Rename):
        w.raw(" ")
        w.astring(cmd.mailbox)
        w.raw(" ")
        w.astring(cmd.new_mailbox)
    elif isinstance(cmd, (c.Delete, c.Subscribe, c.Unsubscribe, c.GetQuotaRoot, c.GetAcl, c.MyRights)):
        w.raw(" ")
        w.astring(cmd.mailbox)
    elif isinstance(cmd, c.List):
        if cmd.selection_options is not None:
            w.raw(" (" + " ".join(cmd.selection_options) + ")")
        w.raw(" ")
        w.astring(cmd.reference)
        w.raw(" ")
        if cmd.multiple_patterns:
            w.raw("(")
            _joined(w, cmd.patterns, w.list_mailbox)
            w.raw(")")
        else:
            w.list_mailbox(cmd.patterns[0])
        if cmd.return_options is not None:
            parts = []
            for option in cmd.return_options:
                if option.name == "STATUS":
                    parts.append("STATUS (" + " ".join(option.status_items) + ")")
                else:
                    parts.append(option.name)
            w.raw(" RETURN (" + " ".join(parts) + ")")
    elif isinstance(cmd, c.Lsub):
        w.raw(" ")
        w.astring(cmd.reference)
        w.raw(" ")
        w.list_mailbox(cmd.pattern)
    elif isinstance(cmd, c.Status):
        w.raw(" ")
        w.astring(cmd.mailbox)
        w.raw(" (" + " ".join(cmd.items) + ")")
    elif isinstance(cmd, c.Append):
        w.raw(" ")
        w.astring(cmd.mailbox)
        for message in cmd.messages:
            _append_message(w, message)
    elif isinstance(cmd, c.GetQuota):
        w.raw(" ")
        w.astring(cmd.root)
    elif isinstance(cmd, c.SetQuota):
        w.raw(" ")
        w.astring(cmd.root)
        w.raw(" (" + " ".join(f"{name} {limit}" for name, limit in cmd.limits) + ")")
    elif isinstance(cmd, c.GetMetadata):
        options = []
        if cmd.max_size is not None:
            options.append(f"MAXSIZE {cmd.max_size}")
        if cmd.depth is not None:
            options.append(f"DEPTH {cmd.depth}")
        if options:
            w.raw(" (" + " ".join(options) + ")")
        w.raw(" ")
        w.astring(cmd.mailbox)
        w.raw(" ")
        if cmd.entry_list:
            w.raw("(")
            _joined(w, cmd.entries, w.astring)
            w.raw(")")
        else:
            w.astring(cmd.entries[0])
    elif isinstance(cmd, c.SetMetadata):
        w.raw(" ")
        w.astring(cmd.mailbox)
        w.raw(" (")
        for index, (entry, value) in enumerate(cmd.entries):
            if index:
                w.raw(" ")
            w.astring(entry)
            w.raw(" ")
            if value is None:
                w.raw("NIL")
            else:
                w.literal(value, literal8=b"\x00" in value)
        w.raw(")")
    elif isinstance(cmd, c.Notify):
        if not cmd.set:
            w.raw(" NONE")
            return
        w.raw(" SET" + (" STATUS" if cmd.status else ""))
        for group in cmd.groups:
            w.raw(" (" + group.filter)
            if group.filter in ("SUBTREE", "MAILBOXES"):
                w.raw(" ")
                if group.many_mailboxes:
                    w.raw("(")
                    _joined(w, group.mailboxes, w.astring)
                    w.raw(")")
                else:
                    w.astring(group.mailboxes[0])
            w.raw(" ")
            if group.events is None:
                w.raw("NONE")
            else:
                w.raw("(")
                for index, event in enumerate(group.events):
                    if index:
                        w.raw(" ")
                    w.raw(event.name)
                    if event.fetch_items:
                        w.raw(" (")
                        _joined(w, event.fetch_items, lambda item: _fetch_item(w, item))
                        w.raw(")")
                w.raw(")")
            w.raw(")")
    elif isinstance(cmd, c.SetAcl):
        w.raw(" ")
        w.astring(cmd.mailbox)
        w.raw(" ")
        w.astring(cmd.identifier)
        w.raw(" ")
        w.astring(cmd.rights)
    elif isinstance(cmd, (c.DeleteAcl, c.ListRights)):
        w.raw(" ")
        w.astring(cmd.mailbox)
        w.raw(" ")
        w.astring(cmd.identifier)
    elif isinstance(cmd, c.Compress):
        w.raw(" " + cmd.mechanism)
    elif isinstance(cmd, c.GenUrlAuth):
        for url, mechanism in cmd.requests:
            w.raw(" ")
            w.astring(url)
            w.raw(" " + mechanism)
    elif isinstance(cmd, c.ResetKey):
        if cmd.mailbox is not None:
            w.raw(" ")
            w.astring(cmd.mailbox)
            for mechanism in cmd.mechanisms:
                w.raw(" " + mechanism)
    elif isinstance(cmd, c.UrlFetch):
        for url in cmd.urls:
            w.raw(" ")
            w.astring(url)
    elif isinstance(cmd, c.Expunge):
        if cmd.uid:
            w.raw(" " + _sequence_set(cmd.sequence_set))
    elif isinstance(cmd, (c.Copy, c.Move)):
        w.raw(" " + _sequence_set(cmd.sequence_set) + " ")
        w.astring(cmd.mailbox)
    elif isinstance(cmd, c.Fetch):
        w.raw(" " + _sequence_set(cmd.sequence_set) + " ")
        if cmd.macro is not None:
            w.raw(cmd.macro)
        elif cmd.single:
            _fetch_item(w, cmd.items[0])
        else:
            w.raw("(")
            _joined(w, cmd.items, lambda item: _fetch_item(w, item))
            w.raw(")")
        modifiers = []
        if cmd.changed_since is not None:
            modifiers.append(f"CHANGEDSINCE {cmd.changed_since}")
        if cmd.vanished:
            modifiers.append("VANISHED")
        if modifiers:
            w.raw(" (" + " ".join(modifiers) + ")")
    elif isinstance(cmd, c.Store):
        w.raw(" " + _sequence_set(cmd.sequence_set))
        if cmd.unchanged_since is not None:
            w.raw(f" (UNCHANGEDSINCE {cmd.unchanged_since})")
        action = cmd.action
        w.raw(" " + action.mode.value + "FLAGS" + (".SILENT" if action.silent else "") + " ")
        if action.parenthesized:
            _flag_list(w, action.flags)
        else:
            w.raw(" ".join(action.flags))
    elif isinstance(cmd, c.Search):
        if cmd.return_options is not None:
            _return_options(w, cmd.return_options)
        if cmd.charset is not None:
            w.raw(" CHARSET ")
            w.astring(cmd.charset)
        w.raw(" ")
        _search_program(w, cmd.criteria)
    elif isinstance(cmd, c.Sort):
        if cmd.return_options is not None:
            _return_options(w, cmd.return_options)
        w.raw(" (" + " ".join(("REVERSE " if k.reverse else "") + k.key for k in cmd.criteria) + ") ")
        w.astring(cmd.charset)
        w.raw(" ")
        _search_program(w, cmd.search)
    elif isinstance(cmd, c.Thread):
        w.raw(" " + cmd.algorithm + " ")
        w.astring(cmd.charset)
        w.raw(" ")
        _search_program(w, cmd.search)
    elif isinstance(cmd, c.Replace):
        w.raw(f" {cmd.number} ")
        w.astring(cmd.mailbox)
        _append_message(w, cmd.message)
    elif isinstance(cmd, c.CancelUpdate):
        for tag in cmd.tags:
            w.raw(" ")
            w.string(tag)


_UID_COMMANDS = (c.Copy, c.Move, c.Fetch, c.Store, c.Search, c.Sort, c.Thread, c.Replace, c.Expunge)


def unparse(command: c.Command, *, utf8: bool = False) -> bytes:
    """The bytes a client sends for ``command`` (tag, name, arguments, CRLF)."""
    w = _Writer(utf8)
    w.raw(command.tag + " ")
    if isinstance(command, _UID_COMMANDS) and command.uid:
        w.raw("UID ")
    w.raw(command.name)
    _body(w, command)
    return w.getvalue()


__all__ = ["unparse"]
