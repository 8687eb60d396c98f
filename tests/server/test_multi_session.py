"""Multi-device sync over TCP: a change made by one session (or by delivery) reaches another session
with the mailbox selected — immediately while it IDLEs, at the next command otherwise — as EXISTS,
FETCH (UID FLAGS [MODSEQ]), EXPUNGE or VANISHED, with sequence numbers kept consistent."""

from __future__ import annotations

import re

import trio

from imapcore.commands import HANDLERS
from imapcore.commands.capabilities import ADVERTISED, BASE, capabilities
from imapcore.commands.context import SessionContext, ServerServices
from imapcore.protocol.states import ALLOWED_STATES
from imapcore.server.config import Config
from support.server import ImapTestClient, running_server

USERS = {"alice": "secret"}
MESSAGE = "From: a@example.org\r\nSubject: sync\r\n\r\nhello\r\n"


async def logged_in(srv, mailbox="INBOX", enable=None):
    client = await ImapTestClient.connect(srv.port)
    await client.command("l1", "LOGIN alice secret")
    if enable:
        await client.command("l2", f"ENABLE {enable}")
    if mailbox:
        assert (await client.command("l3", f"SELECT {mailbox}"))[-1].startswith(b"l3 OK ")
    return client


async def append(client, tag, mailbox="INBOX"):
    data = MESSAGE.encode()
    lines = await client.command(tag, f"APPEND {mailbox} {{{len(data)}+}}\r\n{MESSAGE}")
    assert lines[-1].startswith(f"{tag} OK ".encode()), lines


async def idle(client, tag="i1"):
    await client.send(f"{tag} IDLE\r\n")
    assert await client.read_line() == b"+ idling\r\n"


async def done(client, tag="i1"):
    await client.send("DONE\r\n")
    lines = await client.read_until_tagged(tag)
    assert lines[-1] == f"{tag} OK IDLE terminated\r\n".encode()
    return lines[:-1]


async def test_idle_sees_every_kind_of_change_within_a_second(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        a = await logged_in(srv)
        b = await logged_in(srv, enable="IMAP4rev2")
        await idle(b)
        # APPEND by another session.
        await append(a, "a1")
        assert await b.read_line(timeout=1) == b"* 1 EXISTS\r\n"
        # Delivery straight into the store (the LMTP / CLI path).
        await trio.to_thread.run_sync(srv.store.append, "alice", "INBOX", MESSAGE.encode())
        assert await b.read_line(timeout=1) == b"* 2 EXISTS\r\n"
        # STORE.
        await a.command("a2", "NOOP")
        await a.command("a3", "STORE 1 +FLAGS (\\Flagged)")
        assert await b.read_line(timeout=1) == b"* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n"
        # COPY into the selected mailbox.
        assert (await a.command("a4", "COPY 1 INBOX"))[-1].startswith(b"a4 OK [COPYUID ")
        assert await b.read_line(timeout=1) == b"* 3 EXISTS\r\n"
        # MOVE out of it.
        assert (await a.command("a5", "UID MOVE 2 Archive"))[-1].startswith(b"a5 OK")
        assert await b.read_line(timeout=1) == b"* 2 EXPUNGE\r\n"
        # EXPUNGE.
        await a.command("a6", "STORE 1 +FLAGS (\\Deleted)")
        assert await b.read_line(timeout=1) == b"* 1 FETCH (UID 1 FLAGS (\\Flagged \\Deleted))\r\n"
        assert (await a.command("a7", "EXPUNGE"))[-1].startswith(b"a7 OK")
        assert await b.read_line(timeout=1) == b"* 1 EXPUNGE\r\n"
        assert await done(b) == []
        # What b was told adds up: one message left, UID 3 (the copy).
        fetched = await b.command("b1", "FETCH 1:* (UID)")
        assert fetched[:-1] == [b"* 1 FETCH (UID 3)\r\n"] and fetched[-1].startswith(b"b1 OK ")
        await a.aclose()
        await b.aclose()


async def test_changes_wait_for_a_command_boundary_and_expunge_for_an_allowed_one(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        a = await logged_in(srv)
        for tag in ("p1", "p2", "p3"):
            await append(a, tag)
        b = await logged_in(srv, enable="IMAP4rev2")
        await a.command("a1", "STORE 2 +FLAGS (\\Deleted)")
        await a.command("a2", "EXPUNGE")
        await append(a, "a3")
        # FETCH: the new message is announced, the expunge is not (RFC 9051 §7.5.1), and message 2
        # still means what b thinks it means.
        lines = await b.command("b1", "FETCH 3 (UID)")
        assert b"* 4 EXISTS\r\n" in lines
        assert not any(b"EXPUNGE" in line for line in lines)
        assert b"* 3 FETCH (UID 3)\r\n" in lines
        # NOOP: now the expunge is told.
        lines = await b.command("b2", "NOOP")
        assert lines == [b"* 2 EXPUNGE\r\n", b"b2 OK NOOP completed\r\n"]
        uids = await b.command("b3", "FETCH 1:* (UID)")
        assert [re.search(rb"UID (\d+)", line).group(1) for line in uids[:-1]] == [b"1", b"3", b"4"]
        await a.aclose()
        await b.aclose()


async def test_qresync_session_gets_vanished_and_condstore_gets_modseq(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        a = await logged_in(srv)
        for tag in ("p1", "p2"):
            await append(a, tag)
        b = await logged_in(srv, enable="QRESYNC IMAP4rev2")
        await idle(b)
        lines = await a.command("a1", "STORE 1 +FLAGS (\\Seen)")
        pushed = await b.read_line(timeout=1)
        assert re.fullmatch(rb"\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)\r\n", pushed), pushed
        await a.command("a2", "UID STORE 2 +FLAGS (\\Deleted)")
        await b.read_line(timeout=1)
        await a.command("a3", "UID EXPUNGE 2")
        assert await b.read_line(timeout=1) == b"* VANISHED 2\r\n"
        await done(b)
        await a.aclose()
        await b.aclose()


def test_capability_list_matches_the_handlers():
    """Every advertised capability has its commands registered, and IMAP4rev1/IMAP4rev2 (always
    advertised) have every command they require."""
    for name, needs in ADVERTISED.items():
        missing = [command.__name__ for command in needs if command not in HANDLERS]
        assert not missing, f"{name} advertised without handlers for {missing}"
    for base in BASE:
        assert all(command in HANDLERS for command in ADVERTISED[base])
    for command_class in HANDLERS:
        assert command_class.name in ALLOWED_STATES  # the state table knows every handled command
    services = ServerServices(None, None, Config(), None, None)
    ctx = SessionContext(services, None, remote_address=("127.0.0.1", 1), tls=False)
    listed = capabilities(ctx)
    assert listed[:2] == ("IMAP4rev1", "IMAP4rev2")
    assert len(set(listed)) == len(listed)
    assert f"APPENDLIMIT={Config().limits.max_literal_bytes}" in listed


async def test_deleting_the_selected_mailbox_disconnects_its_sessions(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        a = await logged_in(srv, mailbox=None)
        assert (await a.command("a1", "CREATE Work"))[-1].startswith(b"a1 OK")
        b = await logged_in(srv, mailbox="Work")
        c = await logged_in(srv, mailbox="Work")
        await idle(c)
        assert (await a.command("a2", "DELETE Work"))[-1].startswith(b"a2 OK")
        bye = b"* BYE Selected mailbox was deleted, have to disconnect.\r\n"
        assert await c.read_line(timeout=1) == bye
        assert await c.at_eof()
        await b.send("b1 NOOP\r\n")
        assert await b.read_line() == bye
        assert await b.read_line() == b"b1 OK NOOP completed\r\n"
        assert await b.at_eof()
        assert await a.command("a3", "NOOP") == [b"a3 OK NOOP completed\r\n"]
        await a.aclose()
