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
the transformer (``imapcore.syntax.build.Builder``), so no parse tree is built: each reduction directly
builds the values of ``imapcore.syntax.commands``. The grammar is therefore the only command parser in the product; the
builder only converts values (numbers, dates, sequence sets) and checks what a context-free grammar
cannot say (number ranges, a date that exists).

Every failure is a ``CommandSyntaxError`` carrying the tag when one could be read, which the protocol
layer answers with ``tag BAD message`` (or ``* BAD``).
"""

from __future__ import annotations

import dataclasses
import re

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, VisitError
from lark.lexer import Lexer, PatternStr

from . import commands as c
from .build import Builder, InvalidValue
from .grammar import grammar_text
from .tokens import LBRACKET, LITERAL, LITERAL8, LPAREN, QUOTED, RBRACKET, RPAREN, SP, WORD

_WORD_CACHE_LIMIT = 4096
_CACHED_WORD_BYTES = 64  # longer words (base64, long names) are classified again each time


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
        if len(word) <= _CACHED_WORD_BYTES:
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


_BRACKET_VALUES = {LBRACKET: b"[", RBRACKET: b"]"}


def _build_parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer=_BridgeLexer,
        transformer=Builder(),
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
_PLAN_CACHE_MAX_TOKENS = 200
_CLASS_CACHE_LIMIT = 8192
_TAG_CLASS = 100  # first token, a valid tag


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
        # The tag rule is the grammar's TAG terminal (errors report the tag even when parsing fails).
        self.tag_match = dict(self.word_patterns)["TAG"]

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
                self._remember(skeleton, class_id)
            return class_id
        class_id = self._class_of_text(word.decode("latin-1"))
        self._remember(word, class_id)
        return class_id

    def _remember(self, word: bytes, class_id: int) -> None:
        # Bounded in entries and in bytes per entry, whatever a client sends.
        if len(word) <= _CACHED_WORD_BYTES:
            if len(self.word_classes) >= _CLASS_CACHE_LIMIT:
                self.word_classes.clear()
            self.word_classes[word] = class_id

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
        # Only called after _prepare() found a valid tag in front.
        return (_TAG_CLASS, *[word_class(value) if kind == WORD else kind for kind, value in tokens[1:]])

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
            # Only short shapes are kept: the cache must stay small whatever a client sends.
            if len(shape) <= _PLAN_CACHE_MAX_TOKENS:
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


def _is_tag(token) -> bool:
    kind, value = token
    return kind == WORD and _fast().tag_match(value.decode("latin-1")) is not None


def _tag_of(tokens) -> str | None:
    if tokens and _is_tag(tokens[0]):
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


# --- repeated commands --------------------------------------------------------------------------------
#
# A client repeats the same few commands with new tags (``FETCH 1:* (UID FLAGS)``, ``SELECT INBOX``,
# ``NOOP``): parsing one costs ~10 us, rebuilding the frozen command with the new tag ~1 us. Commands
# are frozen dataclasses whose fields hold only immutable values, so the parsed fields of a short
# command (no literal) are kept by its tokens after the tag. Bounded: cleared when full.

_REPEAT_CACHE: dict[tuple, tuple[type, tuple]] = {}
_REPEAT_CACHE_LIMIT = 2048
_REPEAT_MAX_TOKENS = 48
_REPEAT_MAX_BYTES = 512
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _repeat_key(tokens) -> tuple | None:
    """The cache key of a command's tokens after the tag, or None for one not worth keeping."""
    if len(tokens) > _REPEAT_MAX_TOKENS:
        return None
    size = 0
    for kind, value in tokens:
        if kind == LITERAL or kind == LITERAL8:
            return None
        if value is not None:
            size += len(value)
    if size > _REPEAT_MAX_BYTES:
        return None
    return tuple(tokens[1:])


def _remember(key: tuple, command: c.Command) -> None:
    cls = type(command)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        fields = dataclasses.fields(cls)
        if not fields or fields[0].name != "tag" or not all(f.init for f in fields):
            return
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields[1:])
    if len(_REPEAT_CACHE) >= _REPEAT_CACHE_LIMIT:
        _REPEAT_CACHE.clear()
    _REPEAT_CACHE[key] = (cls, tuple(getattr(command, name) for name in names))


def parse_command(tokens, *, utf8: bool = False) -> c.Command:
    """Parse the tokens of one ``COMMAND`` event into a ``Command``; raise ``CommandSyntaxError``.

    ``utf8`` says UTF8=ACCEPT (or IMAP4rev2) is in effect; the tokenizer already enforces what it means
    for quoted strings, so the parser accepts what it is given either way.
    """
    tag, tokens = _prepare(tokens)
    key = _repeat_key(tokens)
    if key is not None:
        known = _REPEAT_CACHE.get(key)
        if known is not None:
            return known[0](tag, *known[1])
    try:
        command = _fast().parse(tokens)
    except _LexFailure as failure:
        raise CommandSyntaxError(tag, _message_at(tokens, failure.index)) from None
    except InvalidValue as invalid:
        raise CommandSyntaxError(tag, str(invalid)) from None
    if key is not None:
        _remember(key, command)
    return command


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
    except InvalidValue as invalid:
        raise CommandSyntaxError(tag, str(invalid)) from None
    except VisitError as error:  # Lark wraps callback errors only in tree transformers; stay safe
        if isinstance(error.orig_exc, InvalidValue):
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
