"""The per-transaction durability contract of ``store.py``: deliveries commit at FULL, flag changes,
expunges and \\Recent claims at NORMAL, and no blob file is deleted before the relaxed commit that
dropped its last reference is on disk."""

import os

import pytest

import imapcore.store.store as store_module
from imapcore.store import FlagMode, Store
from support.locks import writer_held
from support.store_corpus import make_message


@pytest.fixture
def full_store(tmp_path, monkeypatch):
    # The Python twin of the WAL flusher (syncing.GroupSync): these tests watch its fsync calls and use
    # its seam (``before_wal_fsync``); tests/store/test_flusher.py holds the C flusher to the same contract.
    monkeypatch.setenv("IMAPCORE_PURE_PYTHON", "1")
    with Store.open(tmp_path / "data", durable=False, synchronous="FULL") as opened:
        opened.create_user("alice")
        yield opened


def writer_level(store) -> int:
    # PRAGMA synchronous: 1 = NORMAL, 2 = FULL.
    return store._writer.execute("PRAGMA synchronous").fetchone()[0]


@pytest.fixture
def wal_fsyncs(monkeypatch):
    """The names of the files fsynced from now on (the WAL is ``meta.sqlite3-wal``)."""
    names: list[str] = []
    real_fsync = os.fsync

    def fsync(fd):
        names.append(os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1])
        real_fsync(fd)

    monkeypatch.setattr(store_module.os, "fsync", fsync)
    return names


def test_deliveries_wait_for_a_wal_fsync_flag_changes_expunges_and_recent_claims_do_not(full_store, wal_fsyncs):
    box = full_store.mailbox("alice", "INBOX").id
    full_store.append("alice", "INBOX", make_message(1))
    # Committed at NORMAL under the writer lock, then the WAL fsynced outside it before returning.
    assert writer_level(full_store) == 1
    assert wal_fsyncs == ["meta.sqlite3-wal"]
    assert not full_store._wal_unsynced

    full_store.store_flags(box, [1], FlagMode.ADD, ["\\Seen"])
    assert full_store._wal_unsynced
    assert full_store.claim_recent(box) == (1,)
    assert wal_fsyncs == ["meta.sqlite3-wal"]  # no fsync for either

    full_store.append("alice", "INBOX", make_message(2))  # its fsync covers the relaxed commits
    assert wal_fsyncs == ["meta.sqlite3-wal"] * 2
    assert not full_store._wal_unsynced

    full_store.store_flags(box, [2], FlagMode.ADD, ["\\Deleted"])
    assert full_store.expunge(box, [1]).uids == ()  # nothing \\Deleted among [1]: a relaxed commit all the same
    assert wal_fsyncs == ["meta.sqlite3-wal"] * 2
    assert full_store._wal_unsynced
    full_store.create_mailbox("alice", "Lists")  # every other write is durable too
    assert wal_fsyncs == ["meta.sqlite3-wal"] * 3
    assert not full_store._wal_unsynced


def test_the_writer_lock_is_free_while_a_durable_commit_waits_for_its_fsync(full_store):
    """The WAL fsync of an APPEND runs after the writer lock is released: a relaxed flag change through
    ``call_if_writer_free`` succeeds while another thread's APPEND is inside that fsync, and the APPEND
    returns only after the fsync has finished."""
    import threading

    box = full_store.mailbox("alice", "INBOX").id
    full_store.append("alice", "INBOX", make_message(20))
    in_fsync, finish_fsync = threading.Event(), threading.Event()

    def slow_fsync():  # the seam: runs in the thread doing the WAL fsync, before the fsync
        in_fsync.set()
        assert finish_fsync.wait(10)

    full_store.before_wal_fsync = slow_fsync
    returned = threading.Event()
    appended = []

    def deliver():
        appended.append(full_store.append("alice", "INBOX", make_message(21)))
        returned.set()

    thread = threading.Thread(target=deliver)
    thread.start()
    try:
        assert in_fsync.wait(10)
        assert not returned.is_set()
        done, result = full_store.call_if_writer_free(full_store.store_flags, box, [1, 2], FlagMode.ADD, ["\\Flagged"])
        assert done and [change.uid for change in result.changed] == [1, 2]  # the new message is committed
        assert not returned.wait(0.2)  # ... but not acknowledged while its fsync is still running
    finally:
        full_store.before_wal_fsync = None
        finish_fsync.set()
        thread.join(10)
    assert returned.is_set() and appended[0].uids == (2,)
    assert {row.uid: row.flags for row in full_store.fetch_rows(box, [1, 2], ("flags",))} == {
        1: frozenset({"\\Flagged"}), 2: frozenset({"\\Flagged"})}


def test_a_failed_wal_fsync_fails_the_delivery(full_store, monkeypatch):
    def failing():
        raise OSError(5, "Input/output error")

    full_store.before_wal_fsync = failing
    with pytest.raises(OSError):
        full_store.append("alice", "INBOX", make_message(30))
    assert full_store._wal_unsynced
    full_store.before_wal_fsync = None
    # The refused message was committed but never acknowledged (the client may retry: a duplicate, never a
    # loss). A later delivery gets a fresh fsync of its own and succeeds.
    assert full_store.append("alice", "INBOX", make_message(31)).uids == (2,)
    assert not full_store._wal_unsynced


def test_wal_synced_before_an_unreferenced_blob_is_deleted(full_store, monkeypatch):
    box = full_store.mailbox("alice", "INBOX").id
    raw = make_message(7)
    full_store.append("alice", "INBOX", raw, ["\\Deleted"])
    events: list[str] = []
    real_fsync, real_delete = os.fsync, full_store.blobs.delete_many

    def fsync(fd):
        events.append("fsync " + os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1])
        real_fsync(fd)

    def delete_many(blob_ids, sizes=None):
        events.append("delete")
        return real_delete(blob_ids, sizes)

    monkeypatch.setattr(store_module.os, "fsync", fsync)
    monkeypatch.setattr(full_store.blobs, "delete_many", delete_many)
    full_store.expunge(box)
    assert events == ["fsync meta.sqlite3-wal", "delete"]
    assert not full_store._wal_unsynced
    assert full_store.fsck().clean


def test_configured_normal_stays_normal_everywhere(tmp_path):
    with Store.open(tmp_path / "data", durable=False, synchronous="NORMAL") as store:
        store.create_user("alice")
        store.append("alice", "INBOX", make_message(3))
        assert writer_level(store) == 1
        assert store._wal_unsynced


def test_call_if_writer_free_never_waits(full_store):
    import sqlite3

    box = full_store.mailbox("alice", "INBOX").id
    full_store.append("alice", "INBOX", make_message(4))

    done, result = full_store.call_if_writer_free(full_store.store_flags, box, [1], FlagMode.ADD, ["\\Flagged"])
    assert done and [change.uid for change in result.changed] == [1]

    # The writer lock held by another thread (a group commit): refused at once, nothing written.
    with writer_held(full_store):
        assert full_store.call_if_writer_free(full_store.store_flags, box, [1], FlagMode.ADD, ["\\Seen"]) == (False, None)

    # SQLite's write lock held by another connection (another process): refused, nothing written.
    other = sqlite3.connect(full_store.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert full_store.call_if_writer_free(full_store.store_flags, box, [1], FlagMode.ADD, ["\\Seen"]) == (False, None)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert full_store._writer.execute("PRAGMA busy_timeout").fetchone()[0] == 60_000
    rows = full_store.fetch_rows(box, [1], ("flags",))
    assert rows[0].flags == frozenset({"\\Flagged"})


def test_inline_expunge_leaves_blob_collection_to_the_caller(full_store):
    import hashlib

    box = full_store.mailbox("alice", "INBOX").id
    raw = make_message(9)
    blob_id = hashlib.sha256(raw).hexdigest()
    full_store.append("alice", "INBOX", raw, ["\\Deleted"])
    done, result = full_store.call_if_writer_free(full_store.expunge, box, None)
    assert done and result.uids == (1,)
    assert full_store.collection_pending
    assert full_store.blobs.exists(blob_id)  # not deleted on the caller's (event loop) thread
    assert full_store.collect_unreferenced() == [blob_id]
    assert not full_store.collection_pending
    assert not full_store.blobs.exists(blob_id)
    assert not full_store._wal_unsynced  # synced before the file went
    assert full_store.fsck().clean


def test_durable_commits_checkpoint_the_wal_outside_the_writer_lock(tmp_path):
    import threading

    with Store.open(tmp_path / "data", durable=False, synchronous="FULL") as store:
        store.create_user("alice")
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 10000  # SQLite's: far off
        checkpointer = store._checkpointer
        checkpointer._pages = 40
        real_run = checkpointer.maybe_run
        lock_free_during_checkpoint = []

        def maybe_run():
            if checkpointer.frames_behind() >= checkpointer._pages:
                # Asked from another thread: the writer lock is re-entrant.
                probe = threading.Thread(target=lambda: lock_free_during_checkpoint.append(try_lock()))
                probe.start()
                probe.join(10)
            real_run()

        def try_lock():
            if store._lock.acquire(blocking=False):
                store._lock.release()
                return True
            return False

        checkpointer.maybe_run = maybe_run
        for n in range(12):
            store.append("alice", "INBOX", make_message(100 + n, body_kb=20))
        assert checkpointer.checkpoints >= 2
        assert lock_free_during_checkpoint and all(lock_free_during_checkpoint)
        assert checkpointer.frames_behind() < 40 + 60  # at most what the commits since the last one added
        assert store.status("alice", "INBOX").messages == 12
