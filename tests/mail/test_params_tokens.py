"""MIME parameter tokens (params._tokens): the regular-expression scanner equals the byte loop it replaced,
kept here as the specification."""

from hypothesis import given, settings
from hypothesis import strategies as st

from imapcore.mail.headers import comment_end
from imapcore.mail.params import _tokens, parse_value

_TSPECIALS = frozenset(b'()<>@,;:\\"/[]?=')
_WHITESPACE = frozenset(b" \t\r\n")


def reference_tokens(value: bytes) -> list[tuple[str, bytes]]:
    tokens: list[tuple[str, bytes]] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in _WHITESPACE:
            i += 1
        elif c == 0x28:
            end = comment_end(value, i)
            if end is None:
                tokens.append(("x", b"("))
                break
            i = end
        elif c == 0x22:
            i += 1
            out = bytearray()
            while i < n and value[i] != 0x22:
                if value[i] == 0x5C and i + 1 < n:
                    i += 1
                out.append(value[i])
                i += 1
            if i >= n:
                tokens.append(("x", b'"'))
                break
            i += 1
            tokens.append(("q", bytes(out)))
        elif c in _TSPECIALS:
            tokens.append(("s", value[i : i + 1]))
            i += 1
        else:
            start = i
            while i < n and value[i] not in _TSPECIALS and value[i] not in _WHITESPACE and value[i] >= 0x20:
                i += 1
            if i == start:
                i += 1
                continue
            tokens.append(("t", value[start:i]))
    return tokens


_ALPHABET = st.sampled_from(list(b'ab=;/"\\()\t\r\n \x00\x01\x7f\xc3\xa9*\'%,'))


@settings(max_examples=1500, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map(bytes) | st.binary(max_size=60))
def test_scanner_equals_the_byte_loop(value):
    assert _tokens(value) == reference_tokens(value)


def test_typical_values():
    value = b'multipart/mixed; boundary="=_a\\"b"; (comment (nested)) charset=UTF-8; name*0*=us-ascii\'\'a%20b'
    assert _tokens(value) == reference_tokens(value)
    assert parse_value(value)[0] == b"multipart/mixed"
    assert _tokens(b'text/plain; name="unclosed') == [("t", b"text"), ("s", b"/"), ("t", b"plain"), ("s", b";"),
                                                     ("t", b"name"), ("s", b"="), ("x", b'"')]
