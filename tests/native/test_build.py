"""The C tokenizer must really be built where CI builds it: a silently failed build is a failure here.

``setup.py`` tolerates a failed C build (the pure-Python twin takes over), which is right for users
without a compiler but would hide a broken ``native/tokenizer.c`` in CI. Unless ``IMAPCORE_PURE_PYTHON``
is set, these tests insist that the extension imports and is the active tokenizer.
"""

import os
import subprocess
import sys

import pytest

pure_python = os.environ.get("IMAPCORE_PURE_PYTHON") == "1"


@pytest.mark.skipif(pure_python, reason="IMAPCORE_PURE_PYTHON=1 forces the Python twin")
def test_c_extension_is_built_and_active():
    import imapcore._ctokenizer  # noqa: F401  (an ImportError here means the cffi build failed)
    from imapcore.syntax import tokenizer
    from imapcore.syntax.ctokenizer import Tokenizer as CTokenizer

    assert tokenizer.Tokenizer is CTokenizer
    assert tokenizer.IMPLEMENTATION == "C (cffi)"


@pytest.mark.skipif(pure_python, reason="IMAPCORE_PURE_PYTHON=1 forces the Python twin")
def test_version_names_the_c_tokenizer():
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from imapcore.cli import main; sys.exit(main(['--version']))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "tokenizer: C (cffi)" in result.stdout
    # CI installs with a compiler: every C part must have been built (a failed build would silently fall
    # back to its Python twin and only be slower).
    assert "other C parts built: serialize, terms, fold, blobio, wakeup" in result.stdout


def test_pure_python_is_forced_by_the_environment():
    code = "from imapcore.syntax import tokenizer; print(tokenizer.IMPLEMENTATION)"
    env = dict(os.environ, IMAPCORE_PURE_PYTHON="1")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "python (forced by IMAPCORE_PURE_PYTHON=1)"
