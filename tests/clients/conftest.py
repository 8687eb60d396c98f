"""Fixtures for the real-client tests: each test runs against imapcore AND Dovecot.

The ``server`` fixture is parametrized over ``imapcore`` and ``dovecot`` and shared by the whole session
(one start per kind); ``account`` hands each test a user nobody used before on that server, so tests stay
independent without restarting servers. A test that passes on Dovecot and fails on imapcore points at a
server bug, not a test bug.
"""

from __future__ import annotations

import pytest

from support.live_servers import SERVER_KINDS, UserPool, live_server, pool_users, skip_unless_available

POOL_SIZE = 60
PASSWORD = "client-pw"


@pytest.fixture(scope="session", params=SERVER_KINDS)
def server(request):
    skip_unless_available(request.param)
    with live_server(request.param, pool_users(POOL_SIZE, prefix="cl", password=PASSWORD)) as live:
        live.pool = UserPool(live)
        yield live


@pytest.fixture
def account(server):
    """(server, user, password) for a user never used before on ``server``."""
    user, password = server.pool.take()
    return server, user, password
