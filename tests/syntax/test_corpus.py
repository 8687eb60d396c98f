"""Every command of the recorded client traffic parses (and round-trips); the deliberate bogus one is BAD."""

import glob
from pathlib import Path

import pytest

from imapcore.syntax.commands import Command
from imapcore.syntax.parser import CommandSyntaxError, parse_command, parse_command_reference
from imapcore.syntax.stream import FramingError, StreamLine, iter_stream
from imapcore.syntax.tokens import COMMAND, NEED_MORE
from imapcore.syntax.unparse import unparse

from support.shared import TRAFFIC  # noqa: E402
STREAMS = sorted(glob.glob(str(TRAFFIC / "*" / "*.client.imap")) + glob.glob(str(TRAFFIC / "_starttls" / "*" / "*.client.imap")))

pytestmark = pytest.mark.skipif(not STREAMS, reason="traffic corpus not present")


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: "/".join(Path(p).parts[-2:]))
def test_every_recorded_command_parses(path, tokenizer_class):
    data = Path(path).read_bytes()
    items = list(iter_stream(data, tokenizer_class=tokenizer_class))
    commands = [i for i in items if isinstance(i, Command)]
    assert commands
    for other in items:
        if isinstance(other, CommandSyntaxError):
            # The test scripts of the corpus send one unknown command on purpose.
            assert other.message == "unknown command 'XKITBOGUS'" and other.tag, other
        else:
            assert isinstance(other, (Command, StreamLine)), other
    assert not any(isinstance(i, FramingError) for i in items)
    # Feeding in odd chunks changes nothing.
    assert list(iter_stream(data, tokenizer_class=tokenizer_class, chunk_sizes=[1, 5, 2])) == items


def test_the_bogus_command_is_bad_with_its_tag():
    data = (TRAFFIC / "imaplib" / "02.client.imap").read_bytes()
    errors = [i for i in iter_stream(data) if isinstance(i, CommandSyntaxError)]
    assert [(e.tag, e.message) for e in errors] == [("MKEC124", "unknown command 'XKITBOGUS'")]


def _all_token_lists():
    from imapcore.syntax.pytokenizer import Tokenizer

    for path in STREAMS:
        tokenizer = Tokenizer()
        tokenizer.feed(Path(path).read_bytes())
        while (event := tokenizer.next_event())[0] != NEED_MORE:
            if event[0] == COMMAND:
                yield event[1]
                if event[1][-1][1] in (b"IDLE",):
                    tokenizer.set_line_mode()


def _outcome(parse, tokens):
    try:
        return parse(tokens)
    except CommandSyntaxError as error:
        return ("BAD", error.tag, error.message)


def test_fast_path_equals_lark_parser_loop_on_the_corpus():
    count = 0
    for tokens in _all_token_lists():
        assert _outcome(parse_command, tokens) == _outcome(parse_command_reference, tokens)
        count += 1
    assert count > 600


def test_corpus_commands_round_trip_through_unparse():
    for path in STREAMS:
        for command in iter_stream(Path(path).read_bytes()):
            if isinstance(command, Command):
                assert list(iter_stream(unparse(command))) == [command]
