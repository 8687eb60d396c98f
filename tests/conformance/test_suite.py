"""The whole suite against a real imapcore server on loopback (CI guard), and against a private Debian
Dovecot (the validation: every script passes there or names the Dovecot deviation it runs into).

Both go through the real command line (``imapcore conformance ... --json``) so its exit status, JSON
report and final line are checked too.
"""

from __future__ import annotations

import json
import warnings

import pytest

from imapcore.cli import main
from imapcore.conformance import dovecot
from support.server import server_process

#: imapcore failures found by the suite and reported to the server engineers (script -> finding).
#: A script listed here that starts to pass only warns; any other failure fails the test.
KNOWN_IMAPCORE_FAILURES: dict[str, str] = {}


USERS = {"conformance1": "pass-one", "conformance2": "pass-two"}


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-workers"])
def imapcore_server(request, tmp_path_factory):
    """One real imapcore server for the module (starting one costs seconds: argon2 user set-up): one
    process, and ``--workers 2``, where the two sessions of a script may be served by different
    processes and every cross-session expectation goes through the shared change feed."""
    with server_process(tmp_path_factory.mktemp("imapcore"), users=USERS,
                        extra_args=("--workers", str(request.param))) as server:
        yield server


def run_cli(args: list[str], tmp_path, capsys) -> tuple[int, dict, str]:
    report = tmp_path / "report.json"
    code = main(["conformance", *args, "--json", str(report), "--junit", str(tmp_path / "junit.xml")])
    out = capsys.readouterr().out
    return code, json.loads(report.read_text()), out


def test_suite_against_imapcore(imapcore_server, tmp_path, capsys):
    code, report, out = run_cli(
        ["--port", str(imapcore_server.port), "--user", "conformance1", "--password", "pass-one",
         "--user2", "conformance2", "--password2", "pass-two"],
        tmp_path, capsys,
    )
    summary = report["summary"]
    last_line = out.strip().splitlines()[-1]
    assert last_line == f"{summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped"
    failed = {s["name"]: s["message"] for s in report["scripts"] if s["status"] == "failed"}
    unexpected = {name: message for name, message in failed.items() if name not in KNOWN_IMAPCORE_FAILURES}
    if unexpected:  # what the server logged (a [SERVERBUG] answer's traceback) goes into the failure
        log_path = imapcore_server.data_dir / "server.log"
        log = log_path.read_text(errors="replace")[-20_000:] if log_path.exists() else "(no server.log)"
    assert not unexpected, "\n\n".join(f"{name}:\n{message}" for name, message in unexpected.items()) + (
        f"\n\nserver.log:\n{log}" if unexpected else "")
    fixed = set(KNOWN_IMAPCORE_FAILURES) - set(failed)
    if fixed:
        warnings.warn(f"now passing, remove from KNOWN_IMAPCORE_FAILURES: {sorted(fixed)}")
    assert code == (1 if failed else 0)
    assert summary["passed"] >= 450
    assert (tmp_path / "junit.xml").read_bytes().startswith(b"<?xml")


def test_suite_against_dovecot(tmp_path, capsys):
    if not dovecot.available():
        pytest.skip("dovecot is not installed (tests/run.sh installs dovecot-imapd)")
    code, report, out = run_cli(["--dovecot"], tmp_path, capsys)
    scripts = report["scripts"]
    wrong = [s for s in scripts if s["status"] == "failed" and not s["dovecot_deviation"]]
    if wrong:
        # Dovecot itself is occasionally flaky when many scripts run at once on a loaded machine (a
        # timeout in an IDLE/NOTIFY wait): a script is wrong only if it also fails alone, one at a time.
        _, again, _ = run_cli(["--dovecot", "--jobs", "1", "--only", *(s["name"] for s in wrong)],
                              tmp_path, capsys)
        still = {s["name"] for s in again["scripts"] if s["status"] == "failed"}
        flaky = [s["name"] for s in wrong if s["name"] not in still]
        if flaky:
            warnings.warn(f"Dovecot failed these only when run concurrently: {flaky}")
        wrong = [s for s in wrong if s["name"] in still]
    assert not wrong, "\n\n".join(f"{s['name']}:\n{s['message']}" for s in wrong)
    stale = [s["name"] for s in scripts if s["dovecot_deviation"] and s["status"] == "passed"]
    if stale:  # not wrong, but the note no longer describes what Dovecot does
        warnings.warn(f"deviation notes on scripts that pass on Dovecot: {stale}")
    assert report["summary"]["passed"] >= 400
    assert code == (1 if report["summary"]["failed"] else 0)
    assert "documented Dovecot deviations" in out


@pytest.mark.parametrize("mode", ["--tls", "--starttls"])
def test_tls_modes_against_imapcore(imapcore_server, tmp_path, capsys, mode):
    """The runner's TLS paths: implicit TLS on the TLS port, STARTTLS on the cleartext one."""
    port = imapcore_server.tls_port if mode == "--tls" else imapcore_server.port
    code, report, out = run_cli(
        ["--port", str(port), "--user", "conformance1", "--password", "pass-one", mode,
         "--only", "login", "capability", "select", "status"],
        tmp_path, capsys,
    )
    assert code == 0, out
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] >= 25
    # after TLS is up, STARTTLS is no longer advertised
    assert "STARTTLS" not in report["server"]["capabilities"]
