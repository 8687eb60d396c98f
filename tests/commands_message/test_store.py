"""STORE / UID STORE transcripts (RFC 9051 §6.4.6, RFC 7162 §3.1.3)."""

from __future__ import annotations

import re


async def test_store_replace_add_remove_and_silent(mailbox, login):
    client = await login(mailbox)
    assert await client.command("s1", "STORE 1:2 +FLAGS (\\Deleted $Label1)") == [
        b"* 1 FETCH (FLAGS (\\Deleted \\Seen \\Recent $Label1))\r\n",
        b"* 2 FETCH (FLAGS (\\Flagged \\Deleted \\Recent $Label1))\r\n",
        b"s1 OK Store completed\r\n",
    ]
    assert await client.command("s2", "STORE 2 -FLAGS \\Deleted") == [
        b"* 2 FETCH (FLAGS (\\Flagged \\Recent $Label1))\r\n", b"s2 OK Store completed\r\n"]
    # The flag names are case-insensitive for system flags (RFC 9051 §2.3.2).
    assert await client.command("s3", "STORE 3 FLAGS (\\answered \\SEEN)") == [
        b"* 3 FETCH (FLAGS (\\Answered \\Seen \\Recent))\r\n", b"s3 OK Store completed\r\n"]
    assert await client.command("s4", "STORE 3 FLAGS ()") == [
        b"* 3 FETCH (FLAGS (\\Recent))\r\n", b"s4 OK Store completed\r\n"]
    assert await client.command("s5", "STORE 1:5 +FLAGS.SILENT (\\Flagged)") == [b"s5 OK Store completed\r\n"]
    # A message that already had the flags is still reported (RFC 9051 §6.4.6).
    assert await client.command("s6", "UID STORE 5 +FLAGS (\\Flagged)") == [
        b"* 5 FETCH (UID 5 FLAGS (\\Flagged \\Recent))\r\n", b"s6 OK Store completed\r\n"]
    assert await client.command("s7", "FETCH 1:5 FLAGS") == [
        b"* 1 FETCH (FLAGS (\\Flagged \\Deleted \\Seen \\Recent $Label1))\r\n",
        b"* 2 FETCH (FLAGS (\\Flagged \\Recent $Label1))\r\n",
        b"* 3 FETCH (FLAGS (\\Flagged \\Recent))\r\n",
        b"* 4 FETCH (FLAGS (\\Flagged \\Seen \\Recent $Label1))\r\n",
        b"* 5 FETCH (FLAGS (\\Flagged \\Recent))\r\n",
        b"s7 OK Fetch completed\r\n",
    ]
    await client.aclose()


async def test_store_refusals(mailbox, login):
    client = await login(mailbox)
    assert await client.command("r1", "STORE 1 +FLAGS (\\Recent)") == [b"r1 BAD \\Recent flag cannot be changed\r\n"]
    assert await client.command("r2", "STORE 1 +FLAGS (\\Bogus)") == [b"r2 BAD Invalid system flag \\Bogus\r\n"]
    assert await client.command("r3", "STORE 9 +FLAGS (\\Seen)") == [b"r3 BAD Invalid messageset: only 5 messages exist\r\n"]
    many = " ".join(f"k{n}" for n in range(65))
    assert await client.command("r4", f"STORE 1 +FLAGS ({many})") == [
        b"r4 NO [LIMIT] Too many keywords (at most 64)\r\n"]
    assert (await client.command("r5", "EXAMINE INBOX"))[-1].startswith(b"r5 OK [READ-ONLY]")
    assert await client.command("r6", "STORE 1 +FLAGS (\\Seen)") == [b"r6 NO Mailbox is read-only\r\n"]
    # Nothing changed, and the session goes on.
    assert await client.command("r7", "FETCH 1 FLAGS") == [b"* 1 FETCH (FLAGS (\\Seen))\r\n", b"r7 OK Fetch completed\r\n"]
    await client.aclose()


async def test_unchangedsince_and_modified(mailbox, login):
    client = await login(mailbox)
    first = await client.command("u1", "FETCH 1:5 (MODSEQ)")
    modseqs = {int(m.group(1)): int(m.group(2)) for m in
               (re.match(rb"\* (\d+) FETCH \(MODSEQ \((\d+)\)\)", line) for line in first[1:-1])}
    assert sorted(modseqs) == [1, 2, 3, 4, 5]
    # RFC 7162 §3.1.3 example 3: all pass, .SILENT still reports the new MODSEQ.
    passed = await client.command("u2", f"UID STORE 2,4 (UNCHANGEDSINCE {modseqs[4]}) +FLAGS.SILENT (\\Deleted)")
    new = [int(re.match(rb"\* \d+ FETCH \(UID \d+ MODSEQ \((\d+)\)\)", line).group(1)) for line in passed[:-1]]
    assert [line.split(b" ")[1] for line in passed[:-1]] == [b"2", b"4"]
    assert new[0] > max(modseqs.values()) and new[1] == new[0] + 1
    assert passed[-1] == b"u2 OK Store completed\r\n"
    # Message 2 changed since its old MODSEQ: it fails, 3 passes (sequence numbers for STORE).
    mixed = await client.command("u3", f"STORE 2:3 (UNCHANGEDSINCE {modseqs[3]}) FLAGS (\\Answered)")
    assert mixed[0] == f"* 3 FETCH (FLAGS (\\Answered \\Recent) MODSEQ ({new[1] + 1}))\r\n".encode()
    assert mixed[1] == b"u3 OK [MODIFIED 2] Conditional store failed\r\n"
    # UID STORE reports UIDs.
    assert await client.command("u4", "UID STORE 4:5 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)") == [
        b"u4 OK [MODIFIED 4:5] Conditional store failed\r\n"]
    await client.aclose()
