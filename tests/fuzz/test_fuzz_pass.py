"""CI's short, bounded fuzz pass: the fuzz targets run for a few seconds each and must come back clean.

They run as subprocesses, as an operator would run them (``python -m fuzz.parser --seconds N``), from a
directory holding only a copy of the ``fuzz`` package, so ``imapcore`` is the installed one.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.shared import SHARED

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("IMAPCORE_FUZZ_SECONDS", "15"))


def run_fuzzer(tmp_path: Path, module: str, *args: str) -> subprocess.CompletedProcess:
    shutil.copytree(ROOT / "fuzz", tmp_path / "fuzz", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "IMAPCORE_SHARED": str(SHARED)}
    return subprocess.run(
        [sys.executable, "-m", module, "--seconds", str(SECONDS), *args],
        capture_output=True, text=True, timeout=SECONDS * 6 + 120, cwd=tmp_path, env=env,
    )


def test_parser_fuzz_pass_is_clean(tmp_path):
    result = run_fuzzer(tmp_path, "fuzz.parser")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_tokenizer_fuzz_pass_is_clean(tmp_path):
    pytest.importorskip("imapcore._ctokenizer", reason="the C tokenizer is compared with its Python twin")
    result = run_fuzzer(tmp_path, "fuzz.tokenizer")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
