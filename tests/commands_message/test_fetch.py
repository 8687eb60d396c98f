"""FETCH / UID FETCH transcripts against the running server (RFC 9051 §6.4.5, RFC 3516, RFC 7162,
RFC 8514, RFC 8970, RFC 8474)."""

from __future__ import annotations

import re

from imapcore.store import NewMessage

ENVELOPE_1 = (
    b'ENVELOPE ("Mon, 02 Jan 2024 10:00:00 +0000" "Lunch plans" (("Alice" NIL "alice" "example.org")) '
    b'(("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) '
    b'(("Bob" NIL "bob" "example.org")) NIL NIL NIL "<m1@example.org>")'
)


async def test_fetch_flags_in_rev1_carry_recent(mailbox, login):
    client = await login(mailbox)
    lines = await client.command("f1", "FETCH 1:* (FLAGS)")
    assert lines == [
        b"* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n",
        b"* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\n",
        b"* 3 FETCH (FLAGS (\\Recent))\r\n",
        b"* 4 FETCH (FLAGS (\\Seen \\Recent $Label1))\r\n",
        b"* 5 FETCH (FLAGS (\\Recent))\r\n",
        b"f1 OK Fetch completed\r\n",
    ]
    await client.aclose()


async def test_fetch_in_rev2_has_no_recent_and_uid_fetch_adds_uid(mailbox, login):
    client = await login(mailbox, enable="IMAP4rev2")
    assert await client.command("f1", "UID FETCH 2:4 FLAGS") == [
        b"* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\n",
        b"* 3 FETCH (UID 3 FLAGS ())\r\n",
        b"* 4 FETCH (UID 4 FLAGS (\\Seen $Label1))\r\n",
        b"f1 OK Fetch completed\r\n",
    ]
    # RFC 9051 §6.4.8: UIDs that do not exist are left out, not an error.
    assert await client.command("f2", "UID FETCH 6:9 FLAGS") == [b"f2 OK Fetch completed\r\n"]
    # "n:*" with n above every UID still names the largest one (RFC 9051 §9).
    assert await client.command("f3", "UID FETCH 90:* (UID)") == [b"* 5 FETCH (UID 5)\r\n", b"f3 OK Fetch completed\r\n"]
    await client.aclose()


async def test_fetch_macros(mailbox, login):
    client = await login(mailbox)
    assert await client.command("m1", "FETCH 1 ALL") == [
        b'* 1 FETCH (FLAGS (\\Seen \\Recent) INTERNALDATE " 5-Jan-2024 12:30:00 +0100" RFC822.SIZE 173 '
        + ENVELOPE_1 + b")\r\n",
        b"m1 OK Fetch completed\r\n",
    ]
    assert await client.command("m2", "UID FETCH 2 FAST") == [
        b'* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) INTERNALDATE " 5-Jan-2024 12:30:00 +0100" RFC822.SIZE 178)\r\n',
        b"m2 OK Fetch completed\r\n",
    ]
    full = await client.command("m3", "FETCH 4 FULL")
    assert full[0].endswith(
        b' BODY (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 19 0)'
        b'("application" "octet-stream" NIL NIL NIL "base64" 8)'
        b'("text" "plain" ("charset" "us-ascii") NIL NIL "x-unknown" 7 0) "mixed"))\r\n'
    )
    assert await client.command("m4", "FETCH 4 BODYSTRUCTURE") == [
        b'* 4 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 19 0 NIL NIL NIL NIL)'
        b'("application" "octet-stream" NIL NIL NIL "base64" 8 NIL NIL NIL NIL)'
        b'("text" "plain" ("charset" "us-ascii") NIL NIL "x-unknown" 7 0 NIL NIL NIL NIL) "mixed" '
        b'("boundary" "XX") NIL NIL NIL))\r\n',
        b"m4 OK Fetch completed\r\n",
    ]
    await client.aclose()


async def test_body_sections_partials_and_binary(mailbox, login):
    client = await login(mailbox)
    lines = await client.command(
        "b1",
        "FETCH 4 (BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[2] BINARY.SIZE[2] "
        "BODY.PEEK[HEADER.FIELDS (subject from)]<0.20>)",
    )
    assert lines == [
        b"* 4 FETCH (BINARY.SIZE[2] 5 BODY[1] {19}\r\nSee the attachment. "
        b"BODY[2.MIME] {77}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n "
        b"BINARY[2] ~{5}\r\n\x00\x01\x02\x03\x04 "
        b"BODY[HEADER.FIELDS (SUBJECT FROM)]<0> {20}\r\nFrom: Alice <alice@e)\r\n",
        b"b1 OK Fetch completed\r\n",
    ]
    # A part that does not exist is empty (Dovecot); a partial past the end is empty too.
    assert await client.command("b2", "FETCH 1 (BODY.PEEK[7] BODY.PEEK[TEXT]<500.10>)") == [
        b'* 1 FETCH (BODY[7] {0}\r\n BODY[TEXT]<500> {0}\r\n)\r\n',
        b"b2 OK Fetch completed\r\n",
    ]
    # RFC 3516 §4.3: an encoding we cannot undo.
    assert await client.command("b3", "FETCH 4 BINARY.PEEK[3]") == [
        b"b3 NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding\r\n"
    ]
    # rev1 RFC822 items (RFC 3501 §6.4.5): RFC822.HEADER never sets \Seen.
    header = await client.command("b4", "FETCH 2 (RFC822.HEADER RFC822.SIZE)")
    assert header[0].startswith(b"* 2 FETCH (RFC822.SIZE 178 RFC822.HEADER {158}\r\nFrom: Carol <carol@example.com>\r\n")
    assert header[0].endswith(b"Message-ID: <m2@example.org>\r\n\r\n)\r\n")
    assert await client.command("b5", "FETCH 2 FLAGS") == [
        b"* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\n", b"b5 OK Fetch completed\r\n"]
    await client.aclose()


async def test_non_peek_sets_seen_once_and_not_when_examined(mailbox, login):
    client = await login(mailbox)
    # RFC 9051 §6.4.5: BODY[...] sets \Seen; the changed FLAGS come with the data.
    assert await client.command("s1", "FETCH 3 BODY[TEXT]") == [
        b"* 3 FETCH (FLAGS (\\Seen \\Recent) BODY[TEXT] {20}\r\nBody of message 3.\r\n)\r\n",
        b"s1 OK Fetch completed\r\n",
    ]
    assert await client.command("s2", "FETCH 3 BODY[TEXT]") == [
        b"* 3 FETCH (BODY[TEXT] {20}\r\nBody of message 3.\r\n)\r\n",
        b"s2 OK Fetch completed\r\n",
    ]
    # RFC822 is BODY[] (sets \Seen); read-only mailboxes never change.
    assert (await client.command("s3", "EXAMINE INBOX"))[-1].startswith(b"s3 OK [READ-ONLY]")
    raw = await client.command("s4", "FETCH 5 RFC822")
    assert raw[0].startswith(b"* 5 FETCH (RFC822 {")
    assert await client.command("s5", "FETCH 5 FLAGS") == [b"* 5 FETCH (FLAGS ())\r\n", b"s5 OK Fetch completed\r\n"]
    await client.aclose()


async def test_bad_sequence_numbers_keep_the_session(mailbox, login):
    client = await login(mailbox)
    assert await client.command("e1", "FETCH 6 FLAGS") == [b"e1 BAD Invalid messageset: only 5 messages exist\r\n"]
    assert await client.command("e2", "FETCH 1:9 FLAGS") == [b"e2 BAD Invalid messageset: only 5 messages exist\r\n"]
    assert (await client.command("e3", "FETCH 1 (FLAGS"))[-1].startswith(b"e3 BAD ")
    assert await client.command("e4", "FETCH 5 UID") == [b"* 5 FETCH (UID 5)\r\n", b"e4 OK Fetch completed\r\n"]
    await client.aclose()


async def test_modseq_changedsince_and_new_attributes(mailbox, login):
    client = await login(mailbox)
    first = await client.command("c1", "FETCH 1 (MODSEQ SAVEDATE PREVIEW EMAILID THREADID)")
    # RFC 7162 §3.1: the first CONDSTORE-enabling command reports HIGHESTMODSEQ.
    highest = int(re.match(rb"\* OK \[HIGHESTMODSEQ (\d+)\]", first[0]).group(1))
    match = re.match(
        rb'\* 1 FETCH \(MODSEQ \((\d+)\) SAVEDATE "[ 0-9]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}" '
        rb'PREVIEW "Body of message 1\." EMAILID \((M[\w-]+)\) THREADID \((T[\w-]+)\)\)\r\n',
        first[1],
    )
    assert match, first[1]
    assert first[2] == b"c1 OK Fetch completed\r\n"
    modseq_1 = int(match.group(1))
    assert modseq_1 <= highest
    # CHANGEDSINCE only returns newer messages, with MODSEQ added (RFC 7162 §3.1.4.1).
    changed = await client.command("c2", f"FETCH 1:* (FLAGS) (CHANGEDSINCE {highest - 1})")
    assert changed == [
        f"* 5 FETCH (FLAGS (\\Recent) MODSEQ ({highest}))\r\n".encode(), b"c2 OK Fetch completed\r\n"]
    # CONDSTORE is now on: FLAGS come with MODSEQ.
    flags = await client.command("c3", "FETCH 1 FLAGS")
    assert flags == [f"* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ ({modseq_1}))\r\n".encode(), b"c3 OK Fetch completed\r\n"]
    # VANISHED needs UID FETCH and QRESYNC (RFC 7162 §3.2.6).
    assert await client.command("c4", "UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)") == [
        b"c4 BAD VANISHED requires ENABLE QRESYNC\r\n"]
    await client.aclose()


async def test_vanished_earlier_with_qresync(mailbox, login):
    client = await login(mailbox, enable="QRESYNC")
    status = await client.command("q1", "STATUS INBOX (HIGHESTMODSEQ)")
    highest = int(re.search(rb"HIGHESTMODSEQ (\d+)", status[0]).group(1))
    assert (await client.command("q2", "UID STORE 2,4 +FLAGS.SILENT (\\Deleted)"))[-1].startswith(b"q2 OK")
    expunged = await client.command("q3", "EXPUNGE")
    assert expunged[0] == b"* VANISHED 2,4\r\n"
    assert await client.command("q4", f"FETCH 1 FLAGS") == [
        f"* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (2))\r\n".encode(), b"q4 OK Fetch completed\r\n"]
    lines = await client.command("q5", f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {highest} VANISHED)")
    assert lines == [b"* VANISHED (EARLIER) 2,4\r\n", b"q5 OK Fetch completed\r\n"]
    assert (await client.command("q6", f"FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)"))[-1] == (
        b"q6 BAD VANISHED is only allowed with UID FETCH\r\n")
    await client.aclose()


async def test_large_fetch_is_written_in_batches(tmp_path, login, monkeypatch):
    from imapcore.commands import fetch as fetch_module
    from support.server import running_server

    # Small batches so that a few hundred messages cross several of them (the default is thousands).
    monkeypatch.setattr(fetch_module, "METADATA_BATCH", 64)
    monkeypatch.setattr(fetch_module, "BODY_BATCH", 16)
    async with running_server(tmp_path, users={"alice": "secret"}) as srv:
        messages = [NewMessage(b"Subject: n%d\r\n\r\nx\r\n" % n, frozenset({"\\Seen"} if n % 2 else ()))
                    for n in range(300)]
        srv.store.append_many("alice", "INBOX", messages)
        client = await login(srv, enable="IMAP4rev2")
        lines = await client.command("l1", "FETCH 1:* (UID FLAGS)", timeout=30)
        assert len(lines) == 301 and lines[-1] == b"l1 OK Fetch completed\r\n"
        assert lines[0] == b"* 1 FETCH (UID 1 FLAGS ())\r\n"
        assert lines[299] == b"* 300 FETCH (UID 300 FLAGS (\\Seen))\r\n"
        assert [int(line.split()[1]) for line in lines[:-1]] == list(range(1, 301))
        envelopes = await client.command("l2", "FETCH 251:* ENVELOPE", timeout=30)
        assert len(envelopes) == 51
        assert envelopes[-2] == b'* 300 FETCH (ENVELOPE (NIL "n299" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n'
        bodies = await client.command("l3", "UID FETCH 1:* BODY.PEEK[HEADER]", timeout=30)
        assert len(bodies) == 301
        assert bodies[41] == b"* 42 FETCH (UID 42 BODY[HEADER] {16}\r\nSubject: n41\r\n\r\n)\r\n"
        await client.aclose()
