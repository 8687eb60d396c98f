"""``SharedFeed``: the change feed of several processes on one data directory, through ``change_log``.

Two stores opened on one directory with ``process_shared=True``, each with its own ``SharedFeed`` and
wake-up pipe, stand for two worker processes (``tests/server/test_workers.py`` runs the real ones).
"""

from __future__ import annotations

import os

import pytest
import trio

from imapcore.store import ChangeKind, FlagMode, Store
from imapcore.store import sharedfeed
from imapcore.store.sharedfeed import SharedFeed, decode, encode


def _message(n: int) -> bytes:
    return f"Subject: m{n}\r\nMessage-ID: <{n}@example.org>\r\n\r\nbody {n}\r\n".encode()


class _Pair:
    """Two 'workers': stores a and b with feeds that wake each other."""

    def __init__(self, data_dir):
        Store.open(data_dir, durable=False).close()  # schema
        self.pipes = [os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC) for _ in range(2)]
        self.feeds = [
            SharedFeed(data_dir, self.pipes[i][0], [self.pipes[1 - i][1]], buffer_size=64) for i in range(2)
        ]
        self.stores = [
            Store.open(data_dir, feed=feed, durable=False, process_shared=True) for feed in self.feeds
        ]

    def close(self):
        for store in self.stores:
            store.close()
        for feed in self.feeds:
            feed.close()
        for read_end, write_end in self.pipes:
            os.close(read_end)
            os.close(write_end)


@pytest.fixture
async def pair(tmp_path):
    pair = _Pair(tmp_path / "data")
    pair.stores[0].create_user("u")
    yield pair
    pair.close()


def test_encode_decode_round_trip():
    from imapcore.store import Change

    change = Change(7, ChangeKind.FLAGS_CHANGED, "u", 3, "INBOX", (1, 5), (frozenset({"\\Seen", "$X"}), frozenset()),
                    (10, 11), highest_modseq=11, uid_next=6)
    assert decode(7, "u", encode(change)) == change
    renamed = Change(8, ChangeKind.MAILBOX_RENAMED, "u", 4, "New", old_name="Old")
    assert decode(8, "u", encode(renamed)) == renamed


async def test_a_commit_in_one_store_reaches_the_other_at_the_next_command_boundary(pair):
    a, b = pair.stores
    box = a.mailbox("u", "INBOX").id
    subscription = pair.feeds[1].subscribe("u", box)
    result = a.append("u", "INBOX", _message(1))
    change = subscription.receive_nowait()  # no wake-up needed: the counter says "behind"
    assert change.kind is ChangeKind.MESSAGES_ADDED and change.uids == result.uids and change.mailbox_id == box
    with pytest.raises(trio.WouldBlock):
        subscription.receive_nowait()
    await subscription.aclose()


async def test_the_follower_pushes_changes_to_a_waiting_subscriber(pair, monkeypatch):
    monkeypatch.setattr(sharedfeed, "POLL_S", 60.0)  # so only the wake-up pipe can deliver in time
    a, _ = pair.stores
    box = a.mailbox("u", "INBOX").id
    subscription = pair.feeds[1].subscribe("u", box)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(pair.feeds[1].follow)
        await trio.sleep(0)
        await trio.to_thread.run_sync(a.append, "u", "INBOX", _message(2))  # a worker thread, as the server does
        with trio.fail_after(10):
            change = await subscription.receive()
        assert change.kind is ChangeKind.MESSAGES_ADDED and change.uids == (1,)
        nursery.cancel_scope.cancel()
    await subscription.aclose()


async def test_interleaved_commits_from_both_arrive_once_each_in_commit_order(pair):
    a, b = pair.stores
    box = a.mailbox("u", "INBOX").id
    watchers = [feed.subscribe("u", box) for feed in pair.feeds]
    for n in range(12):
        (a if n % 3 else b).append("u", "INBOX", _message(100 + n))
        if n % 4 == 0:
            b.store_flags(box, [1], FlagMode.ADD, {"\\Seen"})
    for watcher in watchers:
        seen = []
        while True:
            try:
                seen.append(watcher.receive_nowait())
            except trio.WouldBlock:
                break
        seqs = [change.seq for change in seen]
        assert seqs == sorted(set(seqs)), seqs  # strictly increasing: no repeats, commit order
        added = [uid for change in seen if change.kind is ChangeKind.MESSAGES_ADDED for uid in change.uids]
        assert added == list(range(1, 13))
        await watcher.aclose()


async def test_a_subscriber_behind_the_pruned_log_is_told_to_resync(pair, monkeypatch):
    monkeypatch.setattr(sharedfeed, "KEEP", 4)
    monkeypatch.setattr(sharedfeed, "PRUNE_EVERY", 2)
    a, _ = pair.stores
    box = a.mailbox("u", "INBOX").id
    subscription = pair.feeds[1].subscribe("u", box)
    for n in range(12):
        a.append("u", "INBOX", _message(200 + n))
    kept = a._reader().execute("SELECT count(*) FROM change_log").fetchone()[0]
    assert kept <= 4 + 2
    change = subscription.receive_nowait()
    assert change.kind is ChangeKind.RESYNC
    await subscription.aclose()


async def test_a_subscription_starts_after_what_was_committed_before_it(pair):
    a, _ = pair.stores
    box = a.mailbox("u", "INBOX").id
    a.append("u", "INBOX", _message(300))
    subscription = pair.feeds[1].subscribe("u", box)  # catches up first: the append is history
    with pytest.raises(trio.WouldBlock):
        subscription.receive_nowait()
    a.append("u", "INBOX", _message(301))
    assert subscription.receive_nowait().uids == (2,)
    await subscription.aclose()


def _drain(subscription) -> list:
    seen = []
    while True:
        try:
            seen.append(subscription.receive_nowait())
        except trio.WouldBlock:
            return seen


def _count_log_reads(monkeypatch, feed) -> list[int]:
    reads = []
    follow_log = feed._follow_log

    def counted(*args, **kwargs):
        reads.append(1)
        return follow_log(*args, **kwargs)

    monkeypatch.setattr(feed, "_follow_log", counted)
    return reads


async def test_commits_of_users_without_a_subscriber_here_cost_no_log_read(pair, monkeypatch):
    a, b = pair.stores
    a.create_user("v")
    box = a.mailbox("u", "INBOX").id
    watcher = pair.feeds[1].subscribe("u", box)
    reads = _count_log_reads(monkeypatch, pair.feeds[1])
    for n in range(3):
        a.append("v", "INBOX", _message(400 + n))
    assert _drain(watcher) == [] and reads == []
    assert pair.feeds[1].delivered_seq == sharedfeed.latest_seq(a._reader())
    # b's own commit after a's: the gap holds nothing of b's users, so it is not read either.
    own = b.append("u", "INBOX", _message(410))
    assert [change.uids for change in _drain(watcher)] == [own.uids] and reads == []
    # A commit of a user with a subscriber here is read and delivered.
    theirs = a.append("u", "INBOX", _message(411))
    assert [change.uids for change in _drain(watcher)] == [theirs.uids] and reads == [1]
    await watcher.aclose()


async def test_mixed_users_from_both_processes_arrive_complete_and_in_order(pair):
    a, b = pair.stores
    for name in ("v", "w"):
        a.create_user(name)
    boxes = {name: a.mailbox(name, "INBOX").id for name in ("u", "v", "w")}
    watchers = {(i, name): pair.feeds[i].subscribe(name, boxes[name]) for i, name in ((0, "u"), (1, "u"), (1, "w"))}
    expected: dict[str, list[int]] = {"u": [], "v": [], "w": []}
    seen_by = {key: [] for key in watchers}
    for n in range(30):
        user = "uvw"[n % 3] if n % 4 else "u"
        result = (a if n % 5 < 2 else b).append(user, "INBOX", _message(500 + n))
        expected[user].extend(result.uids)
        if n % 7 == 0:  # command boundaries in between, as sessions have
            for key, watcher in watchers.items():
                seen_by[key].extend(_drain(watcher))
    for (index, name), watcher in watchers.items():
        seen = seen_by[(index, name)] + _drain(watcher)
        seqs = [change.seq for change in seen]
        assert seqs == sorted(set(seqs))
        assert [uid for change in seen for uid in change.uids] == expected[name]
        await watcher.aclose()


async def test_peers_are_woken_only_for_users_they_have_subscribers_for(tmp_path):
    data_dir = tmp_path / "data"
    Store.open(data_dir, durable=False).close()
    pipes = [os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC) for _ in range(2)]
    feeds = [SharedFeed(data_dir, pipes[i][0], [pipes[1 - i][1]], worker_index=i) for i in range(2)]
    stores = [Store.open(data_dir, feed=feed, durable=False, process_shared=True) for feed in feeds]
    try:
        a = stores[0]
        for name in ("u", "v"):
            a.create_user(name)

        def woken() -> bool:
            try:
                return bool(os.read(pipes[1][0], 4096))
            except BlockingIOError:
                return False

        woken()
        watcher = feeds[1].subscribe("u", a.mailbox("u", "INBOX").id)
        a.append("v", "INBOX", _message(600))
        assert not woken()
        result = a.append("u", "INBOX", _message(601))
        assert woken()
        assert [change.uids for change in _drain(watcher)] == [result.uids]
        await watcher.aclose()
        a.append("u", "INBOX", _message(602))
        assert not woken()  # no subscriber left there
    finally:
        for store in stores:
            store.close()
        for feed in feeds:
            feed.close()
        for read_end, write_end in pipes:
            os.close(read_end)
            os.close(write_end)
