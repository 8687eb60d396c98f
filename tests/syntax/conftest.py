"""Fixtures of the syntax tests: every tokenizer test runs on both implementations when the C one exists."""

import pytest

from imapcore.syntax.pytokenizer import Tokenizer as PyTokenizer

IMPLEMENTATIONS = [pytest.param(PyTokenizer, id="python")]
try:
    from imapcore.syntax.ctokenizer import Tokenizer as CTokenizer
except ImportError:  # the C extension is not built here; CI builds it
    CTokenizer = None
else:
    IMPLEMENTATIONS.append(pytest.param(CTokenizer, id="c"))


@pytest.fixture(params=IMPLEMENTATIONS)
def tokenizer_class(request):
    return request.param
