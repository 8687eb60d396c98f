"""The per-transaction durability contract of ``store.py``: deliveries commit at FULL, flag changes,
expunges and \\Recent claims at NORMAL, and no blob file is deleted before the relaxed commit that
dropped its last reference is on disk."""

import os

import pytest

import imapcore.store.store as store_module
from imapcore.store import FlagMode, Store
from support.store_corpus import make_message


@pytest.fixture
def full_store(tmp_path):
    with Store.open(tmp_path / "data", durable=False, synchronous="FULL") as opened:
        opened.create_user("alice")
        yield opened


def writer_level(store) -> int:
    # PRAGMA synchronous: 1 = NORMAL, 2 = FULL.
    return store._writer.execute("PRAGMA synchronous").fetchone()[0]


def test_deliveries_full_flag_changes_expunges_and_recent_claims_normal(full_store):
    box = full_store.mailbox("alice", "INBOX").id
    full_store.append("alice", "INBOX", make_message(1))
    assert writer_level(full_store) == 2
    assert not full_store._wal_unsynced

    full_store.store_flags(box, [1], FlagMode.ADD, ["\\Seen"])
    assert writer_level(full_store) == 1
    assert full_store._wal_unsynced

    assert full_store.claim_recent(box) == (1,)
    assert writer_level(full_store) == 1

    full_store.append("alice", "INBOX", make_message(2))  # its fsync covers the relaxed commits
    assert writer_level(full_store) == 2
    assert not full_store._wal_unsynced

    full_store.store_flags(box, [2], FlagMode.ADD, ["\\Deleted"])
    assert full_store.expunge(box).uids == (2,)
    assert writer_level(full_store) == 1


def test_wal_synced_before_an_unreferenced_blob_is_deleted(full_store, monkeypatch):
    box = full_store.mailbox("alice", "INBOX").id
    raw = make_message(7)
    full_store.append("alice", "INBOX", raw, ["\\Deleted"])
    events: list[str] = []
    real_fsync, real_delete = os.fsync, full_store.blobs.delete

    def fsync(fd):
        events.append("fsync " + os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1])
        real_fsync(fd)

    def delete(blob_id):
        events.append("delete")
        real_delete(blob_id)

    monkeypatch.setattr(store_module.os, "fsync", fsync)
    monkeypatch.setattr(full_store.blobs, "delete", delete)
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
    import threading

    box = full_store.mailbox("alice", "INBOX").id
    full_store.append("alice", "INBOX", make_message(4))

    done, result = full_store.call_if_writer_free(full_store.store_flags, box, [1], FlagMode.ADD, ["\\Flagged"])
    assert done and [change.uid for change in result.changed] == [1]

    # The writer lock held by another thread (a group commit): refused at once, nothing written.
    held, release = threading.Event(), threading.Event()

    def holder():
        with full_store._lock:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    try:
        assert full_store.call_if_writer_free(full_store.store_flags, box, [1], FlagMode.ADD, ["\\Seen"]) == (False, None)
    finally:
        release.set()
        thread.join(10)

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
