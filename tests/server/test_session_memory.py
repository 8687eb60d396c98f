"""The session over an in-memory stream, where the peer address can be anything: a client that is
neither on loopback nor behind TLS sees LOGINDISABLED and gets NO [PRIVACYREQUIRED] for cleartext
authentication (RFC 9051 §6.2.3, §11.1)."""

from __future__ import annotations

import base64

import trio
import trio.testing

from imapcore.auth.authenticator import Authenticator
from imapcore.commands.context import ServerServices
from imapcore.server.app import tls_context
from imapcore.server.config import Config
from imapcore.server.session import Session
from imapcore.server.users import add_user
from imapcore.store import InProcessFeed, Store, UserNotFound
from support.server import ImapTestClient


async def test_cleartext_authentication_refused_from_a_remote_address(tmp_path):
    config = Config(data_dir=str(tmp_path / "data"))
    config.data_path.mkdir(parents=True)
    store = Store.open(config.data_path, feed=InProcessFeed())
    add_user(store, "alice", "secret")

    def lookup(user):
        try:
            return store.user(user).password_hash
        except UserNotFound:
            return None

    services = ServerServices(store, store.feed, config, Authenticator(lookup), trio.CapacityLimiter(2))
    client_stream, server_stream = trio.testing.memory_stream_pair()
    session = Session(services, server_stream, remote_address=("192.0.2.10", 40000), tls=False,
                      ssl_context=tls_context(config))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(session.run)
        client = ImapTestClient(client_stream)
        greeting = await client.read_line()
        assert b" LOGINDISABLED" in greeting and b"AUTH=PLAIN" not in greeting and b" STARTTLS" in greeting
        assert await client.command("a1", "LOGIN alice secret") == [
            b"a1 NO [PRIVACYREQUIRED] Plaintext authentication is disallowed on non-secure connections; "
            b"use STARTTLS\r\n"]
        plain = base64.b64encode(b"\0alice\0secret").decode()
        assert (await client.command("a2", f"AUTHENTICATE PLAIN {plain}"))[-1].startswith(b"a2 NO [PRIVACYREQUIRED]")
        assert await client.command("a3", "LOGOUT") == [b"* BYE Logging out\r\n", b"a3 OK Logout completed\r\n"]
        assert await client.at_eof()
    store.close()
