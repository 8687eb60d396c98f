"""TLS with real clients: STARTTLS on the cleartext listener and implicit TLS, trusting the self-signed
certificate imapcore generated into its data directory on first start (RFC 9051 §6.2.1, §11.1).

imapcore only: the Dovecot reference runs with ``ssl = no`` (the tests compare protocol behaviour, and
TLS there would add nothing to that comparison), so this module's ``server`` is imapcore alone.
"""

from __future__ import annotations

import imaplib
import ssl
import warnings

import pytest

from support.live_servers import UserPool, live_server, pool_users

from .conftest import PASSWORD, POOL_SIZE


@pytest.fixture(scope="module")
def server():
    with live_server("imapcore", pool_users(POOL_SIZE, prefix="tls", password=PASSWORD)) as live:
        live.pool = UserPool(live)
        yield live


def _context(server) -> ssl.SSLContext:
    assert server.kind == "imapcore"
    assert server.cert_file is not None, "no self-signed certificate in the data directory"
    context = ssl.create_default_context(cafile=str(server.cert_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def test_starttls_then_login(account):
    server, user, password = account
    context = _context(server)
    client = imaplib.IMAP4(server.host, server.port, timeout=20)
    assert "STARTTLS" in client.capabilities
    typ, _ = client.starttls(ssl_context=context)
    assert typ == "OK"
    assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
    # RFC 9051 §6.2.1: the capability list is discarded and asked again after STARTTLS; no STARTTLS now.
    assert "STARTTLS" not in client.capabilities
    typ, _ = client.login(user, password)
    assert typ == "OK"
    typ, data = client.select("INBOX")
    assert typ == "OK"
    client.logout()


def test_implicit_tls_login(account):
    server, user, password = account
    context = _context(server)
    client = imaplib.IMAP4_SSL(server.host, server.tls_port, ssl_context=context, timeout=20)
    assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
    assert "STARTTLS" not in client.capabilities
    typ, _ = client.login(user, password)
    assert typ == "OK"
    assert client.noop()[0] == "OK"
    client.logout()


def test_tls_1_1_is_refused(account):
    server, _, _ = account
    context = _context(server)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/TLSv1_1 names are deprecated: that is the point
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, OSError, imaplib.IMAP4.abort)) as info:
        client = imaplib.IMAP4_SSL(server.host, server.tls_port, ssl_context=context, timeout=10)
        client.logout()
    # The client did offer TLS 1.1 (a local refusal would say NO_PROTOCOLS_AVAILABLE): the server refused.
    assert "NO_PROTOCOLS_AVAILABLE" not in str(info.value)
