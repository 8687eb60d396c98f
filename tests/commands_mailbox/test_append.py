"""Transcripts of APPEND: flags and date, APPENDUID (RFC 4315), MULTIAPPEND (RFC 3502), literal8 (RFC 3516),
UTF8 (RFC 6855), CATENATE (RFC 4469), and the refusals TRYCREATE, TOOBIG, OVERQUOTA."""

from __future__ import annotations

import re

MESSAGE = b"Subject: appended\r\nFrom: a@example.org\r\n\r\nHello\r\n"


def appenduid(tagged: str) -> tuple[int, str]:
    match = re.fullmatch(r"OK \[APPENDUID (\d+) ([\d:,]+)\] APPEND completed", tagged)
    assert match, tagged
    return int(match.group(1)), match.group(2)


async def test_append_with_flags_and_date(session):
    s = await session()
    untagged, tagged = await s.run(
        b'APPEND INBOX (\\Seen $Important) "13-Jun-2024 10:00:00 +0200" {%d+}\r\n' % len(MESSAGE) + MESSAGE
    )
    assert untagged == []
    validity, uids = appenduid(tagged)
    assert uids == "1"
    (status,) = await s.ok("STATUS INBOX (UIDVALIDITY MESSAGES UNSEEN)")
    assert status == f"* STATUS INBOX (UIDVALIDITY {validity} MESSAGES 1 UNSEEN 0)"
    await s.ok("SELECT INBOX")
    assert await s.ok("FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)") == [
        f'* 1 FETCH (FLAGS (\\Seen \\Recent $Important) INTERNALDATE "13-Jun-2024 10:00:00 +0200" RFC822.SIZE {len(MESSAGE)})'
    ]
    assert await s.ok("FETCH 1 BODY.PEEK[]") == [f"* 1 FETCH (BODY[] {{{len(MESSAGE)}}}\r\n{MESSAGE.decode()})"]


async def test_append_synchronizing_literal(session):
    s = await session()
    await s.client.send(b"a1 APPEND Drafts {%d}\r\n" % len(MESSAGE))
    assert (await s.client.read_line()).startswith(b"+ ")
    await s.client.send(MESSAGE + b"\r\n")
    (line,) = await s.client.read_until_tagged("a1")
    assert line.startswith(b"a1 OK [APPENDUID ")


async def test_multiappend_is_atomic(session):
    s = await session()
    first, second = MESSAGE, MESSAGE.replace(b"Hello", b"Second")
    untagged, tagged = await s.run(
        b"APPEND Sent (\\Seen) {%d+}\r\n%s (\\Draft) {%d+}\r\n%s" % (len(first), first, len(second), second)
    )
    assert appenduid(tagged)[1] == "1:2"
    # One message of the batch is refused: none is added (RFC 3502 §3).
    untagged, tagged = await s.run(b"APPEND Sent {%d+}\r\n%s (\\Recent) {%d+}\r\n%s" % (len(first), first, len(second), second))
    assert tagged.startswith("BAD")
    untagged, tagged = await s.run(b"APPEND Sent {%d+}\r\n%s {0+}\r\n" % (len(first), first))
    assert tagged.startswith("NO")  # an empty message
    assert await s.ok("STATUS Sent (MESSAGES UIDNEXT)") == ["* STATUS Sent (MESSAGES 2 UIDNEXT 3)"]


async def test_append_binary_literal8(session):
    s = await session()
    binary = b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01\xff\r\n"
    untagged, tagged = await s.run(b"APPEND INBOX ~{%d+}\r\n" % len(binary) + binary)
    appenduid(tagged)
    await s.ok("SELECT INBOX")
    assert await s.ok("FETCH 1 RFC822.SIZE") == [f"* 1 FETCH (RFC822.SIZE {len(binary)})"]


async def test_append_utf8_needs_enable(session):
    s = await session()
    message = "Subject: Grüße\r\n\r\nÄpfel\r\n".encode()
    command = b"APPEND INBOX UTF8 (~{%d+}\r\n%s)" % (len(message), message)
    untagged, tagged = await s.run(command)
    assert tagged.startswith("BAD")  # RFC 6855 §4
    await s.ok("ENABLE UTF8=ACCEPT")
    appenduid((await s.run(command))[1])


async def test_append_refusals(session, server):
    s = await session()
    untagged, tagged = await s.run(b"APPEND Missing {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert tagged.startswith("NO [TRYCREATE]")  # RFC 9051 §6.3.12
    server.store.set_quota("alice", storage_bytes=len(MESSAGE) + 10, messages=None)
    appenduid((await s.run(b"APPEND INBOX {%d+}\r\n" % len(MESSAGE) + MESSAGE))[1])
    untagged, tagged = await s.run(b"APPEND INBOX {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert tagged.startswith("NO [OVERQUOTA]")
    assert await s.ok("STATUS INBOX (MESSAGES)") == ["* STATUS INBOX (MESSAGES 1)"]


async def test_append_over_the_literal_limit(server_with):
    from imapcore.server.config import Limits

    async with server_with(limits=Limits(max_literal_bytes=100)) as (srv, session):
        s = await session()
        big = b"Subject: big\r\n\r\n" + b"x" * 200
        await s.client.send(b"b1 APPEND INBOX {%d}\r\n" % len(big))
        (line,) = await s.client.read_until_tagged("b1")
        assert line.startswith(b"b1 NO [TOOBIG]")  # RFC 7889 / RFC 9051 §7.1
        # CATENATE builds a message over the limit from small parts.
        part = b"y" * 60
        untagged, tagged = await s.run(b"APPEND INBOX CATENATE (TEXT {60+}\r\n%s TEXT {60+}\r\n%s)" % (part, part))
        assert tagged.startswith("NO [TOOBIG]")
        assert await s.ok("STATUS INBOX (MESSAGES)") == ["* STATUS INBOX (MESSAGES 0)"]
        await s.close()


async def test_append_catenate(session, server):
    s = await session()
    result = server.store.append("alice", "INBOX", MESSAGE)
    uid = result.uids[0]
    header = b"Subject: forwarded\r\n\r\n"
    untagged, tagged = await s.run(
        b'APPEND Drafts CATENATE (TEXT {%d+}\r\n%s URL "/INBOX;UIDVALIDITY=%d/;UID=%d/;SECTION=TEXT" '
        b'URL "/INBOX/;UID=%d/;SECTION=HEADER.FIELDS%%20(SUBJECT)")'
        % (len(header), header, result.uid_validity, uid, uid)
    )
    appenduid(tagged)
    await s.ok("SELECT Drafts")
    expected = header + b"Hello\r\n" + b"Subject: appended\r\n\r\n"
    assert await s.ok("FETCH 1 BODY.PEEK[]") == [f"* 1 FETCH (BODY[] {{{len(expected)}}}\r\n{expected.decode()})"]
    for url in (b"/INBOX;UIDVALIDITY=1/;UID=1", b"/INBOX/;UID=99", b"/Nowhere/;UID=1", b"imap://x@elsewhere/INBOX/;UID=1"):
        untagged, tagged = await s.run(b'APPEND Drafts CATENATE (URL "%s")' % url)
        assert tagged.startswith("NO [BADURL"), (url, tagged)


async def test_append_to_selected_mailbox_reports_exists(session):
    s = await session()
    await s.ok("SELECT INBOX")
    untagged, tagged = await s.run(b"APPEND INBOX {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert untagged == ["* 1 EXISTS", "* 1 RECENT"]  # RFC 9051 §6.3.12: the new message is announced
    appenduid(tagged)


def test_store_append_claims_recent_only_in_the_named_mailbox(tmp_path):
    """``append_many(claim_recent_in=...)``: the session's APPEND into its selected mailbox stores the
    messages already claimed (no claim transaction after it); into any other mailbox nothing changes."""
    from imapcore.store import NewMessage, Store

    with Store.open(tmp_path / "data") as store:
        store.create_user("alice")
        inbox = store.mailbox("alice", "INBOX").id
        message = NewMessage(MESSAGE, frozenset(), None)
        result = store.append_many("alice", "INBOX", [message, message], claim_recent_in=inbox)
        assert result.uids == (1, 2) and result.recent == (1, 2)
        assert store.status("alice", "INBOX").recent == 0
        assert store.claim_recent(inbox) == ()
        other = store.append_many("alice", "Sent", [message], claim_recent_in=inbox)
        assert other.recent == ()
        assert store.status("alice", "Sent").recent == 1
        plain = store.append_many("alice", "INBOX", [message])
        assert plain.recent == () and store.claim_recent(inbox) == (3,)
