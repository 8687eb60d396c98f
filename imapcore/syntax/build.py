"""The grammar's transformer: each rule of ``grammar/imap.lark`` becomes a value of ``commands``.

Lark calls one method per rule (or alias) with the values of its children, bottom-up, while it parses;
no tree is built. Command rules return ``(command class, keyword arguments)`` and ``start`` adds the tag.
The grammar decides the syntax; this module only converts values (numbers, dates, sequence sets, flags,
sections) and checks what a context-free grammar cannot say: number ranges (RFC 9051 §9 ``number`` is
32 bits, ``number64`` and mod-sequences 63), that a date exists, where PREVIEW's ``(LAZY)`` and
MessageNew's fetch list may stand. Such a violation raises ``InvalidValue``, which the parser turns into
a ``CommandSyntaxError``.
"""

from __future__ import annotations

import datetime as _dt
import re

from . import commands as c
from .model import Partial, SearchAnd, SearchKey, SearchNot, SearchOr, Section, SequenceSet

MAX_NUMBER = 0xFFFFFFFF  # number / nz-number: 32 bits; RFC 9051 §9
MAX_NUMBER64 = (1 << 63) - 1  # number64, mod-sequence-value; RFC 9051 §9, RFC 7162 §7


#: Deepest search-key nesting accepted. The RFC sets no bound, but a 64 KiB line could otherwise nest
#: thousands of levels, and everything that walks the tree (matching, SQL, equality) would recurse that
#: deep. Real clients nest a handful of levels.
MAX_SEARCH_DEPTH = 64


class InvalidValue(ValueError):
    """What the grammar accepts but the RFC does not (ranges, dates); answered with BAD."""


def _check_depth(program: SearchAnd) -> SearchAnd:
    """Reject search programs nested deeper than MAX_SEARCH_DEPTH (iteratively: no recursion here)."""
    pending = [(program, 1)]
    while pending:
        key, depth = pending.pop()
        if depth > MAX_SEARCH_DEPTH:
            raise InvalidValue("search keys nested too deeply")
        if isinstance(key, SearchAnd):
            pending.extend((k, depth + 1) for k in key.keys)
        elif isinstance(key, SearchOr):
            pending.append((key.left, depth + 1))
            pending.append((key.right, depth + 1))
        elif isinstance(key, SearchNot):
            pending.append((key.key, depth + 1))
    return program


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "surrogateescape")


def _text(item) -> str:
    """An astring / string value as str: already a str from astring_atom, or a QUOTED/LITERAL token."""
    if type(item) is str:
        return item
    return _decode(item.value)


def _word(token) -> str:
    return token.value.decode("ascii")


def _number(token, low: int = 0, high: int = MAX_NUMBER) -> int:
    value = int(token.value)
    if not low <= value <= high:
        raise InvalidValue(f"number out of range: {token.value[:24].decode('ascii')}")
    return value


_SEQ_PART = re.compile(rb"([0-9]+|\*)(?::([0-9]+|\*))?")


def _seq_number(raw: bytes) -> int:
    if raw == b"*":
        return 0
    value = int(raw)
    if not 0 < value <= MAX_NUMBER:
        raise InvalidValue("invalid sequence number")
    return value


def _sequence_set(token) -> SequenceSet:
    raw = token.value
    if raw == b"$":
        return SequenceSet(saved=True)
    ranges = []
    for part in raw.split(b","):
        low, _, high = part.partition(b":")
        low_n = _seq_number(low)
        ranges.append((low_n, _seq_number(high) if high else low_n))
    return SequenceSet(tuple(ranges))


_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_DATE_TEXT = re.compile(r"([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})\Z")
_DATE_TIME = re.compile(r"([ 0-9][0-9])-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})\Z")


def _date(token) -> _dt.date:
    """date = date-text / DQUOTE date-text DQUOTE; RFC 9051 §9."""
    match = _DATE_TEXT.match(token.value.decode("latin-1"))
    month = _MONTHS.get(match.group(2).upper()) if match else None
    if month is None:
        raise InvalidValue("invalid date")
    try:
        return _dt.date(int(match.group(3)), month, int(match.group(1)))
    except ValueError:
        raise InvalidValue("invalid date") from None


def _date_time(token) -> _dt.datetime:
    """date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE; RFC 9051 §9."""
    match = _DATE_TIME.match(token.value.decode("latin-1"))
    month = _MONTHS.get(match.group(2).upper()) if match else None
    if month is None:
        raise InvalidValue("invalid date-time")
    day, _, year, hour, minute, second, sign, zh, zm = match.groups()
    try:
        offset = _dt.timedelta(hours=int(zh), minutes=int(zm))
        zone = _dt.timezone(-offset if sign == "-" else offset)
        return _dt.datetime(int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=zone)
    except ValueError:
        raise InvalidValue("invalid date-time") from None


_SYSTEM_FLAGS = {f.upper(): f for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "\\Recent")}


def _flag(token) -> str:
    text = token.value.decode("ascii")
    return _SYSTEM_FLAGS.get(text.upper(), text)


def _section_part(raw: str) -> tuple[int, ...]:
    part = tuple(int(n) for n in raw.split("."))
    if any(not 0 < n <= MAX_NUMBER for n in part):
        raise InvalidValue("invalid section part")
    return part


def _section_text(raw: str) -> Section:
    """section-msgtext / section-part "." section-text, as one word: "1.2.HEADER", "TEXT", "3.MIME"."""
    pieces = raw.split(".")
    digits = 0
    while digits < len(pieces) and pieces[digits].isdigit():
        digits += 1
    part = _section_part(".".join(pieces[:digits])) if digits else ()
    return Section(part, ".".join(pieces[digits:]).upper())


def _partial(token) -> Partial:
    offset, _, length = token.value[1:-1].partition(b".")
    offset_n, length_n = int(offset), int(length)
    if offset_n > MAX_NUMBER64 or not 0 < length_n <= MAX_NUMBER64:
        raise InvalidValue("invalid partial")
    return Partial(offset_n, length_n)


def _items(children) -> list:
    return [child for child in children if child is not None]


class Builder:
    """Lark transformer callbacks (one per rule or alias of grammar/imap.lark), no tree built.

    Command rules return ``(command class, keyword arguments)``; ``start`` adds the tag.
    """

    # start / command-any
    def start(self, children):
        tag, (cls, kwargs) = children
        return cls(_word(tag), **kwargs)

    def capability(self, _):
        return c.Capability, {}

    def logout(self, _):
        return c.Logout, {}

    def noop(self, _):
        return c.Noop, {}

    def id(self, children):
        return c.Id, {"parameters": children[0]}

    def id_params(self, children):
        return tuple(_items(children))

    def id_nil(self, _):
        return None

    def id_param(self, children):
        field, value = children
        return (_text(field), value if value is None else _text(value))

    def nil(self, _):
        return None

    def nstring(self, children):
        return children[0]

    # command-nonauth
    def starttls(self, _):
        return c.StartTls, {}

    def authenticate(self, children):
        mechanism, response = children
        return c.Authenticate, {
            "mechanism": _word(mechanism).upper(),
            "initial_response": None if response is None else _word(response),
        }

    def login(self, children):
        return c.Login, {"username": _text(children[0]), "password": _text(children[1])}

    # command-auth
    def enable(self, children):
        return c.Enable, {"capabilities": tuple(_word(t).upper() for t in children)}

    def select(self, children):
        return c.Select, self._select_args(children)

    def examine(self, children):
        return c.Examine, self._select_args(children)

    @staticmethod
    def _select_args(children):
        mailbox, params = children
        args = {"mailbox": mailbox}
        for param in params or ():
            if param == "CONDSTORE":
                args["condstore"] = True
            else:
                args["qresync"] = param
        return args

    def select_params(self, children):
        return children

    def select_condstore(self, _):
        return "CONDSTORE"

    def select_qresync(self, children):
        uid_validity, mod_seq, known_uids, match = children
        known_sequence_set, known_uid_set = match if match else (None, None)
        return c.QResync(
            _number(uid_validity, 1),
            _number(mod_seq, 1, MAX_NUMBER64),
            None if known_uids is None else _sequence_set(known_uids),
            known_sequence_set,
            known_uid_set,
        )

    def seq_match_data(self, children):
        return (_sequence_set(children[0]), _sequence_set(children[1]))

    def create(self, children):
        mailbox, uses = children
        return c.Create, {"mailbox": mailbox, "special_use": uses or ()}

    def create_params(self, children):
        return tuple(_flag(t) for t in _items(children))

    def delete(self, children):
        return c.Delete, {"mailbox": children[0]}

    def rename(self, children):
        return c.Rename, {"mailbox": children[0], "new_mailbox": children[1]}

    def subscribe(self, children):
        return c.Subscribe, {"mailbox": children[0]}

    def unsubscribe(self, children):
        return c.Unsubscribe, {"mailbox": children[0]}

    def list(self, children):
        selection, reference, (patterns, multiple), returns = children
        return c.List, {
            "reference": reference,
            "patterns": patterns,
            "selection_options": selection,
            "return_options": returns,
            "multiple_patterns": multiple,
        }

    def list_select_opts(self, children):
        return tuple(_word(t).upper() for t in _items(children))

    def pattern_one(self, children):
        return (_text(children[0]),), False

    def pattern_list(self, children):
        return tuple(_text(p) for p in children), True

    def list_mailbox(self, children):
        return _text(children[0])

    def list_return_opts(self, children):
        return tuple(_items(children))

    def list_return_opt(self, children):
        return c.ListReturnOption(_word(children[0]).upper())

    def list_return_status(self, children):
        return c.ListReturnOption("STATUS", tuple(children))

    def list_atom(self, children):
        return "".join(t.value.decode("ascii") for t in children)

    def lsub(self, children):
        return c.Lsub, {"reference": children[0], "pattern": _text(children[1])}

    def namespace(self, _):
        return c.Namespace, {}

    def status(self, children):
        return c.Status, {"mailbox": children[0], "items": tuple(children[1:])}

    def status_att(self, children):
        return _word(children[0]).upper()

    def append(self, children):
        return c.Append, {"mailbox": children[0], "messages": tuple(children[1:])}

    def append_message(self, children):
        flags, date, (kind, data, parts) = children
        return c.AppendMessage(
            flags=flags,
            internal_date=None if date is None else _date_time(date),
            data=data,
            kind=kind,
            parts=parts,
        )

    def append_literal(self, children):
        return (c.AppendKind.LITERAL, children[0].value, ())

    def append_literal8(self, children):
        return (c.AppendKind.LITERAL8, children[0].value, ())

    def append_utf8(self, children):
        return (c.AppendKind.UTF8, children[0].value, ())

    def append_catenate(self, children):
        return (c.AppendKind.CATENATE, b"", tuple(children))

    def cat_url(self, children):
        return c.CatenatePart(url=_text(children[0]))

    def cat_text(self, children):
        return c.CatenatePart(text=children[0].value)

    def cat_text8(self, children):
        return c.CatenatePart(text=children[0].value, literal8=True)

    def idle(self, _):
        return c.Idle, {}

    def unauthenticate(self, _):
        return c.Unauthenticate, {}

    def getquota(self, children):
        return c.GetQuota, {"root": _text(children[0])}

    def getquotaroot(self, children):
        return c.GetQuotaRoot, {"mailbox": children[0]}

    def setquota(self, children):
        return c.SetQuota, {"root": _text(children[0]), "limits": tuple(_items(children[1:]))}

    def setquota_resource(self, children):
        return (_word(children[0]).upper(), _number(children[1], 0, MAX_NUMBER64))

    def getmetadata(self, children):
        options, mailbox, (entries, entry_list) = children
        args = {"mailbox": mailbox, "entries": entries, "entry_list": entry_list}
        for key, value in options or ():
            args[key] = value
        return c.GetMetadata, args

    def metadata_options(self, children):
        return children

    def metadata_maxsize(self, children):
        return ("max_size", _number(children[0]))

    def metadata_depth(self, children):
        depth = _word(children[0])
        if depth not in ("0", "1"):
            raise InvalidValue("invalid DEPTH")
        return ("depth", depth)

    def metadata_depth_infinity(self, _):
        return ("depth", "infinity")

    def entries_one(self, children):
        return (_text(children[0]),), False

    def entries_list(self, children):
        return tuple(_text(e) for e in children), True

    def setmetadata(self, children):
        return c.SetMetadata, {"mailbox": children[0], "entries": tuple(children[1:])}

    def entry_value(self, children):
        return (_text(children[0]), children[1])

    def metadata_value(self, children):
        return children[0].value

    def metadata_nil(self, _):
        return None

    def notify_none(self, _):
        return c.Notify, {}

    def notify_set(self, children):
        return c.Notify, {"set": True, "groups": tuple(children)}

    def notify_set_status(self, children):
        return c.Notify, {"set": True, "status": True, "groups": tuple(children)}

    def event_group(self, children):
        (filter_name, mailboxes, many), events = children
        return c.NotifyGroup(filter_name, mailboxes, events, many)

    def filter_mailboxes(self, children):
        name = _word(children[0]).upper()
        if len(children) > 1:
            mailboxes, many = children[-1]
            return name, mailboxes, many
        return name, (), False

    def mailbox_one(self, children):
        return (children[0],), False

    def mailbox_many(self, children):
        return tuple(children), True

    def events(self, children):
        result = []
        for item in children:
            if isinstance(item, tuple):  # a fetch-att list: only right after MessageNew
                if not result or result[-1].name.upper() != "MESSAGENEW" or result[-1].fetch_items:
                    raise InvalidValue("fetch attributes only follow MessageNew")
                result[-1] = c.NotifyEvent(result[-1].name, item)
            else:
                result.append(item)
        return tuple(result)

    def events_none(self, _):
        return None

    def event_name(self, children):
        return c.NotifyEvent(_word(children[0]))

    def event_fetch(self, children):
        return self.fetch_list(children)[0]

    def setacl(self, children):
        return c.SetAcl, {"mailbox": children[0], "identifier": _text(children[1]), "rights": _text(children[2])}

    def deleteacl(self, children):
        return c.DeleteAcl, {"mailbox": children[0], "identifier": _text(children[1])}

    def getacl(self, children):
        return c.GetAcl, {"mailbox": children[0]}

    def listrights(self, children):
        return c.ListRights, {"mailbox": children[0], "identifier": _text(children[1])}

    def myrights(self, children):
        return c.MyRights, {"mailbox": children[0]}

    def compress(self, children):
        return c.Compress, {"mechanism": _word(children[0]).upper()}

    def genurlauth(self, children):
        pairs = tuple((_text(children[i]), _word(children[i + 1]).upper()) for i in range(0, len(children), 2))
        return c.GenUrlAuth, {"requests": pairs}

    def resetkey(self, children):
        if not children or children[0] is None:
            return c.ResetKey, {}
        return c.ResetKey, {"mailbox": children[0], "mechanisms": tuple(_word(t).upper() for t in children[1:])}

    def urlfetch(self, children):
        return c.UrlFetch, {"urls": tuple(_text(u) for u in children)}

    # command-select
    def check(self, _):
        return c.Check, {}

    def close(self, _):
        return c.Close, {}

    def unselect(self, _):
        return c.Unselect, {}

    def expunge(self, _):
        return c.Expunge, {}

    def uid(self, children):
        cls, kwargs = children[0]
        kwargs["uid"] = True
        return cls, kwargs

    def uid_expunge(self, children):
        return c.Expunge, {"sequence_set": _sequence_set(children[0])}

    def copy(self, children):
        return c.Copy, {"sequence_set": _sequence_set(children[0]), "mailbox": children[1]}

    def move(self, children):
        return c.Move, {"sequence_set": _sequence_set(children[0]), "mailbox": children[1]}

    def replace(self, children):
        number, mailbox, message = children
        return c.Replace, {"number": _number(number, 1), "mailbox": mailbox, "message": message}

    def cancelupdate(self, children):
        return c.CancelUpdate, {"tags": tuple(_decode(t.value) for t in children)}

    # FETCH
    def fetch(self, children):
        sequence_set, (items, macro, single), *groups = children
        args = {"sequence_set": _sequence_set(sequence_set), "items": items, "macro": macro, "single": single}
        for position, group in enumerate(groups):
            if "LAZY" in group:
                # PREVIEW (LAZY) after a lone PREVIEW attribute (RFC 8970), before any fetch-modifiers.
                if position or not single or items[0].name != "PREVIEW" or items[0].lazy or set(group) != {"LAZY"}:
                    raise InvalidValue("LAZY only modifies PREVIEW")
                args["items"] = (c.FetchItem("PREVIEW", lazy=True),)
                continue
            if position > (1 if any(g and "LAZY" in g for g in groups[:1]) else 0):
                raise InvalidValue("more than one fetch-modifiers list")
            for modifier in group:
                if modifier == "VANISHED":
                    args["vanished"] = True
                else:
                    args["changed_since"] = modifier
        return c.Fetch, args

    def fetch_macro(self, children):
        macro = _word(children[0]).upper()
        return tuple(c.FetchItem(n) for n in c.FETCH_MACROS[macro]), macro, False

    def fetch_one(self, children):
        return (children[0],), None, True

    def fetch_list(self, children):
        items = []
        for item in children:
            if type(item) is list:  # "(LAZY)" after PREVIEW inside the list
                previous = items[-1] if items else None
                if previous is None or previous.name != "PREVIEW" or previous.lazy or set(item) != {"LAZY"}:
                    raise InvalidValue("LAZY only modifies PREVIEW")
                items[-1] = c.FetchItem("PREVIEW", lazy=True)
            else:
                items.append(item)
        return tuple(items), None, False

    def fetch_group(self, children):
        return list(children)

    def modifier_changedsince(self, children):
        return _number(children[0], 1, MAX_NUMBER64)

    def modifier_vanished(self, _):
        return "VANISHED"

    def modifier_lazy(self, _):
        return "LAZY"

    def fetch_simple(self, children):
        return c.FetchItem(_word(children[0]).upper())

    def fetch_body_structure(self, _):
        return c.FetchItem("BODY")

    def fetch_body(self, children):
        return c.FetchItem("BODY", children[0], None if children[1] is None else _partial(children[1]))

    def fetch_body_peek(self, children):
        return c.FetchItem("BODY", children[0], None if children[1] is None else _partial(children[1]), peek=True)

    def fetch_binary(self, children):
        return c.FetchItem("BINARY", children[0], None if children[1] is None else _partial(children[1]))

    def fetch_binary_peek(self, children):
        return c.FetchItem("BINARY", children[0], None if children[1] is None else _partial(children[1]), peek=True)

    def fetch_binary_size(self, children):
        return c.FetchItem("BINARY.SIZE", children[0])

    def section(self, children):
        spec = children[1]
        return Section() if spec is None else spec

    def section_part(self, children):
        return Section(_section_part(_word(children[0])))

    def section_text(self, children):
        return _section_text(_word(children[0]))

    def section_fields(self, children):
        base = _section_text(_word(children[0]))
        return Section(base.part, base.text, children[1])

    def header_list(self, children):
        return tuple(_text(h) for h in children)

    def section_binary(self, children):
        part = children[1]
        return Section(() if part is None else _section_part(_word(part)))

    # STORE
    def store(self, children):
        sequence_set, unchanged_since, action, (flags, parenthesized) = children
        text = _word(action).upper()
        mode = c.StoreMode(text[0]) if text[0] in "+-" else c.StoreMode.REPLACE
        return c.Store, {
            "sequence_set": _sequence_set(sequence_set),
            "unchanged_since": unchanged_since,
            "action": c.StoreAction(mode, text.endswith(".SILENT"), flags, parenthesized),
        }

    def store_modifiers(self, children):
        return _number(children[0], 0, MAX_NUMBER64)

    def store_flags(self, children):
        if len(children) == 1 and type(children[0]) is tuple:
            return children[0], True
        return tuple(_flag(t) for t in children), False

    def flag_list(self, children):
        return tuple(_flag(t) for t in _items(children))

    # SEARCH
    def search(self, children):
        returns, (charset, criteria) = children
        return c.Search, {"return_options": returns, "charset": charset, "criteria": criteria}

    def search_return_opts(self, children):
        return tuple(_items(children))

    def search_return_opt(self, children):
        return c.SearchReturnOption(_word(children[0]).upper())

    def return_partial(self, children):
        first, _, last = _word(children[0]).partition(":")
        low, high = int(first), int(last)
        if (low < 0) != (high < 0) or low == 0 or high == 0 or abs(low) > MAX_NUMBER or abs(high) > MAX_NUMBER:
            raise InvalidValue("invalid PARTIAL range")
        return c.SearchReturnOption("PARTIAL", (low, high))

    def search_program(self, children):
        charset = children[0]
        return (None if charset is None else _text(charset)), _check_depth(SearchAnd(tuple(children[1:])))

    def key_flag(self, children):
        return SearchKey(_word(children[0]).upper())

    def key_string(self, children):
        return SearchKey(_word(children[0]).upper(), (_text(children[1]),))

    def key_date(self, children):
        return SearchKey(_word(children[0]).upper(), (children[1],))

    def date(self, children):
        return _date(children[0])

    def key_number(self, children):
        name = _word(children[0]).upper()
        high = MAX_NUMBER64 if name in ("LARGER", "SMALLER") else MAX_NUMBER
        return SearchKey(name, (_number(children[1], 0 if name in ("LARGER", "SMALLER") else 1, high),))

    def key_keyword(self, children):
        return SearchKey("KEYWORD", (_flag(children[0]),))

    def key_unkeyword(self, children):
        return SearchKey("UNKEYWORD", (_flag(children[0]),))

    def key_header(self, children):
        return SearchKey("HEADER", (_text(children[0]), _text(children[1])))

    def key_uid(self, children):
        return SearchKey("UID", (_sequence_set(children[0]),))

    def key_not(self, children):
        return SearchNot(children[0])

    def key_or(self, children):
        return SearchOr(children[0], children[1])

    def key_modseq(self, children):
        entry_name, entry_type, value = children
        entry = None if entry_name is None else (_decode(entry_name.value), _word(entry_type).lower())
        return SearchKey("MODSEQ", (_number(value, 0, MAX_NUMBER64), entry))

    def key_emailid(self, children):
        return SearchKey("EMAILID", (_word(children[0]),))

    def key_threadid(self, children):
        return SearchKey("THREADID", (_word(children[0]),))

    def key_seq(self, children):
        return SearchKey("SEQ", (_sequence_set(children[0]),))

    def key_and(self, children):
        return SearchAnd(tuple(children))

    # SORT / THREAD
    def sort(self, children):
        returns, *rest = children
        charset, search = rest[-2], rest[-1]
        return c.Sort, {
            "return_options": returns,
            "criteria": tuple(rest[:-2]),
            "charset": _text(charset),
            "search": search,
        }

    def sort_key(self, children):
        return c.SortCriterion(_word(children[0]).upper())

    def sort_key_reverse(self, children):
        return c.SortCriterion(_word(children[0]).upper(), True)

    def sort_search(self, children):
        return _check_depth(SearchAnd(tuple(children)))

    def thread(self, children):
        algorithm, charset, search = children
        return c.Thread, {"algorithm": _word(algorithm).upper(), "charset": _text(charset), "search": search}

    # shared pieces
    def mailbox(self, children):
        return _text(children[0])

    def astring_atom(self, children):
        return "".join([t.value.decode("ascii") for t in children])
