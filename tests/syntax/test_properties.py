"""Hypothesis properties of the syntax layer (RFC 9051 §9 lexical rules under any chunking)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.command_strategies import COMMANDS

from imapcore.syntax.commands import COMMAND_CLASSES, Command
from imapcore.syntax.parser import CommandSyntaxError, parse_command, parse_command_reference
from imapcore.syntax.pytokenizer import Tokenizer
from imapcore.syntax.stream import FramingError, StreamLine, iter_stream
from imapcore.syntax.tokens import COMMAND, Limits
from imapcore.syntax.unparse import unparse

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_every_command_class_has_a_strategy():
    assert set(COMMANDS) == set(COMMAND_CLASSES)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_unparse_then_parse_gives_the_command_back(name):
    @FAST
    @given(COMMANDS[name])
    def check(command):
        data = unparse(command)
        assert list(iter_stream(data)) == [command], data

    check()


# IMAP-looking bytes: fragments of real commands glued with separators, plus raw noise.
FRAGMENTS = [
    b"a1 ", b"FETCH ", b"1:*", b" (", b")", b"[", b"]", b"BODY.PEEK", b"HEADER.FIELDS", b"{3}\r\nabc", b"{2+}\r\nxy",
    b"~{1}\r\n\x00", b'"q\\"s"', b"\r\n", b"\n", b" ", b"UID ", b"SEARCH ", b"OR ", b"NOT ", b"SINCE 1-Feb-2024", b"\\Seen",
    b"+FLAGS", b"APPEND INBOX ", b"LOGIN ", b"IDLE\r\nDONE\r\n", b"$", b"*", b"\x80", b"\x00", b"{99999999999}\r\n", b"NIL",
    b"SELECT ", b"(CONDSTORE)", b"<0.10>", b"LIST ", b'"" ', b"%", b"ENABLE UTF8=ACCEPT\r\n", b'"\xc3\xa9"',
]
imap_bytes = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=25).map(b"".join),
    st.binary(max_size=200),
)
SMALL = Limits(max_line_bytes=64, max_literal_bytes=32, max_command_bytes=256, max_literals_per_command=3, max_discard_bytes=128)


def _outcome(data, chunks, tokenizer_class=Tokenizer):
    return list(iter_stream(data, tokenizer_class=tokenizer_class, limits=SMALL, chunk_sizes=chunks))


@settings(max_examples=300, deadline=None)
@given(imap_bytes, st.lists(st.integers(1, 9), min_size=1, max_size=5))
def test_chunking_never_changes_the_result_and_nothing_else_escapes(data, chunks):
    whole = _outcome(data, None)
    assert _outcome(data, chunks) == whole
    assert _outcome(data, [1]) == whole
    for item in whole:
        assert isinstance(item, (Command, CommandSyntaxError, StreamLine, FramingError))


@settings(max_examples=300, deadline=None)
@given(imap_bytes)
def test_c_and_python_tokenizers_give_the_same_stream(data):
    try:
        from imapcore.syntax.ctokenizer import Tokenizer as CTokenizer
    except ImportError:
        pytest.skip("C tokenizer not built")
    assert _outcome(data, [3], CTokenizer) == _outcome(data, None, Tokenizer)


@settings(max_examples=300, deadline=None)
@given(imap_bytes)
def test_fast_path_and_lark_loop_agree_on_any_tokens(data):
    tokenizer = Tokenizer(SMALL)
    tokenizer.feed(data + b"\r\n")
    for _ in range(50):
        event = tokenizer.next_event()
        if event[0] != COMMAND:
            if event[0] == 0:
                break
            continue
        outcomes = []
        for parse in (parse_command, parse_command_reference):
            try:
                outcomes.append(parse(event[1]))
            except CommandSyntaxError as error:
                outcomes.append(error)
        assert outcomes[0] == outcomes[1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 9), st.binary(max_size=6)), max_size=12))
def test_arbitrary_token_lists_only_raise_command_syntax_error(pairs):
    tokens = [(kind, None if kind <= 5 else value) for kind, value in pairs]
    try:
        parse_command(tokens)
    except CommandSyntaxError:
        pass
