"""Dovecot as an oracle: the same scripted sessions against Dovecot and imapcore give the same answers.

Each script in ``scripts/`` (format and normalisation rules: ``support/oracle_kit.py``) runs as a fresh
user on a Dovecot 2.3 and on an imapcore started with ``imapcore serve``; after normalisation, every step
must produce the same responses. ``test_script_sane_on_dovecot`` first checks the script against Dovecot
alone (every step answered, none hanging), so a failure of ``test_same_answers`` is a difference of
imapcore, not a broken script.

Documented differences (each allowed by the RFC text quoted; the normalisation in oracle_kit removes
them, or the script avoids them):

* Human-readable texts: Dovecot appends timings "(0.001 + 0.000 secs)". RFC 9051 §7.1: "The
  human-readable text ... is not specified". Dropped.
* Capability lists differ: Dovecot lists SORT, THREAD, NOTIFY, URLAUTH..., imapcore lists IMAP4rev2,
  OBJECTID... RFC 9051 §7.2.2: the server lists the capabilities it supports. Replaced by <caps>.
* UIDVALIDITY: Dovecot uses the creation time, imapcore its own counter. RFC 9051 §2.3.1.1: "unique
  identifier validity value". Replaced by <uidvalidity>, also inside APPENDUID/COPYUID.
* MODSEQ numbers: RFC 7162 §3.1.1 only requires them to increase ("the server MUST guarantee that each
  STORE command performed on the same mailbox ... will get a different mod-sequence value"). Values
  become <modseq>; which messages CHANGEDSINCE/UNCHANGEDSINCE/MODIFIED select is compared.
* EXPUNGE order: Dovecot reports a multi-message expunge from the highest number down ("5, 4"), a
  server may as well go up ("4, 4"); RFC 9051 §7.5.1 defines each EXPUNGE against the numbering left by
  the previous one, so the removed set is compared.
* Untagged ``* OK`` responses without a response code (Dovecot's "Searched 50%...", "Still here") are
  informational (RFC 9051 §7.1.1) and dropped.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from support.live_servers import SERVER_KINDS, UserPool, live_server, pool_users, skip_unless_available
from support.oracle_kit import answers_match, differences, load_scripts, normalised, run_script, transcript

SCRIPTS = load_scripts(Path(__file__).parent / "scripts")


@pytest.fixture(scope="module")
def servers():
    for kind in SERVER_KINDS:
        skip_unless_available(kind)
    users = pool_users(3 * len(SCRIPTS) + 4, prefix="or", password="oracle-pw")
    with contextlib.ExitStack() as stack:
        started = {}
        for kind in SERVER_KINDS:
            live = stack.enter_context(live_server(kind, users))
            live.pool = UserPool(live)
            started[kind] = live
        yield started


@pytest.fixture(scope="module")
def dovecot():
    skip_unless_available("dovecot")
    with live_server("dovecot", pool_users(len(SCRIPTS) + 2, prefix="dv", password="oracle-pw")) as live:
        live.pool = UserPool(live)
        yield live


def _run(server, steps):
    user, password = server.pool.take()
    return run_script(server.host, server.port, user, password, steps)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_sane_on_dovecot(dovecot, name):
    results = _run(dovecot, SCRIPTS[name])
    assert len(results) == sum(1 for s in SCRIPTS[name] if s.kind == "command")
    for result in results:
        # Every command got an answer; a tagged BAD only where the script says so ("A!" steps).
        assert result.responses, result.sent
        last = result.responses[-1]
        if not result.step.expect_bad and last.split(b" ")[1:2] == [b"BAD"]:
            raise AssertionError(f"{name}: Dovecot rejected {result.sent!r}: {last!r}\n{transcript(results)}")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_same_answers(servers, name):
    results = {kind: _run(server, SCRIPTS[name]) for kind, server in servers.items()}
    expected, actual = normalised(results["dovecot"]), normalised(results["imapcore"])
    if not answers_match(expected, actual):
        report = differences(expected, actual)
        pytest.fail(
            f"{name}: normalised answers differ (- dovecot, + imapcore)\n{report}\n"
            f"--- imapcore raw ---\n{transcript(results['imapcore'])}"
        )
