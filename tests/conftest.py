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


# A skip is not a pass. CI's full run sets IMAPCORE_NO_SKIPS=1 (tests/run.sh), having installed every
# tool the tests need (Dovecot, mbsync, offlineimap3, the C extensions, the traffic corpus beside the
# checkout): there any skip, of a test or of a whole module, is reported as a failure, so a missing tool
# can never turn into a green run. Locally the skips stay skips.
import os  # noqa: E402

import pytest  # noqa: E402

_NO_SKIPS = os.environ.get("IMAPCORE_NO_SKIPS") == "1"


def _fail_skip(report) -> None:
    if _NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in a run that must run every test (IMAPCORE_NO_SKIPS=1): {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip(outcome.get_result())
