"""Transcripts against the running server over real TCP on 127.0.0.1 (session-level commands).

Each test reads like a conversation: what the client sends, what the server must answer, byte for byte
where the bytes are ours to choose."""

from __future__ import annotations

import base64

from imapcore.commands.context import ServerServices, SessionContext
from imapcore.server.config import Config
from support.server import ImapTestClient, running_server

USERS = {"alice": "secret", "bob": "hunter2"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_greeting_and_capabilities_before_and_after_login(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        assert client.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
        before = await client.command("a1", "CAPABILITY")
        assert before[-1] == b"a1 OK Capability completed\r\n"
        caps = before[0].split()
        assert caps[:2] == [b"*", b"CAPABILITY"]
        for name in (b"STARTTLS", b"AUTH=PLAIN", b"AUTH=LOGIN", b"SASL-IR", b"ID", b"ENABLE", b"IDLE"):
            assert name in caps
        assert b"LOGINDISABLED" not in caps  # loopback: cleartext login allowed
        login = await client.command("a2", "LOGIN alice secret")
        assert login[-1].startswith(b"a2 OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
        after = (await client.command("a3", "CAPABILITY"))[0].split()
        assert b"STARTTLS" not in after and b"AUTH=PLAIN" not in after
        assert after[2:4] == [b"IMAP4rev1", b"IMAP4rev2"]
        await client.aclose()


async def test_login_failures(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        assert await client.command("a1", "LOGIN alice wrong") == [b"a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"]
        assert await client.command("a2", "LOGIN nobody secret") == [b"a2 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"]
        assert (await client.command("a3", 'LOGIN "bob" {7+}\r\nhunter2'))[-1].startswith(b"a3 OK ")
        # RFC 9051 §6.2.3: LOGIN is only valid before authentication.
        assert await client.command("a4", "LOGIN alice secret") == [b"a4 BAD LOGIN not allowed: already authenticated\r\n"]
        await client.aclose()


async def test_authenticate_plain_with_and_without_initial_response(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        ir = b64(b"\0alice\0secret")
        assert (await client.command("a1", f"AUTHENTICATE PLAIN {ir}"))[-1].startswith(b"a1 OK [CAPABILITY ")
        await client.aclose()

        client = await ImapTestClient.connect(srv.port)
        await client.send("b1 AUTHENTICATE PLAIN\r\n")
        assert await client.read_line() == b"+ \r\n"  # empty challenge (RFC 4959 §3)
        await client.send(b64(b"\0bob\0hunter2") + "\r\n")
        assert (await client.read_line()).startswith(b"b1 OK [CAPABILITY ")
        await client.aclose()

        client = await ImapTestClient.connect(srv.port)
        wrong = b64(b"\0alice\0nope")
        assert await client.command("c1", f"AUTHENTICATE PLAIN {wrong}") == [
            b"c1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"]
        # Someone else's identity (authzid) is refused.
        other = b64(b"bob\0alice\0secret")
        assert (await client.command("c2", f"AUTHENTICATE PLAIN {other}"))[-1].startswith(b"c2 NO [AUTHORIZATIONFAILED]")
        assert (await client.command("c3", "AUTHENTICATE CRAM-MD5"))[-1].startswith(b"c3 NO Unsupported")
        await client.aclose()


async def test_authenticate_login_mechanism_and_cancel(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        await client.send("a1 AUTHENTICATE LOGIN\r\n")
        assert await client.read_line() == f"+ {b64(b'Username:')}\r\n".encode()
        await client.send(b64(b"alice") + "\r\n")
        assert await client.read_line() == f"+ {b64(b'Password:')}\r\n".encode()
        await client.send(b64(b"secret") + "\r\n")
        assert (await client.read_line()).startswith(b"a1 OK [CAPABILITY ")
        await client.aclose()

        client = await ImapTestClient.connect(srv.port)
        await client.send("b1 AUTHENTICATE PLAIN\r\n")
        assert await client.read_line() == b"+ \r\n"
        await client.send("*\r\n")  # RFC 9051 §6.2.2: the client cancels
        assert await client.read_line() == b"b1 BAD AUTHENTICATE cancelled\r\n"
        # Still not authenticated, still usable.
        assert await client.command("b2", "NOOP") == [b"b2 OK NOOP completed\r\n"]
        assert (await client.command("b3", "LOGIN alice secret"))[-1].startswith(b"b3 OK ")
        await client.aclose()


async def test_enable_id_noop_logout(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        # ENABLE before login is a wrong-state command (RFC 5161 §3.1).
        assert await client.command("a0", "ENABLE IMAP4rev2") == [b"a0 BAD ENABLE not allowed before authentication\r\n"]
        id_lines = await client.command("a1", 'ID ("name" "transcript-test" "version" "1")')
        assert id_lines[0].startswith(b'* ID ("name" "imapcore" "version" ')
        assert id_lines[-1] == b"a1 OK ID completed\r\n"
        await client.command("a2", "LOGIN alice secret")
        assert await client.command("a3", "ENABLE IMAP4rev2 X-UNKNOWN") == [
            b"* ENABLED IMAP4rev2\r\n", b"a3 OK Enabled\r\n"]
        # Already enabled: RFC 5161 §3.2, the ENABLED response is sent, listing nothing new.
        assert await client.command("a4", "ENABLE IMAP4rev2 UTF8=ACCEPT") == [
            b"* ENABLED UTF8=ACCEPT\r\n", b"a4 OK Enabled\r\n"]
        assert await client.command("a5", "NOOP") == [b"a5 OK NOOP completed\r\n"]
        assert await client.command("a6", "LOGOUT") == [b"* BYE Logging out\r\n", b"a6 OK Logout completed\r\n"]
        assert await client.at_eof()


async def test_bad_input_keeps_the_session_usable(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        garbage = await client.command("a1", "FROBNICATE the mailbox")
        assert garbage[-1].startswith(b"a1 BAD ")
        await client.send(b"\x00\x01\xff junk without tag\r\n")
        assert (await client.read_line()).startswith(b"* BAD ")  # no usable tag: untagged BAD
        assert await client.command("a2", "NOOP") == [b"a2 OK NOOP completed\r\n"]
        # Wrong state: selected-state commands before login, with the reason.
        assert await client.command("a3", "FETCH 1 FLAGS") == [b"a3 BAD FETCH requires a selected mailbox\r\n"]
        assert await client.command("a4", "LIST \"\" *") == [b"a4 BAD LIST not allowed before authentication\r\n"]
        # Commands parsed but not implemented (not advertised) are BAD, and the session goes on.
        assert (await client.command("a5", "LOGIN alice secret"))[-1].startswith(b"a5 OK ")
        assert (await client.command("a6", "COMPRESS DEFLATE"))[-1].startswith(b"a6 BAD ")
        assert await client.command("a7", "NOOP") == [b"a7 OK NOOP completed\r\n"]
        await client.aclose()


async def test_pipelined_commands_are_answered_in_order(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        await client.send("p1 NOOP\r\np2 LOGIN alice secret\r\np3 ENABLE UTF8=ACCEPT\r\np4 NOOP\r\n")
        lines = await client.read_until_tagged("p4")
        tags = [line.split()[0] for line in lines if not line.startswith(b"*")]
        assert tags == [b"p1", b"p2", b"p3", b"p4"]
        assert b"* ENABLED UTF8=ACCEPT\r\n" in lines
        await client.aclose()


async def test_unauthenticate_returns_to_not_authenticated(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        await client.command("a1", "LOGIN alice secret")
        await client.command("a2", "ENABLE UTF8=ACCEPT")
        assert await client.command("a3", "UNAUTHENTICATE") == [b"a3 OK Unauthenticated\r\n"]
        caps = (await client.command("a4", "CAPABILITY"))[0].split()
        assert b"AUTH=PLAIN" in caps
        assert (await client.command("a5", "LOGIN bob hunter2"))[-1].startswith(b"a5 OK ")
        # RFC 8437 §3: what was enabled before is off again, so it can be enabled anew.
        assert await client.command("a6", "ENABLE UTF8=ACCEPT") == [b"* ENABLED UTF8=ACCEPT\r\n", b"a6 OK Enabled\r\n"]
        await client.aclose()


def test_cleartext_login_refused_off_loopback(tmp_path):
    """RFC 9051 §6.2.3: LOGINDISABLED on an insecure link; LOGIN there is NO [PRIVACYREQUIRED]."""
    services = ServerServices(None, None, Config(data_dir=str(tmp_path)), None, None)
    remote = SessionContext(services, None, remote_address=("192.0.2.7", 50000), tls=False)
    assert "LOGINDISABLED" in remote.capabilities() and "AUTH=PLAIN" not in remote.capabilities()
    assert "STARTTLS" in remote.capabilities()
    secure = SessionContext(services, None, remote_address=("192.0.2.7", 50000), tls=True)
    assert "AUTH=PLAIN" in secure.capabilities() and "STARTTLS" not in secure.capabilities()
    local6 = SessionContext(services, None, remote_address=("::1", 50000), tls=False)
    assert local6.cleartext_auth_allowed


async def test_a_failing_handler_answers_serverbug_and_the_session_goes_on(tmp_path, monkeypatch, caplog):
    from imapcore.commands import HANDLERS
    from imapcore.store import MailboxNotFound
    from imapcore.syntax import commands as c

    async def broken(ctx, cmd):
        raise ZeroDivisionError("a bug")

    async def refused(ctx, cmd):
        raise MailboxNotFound("Somewhere", target=True)

    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        monkeypatch.setitem(HANDLERS, c.Noop, broken)
        assert await client.command("a1", "NOOP") == [
            b"a1 NO [SERVERBUG] Internal error, the command was not completed\r\n"]
        assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)
        # Store refusals are mapped in one place to NO with the store's response code.
        monkeypatch.setitem(HANDLERS, c.Noop, refused)
        assert (await client.command("a2", "NOOP"))[-1].startswith(b"a2 NO [TRYCREATE] ")
        monkeypatch.undo()
        assert await client.command("a3", "NOOP") == [b"a3 OK NOOP completed\r\n"]
        await client.aclose()
