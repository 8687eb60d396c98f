"""From a tokenized command to a typed ``Command``: the Lark grammar driven by the tokenizer's tokens.

Theory of operation
-------------------
The tokenizer (C or Python) hands over LEXICAL tokens: SP, parentheses, brackets, QUOTED, LITERAL,
LITERAL8 and WORD. Whether a WORD is a command name, a keyword, a number, a sequence set, a flag or a
mailbox depends on where it stands, and that is exactly what the LALR parser state knows. So the grammar
(``grammar/imap.lark``) is loaded into Lark with a custom lexer, ``_BridgeLexer``, that looks at the
parser's current state and maps each WORD to the terminal it must be there:

1. a keyword terminal if the upper-cased word is a keyword acceptable in this state;
2. otherwise the first word terminal acceptable in this state whose pattern (compiled from the
   grammar's own terminal definitions) matches the whole word, by the grammar's priorities.

Per-state tables (keywords, candidate patterns) are computed once per state, and ``(state, word)`` ->
terminal is memoised in a bounded dict, because clients repeat the same words endlessly. Lark is given
the transformer (``_Builder``), so no parse tree is built: each reduction directly builds the values of
``imapcore.syntax.commands``. The grammar is therefore the only command parser in the product; the
builder only converts values (numbers, dates, sequence sets) and checks what a context-free grammar
cannot say (number ranges, a date that exists).

Every failure is a ``CommandSyntaxError`` carrying the tag when one could be read, which the protocol
layer answers with ``tag BAD message`` (or ``* BAD``).
"""

from __future__ import annotations

import datetime as _dt
import re

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, VisitError
from lark.lexer import Lexer, PatternStr

from . import commands as c
from .grammar import grammar_text
from .model import Partial, SearchAnd, SearchKey, SearchNot, SearchOr, Section, SequenceSet
from .tokens import LBRACKET, LITERAL, LITERAL8, LPAREN, QUOTED, RBRACKET, RPAREN, SP, WORD

MAX_NUMBER = 0xFFFFFFFF  # number / nz-number: 32 bits; RFC 9051 §9
MAX_NUMBER64 = (1 << 63) - 1  # number64, mod-sequence-value; RFC 9051 §9, RFC 7162 §7
_WORD_CACHE_LIMIT = 4096


class CommandSyntaxError(Exception):
    """A command that does not parse; answered with ``tag BAD message`` (``* BAD`` when tag is None)."""

    def __init__(self, tag: str | None, message: str):
        super().__init__(tag, message)
        self.tag = tag
        self.message = message

    def __str__(self) -> str:
        return f"{self.tag or '*'} BAD {self.message}"

    # Two errors are the same outcome when they would give the same BAD response (tests compare them).
    def __eq__(self, other):
        if not isinstance(other, CommandSyntaxError):
            return NotImplemented
        return (self.tag, self.message) == (other.tag, other.message)

    def __hash__(self):
        return hash((self.tag, self.message))


class _Invalid(ValueError):
    """Raised by the builder for what the grammar accepts but the RFC does not (ranges, dates)."""


# --- the bridge lexer -----------------------------------------------------------------------------------

# Terminals that are not words: the tokenizer's kinds map to them directly.
_PUNCT_VALUES = {" ": SP, "(": LPAREN, ")": RPAREN, "[": LBRACKET, "]": RBRACKET}
_NON_WORD_TERMINALS = {"QUOTED", "LITERAL", "LITERAL8"}


class _StateTable:
    """What one LALR state accepts, prepared for classifying tokens quickly."""

    __slots__ = ("by_kind", "keywords", "patterns")

    def __init__(self, acceptable, keyword_terms, pattern_terms, punct_terms):
        self.by_kind = {}
        for kind, name in punct_terms.items():
            if name in acceptable:
                self.by_kind[kind] = name
        for name in _NON_WORD_TERMINALS:
            if name in acceptable:
                self.by_kind[{"QUOTED": QUOTED, "LITERAL": LITERAL, "LITERAL8": LITERAL8}[name]] = name
        self.keywords = {word: name for word, name in keyword_terms.items() if name in acceptable}
        self.patterns = [(name, match) for name, match in pattern_terms if name in acceptable]


class _BridgeLexer(Lexer):
    """A Lark lexer over the tokenizer's tokens; the terminal of a WORD depends on the parser state."""

    __future_interface__ = 2

    def __init__(self, lexer_conf):
        self.keyword_terms: dict[str, str] = {}  # upper-case keyword -> terminal name
        self.punct_terms: dict[int, str] = {}  # token kind -> terminal name
        patterns = []
        for term in lexer_conf.terminals:
            pattern = term.pattern
            if isinstance(pattern, PatternStr):
                if pattern.value in _PUNCT_VALUES:
                    self.punct_terms[_PUNCT_VALUES[pattern.value]] = term.name
                else:
                    self.keyword_terms[pattern.value.upper()] = term.name
            elif term.name not in _NON_WORD_TERMINALS:
                regexp = pattern.to_regexp()
                patterns.append((-term.priority, term.name, re.compile(regexp).fullmatch))
        patterns.sort(key=lambda item: (item[0], item[1]))
        self.pattern_terms = [(name, match) for _, name, match in patterns]
        self.tables: dict[int, _StateTable] = {}
        self.word_cache: dict[tuple[int, bytes], str | None] = {}

    def table(self, parser_state) -> _StateTable:
        table = self.tables.get(parser_state.position)
        if table is None:
            table = self.table_for(parser_state.position, parser_state.parse_conf.parse_table)
        return table

    def table_for(self, state: int, parse_table) -> _StateTable:
        acceptable = set(parse_table.states[state].keys())
        table = _StateTable(acceptable, self.keyword_terms, self.pattern_terms, self.punct_terms)
        self.tables[state] = table
        return table

    def classify_word(self, state: int, table: _StateTable, word: bytes) -> str | None:
        key = (state, word)
        cache = self.word_cache
        name = cache.get(key, False)
        if name is not False:
            return name
        try:
            text = word.decode("ascii")
        except UnicodeDecodeError:  # the tokenizer never makes such words, but stay total
            text = None
        name = None
        if text is not None:
            name = table.keywords.get(text.upper())
            if name is None:
                for candidate, fullmatch in table.patterns:
                    if fullmatch(text):
                        name = candidate
                        break
        if len(cache) >= _WORD_CACHE_LIMIT:
            cache.clear()
        cache[key] = name
        return name

    def lex(self, lexer_state, parser_state):
        tokens = lexer_state.text
        for index, (kind, value) in enumerate(tokens):
            table = self.table(parser_state)
            if kind == WORD:
                name = self.classify_word(parser_state.position, table, value)
            else:
                name = table.by_kind.get(kind)
            if name is None:
                raise _LexFailure(index, kind, value)
            yield Token(name, value, index)


class _LexFailure(Exception):
    def __init__(self, index: int, kind: int, value):
        self.index = index
        self.kind = kind
        self.value = value


# --- value conversion -----------------------------------------------------------------------------------


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
        raise _Invalid(f"number out of range: {token.value[:24].decode('ascii')}")
    return value


_SEQ_PART = re.compile(rb"([0-9]+|\*)(?::([0-9]+|\*))?")


def _seq_number(raw: bytes) -> int:
    if raw == b"*":
        return 0
    value = int(raw)
    if not 0 < value <= MAX_NUMBER:
        raise _Invalid("invalid sequence number")
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
        raise _Invalid("invalid date")
    try:
        return _dt.date(int(match.group(3)), month, int(match.group(1)))
    except ValueError:
        raise _Invalid("invalid date") from None


def _date_time(token) -> _dt.datetime:
    """date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE; RFC 9051 §9."""
    match = _DATE_TIME.match(token.value.decode("latin-1"))
    month = _MONTHS.get(match.group(2).upper()) if match else None
    if month is None:
        raise _Invalid("invalid date-time")
    day, _, year, hour, minute, second, sign, zh, zm = match.groups()
    try:
        offset = _dt.timedelta(hours=int(zh), minutes=int(zm))
        zone = _dt.timezone(-offset if sign == "-" else offset)
        return _dt.datetime(int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=zone)
    except ValueError:
        raise _Invalid("invalid date-time") from None


_SYSTEM_FLAGS = {f.upper(): f for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "\\Recent")}


def _flag(token) -> str:
    text = token.value.decode("ascii")
    return _SYSTEM_FLAGS.get(text.upper(), text)


def _section_part(raw: str) -> tuple[int, ...]:
    part = tuple(int(n) for n in raw.split("."))
    if any(not 0 < n <= MAX_NUMBER for n in part):
        raise _Invalid("invalid section part")
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
        raise _Invalid("invalid partial")
    return Partial(offset_n, length_n)


# --- the transformer ----------------------------------------------------------------------------------


def _items(children) -> list:
    return [child for child in children if child is not None]


class _Builder:
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
            raise _Invalid("invalid DEPTH")
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
                    raise _Invalid("fetch attributes only follow MessageNew")
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
                    raise _Invalid("LAZY only modifies PREVIEW")
                args["items"] = (c.FetchItem("PREVIEW", lazy=True),)
                continue
            if position > (1 if any(g and "LAZY" in g for g in groups[:1]) else 0):
                raise _Invalid("more than one fetch-modifiers list")
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
                    raise _Invalid("LAZY only modifies PREVIEW")
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
            raise _Invalid("invalid PARTIAL range")
        return c.SearchReturnOption("PARTIAL", (low, high))

    def search_program(self, children):
        charset = children[0]
        return (None if charset is None else _text(charset)), SearchAnd(tuple(children[1:]))

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
        return SearchAnd(tuple(children))

    def thread(self, children):
        algorithm, charset, search = children
        return c.Thread, {"algorithm": _word(algorithm).upper(), "charset": _text(charset), "search": search}

    # shared pieces
    def mailbox(self, children):
        return _text(children[0])

    def astring_atom(self, children):
        return "".join([t.value.decode("ascii") for t in children])


_BRACKET_VALUES = {LBRACKET: b"[", RBRACKET: b"]"}


def _build_parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer=_BridgeLexer,
        transformer=_Builder(),
        maybe_placeholders=True,
    )


# --- the fast path: replaying Lark's LALR actions by token shape ------------------------------------------
#
# For a given sequence of terminals the LALR automaton always performs the same shifts and reductions,
# and which terminal a token becomes depends only on the parser state and on the token's *lexical class*
# (its kind; for a word, whether it is a keyword and which word patterns match it). So the parser
# classifies each token (cheaply, memoised per word), looks the resulting shape up in a bounded dict, and
# on a miss drives Lark's own parse table over the tokens once, exactly like Lark's parser loop does
# (``lark/parsers/lalr_parser_state.py``), recording the plan: "shift token i" or "reduce with Lark's
# callback for rule r". Replaying a plan calls the very callbacks Lark built from the grammar and the
# transformer, without Token objects, generators or table look-ups. ``parse_command_reference`` runs the
# unmodified Lark parser with the bridge lexer; the tests hold both to the same results.


class _Leaf:
    """The value the callbacks see for a shifted token (they read ``.value``, like a Lark Token)."""

    __slots__ = ("type", "value")

    def __init__(self, type_, value):
        self.type = type_
        self.value = value


_LETTERS = re.compile(rb"[A-Za-z]")
_DIGIT_RUNS = re.compile(rb"[0-9]+")
_PLAN_CACHE_LIMIT = 4096
_CLASS_CACHE_LIMIT = 8192
_TAG_CLASS = 100  # first token, a valid tag
_BAD_TAG_CLASS = 101


class _FastParser:
    def __init__(self, lark: Lark):
        frontend = lark.parser
        self.lexer: _BridgeLexer = frontend.lexer
        lalr = frontend.parser.parser
        self.parse_table = lalr.parse_table
        self.callbacks = lalr.callbacks
        self.start_state = self.parse_table.start_states["start"]
        self.end_state = self.parse_table.end_states["start"]
        self.keywords = frozenset(self.lexer.keyword_terms)
        self.word_patterns = self.lexer.pattern_terms
        self.signatures: dict[tuple, int] = {}  # (keyword, matched patterns) -> class id
        self.signature_of: dict[int, tuple] = {}
        self.word_classes: dict[bytes, int] = {}
        self.plans: dict[tuple, tuple] = {}
        self.digits_class = self._class_of_text("1")

    # word classes
    def _class_of_text(self, text: str) -> int:
        upper = text.upper()
        keyword = upper if text.isascii() and upper in self.keywords else None
        matched = frozenset(name for name, fullmatch in self.word_patterns if fullmatch(text))
        signature = (keyword, matched)
        class_id = self.signatures.get(signature)
        if class_id is None:
            class_id = 200 + len(self.signatures)
            self.signatures[signature] = class_id
            self.signature_of[class_id] = signature
        return class_id

    def word_class(self, word: bytes) -> int:
        classes = self.word_classes
        class_id = classes.get(word)
        if class_id is not None:
            return class_id
        if word.isdigit():
            return self.digits_class
        if _LETTERS.search(word) is None:
            # No pattern of the grammar counts digits in a word without letters: "3:9" is like "1:1".
            skeleton = _DIGIT_RUNS.sub(b"1", word)
            class_id = classes.get(skeleton)
            if class_id is None:
                # latin-1 keeps any byte; no pattern or keyword of the grammar matches a non-ASCII one.
                class_id = self._class_of_text(skeleton.decode("latin-1"))
                classes[skeleton] = class_id
            return class_id
        class_id = self._class_of_text(word.decode("latin-1"))
        if len(classes) >= _CLASS_CACHE_LIMIT:
            classes.clear()
        classes[word] = class_id
        return class_id

    def terminal(self, state: int, class_id: int) -> str | None:
        """The terminal a word of this class is in this state (keywords first, then patterns)."""
        table = self.lexer.tables.get(state)
        if table is None:
            table = self.lexer.table_for(state, self.parse_table)
        keyword, matched = self.signature_of[class_id]
        if keyword is not None:
            name = table.keywords.get(keyword)
            if name is not None:
                return name
        for name, _ in table.patterns:
            if name in matched:
                return name
        return None

    # plans
    def shape(self, tokens) -> tuple:
        word_class = self.word_class
        first = _TAG_CLASS if _TAG_RE.match(tokens[0][1] or b"") and tokens[0][0] == WORD else _BAD_TAG_CLASS
        return (first, *[word_class(value) if kind == WORD else kind for kind, value in tokens[1:]])

    def compile(self, shape: tuple) -> tuple:
        """Drive Lark's parse table over a shape; return ("ok", ops, names) or ("error", index)."""
        states = self.parse_table.states
        callbacks = self.callbacks
        stack = [self.start_state]
        ops = []
        names = []
        for index, class_id in enumerate(shape):
            state = stack[-1]
            if class_id == _TAG_CLASS:
                name = "TAG" if "TAG" in states[state] else None
            elif class_id == _BAD_TAG_CLASS:
                name = None
            elif class_id >= 200:
                name = self.terminal(state, class_id)
            else:
                table = self.lexer.tables.get(state) or self.lexer.table_for(state, self.parse_table)
                name = table.by_kind.get(class_id)
            if name is None:
                return ("error", index)
            names.append(name)
            while True:
                action = states[stack[-1]].get(name)
                if action is None:
                    return ("error", index)
                kind, arg = action
                if kind is _SHIFT:
                    stack.append(arg)
                    ops.append(index)
                    break
                size = len(arg.expansion)
                if size:
                    del stack[-size:]
                ops.append((callbacks[arg], size))
                stack.append(states[stack[-1]][arg.origin.name][1])
        while True:
            action = states[stack[-1]].get("$END")
            if action is None:
                return ("error", len(shape))
            kind, arg = action
            if kind is _SHIFT:  # pragma: no cover - $END is never shifted in a Lark LALR table
                return ("error", len(shape))
            size = len(arg.expansion)
            if size:
                del stack[-size:]
            ops.append((callbacks[arg], size))
            if len(stack) == 1 and arg.origin.name == "start":
                return ("ok", tuple(ops), tuple(names))
            stack.append(states[stack[-1]][arg.origin.name][1])

    def parse(self, tokens):
        shape = self.shape(tokens)
        plan = self.plans.get(shape)
        if plan is None:
            plan = self.compile(shape)
            if len(self.plans) >= _PLAN_CACHE_LIMIT:
                self.plans.clear()
            self.plans[shape] = plan
        if plan[0] == "error":
            raise _LexFailure(plan[1], *(tokens[plan[1]] if plan[1] < len(tokens) else (None, None)))
        _, ops, names = plan
        stack = []
        push = stack.append
        for op in ops:
            if op.__class__ is int:
                push(_Leaf(names[op], tokens[op][1]))
            else:
                callback, size = op
                if size:
                    children = stack[-size:]
                    del stack[-size:]
                else:
                    children = []
                push(callback(children))
        return stack[0]


_SHIFT = None  # set from lark below (the Shift action object)


def _init_shift():
    global _SHIFT
    from lark.parsers.lalr_analysis import Shift

    _SHIFT = Shift


_init_shift()

_PARSER: Lark | None = None
_FAST: _FastParser | None = None


def get_parser() -> Lark:
    """The Lark object: grammar/imap.lark, LALR, the bridge lexer, the command builder."""
    global _PARSER
    if _PARSER is None:
        _PARSER = _build_parser()
    return _PARSER


def _fast() -> _FastParser:
    global _FAST
    if _FAST is None:
        _FAST = _FastParser(get_parser())
    return _FAST


_TAG_RE = re.compile(rb"[!#$&',\-./0-9:;<=>?@A-Z^_`a-z|}~]+\Z")


def _tag_of(tokens) -> str | None:
    if tokens and tokens[0][0] == WORD and _TAG_RE.match(tokens[0][1]):
        return tokens[0][1].decode("ascii")
    return None


def _describe(kind: int, value) -> str:
    if kind == WORD:
        text = value[:32].decode("ascii", "replace")
        return f"'{text}'"
    return {
        SP: "space",
        LPAREN: "'('",
        RPAREN: "')'",
        LBRACKET: "'['",
        RBRACKET: "']'",
        QUOTED: "quoted string",
        LITERAL: "literal",
        LITERAL8: "literal8",
    }.get(kind, "token")


def _prepare(tokens):
    """Check the tag; give brackets their text (they can be pieces of an astring: "[Gmail]/Sent")."""
    if not tokens:
        raise CommandSyntaxError(None, "empty command")
    tag = _tag_of(tokens)
    if tag is None:
        raise CommandSyntaxError(None, "missing or invalid tag")
    for kind, _ in tokens:
        if kind == LBRACKET or kind == RBRACKET:
            tokens = [(k, _BRACKET_VALUES[k]) if k == LBRACKET or k == RBRACKET else (k, v) for k, v in tokens]
            break
    return tag, tokens


def parse_command(tokens, *, utf8: bool = False) -> c.Command:
    """Parse the tokens of one ``COMMAND`` event into a ``Command``; raise ``CommandSyntaxError``.

    ``utf8`` says UTF8=ACCEPT (or IMAP4rev2) is in effect; the tokenizer already enforces what it means
    for quoted strings, so the parser accepts what it is given either way.
    """
    tag, tokens = _prepare(tokens)
    try:
        return _fast().parse(tokens)
    except _LexFailure as failure:
        raise CommandSyntaxError(tag, _message_at(tokens, failure.index)) from None
    except _Invalid as invalid:
        raise CommandSyntaxError(tag, str(invalid)) from None


def parse_command_reference(tokens) -> c.Command:
    """The same parse through Lark's own LALR parser loop and the bridge lexer (tests compare both)."""
    tag, tokens = _prepare(tokens)
    try:
        return get_parser().parse(tokens)
    except _LexFailure as failure:
        raise CommandSyntaxError(tag, _message_at(tokens, failure.index)) from None
    except UnexpectedInput as error:
        token = getattr(error, "token", None)
        if token is not None and token.type == "$END":
            raise CommandSyntaxError(tag, _message_at(tokens, len(tokens))) from None
        index = getattr(token, "start_pos", None)
        if isinstance(index, int) and 0 <= index < len(tokens):
            raise CommandSyntaxError(tag, _message_at(tokens, index)) from None
        raise CommandSyntaxError(tag, "syntax error") from None
    except _Invalid as invalid:
        raise CommandSyntaxError(tag, str(invalid)) from None
    except VisitError as error:  # Lark wraps callback errors only in tree transformers; stay safe
        if isinstance(error.orig_exc, _Invalid):
            raise CommandSyntaxError(tag, str(error.orig_exc)) from None
        raise


def _message_at(tokens, index: int) -> str:
    if index >= len(tokens):
        return "unexpected end of command"
    kind, value = tokens[index]
    if index == 2 and kind == WORD:
        return f"unknown command {_describe(kind, value)}"
    if index == 1 or (index == 0):
        return "expected tag SP command"
    return f"unexpected {_describe(kind, value)} (token {index + 1})"
