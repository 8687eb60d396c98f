"""Store writes the server runs inline on its event loop (``Store.call_if_writer_free``): what they leave
for a worker thread, and only when there is something to do."""

from __future__ import annotations

from imapcore.store import FlagMode, Store
from support.locks import writer_held

MESSAGE = b"Subject: twice\r\nFrom: a@example.org\r\n\r\nthe same bytes\r\n"


def test_an_inline_expunge_leaves_a_collection_only_for_a_blob_without_references(tmp_path):
    with Store.open(tmp_path / "data", durable=False) as store:
        store.create_user("alice")
        inbox = store.mailbox("alice", "INBOX").id
        store.append("alice", "INBOX", MESSAGE)
        store.append("alice", "Sent", MESSAGE)  # the same bytes: one blob, two references
        store.store_flags(inbox, [1], FlagMode.ADD, ["\\Deleted"])
        done, result = store.call_if_writer_free(store.expunge, inbox, None)
        assert done and result.uids == (1,)
        assert not store.collection_pending  # the Sent copy still holds the blob: no thread hop for nothing
        sent = store.mailbox("alice", "Sent").id
        store.store_flags(sent, [1], FlagMode.ADD, ["\\Deleted"])
        done, result = store.call_if_writer_free(store.expunge, sent, None)
        assert done and result.uids == (1,)
        assert store.collection_pending  # the last reference went: the blob is collected in a thread
        assert len(store.collect_unreferenced()) == 1
        assert not store.collection_pending


def test_append_now_commits_known_bytes_only_and_never_waits(tmp_path):
    
    import pytest

    from imapcore.store import MailboxNotFound, NewMessage

    with Store.open(tmp_path / "data") as store:  # synchronous=FULL: a commit has a WAL ticket to wait for
        store.create_user("alice")
        inbox = store.mailbox("alice", "INBOX").id
        message = NewMessage(MESSAGE, frozenset({"\\Flagged"}), None)
        assert store.append_now("alice", "INBOX", [message]) is None  # new bytes: parse and flush elsewhere
        assert store.status("alice", "INBOX").messages == 0
        store.append_many("alice", "Sent", [message])  # now the store holds them
        result, ticket = store.append_now("alice", "INBOX", [message, message], claim_recent_in=inbox)
        assert result.uids == (1, 2) and result.recent == (1, 2) and ticket > 0
        store.wait_durable(ticket)
        assert [row.flags for row in store.fetch_rows(inbox, [1, 2], ("flags",))] == [frozenset({"\\Flagged"})] * 2
        with pytest.raises(MailboxNotFound) as refused:
            store.append_now("alice", "Nowhere", [message])
        assert refused.value.target  # TRYCREATE, as append_many says it
        # The writer held by another thread (a group commit): nothing written, the caller uses a thread.
        with writer_held(store):
            assert store.append_now("alice", "INBOX", [message]) is None
        assert store.status("alice", "INBOX").messages == 2


def test_a_store_that_changes_nothing_is_answered_by_a_read(tmp_path):
    from imapcore.store import NewMessage

    with Store.open(tmp_path / "data", durable=False) as store:
        store.create_user("alice")
        inbox = store.mailbox("alice", "INBOX").id
        store.append_many("alice", "INBOX", [NewMessage(MESSAGE, frozenset({"\\Seen"}), None),
                                             NewMessage(MESSAGE, frozenset({"$Work"}), None)])
        before = store.status("alice", "INBOX").highest_modseq
        quick = store.store_flags_if_unchanged(inbox, [1], FlagMode.ADD, ["\\Seen"])
        assert quick == store.store_flags(inbox, [1], FlagMode.ADD, ["\\Seen"])  # what the write says
        assert quick.changed == () and [(c.uid, c.flags) for c in quick.unchanged] == [(1, frozenset({"\\Seen"}))]
        assert quick.highest_modseq == before == store.status("alice", "INBOX").highest_modseq
        assert store.store_flags_if_unchanged(inbox, [2], FlagMode.REMOVE, ["\\Seen"]).unchanged[0].flags == {"$Work"}
        # Something would change, or keywords are involved: the write transaction decides.
        assert store.store_flags_if_unchanged(inbox, [1, 2], FlagMode.ADD, ["\\Seen"]) is None
        assert store.store_flags_if_unchanged(inbox, [2], FlagMode.REPLACE, []) is None  # drops $Work
        assert store.store_flags_if_unchanged(inbox, [2], FlagMode.ADD, ["$Work"]) is None


def test_append_now_in_two_steps_can_be_tried_again_after_a_busy_writer(tmp_path):
    
    from imapcore.store import NewMessage

    with Store.open(tmp_path / "data", durable=False) as store:
        store.create_user("alice")
        message = NewMessage(MESSAGE, frozenset(), None)
        store.append_many("alice", "Sent", [message])
        request = store.prepare_append_now("alice", "INBOX", [message])
        assert request is not None
        with writer_held(store):
            assert store.commit_append_now(request) is None  # busy: nothing written
        assert store.status("alice", "INBOX").messages == 0
        result, _ = store.commit_append_now(request)  # the same request, tried again
        assert result.uids == (1,) and store.status("alice", "INBOX").messages == 1


async def test_the_wait_for_durability_runs_to_its_end_even_when_cancelled():
    """``run_append`` waits for the WAL fsync of a commit already made: a cancelled session must not
    abandon it (the thread's result is delivered, the cancellation comes at the next checkpoint)."""
    import time

    import pytest
    import trio

    from imapcore.commands.context import _in_thread_to_the_end

    finished = []

    def slow_fsync() -> int:
        time.sleep(0.2)
        finished.append(True)
        return 7

    results = []
    with trio.move_on_after(0.01) as scope:
        results.append(await _in_thread_to_the_end(slow_fsync))
        await trio.sleep(5)  # the pending cancellation lands here
    assert scope.cancelled_caught and results == [7] and finished == [True]
    with pytest.raises(ZeroDivisionError):
        await _in_thread_to_the_end(lambda: 1 / 0)  # the thread's exception reaches the caller
