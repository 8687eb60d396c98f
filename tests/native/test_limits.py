"""Limits enforced while framing, and resynchronisation after each error, on both tokenizers.

Every case is run on the pure-Python tokenizer and (when built) the C one, fed whole and byte by byte,
and checks the exact events, then that a following valid command comes out intact. The C tokenizer is
also checked not to buffer what it discards.
"""

from __future__ import annotations

import pytest

from imapcore.syntax.pytokenizer import Tokenizer as PyTokenizer
from imapcore.syntax.tokens import (
    COMMAND,
    ERROR,
    LINE,
    LITERAL,
    LITERAL8,
    NEED_LITERAL,
    NEED_MORE,
    QUOTED,
    SP,
    WORD,
    Limits,
)

try:
    from imapcore.syntax.ctokenizer import Tokenizer as CTokenizer
    from imapcore.syntax.ctokenizer import ffi, lib
except ImportError:  # not built: test_build.py reports it
    CTokenizer = None

IMPLEMENTATIONS = [PyTokenizer] + ([CTokenizer] if CTokenizer else [])
IDS = ["python"] + (["c"] if CTokenizer else [])

SMALL = Limits(
    max_line_bytes=20,
    max_literal_bytes=10,
    max_command_bytes=60,
    max_literals_per_command=2,
    max_discard_bytes=100,
)

NOOP = (COMMAND, [(WORD, b"a2"), (SP, None), (WORD, b"NOOP")])


def events(cls, chunks, limits=SMALL):
    tokenizer = cls(limits)
    out = []
    for chunk in chunks:
        tokenizer.feed(chunk)
        for _ in range(10_000):
            event = tokenizer.next_event()
            if event[0] == NEED_MORE:
                break
            out.append(event)
    return out


def both_ways(cls, data, limits=SMALL):
    whole = events(cls, [data], limits)
    assert events(cls, [data[i : i + 1] for i in range(len(data))], limits) == whole
    return whole


@pytest.fixture(params=IMPLEMENTATIONS, ids=IDS)
def impl(request):
    return request.param


def test_synchronizing_literal_over_the_limit_is_toobig_before_the_data(impl):
    # RFC 7889 / RFC 9051 §7.1: refused at once, the client waits for a "+" that will not come.
    tokenizer = impl(SMALL)
    tokenizer.feed(b"a1 APPEND x {11}\r\n")
    assert tokenizer.next_event() == (ERROR, b"a1", "literal too large", "TOOBIG", False)
    assert tokenizer.next_event() == (NEED_MORE,)
    tokenizer.feed(b"a2 NOOP\r\n")
    assert tokenizer.next_event() == NOOP


def test_non_synchronizing_literal_over_the_limit_is_toobig_then_discarded(impl):
    # RFC 7888 §4 choice 1: the error at once, then the literal's bytes are skipped as they arrive.
    tokenizer = impl(SMALL)
    tokenizer.feed(b"a1 APPEND x {15+}\r\n")
    assert tokenizer.next_event() == (ERROR, b"a1", "literal too large", "TOOBIG", False)
    assert tokenizer.next_event() == (NEED_MORE,)
    tokenizer.feed(b"a2 NOOP\r\n012345")  # literal bytes that look like a command must not be one
    assert tokenizer.next_event() == (NEED_MORE,)
    tokenizer.feed(b" rest of the APPEND\r\na2 NOOP\r\n")
    assert tokenizer.next_event() == NOOP
    assert tokenizer.next_event() == (NEED_MORE,)


def test_non_synchronizing_literal_over_the_discard_threshold_is_fatal(impl):
    # RFC 7888 §4 choice 2: too much to skip, the server answers BYE; nothing is tokenized afterwards.
    tokenizer = impl(SMALL)
    tokenizer.feed(b"a1 APPEND x {101+}\r\nabc")
    assert tokenizer.next_event() == (ERROR, b"a1", "literal too large", "TOOBIG", True)
    tokenizer.feed(b"a2 NOOP\r\n")
    assert tokenizer.next_event() == (NEED_MORE,)
    assert tokenizer.next_event() == (NEED_MORE,)


def test_line_too_long_then_resync(impl):
    data = b"a1 FETCH " + b"1," * 10 + b"2 FLAGS\r\na2 NOOP\r\n"
    assert both_ways(impl, data) == [(ERROR, b"a1", "line too long", None, False), NOOP]


def test_line_too_long_is_not_buffered(impl):
    tokenizer = impl(SMALL)
    tokenizer.feed(b"a1 " + b"x" * 500)
    assert tokenizer.next_event() == (NEED_MORE,)
    if impl is CTokenizer:
        assert lib.imap_tok_buffered(tokenizer._t) == 0
    for _ in range(100):
        tokenizer.feed(b"y" * 1000)
        assert tokenizer.next_event() == (NEED_MORE,)
    if impl is CTokenizer:
        assert lib.imap_tok_buffered(tokenizer._t) == 0
        assert lib.imap_tok_memory(tokenizer._t) < 4096
    tokenizer.feed(b"\r\na2 NOOP\r\n")
    assert tokenizer.next_event() == (ERROR, b"a1", "line too long", None, False)
    assert tokenizer.next_event() == NOOP


def test_too_long_line_ending_in_a_non_synchronizing_literal_skips_the_literal(impl):
    # The client sends {n+} data without waiting: those bytes belong to the skipped command.
    data = b"a1 APPEND very-long-mailbox-name {9+}\r\na2 NOOP\r\n\r\na2 NOOP\r\n"
    assert both_ways(impl, data) == [(ERROR, b"a1", "line too long", None, False), NOOP]


def test_too_many_literals_synchronizing(impl):
    data = b"a1 X {1}\r\na {1}\r\nb {1}\r\na2 NOOP\r\n"
    assert both_ways(impl, data) == [
        (NEED_LITERAL, 1, True, False, b"a1"),
        (NEED_LITERAL, 1, True, False, b"a1"),
        (ERROR, b"a1", "command too large", "TOOBIG", False),
        NOOP,
    ]


def test_too_many_literals_non_synchronizing_reported_after_the_skip(impl):
    data = b"a1 X {1+}\r\na {1+}\r\nb {1+}\r\nc rest\r\na2 NOOP\r\n"
    assert both_ways(impl, data) == [
        (NEED_LITERAL, 1, False, False, b"a1"),
        (NEED_LITERAL, 1, False, False, b"a1"),
        (ERROR, b"a1", "command too large", "TOOBIG", False),
        NOOP,
    ]


def test_command_size_counts_lines_and_literals(impl):
    # Lines (line ends included) and literals: 11 + 10 + 7 + 10 + 7 = 45 bytes when the third marker
    # line is complete; its 10 bytes would make 55 > 50.
    limits = Limits(max_line_bytes=20, max_literal_bytes=10, max_command_bytes=50, max_literals_per_command=9)
    data = b"a1 X {10}\r\n0123456789 {10}\r\n0123456789 {10}\r\na2 NOOP\r\n"
    assert both_ways(impl, data, limits) == [
        (NEED_LITERAL, 10, True, False, b"a1"),
        (NEED_LITERAL, 10, True, False, b"a1"),
        (ERROR, b"a1", "command too large", "TOOBIG", False),
        NOOP,
    ]
    ok = b"a1 X {10}\r\n0123456789 {9}\r\n012345678\r\n"  # 11 + 10 + 6 + 9 + 2 = 38 bytes
    assert both_ways(impl, ok, limits)[-1] == (
        COMMAND,
        [(WORD, b"a1"), (SP, None), (WORD, b"X"), (SP, None), (LITERAL, b"0123456789"), (SP, None),
         (LITERAL, b"012345678")],
    )


def test_nul_in_literal_but_not_in_literal8(impl):
    data = b"a1 X {3}\r\na\x00b\r\na2 NOOP\r\na3 X ~{3}\r\na\x00b\r\n"
    assert both_ways(impl, data) == [
        (NEED_LITERAL, 3, True, False, b"a1"),
        (ERROR, b"a1", "NUL in literal", None, False),
        NOOP,
        (NEED_LITERAL, 3, True, True, b"a3"),
        (COMMAND, [(WORD, b"a3"), (SP, None), (WORD, b"X"), (SP, None), (LITERAL8, b"a\x00b")]),
    ]


def test_errors_without_a_tag_and_resync(impl):
    data = b"\r\n+x NOOP\x01\r\n(a) b\r\na2 NOOP\r\n"
    assert both_ways(impl, data) == [
        (ERROR, None, "empty command line", None, False),
        (ERROR, None, "invalid character", None, False),
        (COMMAND, [(1 + 1, None), (WORD, b"a"), (3, None), (SP, None), (WORD, b"b")]),
        NOOP,
    ]


def test_quoted_strings_and_utf8_mode(impl):
    data = 'a1 LOGIN "\\"x\\\\" "é"\r\n'.encode()
    assert both_ways(impl, data, Limits()) == [(ERROR, b"a1", "8-bit character in quoted string", None, False)]
    tokenizer = impl(Limits(), utf8=True)
    tokenizer.feed(data)
    assert tokenizer.next_event() == (
        COMMAND,
        [(WORD, b"a1"), (SP, None), (WORD, b"LOGIN"), (SP, None), (QUOTED, b'"x\\'), (SP, None),
         (QUOTED, "é".encode())],
    )
    tokenizer.feed(b'a2 X "\xed\xa0\x80"\r\n')  # a UTF-8 encoded surrogate is not UTF-8
    assert tokenizer.next_event() == (ERROR, b"a2", "invalid UTF-8 in quoted string", None, False)


def test_line_mode_for_idle_and_authenticate(impl):
    tokenizer = impl(SMALL)
    tokenizer.feed(b"a1 IDLE\r\nDONE\r\na2 NOOP\r\n")
    assert tokenizer.next_event()[0] == COMMAND
    tokenizer.set_line_mode()
    assert tokenizer.next_event() == (LINE, b"DONE")
    assert tokenizer.next_event() == NOOP
    tokenizer.set_line_mode()
    tokenizer.feed(b"dGVzdAB0ZXN0AHRlc3Q=\r\n")  # 20 bytes: exactly the line limit
    assert tokenizer.next_event() == (LINE, b"dGVzdAB0ZXN0AHRlc3Q=")
    tokenizer.set_line_mode()
    tokenizer.feed(b"dGVzdAB0ZXN0AHRlc3Q=x\r\na2 NOOP\r\n")
    assert tokenizer.next_event() == (ERROR, None, "line too long", None, False)
    assert tokenizer.next_event() == NOOP


@pytest.mark.skipif(CTokenizer is None, reason="C tokenizer not built")
def test_c_tokenizer_releases_big_buffers_between_commands():
    tokenizer = CTokenizer()
    idle = lib.imap_tok_memory(tokenizer._t)
    assert idle < 1024
    payload = bytes(range(256)) * 4096  # 1 MiB with NULs: a literal8
    tokenizer.feed(b"a1 APPEND INBOX ~{%d}\r\n" % len(payload))
    assert tokenizer.next_event() == (NEED_LITERAL, len(payload), True, True, b"a1")
    tokenizer.feed(payload + b"\r\n")
    event = tokenizer.next_event()
    assert event[0] == COMMAND and event[1][-1] == (LITERAL8, payload)
    assert lib.imap_tok_memory(tokenizer._t) > len(payload)
    assert tokenizer.next_event() == (NEED_MORE,)
    assert lib.imap_tok_buffered(tokenizer._t) == 0
    assert tokenizer._t.arena == ffi.NULL
    # Small commands keep only small buffers: an idle connection stays far below 4 KiB.
    for i in range(50):
        tokenizer.feed(b"a%d UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject)])\r\n" % i)
        assert tokenizer.next_event()[0] == COMMAND
        assert tokenizer.next_event() == (NEED_MORE,)
        assert lib.imap_tok_memory(tokenizer._t) <= 1400
