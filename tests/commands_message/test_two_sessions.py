"""Two devices on one mailbox: a change made by session A reaches session B (RFC 9051 §5.2, §7.5.1;
RFC 7162 §3.1.4, §3.2.10), at B's next command boundary, or at once while B is in IDLE, and B's sequence
numbers never change under a FETCH, STORE or SEARCH."""

from __future__ import annotations

import re


async def test_store_in_a_is_seen_as_fetch_in_b(mailbox, login):
    a = await login(mailbox)
    b = await login(mailbox)
    assert (await a.command("a1", "STORE 2 +FLAGS.SILENT (\\Seen)"))[-1] == b"a1 OK Store completed\r\n"
    # B learns with UID and FLAGS (RFC 9051 §7.5.2; UID as QRESYNC requires), at its next command.
    assert await b.command("b1", "NOOP") == [
        b"* 2 FETCH (UID 2 FLAGS (\\Flagged \\Seen))\r\n", b"b1 OK NOOP completed\r\n"]
    # Once B uses CONDSTORE, MODSEQ comes along (RFC 7162 §3.1.4).
    await b.command("b2", "FETCH 1 MODSEQ")
    assert (await a.command("a2", "UID STORE 3 +FLAGS.SILENT ($Label1)"))[-1] == b"a2 OK Store completed\r\n"
    lines = await b.command("b3", "NOOP")
    assert re.fullmatch(rb"\* 3 FETCH \(UID 3 FLAGS \(\$Label1\) MODSEQ \(\d+\)\)\r\n", lines[0]), lines
    # A's own STORE was reported to A only once (its feed echo is suppressed).
    assert await a.command("a3", "NOOP") == [b"a3 OK NOOP completed\r\n"]
    await a.aclose()
    await b.aclose()


async def test_expunge_in_a_waits_for_an_allowed_point_in_b(mailbox, login):
    a = await login(mailbox)
    b = await login(mailbox)
    assert (await a.command("a1", "STORE 2 +FLAGS.SILENT (\\Deleted)"))[-1].startswith(b"a1 OK")
    assert (await a.command("a2", "EXPUNGE"))[0] == b"* 2 EXPUNGE\r\n"
    # RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH: B still numbers 5 messages.
    lines = await b.command("b1", "FETCH 1:5 (UID)")
    assert b"* 2 EXPUNGE" not in b"".join(lines)
    assert lines[:-1] == [
        b"* 1 FETCH (UID 1)\r\n", b"* 3 FETCH (UID 3)\r\n", b"* 4 FETCH (UID 4)\r\n", b"* 5 FETCH (UID 5)\r\n"]
    assert lines[-1] == b"b1 NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n"
    lines = await b.command("b2", "STORE 5 +FLAGS (\\Answered)")
    assert lines == [b"* 5 FETCH (FLAGS (\\Answered))\r\n", b"b2 OK Store completed\r\n"]
    assert await b.command("b3", "SEARCH ALL") == [b"* SEARCH 1 3 4 5\r\n", b"b3 OK Search completed\r\n"]
    # NOOP is an allowed point: now B is told, and its numbers shift.
    assert await b.command("b4", "NOOP") == [b"* 2 EXPUNGE\r\n", b"b4 OK NOOP completed\r\n"]
    assert await b.command("b5", "FETCH 4 UID") == [b"* 4 FETCH (UID 5)\r\n", b"b5 OK Fetch completed\r\n"]
    await a.aclose()
    await b.aclose()


async def test_move_and_copy_reach_both_mailboxes(mailbox, login):
    a = await login(mailbox)
    b = await login(mailbox)  # INBOX
    c = await login(mailbox, select="Archive")
    assert (await a.command("a1", "MOVE 1:2 Archive"))[-1] == b"a1 OK Move completed\r\n"
    assert await b.command("b1", "NOOP") == [b"* 2 EXPUNGE\r\n", b"* 1 EXPUNGE\r\n", b"b1 OK NOOP completed\r\n"]
    assert await c.command("c1", "NOOP") == [b"* 2 EXISTS\r\n", b"* 2 RECENT\r\n", b"c1 OK NOOP completed\r\n"]
    assert await c.command("c2", "FETCH 1:2 (UID FLAGS)") == [
        b"* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))\r\n", b"* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))\r\n",
        b"c2 OK Fetch completed\r\n"]
    # COPY into the mailbox C has selected: EXISTS for C, nothing for the source's other sessions.
    lines = await a.command("a2", "COPY 1 Archive")
    assert lines[-1].startswith(b"a2 OK [COPYUID ")
    assert await c.command("c3", "NOOP") == [b"* 3 EXISTS\r\n", b"* 3 RECENT\r\n", b"c3 OK NOOP completed\r\n"]
    assert await b.command("b2", "NOOP") == [b"b2 OK NOOP completed\r\n"]
    for client in (a, b, c):
        await client.aclose()


async def test_changes_reach_an_idling_session_at_once(mailbox, login):
    a = await login(mailbox)
    b = await login(mailbox, enable="QRESYNC")
    await b.send("i1 IDLE\r\n")
    assert (await b.read_line()).startswith(b"+ ")
    assert (await a.command("a1", "STORE 3 +FLAGS.SILENT (\\Flagged)"))[-1].startswith(b"a1 OK")
    assert re.fullmatch(rb"\* 3 FETCH \(UID 3 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)\r\n", await b.read_line(timeout=5))
    assert (await a.command("a2", "UID STORE 4 +FLAGS.SILENT (\\Deleted)"))[-1].startswith(b"a2 OK")
    assert await b.read_line(timeout=5) == b"* 4 FETCH (UID 4 FLAGS (\\Deleted \\Seen $Label1) MODSEQ (%d))\r\n" % (
        int(re.search(rb"MODSEQ \((\d+)\)", (await a.command("a3", "FETCH 4 MODSEQ"))[-2]).group(1)))
    assert (await a.command("a4", "EXPUNGE"))[-1].startswith(b"a4 OK")
    assert await b.read_line(timeout=5) == b"* VANISHED 4\r\n"
    mailbox.store.append("alice", "INBOX", b"From: x@example.org\r\nSubject: new\r\n\r\nhello\r\n")
    assert await b.read_line(timeout=5) == b"* 5 EXISTS\r\n"
    await b.send("DONE\r\n")
    assert await b.read_line() == b"i1 OK IDLE terminated\r\n"
    await a.aclose()
    await b.aclose()
