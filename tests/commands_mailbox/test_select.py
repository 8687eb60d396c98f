"""Transcripts of SELECT, EXAMINE (with CONDSTORE and QRESYNC), CLOSE, UNSELECT and CHECK
(RFC 9051 §6.3.2, §6.3.3, §6.4.1, §6.4.2; RFC 3501 §6.4.1; RFC 7162 §3.1.2, §3.2.5, §3.2.11)."""

from __future__ import annotations

import re

from imapcore.store import FlagMode

MESSAGE = b"Subject: hello\r\n\r\nbody\r\n"


def uidvalidity(lines):
    return int(next(re.search(r"UIDVALIDITY (\d+)", line).group(1) for line in lines if "UIDVALIDITY" in line))


def highestmodseq(lines):
    return int(next(re.search(r"HIGHESTMODSEQ (\d+)", line).group(1) for line in lines if "HIGHESTMODSEQ" in line))


async def test_select_rev1(session, server):
    server.store.append("alice", "INBOX", MESSAGE, flags=("\\Seen", "$Forwarded"))
    server.store.append("alice", "INBOX", MESSAGE)
    s = await session()
    untagged, tagged = await s.run("SELECT INBOX")
    validity = uidvalidity(untagged)
    assert untagged[:4] == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted.",
        "* 2 EXISTS",
        "* 2 RECENT",
    ]
    assert untagged[4] == "* OK [UNSEEN 2] First unseen."  # RFC 3501 §6.3.1
    assert untagged[5:7] == [f"* OK [UIDVALIDITY {validity}] UIDs valid", "* OK [UIDNEXT 3] Predicted next UID"]
    assert re.fullmatch(r"\* OK \[MAILBOXID \(F[0-9a-f]+\)\] Ok", untagged[7])
    assert len(untagged) == 8  # no HIGHESTMODSEQ before a CONDSTORE-enabling command (RFC 7162 §3.1.2.1)
    assert tagged == "OK [READ-WRITE] SELECT completed"
    # \Recent went to this session: another one sees none (RFC 3501 §2.3.2).
    other = await session()
    assert "* 0 RECENT" in await other.ok("SELECT INBOX")
    assert await s.ok("FETCH 1:2 (FLAGS)") == [
        "* 1 FETCH (FLAGS (\\Seen \\Recent $Forwarded))",
        "* 2 FETCH (FLAGS (\\Recent))",
    ]


async def test_examine_is_read_only_and_keeps_recent(session, server):
    server.store.append("alice", "INBOX", MESSAGE)
    s = await session()
    untagged, tagged = await s.run("EXAMINE inbox")
    assert "* OK [PERMANENTFLAGS ()] Read-only mailbox." in untagged
    assert "* 1 RECENT" in untagged
    assert tagged == "OK [READ-ONLY] EXAMINE completed"
    # EXAMINE changed nothing: a SELECT after it still gets the message as recent (RFC 3501 §6.3.2).
    other = await session()
    assert "* 1 RECENT" in await other.ok("SELECT INBOX")


async def test_select_rev2_sends_list_and_no_recent(session, server):
    server.store.append("alice", "Drafts", MESSAGE)
    s = await session()
    await s.ok("ENABLE IMAP4rev2")
    untagged = await s.ok("SELECT Drafts")
    assert not any("RECENT" in line or "UNSEEN" in line for line in untagged)
    assert '* LIST (\\HasNoChildren \\Drafts) "/" Drafts' in untagged  # RFC 9051 §6.3.2: REQUIRED
    assert "* 1 EXISTS" in untagged


async def test_switching_mailboxes_says_closed(session):
    s = await session()
    first = await s.ok("SELECT INBOX")
    assert not any("CLOSED" in line for line in first)
    untagged, tagged = await s.run("EXAMINE Sent")
    assert untagged[0] == "* OK [CLOSED] Previous mailbox closed."
    assert tagged.startswith("OK [READ-ONLY]")


async def test_failed_select_leaves_authenticated_state(session):
    s = await session()
    await s.ok("SELECT INBOX")
    untagged, tagged = await s.run("SELECT Nowhere")
    assert untagged == ["* OK [CLOSED] Previous mailbox closed."]
    assert tagged.startswith("NO [NONEXISTENT]")
    untagged, tagged = await s.run("FETCH 1 FLAGS")
    assert tagged.startswith("BAD")  # RFC 9051 §6.3.2: no mailbox selected any more
    assert (await s.run("CHECK"))[1].startswith("BAD")
    await s.ok("SELECT INBOX")
    assert await s.ok("CHECK") == []


async def test_select_condstore(session, server):
    server.store.append("alice", "INBOX", MESSAGE)
    s = await session()
    untagged = await s.ok("SELECT INBOX (CONDSTORE)")
    modseq = highestmodseq(untagged)
    assert modseq >= 1
    assert await s.ok("FETCH 1 (FLAGS)") == [f"* 1 FETCH (FLAGS (\\Recent) MODSEQ ({modseq}))"]
    # Still on for later SELECTs of the connection.
    assert any("HIGHESTMODSEQ" in line for line in await s.ok("EXAMINE Sent"))


async def test_qresync_needs_enable(session):
    s = await session()
    await s.ok("SELECT Sent")
    untagged, tagged = await s.run("SELECT INBOX (QRESYNC (1 1))")
    assert tagged.startswith("BAD")
    # The BAD changed nothing: Sent is still selected (RFC 7162 §3.2.5).
    assert (await s.run("CHECK"))[1].startswith("OK")  # CHECK needs a selected mailbox


async def test_qresync_reports_vanished_and_changed_flags(session, server):
    store = server.store
    for _ in range(5):
        store.append("alice", "INBOX", MESSAGE)
    s = await session()
    await s.ok("ENABLE QRESYNC")
    untagged = await s.ok("SELECT INBOX")
    validity, modseq = uidvalidity(untagged), highestmodseq(untagged)
    await s.ok("UNSELECT")
    # Elsewhere: UID 2 and 4 are expunged, UID 3 gets \Flagged.
    mailbox_id = store.mailbox("alice", "INBOX").id
    store.store_flags(mailbox_id, [2, 4], FlagMode.ADD, ["\\Deleted"])
    store.expunge(mailbox_id)
    store.store_flags(mailbox_id, [3], FlagMode.ADD, ["\\Flagged"])
    untagged = await s.ok(f"SELECT INBOX (QRESYNC ({validity} {modseq}))")
    new_modseq = highestmodseq(untagged)
    assert "* 3 EXISTS" in untagged
    assert "* VANISHED (EARLIER) 2,4" in untagged
    assert f"* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ ({new_modseq}))" in untagged
    assert untagged.index("* VANISHED (EARLIER) 2,4") > untagged.index("* 3 EXISTS")

    # Known UIDs restrict the answer to them (RFC 7162 §3.2.5.1).
    untagged = await s.ok(f"SELECT INBOX (QRESYNC ({validity} {modseq} 1:3))")
    assert "* VANISHED (EARLIER) 2" in untagged
    assert not any(line.startswith("* VANISHED") and "4" in line for line in untagged)
    # Sequence match data: the client knows message 1 is UID 1 and message 2 is UID 3, so nothing up to
    # UID 3 is reported as vanished (RFC 7162 §3.2.5.2).
    untagged = await s.ok(f"SELECT INBOX (QRESYNC ({validity} {modseq} 1:5 (1,2 1,3)))")
    assert "* VANISHED (EARLIER) 4" in untagged
    # Up to date: nothing to say.
    untagged = await s.ok(f"SELECT INBOX (QRESYNC ({validity} {new_modseq}))")
    assert not any("VANISHED" in line or "FETCH" in line for line in untagged)
    # Another UIDVALIDITY: the remaining parameters are ignored (RFC 7162 §3.2.5).
    untagged = await s.ok(f"SELECT INBOX (QRESYNC ({validity + 1} {modseq}))")
    assert not any("VANISHED" in line or "FETCH" in line for line in untagged)
    untagged, tagged = await s.run(f"SELECT INBOX (QRESYNC ({validity} {modseq} 1:5 (1,2 1)))")
    assert tagged.startswith("BAD")  # the two match sets differ in size


async def test_close_expunges_silently(session, server):
    store = server.store
    store.append("alice", "INBOX", MESSAGE, flags=("\\Deleted",))
    store.append("alice", "INBOX", MESSAGE)
    s = await session()
    await s.ok("EXAMINE INBOX")
    assert await s.ok("CLOSE") == []  # read-only: nothing expunged
    assert await s.ok("STATUS INBOX (MESSAGES)") == ["* STATUS INBOX (MESSAGES 2)"]
    await s.ok("SELECT INBOX")
    await s.ok("UNSELECT")  # RFC 9051 §6.4.2: no expunge
    assert await s.ok("STATUS INBOX (MESSAGES)") == ["* STATUS INBOX (MESSAGES 2)"]
    await s.ok("SELECT INBOX")
    assert await s.ok("CLOSE") == []  # RFC 9051 §6.4.1: no EXPUNGE responses
    assert await s.ok("STATUS INBOX (MESSAGES UIDNEXT)") == ["* STATUS INBOX (MESSAGES 1 UIDNEXT 3)"]
    assert (await s.run("CLOSE"))[1].startswith("BAD")  # authenticated state now


async def test_select_inbox_case_and_utf7(session, server):
    s = await session()
    await s.ok('CREATE "&ZeVnLIqe-"')
    server.store.append("alice", "日本語", MESSAGE)
    assert "* 1 EXISTS" in await s.ok('SELECT "&ZeVnLIqe-"')
    assert (await s.run("SELECT iNbOx"))[1] == "OK [READ-WRITE] SELECT completed"


async def test_select_of_an_undecodable_name_closes_the_previous_mailbox(session):
    s = await session()
    await s.ok("SELECT INBOX")
    untagged, tagged = await s.run('SELECT "&Jjo"')
    assert untagged == ["* OK [CLOSED] Previous mailbox closed."]
    assert tagged.startswith("NO [CANNOT]")
    assert (await s.run("CHECK"))[1].startswith("BAD")
