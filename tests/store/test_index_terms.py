"""The index words of a folded text: the C twin (native/terms.c) equals the Python specification."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapcore.store import fulltext
from imapcore.store.fulltext import index_terms_py

HAVE_C = fulltext._lib is not None
needs_c = pytest.mark.skipif(not HAVE_C, reason="imapcore._cterms not built")

# Every code point str.split() splits on, and neighbours of their UTF-8 encodings that are not spaces.
SPACES = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
NEAR_MISSES = "\u0084\u0086\u009f\u00a1\u1681\u167f\u200b\u2027\u202a\u202e\u2030\u205e\u2060\u3001\u2fff\u0100\u0000"
ALPHABET = st.sampled_from(list(SPACES + NEAR_MISSES + "ab\u00e9\u00df\u4e2d\U0001f600 \0"))


def test_python_reference():
    assert index_terms_py("b a  b\tc\u3000a\u00a0d\0e b") == "b a c d e"
    assert index_terms_py("") == ""
    assert index_terms_py(" \u2028 ") == ""


@needs_c
def test_c_on_fixed_texts():
    for text in ["", " ", "a", "a a", "stra\u00dfe strasse stra\u00dfe", "x\u200by x\u200by", "\0a\0b\0a",
                 "word " * 5000 + " ".join(f"w{i}" for i in range(20000)), SPACES.join("abc")]:
        assert fulltext.index_terms_c(text) == index_terms_py(text), repr(text[:80])


@needs_c
@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=300) | st.text(max_size=300))
def test_c_twin_equals_python(text):
    assert fulltext.index_terms_c(text) == index_terms_py(text)


@needs_c
def test_lone_surrogate_falls_back():
    assert fulltext.index_terms_c("a \ud800 a") == "a \ud800"


def test_default_implementation_follows_the_environment():
    if os.environ.get("IMAPCORE_PURE_PYTHON") == "1" or not HAVE_C:
        assert fulltext.index_terms is index_terms_py
    else:
        assert fulltext.index_terms is fulltext._index_terms_fast
        assert fulltext.index_terms("a b a " * 100) == "a b"
