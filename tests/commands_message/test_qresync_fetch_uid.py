"""RFC 7162 §3.2.4: once QRESYNC is enabled every untagged FETCH carries UID (and MODSEQ), also those of
a sequence-number STORE and of a FETCH that implicitly sets \\Seen. With CONDSTORE alone UID is not
added (Dovecot 2.3 behaves the same; checked with tests/support/dovecot.py)."""

from __future__ import annotations

import re


def _modseq(line: bytes) -> int:
    return int(re.search(rb"MODSEQ \((\d+)\)", line).group(1))


async def test_sequence_store_reports_uid_once_qresync_is_enabled(mailbox, login):
    client = await login(mailbox, enable="QRESYNC")
    lines = await client.command("s1", "STORE 2 +FLAGS (\\Answered)")
    assert len(lines) == 2 and lines[1] == b"s1 OK Store completed\r\n"
    assert lines[0] == b"* 2 FETCH (UID 2 FLAGS (\\Answered \\Flagged \\Recent) MODSEQ (%d))\r\n" % _modseq(lines[0])
    # .SILENT still reports the new MODSEQ (RFC 7162 §3.1.3), with UID.
    lines = await client.command("s2", "STORE 3 +FLAGS.SILENT (\\Draft)")
    assert lines[0] == b"* 3 FETCH (UID 3 MODSEQ (%d))\r\n" % _modseq(lines[0])
    # UNCHANGEDSINCE: the message that passes the test is reported with UID, the other goes to MODIFIED.
    current = _modseq((await client.command("s3", "FETCH 1 (MODSEQ)"))[0])  # lower than 5's
    lines = await client.command("s4", f"STORE 1,5 (UNCHANGEDSINCE {current}) +FLAGS (\\Deleted)")
    assert lines[-1] == b"s4 OK [MODIFIED 5] Conditional store failed\r\n"
    assert lines[:-1] == [b"* 1 FETCH (UID 1 FLAGS (\\Deleted \\Seen \\Recent) MODSEQ (%d))\r\n" % _modseq(lines[0])]
    await client.aclose()


async def test_implicit_seen_fetch_reports_uid_once_qresync_is_enabled(mailbox, login):
    client = await login(mailbox, enable="QRESYNC")
    lines = await client.command("f1", "FETCH 2 (BODY[HEADER.FIELDS (SUBJECT)])")
    assert lines[-1] == b"f1 OK Fetch completed\r\n"
    assert re.fullmatch(
        rb"\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Seen \\Recent\) MODSEQ \(\d+\) "
        rb"BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{29\}\r\nSubject: Quarterly report\r\n\r\n\)\r\n",
        lines[0],
    ), lines
    # A PEEK changes nothing: no UID is added to a FETCH that did not ask for it (RFC 7162 §3.2.4 end).
    assert (await client.command("f2", "FETCH 3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))[0].startswith(
        b"* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {")
    await client.aclose()


async def test_condstore_alone_does_not_add_uid(mailbox, login):
    client = await login(mailbox, enable="CONDSTORE")
    lines = await client.command("c1", "STORE 2 +FLAGS (\\Answered)")
    assert lines[0] == b"* 2 FETCH (FLAGS (\\Answered \\Flagged \\Recent) MODSEQ (%d))\r\n" % _modseq(lines[0])
    await client.aclose()
