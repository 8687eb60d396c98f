"""CI's short, bounded fuzz pass: the fuzz targets run for a few seconds each and must come back clean.

They run as subprocesses, as an operator would run them (``python -m fuzz.parser --seconds N``), but with
the installed ``imapcore`` first on the path (``-P``: the checkout directory is only appended so that the
``fuzz`` package is importable).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("IMAPCORE_FUZZ_SECONDS", "15"))


def run_fuzzer(module: str, *args: str) -> subprocess.CompletedProcess:
    launcher = (
        "import runpy, sys; sys.path.append(sys.argv.pop(1)); "
        f"sys.argv[0] = {module!r}; runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    )
    return subprocess.run(
        [sys.executable, "-P", "-c", launcher, str(ROOT), "--seconds", str(SECONDS), *args],
        capture_output=True, text=True, timeout=SECONDS * 6 + 120, cwd=ROOT,
    )


def test_parser_fuzz_pass_is_clean():
    result = run_fuzzer("fuzz.parser")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_tokenizer_fuzz_pass_is_clean():
    pytest.importorskip("imapcore._ctokenizer", reason="the C tokenizer is compared with its Python twin")
    result = run_fuzzer("fuzz.tokenizer")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
