"""PREVIEW's whitespace collapse (text._collapsed_start) equals its definition on any text."""

from hypothesis import given, settings
from hypothesis import strategies as st

from imapcore.mail.text import _WHITESPACE, PREVIEW_MAX, _collapsed_start

SPACES = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def _definition(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()[:PREVIEW_MAX].rstrip()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab\u00e9") + list(SPACES)), max_size=40), max_size=120))
def test_collapse_equals_the_definition(pieces):
    text = "".join(pieces)
    assert _collapsed_start(text) == _definition(text)


def test_long_texts_cut_at_every_offset():
    words = " \t\r\n".join(f"w{i}\u00a0x" for i in range(400))
    for cut in range(0, 3000, 37):
        text = " " * (cut % 5) + words[cut:]
        assert _collapsed_start(text) == _definition(text)
