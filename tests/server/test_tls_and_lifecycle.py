"""STARTTLS and implicit TLS with the self-signed certificate; disconnects in awkward places leave no
task behind; timers, the connection limit and graceful shutdown."""

from __future__ import annotations

import dataclasses
import ssl

import trio

from imapcore.server.config import Limits
from support.server import ImapTestClient, quick_timeouts, running_server

USERS = {"alice": "secret"}


def count_tasks() -> int:
    def walk(task) -> int:
        return 1 + sum(walk(child) for nursery in task.child_nurseries for child in nursery.child_tasks)

    return walk(trio.lowlevel.current_root_task())


async def settle_to(baseline: int, timeout: float = 5.0) -> int:
    """Wait until the task count is back to ``baseline`` (sessions end asynchronously)."""
    with trio.move_on_after(timeout):
        while count_tasks() > baseline:
            await trio.sleep(0.02)
    return count_tasks()


async def test_starttls_then_login(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        # The command sent right after STARTTLS, before the handshake, must be discarded (RFC 9051
        # §6.2.1, the command-injection attack): only the OK comes back, then TLS.
        await client.send("t1 STARTTLS\r\nt2 LOGIN alice secret\r\n")
        assert await client.read_line() == b"t1 OK Begin TLS negotiation now\r\n"
        tls_stream = trio.SSLStream(client.stream, srv.client_ssl_context(), server_hostname="localhost")
        with trio.fail_after(5):
            await tls_stream.do_handshake()
        assert tls_stream.cipher() is not None
        assert tls_stream.version() in ("TLSv1.2", "TLSv1.3")
        secure = ImapTestClient(tls_stream)
        caps = (await secure.command("t3", "CAPABILITY"))[0].split()
        assert b"STARTTLS" not in caps and b"AUTH=PLAIN" in caps
        assert (await secure.command("t4", "STARTTLS")) == [b"t4 BAD TLS is already active\r\n"]
        assert (await secure.command("t5", "LOGIN alice secret"))[-1].startswith(b"t5 OK ")
        await secure.aclose()


async def test_implicit_tls(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.tls_port, tls_context=srv.client_ssl_context())
        assert client.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
        assert b"STARTTLS" not in client.greeting
        assert (await client.command("a1", "LOGIN alice secret"))[-1].startswith(b"a1 OK ")
        await client.aclose()


async def test_tls_1_2_client_is_served(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        context = srv.client_ssl_context()
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        client = await ImapTestClient.connect(srv.tls_port, tls_context=context)
        assert client.stream.version() == "TLSv1.2"
        assert client.greeting.startswith(b"* OK ")
        await client.aclose()


async def test_disconnects_leave_no_task_behind(tmp_path, caplog):
    async with running_server(tmp_path, users=USERS, timeouts=quick_timeouts()) as srv:
        await trio.sleep(0.05)
        baseline = count_tasks()
        # Mid-literal: the literal is announced and half sent.
        client = await ImapTestClient.connect(srv.port)
        await client.command("a1", "LOGIN alice secret")
        await client.send("a2 APPEND INBOX {100}\r\n")
        assert await client.read_line() == b"+ Ready for literal data\r\n"
        await client.send(b"From: x\r\n")
        await client.aclose()
        # Mid-IDLE.
        client = await ImapTestClient.connect(srv.port)
        await client.command("b1", "LOGIN alice secret")
        await client.send("b2 IDLE\r\n")
        assert await client.read_line() == b"+ idling\r\n"
        await client.aclose()
        # Mid-handshake on the implicit-TLS port, and mid-STARTTLS.
        raw = await trio.open_tcp_stream("127.0.0.1", srv.tls_port)
        await raw.send_all(b"\x16\x03\x01\x00\xa5\x01\x00\x00")  # the start of a ClientHello
        await raw.aclose()
        client = await ImapTestClient.connect(srv.port)
        await client.command("c1", "STARTTLS")
        await client.send(b"\x16\x03\x01")
        await client.aclose()
        # Mid-AUTHENTICATE.
        client = await ImapTestClient.connect(srv.port)
        await client.send("d1 AUTHENTICATE PLAIN\r\n")
        assert await client.read_line() == b"+ \r\n"
        await client.aclose()
        assert await settle_to(baseline) == baseline
        # Hang-ups are ordinary: nothing was logged as an error.
        assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
        # And the server still serves.
        client = await ImapTestClient.connect(srv.port)
        assert (await client.command("e1", "LOGIN alice secret"))[-1].startswith(b"e1 OK ")
        await client.aclose()


async def test_idle_done_and_bad_line(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        client = await ImapTestClient.connect(srv.port)
        await client.command("a1", "LOGIN alice secret")
        await client.send("a2 IDLE\r\n")
        assert await client.read_line() == b"+ idling\r\n"
        await client.send("done\r\n")  # case-insensitive (RFC 2177)
        assert await client.read_line() == b"a2 OK IDLE terminated\r\n"
        await client.send("a3 IDLE\r\n")
        assert await client.read_line() == b"+ idling\r\n"
        await client.send("a4 NOOP\r\n")  # not DONE: the IDLE ends with BAD
        assert await client.read_line() == b"a3 BAD Expected DONE to end IDLE\r\n"
        assert await client.command("a5", "NOOP") == [b"a5 OK NOOP completed\r\n"]
        await client.aclose()


async def test_pre_login_autologout(tmp_path):
    async with running_server(tmp_path, users=USERS, timeouts=quick_timeouts(pre_login_s=0.3)) as srv:
        client = await ImapTestClient.connect(srv.port)
        assert await client.read_line(timeout=5) == b"* BYE Autologout; idle for too long\r\n"
        assert await client.at_eof()


async def test_logged_in_autologout_between_commands_and_in_idle(tmp_path):
    """After login the timer is kept by ``server/autologout.py`` (no cancel scope per read): a session
    that keeps sending commands stays, one that goes quiet gets BYE, also inside IDLE."""
    timeouts = quick_timeouts(idle_timeout_s=1.2, idle_rearm_s=1.2)
    async with running_server(tmp_path, users=USERS, timeouts=timeouts) as srv:
        busy = await ImapTestClient.connect(srv.port)
        quiet = await ImapTestClient.connect(srv.port)
        idler = await ImapTestClient.connect(srv.port)
        for n, client in enumerate((busy, quiet, idler)):
            assert (await client.command(f"l{n}", "LOGIN alice secret"))[-1].startswith(f"l{n} OK".encode())
        await idler.send("i1 IDLE\r\n")
        assert await idler.read_line() == b"+ idling\r\n"
        started = trio.current_time()
        for n in range(8):  # 2.4 s of commands 0.3 s apart: twice the timeout, never idle for as long
            await trio.sleep(0.3)
            assert await busy.command(f"b{n}", "NOOP") == [f"b{n} OK NOOP completed\r\n".encode()]
        assert await quiet.read_line(timeout=5) == b"* BYE Autologout; idle for too long\r\n"
        assert await quiet.at_eof()
        assert await idler.read_line(timeout=5) == b"* BYE Autologout; idle for too long\r\n"
        assert await idler.at_eof()
        assert trio.current_time() - started < 4
        assert await busy.command("b9", "NOOP") == [b"b9 OK NOOP completed\r\n"]
        await busy.aclose()


async def test_connection_limit(tmp_path):
    limits = dataclasses.replace(Limits(), max_connections=1)
    async with running_server(tmp_path, users=USERS, limits=limits) as srv:
        first = await ImapTestClient.connect(srv.port)
        second = await ImapTestClient.connect(srv.port)
        assert second.greeting == b"* BYE [UNAVAILABLE] Too many connections\r\n"
        assert await second.at_eof()
        assert await first.command("a1", "NOOP") == [b"a1 OK NOOP completed\r\n"]
        await first.aclose()


async def test_shutdown_says_bye_to_every_session(tmp_path):
    async with running_server(tmp_path, users=USERS, timeouts=quick_timeouts()) as srv:
        clients = [await ImapTestClient.connect(srv.port) for _ in range(3)]
        await clients[0].command("a1", "LOGIN alice secret")
        await clients[1].command("b1", "LOGIN alice secret")
        await clients[1].send("b2 IDLE\r\n")
        assert await clients[1].read_line() == b"+ idling\r\n"
        srv.shutdown.set()
        for client in clients:
            assert await client.read_line() == b"* BYE [UNAVAILABLE] Server shutting down\r\n"
            assert await client.at_eof()


async def test_idle_over_implicit_tls_gets_pushes(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        idler = await ImapTestClient.connect(srv.tls_port, tls_context=srv.client_ssl_context())
        await idler.command("a1", "LOGIN alice secret")
        await idler.command("a2", "ENABLE IMAP4rev2")
        await idler.command("a3", "SELECT INBOX")
        await idler.send("a4 IDLE\r\n")
        assert await idler.read_line() == b"+ idling\r\n"
        await trio.to_thread.run_sync(srv.store.append, "alice", "INBOX", b"Subject: tls\r\n\r\nhi\r\n")
        assert await idler.read_line(timeout=1) == b"* 1 EXISTS\r\n"
        await idler.send("DONE\r\n")
        assert await idler.read_line() == b"a4 OK IDLE terminated\r\n"
        await idler.aclose()
