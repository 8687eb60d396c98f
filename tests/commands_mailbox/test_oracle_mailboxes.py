"""The mailbox commands against Dovecot as an oracle: ``oracle/*.txt`` scripts (format and normalisation:
``support/oracle_kit.py``) give the same normalised answers on Dovecot and on imapcore. Both servers run
as subprocesses on loopback (``support.live_servers``); skipped where Dovecot is not installed."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from support.live_servers import SERVER_KINDS, UserPool, live_server, pool_users, skip_unless_available
from support.oracle_kit import answers_match, differences, load_scripts, normalised, run_script, transcript

SCRIPTS = load_scripts(Path(__file__).parent / "oracle")


@pytest.fixture(scope="module")
def servers():
    for kind in SERVER_KINDS:
        skip_unless_available(kind)
    users = pool_users(len(SCRIPTS) + 1, prefix="mb", password="mailbox-pw")
    with contextlib.ExitStack() as stack:
        started = {}
        for kind in SERVER_KINDS:
            live = stack.enter_context(live_server(kind, users))
            live.pool = UserPool(live)
            started[kind] = live
        yield started


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_same_answers_as_dovecot(servers, name):
    results = {}
    for kind, server in servers.items():
        user, password = server.pool.take()
        results[kind] = run_script(server.host, server.port, user, password, SCRIPTS[name])
    expected, actual = normalised(results["dovecot"]), normalised(results["imapcore"])
    if not answers_match(expected, actual):
        pytest.fail(
            f"{name}: normalised answers differ (- dovecot, + imapcore)\n{differences(expected, actual)}\n"
            f"--- dovecot raw ---\n{transcript(results['dovecot'])}\n--- imapcore raw ---\n{transcript(results['imapcore'])}"
        )
