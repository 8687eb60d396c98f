"""The tokenizer contract (imapcore/syntax/tokens.py), on both implementations, whole and chunked."""

import pytest
from support.imapstream import events

from imapcore.syntax.tokens import (
    COMMAND,
    ERROR,
    LBRACKET,
    LINE,
    LITERAL,
    LITERAL8,
    LPAREN,
    NEED_LITERAL,
    QUOTED,
    RBRACKET,
    RPAREN,
    SP,
    WORD,
    Limits,
)

S = (SP, None)


def W(text):
    return (WORD, text)


def run(tokenizer_class, data, limits=None, utf8=False):
    """Events for ``data`` fed whole; asserts byte-by-byte and 3-byte chunkings give the same."""
    whole = tokenizer_class(limits)
    if utf8:
        whole.set_utf8(True)
    result = events(whole, data)
    for chunks in ([1], [3, 7]):
        chunked = tokenizer_class(limits)
        if utf8:
            chunked.set_utf8(True)
        assert events(chunked, data, chunks) == result
    return result


def test_words_punctuation_and_quoted(tokenizer_class):
    data = b'a1 FETCH 1:*,5 (FLAGS BODY.PEEK[HEADER.FIELDS (From)]<0.100>) "x \\"y\\" \\\\"\r\n'
    assert run(tokenizer_class, data) == [
        (
            COMMAND,
            [
                W(b"a1"), S, W(b"FETCH"), S, W(b"1:*,5"), S, (LPAREN, None), W(b"FLAGS"), S, W(b"BODY.PEEK"),
                (LBRACKET, None), W(b"HEADER.FIELDS"), S, (LPAREN, None), W(b"From"), (RPAREN, None),
                (RBRACKET, None), W(b"<0.100>"), (RPAREN, None), S, (QUOTED, b'x "y" \\'),
            ],
        )
    ]


def test_empty_quoted_string_and_two_spaces(tokenizer_class):
    assert run(tokenizer_class, b'a LOGIN ""  x\n') == [
        (COMMAND, [W(b"a"), S, W(b"LOGIN"), S, (QUOTED, b""), S, S, W(b"x")])
    ]


def test_synchronizing_and_non_synchronizing_literals(tokenizer_class):
    data = b"A APPEND INBOX {5}\r\nhello {3+}\r\nabc\r\nB NOOP\r\n"
    assert run(tokenizer_class, data) == [
        (NEED_LITERAL, 5, True, False, b"A"),
        (NEED_LITERAL, 3, False, False, b"A"),
        (COMMAND, [W(b"A"), S, W(b"APPEND"), S, W(b"INBOX"), S, (LITERAL, b"hello"), S, (LITERAL, b"abc")]),
        (COMMAND, [W(b"B"), S, W(b"NOOP")]),
    ]


def test_literal8_may_hold_nul_but_literal_may_not(tokenizer_class):
    data = b"A APPEND x ~{2}\r\n\x00\x01\r\nB APPEND x {1}\r\n\x00\r\nC NOOP\r\n"
    assert run(tokenizer_class, data) == [
        (NEED_LITERAL, 2, True, True, b"A"),
        (COMMAND, [W(b"A"), S, W(b"APPEND"), S, W(b"x"), S, (LITERAL8, b"\x00\x01")]),
        (NEED_LITERAL, 1, True, False, b"B"),
        (ERROR, b"B", "NUL in literal", None, False),
        (COMMAND, [W(b"C"), S, W(b"NOOP")]),
    ]


def test_tilde_is_a_word_byte_inside_a_word(tokenizer_class):
    assert run(tokenizer_class, b"A x~ a~{1}\r\nZ\r\n") == [
        (NEED_LITERAL, 1, True, False, b"A"),
        (COMMAND, [W(b"A"), S, W(b"x~"), S, W(b"a~"), (LITERAL, b"Z")]),
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        (b"A1 X\x80\r\n", "invalid character"),
        (b"A1 X\x00\r\n", "invalid character"),
        (b"A1 X\rY\r\n", "invalid character"),
        (b'A1 "abc\r\n', "unterminated quoted string"),
        (b'A1 "a\\b"\r\n', "invalid escape in quoted string"),
        (b'A1 "a\rb"\r\n', "invalid character in quoted string"),
        (b'A1 "caf\xc3\xa9"\r\n', "8-bit character in quoted string"),
        (b"A1 {5\r\n", "invalid literal marker"),
        (b"A1 {5} x\r\n", "invalid literal marker"),
        (b"A1 {99999999999999999999}\r\n", "invalid literal marker"),
    ],
)
def test_lexical_errors_carry_the_tag_and_resync(tokenizer_class, line, message):
    assert run(tokenizer_class, line + b"A2 NOOP\r\n") == [
        (ERROR, b"A1", message, None, False),
        (COMMAND, [W(b"A2"), S, W(b"NOOP")]),
    ]


def test_empty_line_and_untagged_errors(tokenizer_class):
    assert run(tokenizer_class, b"\r\n+ X\x01\r\n") == [
        (ERROR, None, "empty command line", None, False),
        (ERROR, None, "invalid character", None, False),
    ]


def test_utf8_quoted_strings_only_in_utf8_mode(tokenizer_class):
    data = b'A1 SELECT "Entw\xc3\xbcrfe"\r\nA2 SELECT "\xff"\r\n'
    assert run(tokenizer_class, data, utf8=True) == [
        (COMMAND, [W(b"A1"), S, W(b"SELECT"), S, (QUOTED, "Entwürfe".encode())]),
        (ERROR, b"A2", "invalid UTF-8 in quoted string", None, False),
    ]


def test_line_mode_for_idle_done(tokenizer_class):
    assert run(tokenizer_class, b"A1 IDLE\r\nDONE\r\nA2 NOOP\r\n") == [
        (COMMAND, [W(b"A1"), S, W(b"IDLE")]),
        (LINE, b"DONE"),
        (COMMAND, [W(b"A2"), S, W(b"NOOP")]),
    ]


SMALL = Limits(max_line_bytes=32, max_literal_bytes=100, max_command_bytes=400, max_literals_per_command=2,
               max_discard_bytes=1000)


def test_synchronizing_literal_too_big_is_refused_before_its_data(tokenizer_class):
    assert run(tokenizer_class, b"A1 APPEND x {101}\r\nA2 NOOP\r\n", SMALL) == [
        (ERROR, b"A1", "literal too large", "TOOBIG", False),
        (COMMAND, [W(b"A2"), S, W(b"NOOP")]),
    ]


def test_non_synchronizing_literal_too_big_is_discarded(tokenizer_class):
    data = b"A1 APPEND x {200+}\r\n" + b"y" * 200 + b" more\r\nA2 NOOP\r\n"
    assert run(tokenizer_class, data, SMALL) == [
        (ERROR, b"A1", "literal too large", "TOOBIG", False),
        (COMMAND, [W(b"A2"), S, W(b"NOOP")]),
    ]


def test_non_synchronizing_literal_beyond_discard_limit_is_fatal(tokenizer_class):
    data = b"A1 APPEND x {5000+}\r\n" + b"y" * 10 + b"\r\nA2 NOOP\r\n"
    assert run(tokenizer_class, data, SMALL) == [(ERROR, b"A1", "literal too large", "TOOBIG", True)]


def test_line_too_long_is_skipped_with_its_literal(tokenizer_class):
    data = b"A1 LOGIN " + b"x" * 40 + b" {3+}\r\nabc\r\nA2 NOOP\r\n"
    assert run(tokenizer_class, data, SMALL) == [
        (ERROR, b"A1", "line too long", None, False),
        (COMMAND, [W(b"A2"), S, W(b"NOOP")]),
    ]


def test_too_many_literals(tokenizer_class):
    data = b"A1 X {1+}\r\na {1+}\r\nb {1+}\r\nc\r\nA2 NOOP\r\n"
    assert run(tokenizer_class, data, SMALL) == [
        (NEED_LITERAL, 1, False, False, b"A1"),
        (NEED_LITERAL, 1, False, False, b"A1"),
        (ERROR, b"A1", "command too large", "TOOBIG", False),
        (COMMAND, [W(b"A2"), S, W(b"NOOP")]),
    ]


def test_error_after_a_literal_skips_the_rest_of_the_command(tokenizer_class):
    data = b"A1 LOGIN {1}\r\nx \x7f {2+}\r\nzz\r\nA2 NOOP\r\n"
    assert run(tokenizer_class, data) == [
        (NEED_LITERAL, 1, True, False, b"A1"),
        (ERROR, b"A1", "invalid character", None, False),
        (COMMAND, [W(b"A2"), S, W(b"NOOP")]),
    ]


def test_number_of_2_63_minus_1_is_a_valid_marker_size(tokenizer_class):
    # RFC 9051 number64: the marker parses, then the size limit refuses it (TOOBIG, not a syntax error).
    assert run(tokenizer_class, b"A1 APPEND x {9223372036854775807}\r\n") == [
        (ERROR, b"A1", "literal too large", "TOOBIG", False)
    ]
    assert run(tokenizer_class, b"A1 APPEND x {9223372036854775808}\r\n") == [
        (ERROR, b"A1", "invalid literal marker", None, False)
    ]
