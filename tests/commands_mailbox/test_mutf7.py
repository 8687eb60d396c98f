"""Modified UTF-7 (RFC 3501 §5.1.3): the codec, and which form each session sees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapcore.commands import mutf7
from imapcore.protocol.errors import CommandFailed

# Pairs from RFC 3501 §5.1.3 and from Dovecot's answers in the traffic corpus.
KNOWN = [
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
    ("Entwürfe ✓", "Entw&APw-rfe &JxM-"),
    ("Archiv 2024 & Co", "Archiv 2024 &- Co"),
    ("Ελληνικά", "&A5UDuwO7A7cDvQO5A7oDrA-"),
    ("Données/Unterordner ✓", "Donn&AOk-es/Unterordner &JxM-"),
    ("plain/ascii name", "plain/ascii name"),
    ("x😀y", "x&2D3eAA-y"),
]


@pytest.mark.parametrize(("name", "wire"), KNOWN)
def test_known_encodings(name, wire):
    assert mutf7.encode(name) == wire
    assert mutf7.decode(wire) == name


@pytest.mark.parametrize(
    "wire",
    [
        "&",  # unterminated
        "&AOk",  # unterminated shift
        "&AGE-",  # encodes printable ASCII "a"
        "&AOk-&AOk-",  # two adjacent shifted runs
        "&AOl-",  # non-zero padding bits
        "&2D0-",  # lone high surrogate
        "é",  # 8-bit character sent raw
        "a\tb",  # control character
        "&A-",  # truncated UTF-16 unit
    ],
)
def test_invalid_is_refused(wire):
    with pytest.raises(mutf7.InvalidModifiedUtf7):
        mutf7.decode(wire)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20), max_size=40))
def test_round_trip(name):
    encoded = mutf7.encode(name)
    assert encoded.isascii()
    assert mutf7.decode(encoded) == name


def test_session_modes():
    assert mutf7.from_client("Entw&APw-rfe", utf8=False) == "Entwürfe"
    assert mutf7.from_client("Entw&APw-rfe", utf8=True) == "Entw&APw-rfe"  # UTF-8 mode: "&" is literal
    assert mutf7.to_client("Entwürfe", utf8=False) == "Entw&APw-rfe"
    assert mutf7.to_client("Entwürfe", utf8=True) == "Entwürfe"
    with pytest.raises(CommandFailed) as refused:
        mutf7.from_client("Entwürfe", utf8=False)
    assert refused.value.code.name == "CANNOT"
    with pytest.raises(CommandFailed):
        mutf7.from_client("bad\udcff", utf8=True)  # not UTF-8 (surrogate-escaped byte)
