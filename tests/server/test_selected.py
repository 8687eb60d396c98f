"""SelectedMailbox against a real store and in-process change feed: numbering, ``*``/``$`` resolution,
and how other sessions' changes become EXISTS / FETCH / EXPUNGE / VANISHED at the right moments."""

from __future__ import annotations

import pytest

from imapcore.protocol.errors import BadCommand
from imapcore.store import FlagMode
from imapcore.syntax.model import STAR, SequenceSet
from support.sessions import open_sessions, updates

MESSAGE = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


def seqset(*ranges, saved=False):
    return SequenceSet(tuple(ranges), saved=saved)


def wire(responses, utf8=False):
    return [r.to_bytes(utf8) for r in responses]





async def test_resolve_sequence_numbers_uids_star_and_saved(tmp_path):
    store, (ctx,) = await open_sessions(tmp_path, 1)
    for _ in range(5):
        store.append("alice", "INBOX", MESSAGE)
    mailbox_id = store.mailbox("alice", "INBOX").id
    store.expunge(mailbox_id, None)  # nothing deleted: UIDs stay 1..5
    store.store_flags(mailbox_id, [2, 4], FlagMode.ADD, ["\\Deleted"])
    store.expunge(mailbox_id, None)  # UIDs now 1, 3, 5
    selected = await ctx.select("INBOX", read_only=False)
    assert selected.uids == [1, 3, 5]
    assert selected.resolve(seqset((2, STAR)), uid=False) == [3, 5]
    assert selected.resolve(seqset((STAR, 2)), uid=False) == [3, 5]  # n:m == m:n
    assert selected.resolve(seqset((1, 1), (1, 2)), uid=False) == [1, 3]  # no duplicates
    assert selected.resolve(seqset((2, 4)), uid=True) == [3]
    assert selected.resolve(seqset((STAR, STAR)), uid=True) == [5]
    # RFC 9051 §6.4.8: UID n:* with n above every UID still names the largest one.
    assert selected.resolve(seqset((100, STAR)), uid=True) == [5]
    assert selected.resolve(seqset((6, 10)), uid=True) == []
    with pytest.raises(BadCommand):
        selected.resolve(seqset((4, 4)), uid=False)  # only 3 messages: Dovecot's "Invalid messageset"
    ctx.saved_result = (5, 3, 2)
    assert selected.resolve(seqset(saved=True), uid=False) == [3, 5]  # 2 does not exist
    assert selected.seq_of(5) == 3 and selected.seq_of(2) is None
    await ctx.unselect()
    store.close()


async def test_empty_mailbox_sequence_sets_are_bad_uid_sets_empty(tmp_path):
    store, (ctx,) = await open_sessions(tmp_path, 1)
    selected = await ctx.select("Trash", read_only=True)
    with pytest.raises(BadCommand):
        selected.resolve(seqset((1, STAR)), uid=False)  # Dovecot: "Invalid messageset"
    assert selected.resolve(seqset((1, STAR)), uid=True) == []
    with pytest.raises(BadCommand):
        selected.resolve(seqset((1, 1)), uid=False)
    await ctx.unselect()
    store.close()


async def test_other_sessions_changes_become_untagged_responses(tmp_path):
    store, (a, b) = await open_sessions(tmp_path)
    store.append("alice", "INBOX", MESSAGE)
    await a.select("INBOX", False)
    await b.select("INBOX", False)
    b.enabled.add("IMAP4REV2")  # no \Recent noise
    # APPEND by "a" (through the store, as the APPEND handler does) reaches "b" as EXISTS.
    await a.run_store(store.append, "alice", "INBOX", MESSAGE)
    assert await updates(b) == [b"* 2 EXISTS\r\n"]
    assert await updates(b) == []  # told once
    # A flag change: FETCH with UID and FLAGS; MODSEQ only once CONDSTORE is on.
    result = await a.run_store(store.store_flags, a.selected.mailbox_id, [1], FlagMode.ADD, ["\\Seen", "$Work"])
    a.selected.note_flags(result.changed)
    # $Work is new to the mailbox: announced with FLAGS/PERMANENTFLAGS first (RFC 9051 §7.3.5).
    assert await updates(b) == [
        b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)\r\n",
        b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted.\r\n",
        b"* 1 FETCH (UID 1 FLAGS (\\Seen $Work))\r\n",
    ]
    got = await updates(a)
    assert got[0].startswith(b"* FLAGS (") and b"$Work" in got[0]  # a's own STORE taught it too
    got = got[2:]
    # "a" (IMAP4rev1) reported its own STORE; it is the first to look since the messages arrived (no
    # SELECT handler claimed message 1 here), so both are \Recent there and nowhere else (RFC 3501 §2.3.2).
    assert got == [b"* 2 EXISTS\r\n", b"* 2 RECENT\r\n"]
    assert a.selected.recent == {1, 2}
    assert b.selected.recent == set()
    b.enabled.add("CONDSTORE")
    result = await a.run_store(store.store_flags, a.selected.mailbox_id, [2], FlagMode.ADD, ["\\Flagged"])
    modseq = result.changed[0].modseq
    assert await updates(b) == [f"* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ ({modseq}))\r\n".encode()]
    await a.unselect()
    await b.unselect()
    store.close()


async def test_expunge_is_deferred_during_fetch_store_search(tmp_path):
    store, (a, b) = await open_sessions(tmp_path)
    for _ in range(3):
        store.append("alice", "INBOX", MESSAGE)
    await b.select("INBOX", False)
    b.enabled.add("IMAP4REV2")
    mailbox_id = b.selected.mailbox_id
    store.store_flags(mailbox_id, [1, 3], FlagMode.ADD, ["\\Deleted"])
    store.expunge(mailbox_id, None)
    store.append("alice", "INBOX", MESSAGE)
    # During FETCH/STORE/SEARCH: the new message is announced, the expunges wait (RFC 9051 §7.5.1);
    # EXISTS counts the expunged messages the client still knows about.
    first = await updates(b, allow_expunge=False)
    assert first[0] == b"* 4 EXISTS\r\n"
    assert all(b"EXPUNGE" not in line for line in first)
    assert b.selected.resolve(seqset((1, STAR)), uid=False) == [1, 2, 3, 4]
    # At the next boundary that allows it: highest sequence number first, so none shifts.
    assert await updates(b) == [b"* 3 EXPUNGE\r\n", b"* 1 EXPUNGE\r\n"]
    assert b.selected.uids == [2, 4]
    await b.unselect()
    store.close()


async def test_qresync_reports_vanished_and_own_expunge_is_not_repeated(tmp_path):
    store, (a, b) = await open_sessions(tmp_path)
    for _ in range(4):
        store.append("alice", "INBOX", MESSAGE)
    await a.select("INBOX", False)
    await b.select("INBOX", False)
    b.enabled.update({"QRESYNC", "IMAP4REV2"})
    a.enabled.add("IMAP4REV2")
    mailbox_id = a.selected.mailbox_id
    await a.run_store(store.store_flags, mailbox_id, [2, 3], FlagMode.ADD, ["\\Deleted"])
    result = await a.run_store(store.expunge, mailbox_id, None)
    own = wire(a.selected.note_expunged(result.uids, result.highest_modseq))
    assert own == [b"* 3 EXPUNGE\r\n", b"* 2 EXPUNGE\r\n"]
    assert b"* VANISHED 2:3\r\n" in await updates(b)
    # "a" already told its client: the feed's echo of its own expunge adds nothing.
    assert [line for line in await updates(a) if b"EXPUNGE" in line or b"VANISHED" in line] == []
    assert a.selected.uids == b.selected.uids == [1, 4]
    await a.unselect()
    await b.unselect()
    store.close()


async def test_changes_between_subscribe_and_snapshot_are_not_repeated(tmp_path):
    store, (a,) = await open_sessions(tmp_path, 1)
    store.append("alice", "INBOX", MESSAGE)
    selected = await a.select("INBOX", False)
    a.enabled.add("IMAP4REV2")
    # Nothing changed since the snapshot: no update at all.
    assert await updates(a) == []
    assert selected.exists == 1
    await a.unselect()
    store.close()


async def test_resync_after_falling_behind(tmp_path):
    store, (a, b) = await open_sessions(tmp_path, buffer_size=2)
    for _ in range(3):
        store.append("alice", "INBOX", MESSAGE)
    await b.select("INBOX", False)
    b.enabled.add("IMAP4REV2")
    mailbox_id = b.selected.mailbox_id
    # More changes than the subscriber's buffer holds: it will be told to resynchronise.
    for _ in range(4):
        await a.run_store(store.append, "alice", "INBOX", MESSAGE)
    await a.run_store(store.store_flags, mailbox_id, [1], FlagMode.ADD, ["\\Deleted", "\\Seen"])
    await a.run_store(store.expunge, mailbox_id, None)
    await a.run_store(store.store_flags, mailbox_id, [2], FlagMode.ADD, ["\\Answered"])
    got = await updates(b)
    assert got[0] == b"* 1 EXPUNGE\r\n"
    assert b"* 6 EXISTS\r\n" in got
    assert b"* 1 FETCH (UID 2 FLAGS (\\Answered))\r\n" in got
    assert b.selected.uids == [2, 3, 4, 5, 6, 7]
    await b.unselect()
    store.close()


async def test_run_store_and_run_read_pick_inline_or_thread(tmp_path):
    import threading

    from imapcore.commands.context import INLINE_READ_MAX

    store, (ctx,) = await open_sessions(tmp_path, 1)
    loop_thread = threading.get_ident()

    def where(*_args, **_kwargs):
        return threading.get_ident()

    assert await ctx.run_read(where, size=INLINE_READ_MAX) == loop_thread
    assert await ctx.run_read(where, size=INLINE_READ_MAX + 1) != loop_thread
    assert await ctx.run_store(where, 1, key=2) != loop_thread  # anything unknown goes to a thread
    # Cheap store reads run inline, and give the same answer.
    assert (await ctx.run_store(store.mailbox, "alice", "INBOX")).name == "INBOX"
    store.close()
