import threading

import pytest
import trio
import trio.testing

from imapcore.store import Change, ChangeKind, FlagMode, InProcessFeed, Store
from imapcore.syntax.model import STAR, SequenceSet


async def receive_n(subscription, n):
    changes = []
    with trio.fail_after(5):
        for _ in range(n):
            changes.append(await subscription.receive())
    return changes


async def test_changes_arrive_in_commit_order_from_worker_threads(tmp_path):
    feed = InProcessFeed(buffer_size=1000)
    store = Store.open(tmp_path / "d", feed=feed, durable=False)
    try:
        await trio.to_thread.run_sync(store.create_user, "alice")
        inbox = store.mailbox("alice", "INBOX").id
        async with feed.subscribe("alice", inbox) as watcher, feed.subscribe("bob") as other:
            async def append(i):
                await trio.to_thread.run_sync(store.append, "alice", "INBOX", f"Subject: {i}\r\n\r\n{i}\r\n".encode())

            async with trio.open_nursery() as nursery:
                for i in range(20):
                    nursery.start_soon(append, i)
            await trio.to_thread.run_sync(
                lambda: store.store_flags(inbox, SequenceSet(((1, STAR),)), FlagMode.ADD, ["\\Deleted"])
            )
            await trio.to_thread.run_sync(store.expunge, inbox)
            await trio.to_thread.run_sync(store.create_mailbox, "alice", "new")
            changes = await receive_n(watcher, 23)
            kinds = [c.kind for c in changes]
            assert kinds == [ChangeKind.MESSAGES_ADDED] * 20 + [
                ChangeKind.FLAGS_CHANGED, ChangeKind.EXPUNGED, ChangeKind.MAILBOX_CREATED
            ]
            seqs = [c.seq for c in changes]
            assert seqs == sorted(seqs) and len(set(seqs)) == 23
            added = [uid for c in changes[:20] for uid in c.uids]
            assert added == list(range(1, 21))  # commit order is UID order: none lost, none duplicated
            assert changes[20].uids == tuple(range(1, 21))
            assert changes[20].flags[0] == frozenset({"\\Deleted"})
            assert list(changes[20].modseqs) == sorted(changes[20].modseqs)
            assert changes[21].uids == tuple(range(1, 21)) and changes[21].highest_modseq > changes[20].modseqs[-1]
            with trio.move_on_after(0.05):
                await other.receive()
                raise AssertionError("bob must not see alice's changes")
    finally:
        store.close()


async def test_slow_subscriber_is_told_to_resync(tmp_path):
    feed = InProcessFeed(buffer_size=4)
    store = Store.open(tmp_path / "d", feed=feed, durable=False)
    try:
        store.create_user("alice")
        inbox = store.mailbox("alice", "INBOX").id
        async with feed.subscribe("alice", inbox) as slow:
            for i in range(10):
                store.append("alice", "INBOX", f"Subject: {i}\r\n\r\n{i}\r\n".encode())
            await trio.testing.wait_all_tasks_blocked()
            first = await receive_n(slow, 1)
            assert first[0].kind is ChangeKind.RESYNC
            # After the resync the subscriber is live again.
            store.append("alice", "INBOX", b"Subject: after\r\n\r\nx\r\n")
            (latest,) = await receive_n(slow, 1)
            assert latest.kind is ChangeKind.MESSAGES_ADDED and latest.uids == (11,)
    finally:
        store.close()


async def test_mailbox_list_changes_reach_mailbox_watchers(tmp_path):
    feed = InProcessFeed()
    store = Store.open(tmp_path / "d", feed=feed, durable=False)
    try:
        store.create_user("alice")
        inbox = store.mailbox("alice", "INBOX").id
        async with feed.subscribe("alice", inbox) as watcher:
            store.create_mailbox("alice", "p/q")
            store.rename_mailbox("alice", "p", "r")
            store.subscribe("alice", "r/q")
            store.unsubscribe("alice", "r/q")
            store.delete_mailbox("alice", "r/q")
            store.append("alice", "Sent", b"Subject: elsewhere\r\n\r\nx\r\n")  # another mailbox: not seen
            store.append("alice", "INBOX", b"Subject: here\r\n\r\ny\r\n")
            changes = await receive_n(watcher, 8)
            assert [(c.kind, c.mailbox_name, c.old_name) for c in changes] == [
                (ChangeKind.MAILBOX_CREATED, "p", None),
                (ChangeKind.MAILBOX_CREATED, "p/q", None),
                (ChangeKind.MAILBOX_RENAMED, "r", "p"),
                (ChangeKind.MAILBOX_RENAMED, "r/q", "p/q"),
                (ChangeKind.SUBSCRIBED, "r/q", None),
                (ChangeKind.UNSUBSCRIBED, "r/q", None),
                (ChangeKind.MAILBOX_DELETED, "r/q", None),
                (ChangeKind.MESSAGES_ADDED, "INBOX", None),
            ]
            assert changes[-1].uids == (1,) and changes[-1].uid_next == 2
    finally:
        store.close()


async def test_inline_commit_is_delivered_before_publish_returns_and_in_commit_order():
    """A commit made on the Trio thread reaches subscribers at once, after any batch a worker thread
    queued earlier (commit order), so a session answering right after sees its effect everywhere."""
    feed = InProcessFeed()
    subscription = feed.subscribe("alice")
    worker_done = threading.Event()

    def worker_commit():
        feed.publish([Change(seq=1, kind=ChangeKind.SUBSCRIBED, user="alice", mailbox_name="A")])
        worker_done.set()

    thread = threading.Thread(target=worker_commit)
    thread.start()
    thread.join()
    assert worker_done.is_set()
    # Without yielding to trio: the worker's batch is still queued for run_sync_soon.
    feed.publish([Change(seq=2, kind=ChangeKind.SUBSCRIBED, user="alice", mailbox_name="B")])
    first = subscription.receive_nowait()
    second = subscription.receive_nowait()
    assert [first.seq, second.seq] == [1, 2]
    await trio.sleep(0)  # the queued run_sync_soon flush finds nothing left: no duplicate
    with pytest.raises(trio.WouldBlock):
        subscription.receive_nowait()


def test_renumbering_a_change_keeps_every_other_field():
    """The store numbers committed changes with a hand-written copy (``store._renumber``, faster than
    ``dataclasses.replace``): a field added to ``Change`` must not be dropped on the way."""
    import dataclasses

    from imapcore.store.store import _renumber

    values = {}
    for number, item in enumerate(dataclasses.fields(Change)):
        values[item.name] = ChangeKind.FLAGS_CHANGED if item.name == "kind" else f"value-{number}"
    change = Change(**values)
    renumbered = _renumber(change, 42)
    assert renumbered.seq == 42
    assert dataclasses.replace(renumbered, seq=change.seq) == change
