"""Shared test set-up.

Tests run in pytest's importlib mode from the repository root, so ``import imapcore`` is the installed
package (CI installs the wheel). Helpers shared by several test folders live in ``tests/support/`` and are
imported as ``support.<module>``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The repository root goes LAST, so `fuzz` and `benchmarks` import while `imapcore` stays the installed one.
sys.path.append(str(Path(__file__).resolve().parent.parent))
