"""SEARCH folding: the C twin (native/fold.c) equals the Python specification, for every code point and
for random strings (canonical ordering of combining marks across characters included)."""

import os
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapcore.mail import search
from imapcore.mail.search import search_fold_py

HAVE_C = search._lib is not None
needs_c = pytest.mark.skipif(not HAVE_C, reason="imapcore._cfold not built for this Unicode version")

# Characters whose folding is interesting: expansions (ß, ﬃ, ﷺ), decompositions (é, Å, ǅ), Hangul,
# combining marks of several classes (to be reordered), ASCII, and a 4-byte character.
INTERESTING = "aZß\u00e9\u00c5\u01c5\ufb03\ufdfa\uac00\ud7a3\u1100\u0301\u0316\u0327\u05b0\u0f71\u0345\u1e9e\u2126\U0001d400\U0001f600 \n"


def test_python_reference():
    assert search_fold_py("Stra\u00dfe") == "strasse"
    assert search_fold_py("\u00c9T\u00c9") == "e\u0301te\u0301"
    assert search_fold_py("ASCII Only") == "ascii only"


@needs_c
def test_every_code_point_alone():
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    text = " ".join(points)
    assert search.search_fold_c(text) == search_fold_py(text)


@needs_c
@settings(max_examples=800, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(INTERESTING)), max_size=120) | st.text(max_size=120))
def test_c_twin_equals_python(text):
    assert search.search_fold_c(text) == search_fold_py(text)


@needs_c
def test_growth_retry_and_fallbacks():
    assert search.search_fold_c("\ufdfa" * 200) == search_fold_py("\ufdfa" * 200)  # x11 the input
    long_run = "a" + "\u0301\u0316" * 100  # a combining run too long for the C side
    assert search.search_fold_c(long_run) == search_fold_py(long_run)
    assert search.search_fold_c("\u00e9 \ud800") == search_fold_py("\u00e9 \ud800")  # lone surrogate


@needs_c
def test_built_for_this_unicode_version():
    assert search._ffi.string(search._lib.imc_fold_unidata_version()).decode() == unicodedata.unidata_version


def test_default_implementation_follows_the_environment():
    if os.environ.get("IMAPCORE_PURE_PYTHON") == "1" or not HAVE_C:
        assert search.search_fold is search_fold_py
    else:
        assert search.search_fold is search._search_fold_fast


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(INTERESTING)), min_size=500, max_size=900) | st.text(max_size=700))
def test_utf8_form_is_the_encoded_fold(text):
    # What the store keeps: the same text as search_fold, as UTF-8 (a lone surrogate becomes "?").
    assert search.search_fold_utf8(text) == search_fold_py(text).encode("utf-8", "replace")
