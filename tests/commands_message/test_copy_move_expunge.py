"""COPY / MOVE / EXPUNGE transcripts (RFC 9051 §6.4.3, §6.4.7; RFC 4315 UIDPLUS; RFC 6851 MOVE;
RFC 7162 §3.2.7-3.2.10)."""

from __future__ import annotations

import re


def copyuid(line: bytes) -> tuple[int, bytes, bytes]:
    match = re.search(rb"\[COPYUID (\d+) ([\d:,]+) ([\d:,]+)\]", line)
    assert match, line
    return int(match.group(1)), match.group(2), match.group(3)


async def test_copy_with_copyuid_and_trycreate(mailbox, login):
    client = await login(mailbox)
    lines = await client.command("c1", "COPY 2:3 Trash")
    assert len(lines) == 1 and lines[0].startswith(b"c1 OK [COPYUID ") and lines[0].endswith(b"] Copy completed\r\n")
    validity, source, target = copyuid(lines[0])
    assert (source, target) == (b"2:3", b"1:2")
    lines = await client.command("c2", "UID COPY 5,1 Trash")
    assert copyuid(lines[0]) == (validity, b"1,5", b"3:4")
    # Flags travel with the copy (RFC 9051 §6.4.7).
    status = await client.command("c3", "STATUS Trash (MESSAGES UIDVALIDITY)")
    assert status[0] == f"* STATUS Trash (MESSAGES 4 UIDVALIDITY {validity})\r\n".encode()
    assert (await client.command("c4", "SELECT Trash"))[-1].startswith(b"c4 OK")
    assert await client.command("c5", "UID FETCH 1:* FLAGS") == [
        b"* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))\r\n",
        b"* 2 FETCH (UID 2 FLAGS (\\Recent))\r\n",
        b"* 3 FETCH (UID 3 FLAGS (\\Seen \\Recent))\r\n",
        b"* 4 FETCH (UID 4 FLAGS (\\Recent))\r\n",
        b"c5 OK Fetch completed\r\n",
    ]
    # RFC 9051 §6.4.7: a missing target gets TRYCREATE, even when no message matched.
    assert (await client.command("c6", "COPY 1 Nowhere"))[0].startswith(b"c6 NO [TRYCREATE] ")
    assert (await client.command("c7", "UID COPY 99 Nowhere"))[0].startswith(b"c7 NO [TRYCREATE] ")
    assert await client.command("c8", "UID COPY 99 INBOX") == [b"c8 OK Copy completed\r\n"]
    await client.aclose()


async def test_move_reports_copyuid_then_expunge(mailbox, login):
    client = await login(mailbox)
    lines = await client.command("m1", "MOVE 2:3 Archive")
    assert lines[0].startswith(b"* OK [COPYUID ") and copyuid(lines[0])[1:] == (b"2:3", b"1:2")
    # Expunges highest first (as Dovecot), then the lower \Recent count for a rev1 client.
    assert lines[1:] == [b"* 3 EXPUNGE\r\n", b"* 2 EXPUNGE\r\n", b"* 3 RECENT\r\n", b"m1 OK Move completed\r\n"]
    assert await client.command("m2", "FETCH 1:* UID") == [
        b"* 1 FETCH (UID 1)\r\n", b"* 2 FETCH (UID 4)\r\n", b"* 3 FETCH (UID 5)\r\n", b"m2 OK Fetch completed\r\n"]
    assert (await client.command("m3", "UID MOVE 4 Nowhere"))[0].startswith(b"m3 NO [TRYCREATE] ")
    assert (await client.command("m4", "EXAMINE INBOX"))[-1].startswith(b"m4 OK [READ-ONLY]")
    assert await client.command("m5", "MOVE 1 Archive") == [b"m5 NO Mailbox is read-only\r\n"]
    await client.aclose()


async def test_move_with_qresync_gives_vanished_and_highestmodseq(mailbox, login):
    client = await login(mailbox, enable="QRESYNC")
    lines = await client.command("q1", "UID MOVE 1,5 Junk")
    assert copyuid(lines[0])[1:] == (b"1,5", b"1:2")
    assert lines[1] == b"* VANISHED 1,5\r\n"
    assert re.fullmatch(rb"q1 OK \[HIGHESTMODSEQ \d+\] Move completed\r\n", lines[-1])
    await client.aclose()


async def test_expunge_and_uid_expunge(mailbox, login):
    client = await login(mailbox)
    assert (await client.command("x1", "STORE 1,3,5 +FLAGS.SILENT (\\Deleted)"))[-1] == b"x1 OK Store completed\r\n"
    # RFC 4315 §2.1: UID EXPUNGE only removes \Deleted messages within the set.
    assert await client.command("x2", "UID EXPUNGE 4:5") == [
        b"* 5 EXPUNGE\r\n", b"* 4 RECENT\r\n", b"x2 OK Expunge completed\r\n"]
    assert await client.command("x3", "UID EXPUNGE 2") == [b"x3 OK Expunge completed\r\n"]
    assert await client.command("x4", "EXPUNGE") == [
        b"* 3 EXPUNGE\r\n", b"* 1 EXPUNGE\r\n", b"* 2 RECENT\r\n", b"x4 OK Expunge completed\r\n"]
    assert await client.command("x5", "EXPUNGE") == [b"x5 OK Expunge completed\r\n"]
    assert await client.command("x6", "FETCH 1:* UID") == [
        b"* 1 FETCH (UID 2)\r\n", b"* 2 FETCH (UID 4)\r\n", b"x6 OK Fetch completed\r\n"]
    assert (await client.command("x7", "EXAMINE INBOX"))[-1].startswith(b"x7 OK")
    assert await client.command("x8", "EXPUNGE") == [b"x8 NO Mailbox is read-only\r\n"]
    await client.aclose()


async def test_expunge_with_condstore_and_qresync(mailbox, login):
    client = await login(mailbox, enable="QRESYNC")
    assert (await client.command("y1", "UID STORE 2,4 +FLAGS.SILENT (\\Deleted)"))[-1].startswith(b"y1 OK")
    lines = await client.command("y2", "EXPUNGE")
    # RFC 7162 §3.2.7 / §3.2.10: VANISHED instead of EXPUNGE, HIGHESTMODSEQ in the tagged OK.
    assert lines[0] == b"* VANISHED 2,4\r\n"
    assert re.fullmatch(rb"y2 OK \[HIGHESTMODSEQ \d+\] Expunge completed\r\n", lines[-1])
    await client.aclose()
