"""The word-trigram full-text index (fulltext.py), the schema 1 -> 2 migration, and batched blob syncing."""

import contextlib
import os
import sqlite3
import time

import pytest

from imapcore.store import Store, fulltext, schema
from imapcore.store.blobs import BlobStore, blob_id_of
from imapcore.syntax.model import SearchKey


def test_index_terms_keep_each_word_once_in_order():
    assert fulltext.index_terms("b a\r\nb  c\ta b") == "b a c"
    assert fulltext.index_terms("") == ""


def _conn():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in fulltext.SCHEMA:
        conn.execute(statement)
    conn.execute(schema._V4)  # fulltext_pending
    return conn


def _query(conn, needle, body_only=False):
    params = []

    def param(value):
        params.append(value)
        return "?"

    condition = fulltext.condition(needle, body_only=body_only, param=param)
    sql = f"SELECT m.blob FROM (SELECT num AS blob FROM blob_fulltext) m WHERE {condition} ORDER BY m.blob"
    return [num for (num,) in conn.execute(sql, params)]


@pytest.mark.parametrize("pending", [(), (2, 4), (1, 2, 3, 4)])
def test_condition_is_exact_substring_semantics(pending):
    """Exact whether a blob is in the trigram index or still pending (its stored text checked)."""
    conn = _conn()
    texts = {
        1: ("subject: hello", "alpha bravo charlie alpha"),
        2: ("subject: bravo alpha", "charlie bravo\r\nalpha"),
        3: ("from: x", "xy z"),
        4: ("h: near*", 'say "quoted" (par) or not nul\0byte'),
    }
    for num, (header, body) in texts.items():
        if num in pending:  # what a delivery does: the text stored, the words left to the indexer
            conn.execute("INSERT INTO blob_fulltext (num, header, body) VALUES (?, ?, ?)", (num, header, body))
            conn.execute("INSERT INTO fulltext_pending (num) VALUES (?)", (num,))
        else:
            fulltext.insert(conn, num, header, body)
    for needle in ["alpha", "lph", "alpha bravo", "bravo alpha", "bravo\r\nalpha", "o c", "xy z", "y z", "a", "z",
                   "charlie alpha", "hello", "subject: b", "nothing", "alpha  bravo", '"quoted"', "(par",
                   "near*", "or not", "nul\0byte", "ul\0by", "\0"]:
        for body_only in (True, False):
            expected = sorted(
                num for num, (header, body) in texts.items()
                if needle in body or (not body_only and needle in header)
            )
            assert _query(conn, needle, body_only) == expected, (needle, body_only)
    assert _query(conn, "") == [1, 2, 3, 4]


def test_delete_removes_the_index_entries_too():
    conn = _conn()
    fulltext.insert(conn, 1, "h", "unique words here")
    fulltext.insert(conn, 2, "h", "other words")
    assert _query(conn, "words") == [1, 2]
    assert fulltext.delete(conn, 1) and not fulltext.delete(conn, 1)
    assert conn.execute("SELECT rowid FROM blob_terms WHERE blob_terms MATCH '\"unique\"'").fetchall() == []
    assert _query(conn, "words") == [2]
    fulltext.insert(conn, 1, "h", "fresh text")  # the number is free again and indexes cleanly
    assert _query(conn, "unique") == [] and _query(conn, "fresh") == [1]


def test_delete_many_removes_pending_and_indexed_blobs_alike():
    conn = _conn()
    fulltext.insert(conn, 1, "h", "indexed words")
    conn.execute("INSERT INTO blob_fulltext (num, header, body) VALUES (2, 'h', 'pending words')")
    conn.execute("INSERT INTO fulltext_pending (num) VALUES (2)")
    fulltext.insert(conn, 3, "h", "kept words")
    fulltext.delete_many(conn, [1, 2, 9])  # 9: no text at all
    assert conn.execute("SELECT num FROM blob_fulltext").fetchall() == [(3,)]
    assert conn.execute("SELECT num FROM fulltext_pending").fetchall() == []
    assert _query(conn, "words") == [3]
    conn.execute("INSERT INTO blob_terms (blob_terms) VALUES ('integrity-check')")  # raises if corrupt


def test_version_1_database_is_migrated_and_searchable(tmp_path):
    """A store written with schema 1 (full-text rows in FTS5 table ``blob_text``) opens, migrates to the
    current version and still finds its messages by BODY and TEXT; fsck is clean."""
    data = tmp_path / "data"
    with Store.open(data, durable=False) as store:
        store.create_user("u")
        raw = b"Subject: old one\r\nFrom: a@example.org\r\n\r\nhistoric zebra text\r\n"
        store.append("u", "INBOX", raw)
    conn = sqlite3.connect(data / "meta.sqlite3", isolation_level=None)
    # Turn the file back into version 1: the old table with the same folded text, the new ones gone.
    conn.execute("BEGIN")
    conn.execute("CREATE VIRTUAL TABLE blob_text USING fts5(header, body, tokenize = 'trigram case_sensitive 1')")
    conn.execute("INSERT INTO blob_text (rowid, header, body) SELECT num, header, body FROM blob_fulltext")
    conn.execute("DROP TABLE blob_fulltext")
    conn.execute("DROP TABLE blob_terms")
    conn.execute("ALTER TABLE mailboxes DROP COLUMN expunge_floor")
    conn.execute("ALTER TABLE mailboxes DROP COLUMN expunge_records")
    conn.execute("DROP TABLE change_log")  # version 3
    conn.execute("DROP TABLE fulltext_pending")  # version 4
    conn.execute("DROP TABLE parse_pending")  # version 5
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()
    with Store.open(data, durable=False) as store:
        assert schema.version(store._writer) == schema.SCHEMA_VERSION == 5
        box = store.mailbox("u", "INBOX").id
        assert store.search(box, SearchKey("BODY", ("ZEBRA",))) == [1]
        assert store.search(box, SearchKey("TEXT", ("old one",))) == [1]
        assert store.search(box, SearchKey("BODY", ("old one",))) == []
        assert store.expunge_history_floor(box) == 0
        assert store.fsck().clean


@pytest.mark.parametrize("sync_mode", ["fsync", "syncfs"])
def test_written_blobs_become_durable_with_sync(tmp_path, sync_mode):
    blobs = BlobStore(tmp_path / "blobs", sync_mode=sync_mode)
    items = [f"message {n}".encode() * 100 for n in range(5)]
    ids = [blob_id_of(item) for item in items]
    for item, blob_id in zip(items, ids):
        blobs.write(item, blob_id)
    blobs.sync(ids)
    for item, blob_id in zip(items, ids):
        assert blobs.read(blob_id, verify=True) == item and blobs.verified(blob_id)
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_sync_fsyncs_each_file_and_each_fanout_directory_once(tmp_path, monkeypatch):
    from imapcore.store import blobs as blobs_module

    monkeypatch.setenv("IMAPCORE_PURE_PYTHON", "1")  # the Python flush (GroupSync), whose syncfs is patched here

    blobs = BlobStore(tmp_path / "blobs")
    synced = []
    real_fsync = blobs_module.os.fsync

    def record(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1])
        real_fsync(fd)

    monkeypatch.setattr(blobs_module, "_fdatasync", record)
    monkeypatch.setattr(blobs_module.os, "fsync", record)
    syncfs_calls = []
    monkeypatch.setattr(blobs_module, "_syncfs", lambda fd: syncfs_calls.append(fd) or 0)
    ids = []
    for n in range(5):
        data = b"x" * n + b"y"
        ids.append(blob_id_of(data))
        blobs.write(data, ids[-1])
    blobs.sync(ids[:2] + ids[:1])  # fewer than SYNCFS_FROM: each file and directory
    assert sorted(synced) == sorted(ids[:2] + sorted({blob_id[:2] for blob_id in ids[:2]}))
    assert syncfs_calls == []
    blobs.sync(ids[2:])  # a MULTIAPPEND's three: one syncfs instead of six fsyncs
    assert len(syncfs_calls) == 1 and len(synced) == 4


def test_syncfs_mode_shares_one_syncfs_among_waiting_deliveries(tmp_path, monkeypatch):
    """Deliveries that ask while a syncfs runs are all served by the next one (GroupSync)."""
    import threading

    from imapcore.store import blobs as blobs_module

    monkeypatch.setenv("IMAPCORE_PURE_PYTHON", "1")  # the Python flush (GroupSync), whose syncfs is patched here

    calls = []
    running, release = threading.Event(), threading.Event()

    def syncfs(fd):
        calls.append(fd)
        if len(calls) == 1:
            running.set()
            assert release.wait(10)
        return 0

    monkeypatch.setattr(blobs_module, "_syncfs", syncfs)
    blobs = BlobStore(tmp_path / "blobs", sync_mode="syncfs")
    data = [b"blob %d" % n for n in range(6)]
    for item in data:
        blobs.write(item, blob_id_of(item))
    first = threading.Thread(target=blobs.sync, args=([blob_id_of(data[0])],))
    first.start()
    assert running.wait(10)
    others = [threading.Thread(target=blobs.sync, args=([blob_id_of(item)],)) for item in data[1:]]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while blobs._syncfs_group._noted < len(data) and time.monotonic() < deadline:  # every delivery has asked
        time.sleep(0.01)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert len(calls) == 2  # the running one, then one for the five that queued behind it


def test_a_leftover_file_with_wrong_bytes_is_rewritten_at_delivery(tmp_path):
    """A crash can leave a named blob file whose bytes never reached the disk; a delivery of those bytes
    must not trust it (no row refers to it) and writes it again."""
    with Store.open(tmp_path / "d", durable=False) as store:
        store.create_user("u")
        raw = b"Subject: s\r\n\r\nbody\r\n"
        blob_id = blob_id_of(raw)
        store.blobs.path_of(blob_id).write_bytes(b"\0" * len(raw))
        assert not store.blobs.verified(blob_id)
        result = store.append("u", "INBOX", raw)
        assert store.read_blob(store.blob_id(result.mailbox_id, result.uids[0]), verify=True) == raw


@pytest.mark.parametrize("threads", [8])
def test_concurrent_deliveries_all_commit_durably(tmp_path, threads):
    import threading

    from imapcore.store import appending

    batches = []
    original = appending.DeliveryOperations._commit_append_batch

    with Store.open(tmp_path / "d") as store:  # durable: the real sync path
        store.create_user("u")
        store._commit_append_batch = lambda batch: (batches.append(len(batch)), original(store, batch))[1]
        raws = [b"Subject: %d\r\n\r\n" % n + b"text %d\r\n" % n * 200 for n in range(threads * 10)]

        def deliver(part):
            for raw in part:
                store.append("u", "INBOX", raw)

        workers = [threading.Thread(target=deliver, args=(raws[i::threads],)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert sum(batches) == len(raws)
        assert store.status("u", "INBOX").messages == len(raws)
        assert store.fsck().clean


def test_deferred_indexing_keeps_search_exact_and_survives_a_restart(tmp_path):
    from imapcore.store import FlagMode

    data = tmp_path / "d"
    words = ["zebra", "yak", "walrus", "zebra yak"]
    with Store.open(data, durable=False) as store:
        store.create_user("u")
        store.fulltext_batch = 10**6  # no indexing by the delivering threads in this test
        for n, word in enumerate(words):
            store.append("u", "INBOX", f"Subject: m{n}\r\n\r\nthe {word} text\r\n".encode())
        assert fulltext.pending_count(store._reader()) == 4
        box = store.mailbox("u", "INBOX").id
        assert store.search(box, SearchKey("BODY", ("zebra",))) == [1, 4]  # from the stored text
        assert store.search(box, SearchKey("TEXT", ("m2",))) == [3]
    with Store.open(data, durable=False) as store:  # a restart: the pending rows are still there
        store.fulltext_batch = 10**6
        box = store.mailbox("u", "INBOX").id
        assert fulltext.pending_count(store._reader()) == 4
        assert store.index_pending(limit=3) == 3
        assert store.search(box, SearchKey("BODY", ("zebra",))) == [1, 4]  # 1 indexed, 4 still pending
        assert store.index_pending() == 1
        assert fulltext.pending_count(store._reader()) == 0
        assert store.search(box, SearchKey("BODY", ("zebra",))) == [1, 4]  # from the index
        assert store.search(box, SearchKey("BODY", ("yak",))) == [2, 4]
        assert store.index_pending() == 0
        # Collecting an indexed blob and a pending one leaves the index consistent.
        store.append("u", "INBOX", b"Subject: new\r\n\r\nthe zebra again\r\n")
        store.store_flags(box, [1, 5], FlagMode.ADD, ["\\Deleted"])
        store.expunge(box)
        assert fulltext.pending_count(store._reader()) == 0
        store._writer.execute("INSERT INTO blob_terms (blob_terms) VALUES ('integrity-check')")
        assert store.search(box, SearchKey("BODY", ("zebra",))) == [4]
        assert store.fsck().clean


@contextlib.contextmanager
def _counting_indexer():
    """Record what each ``fulltext.index_pending`` call indexed."""
    calls = []
    real = fulltext.index_pending

    def counting(store, limit, up_to=None):
        done = real(store, limit, up_to)
        calls.append(done)
        return done

    fulltext.index_pending = counting
    try:
        yield calls
    finally:
        fulltext.index_pending = real


def test_delivering_threads_index_the_backlog_in_batches(tmp_path):
    with Store.open(tmp_path / "d", durable=False) as store:
        store.create_user("u")
        store.fulltext_batch = 5
        with _counting_indexer() as calls:
            for n in range(12):
                store.append("u", "INBOX", f"Subject: m{n}\r\n\r\nword{n} text\r\n".encode())
        assert calls == [5, 5]  # at the 5th and the 10th delivery
        assert fulltext.pending_count(store._reader()) == 2
        box = store.mailbox("u", "INBOX").id
        assert store.search(box, SearchKey("BODY", ("word11",))) == [12]
        assert store.search(box, SearchKey("BODY", ("word3",))) == [4]


def test_pending_branch_walks_the_pending_list_not_every_stored_text(tmp_path):
    # Regression: left to its planner, SQLite scanned every stored text to probe the pending list (60 ms
    # per BODY search over 100,000 messages with nothing pending); the condition must drive from the list.
    with Store.open(tmp_path / "s", durable=False, synchronous="OFF") as store:
        store.create_user("u")
        for i in range(30):
            store.append("u", "INBOX", b"Subject: s%d\r\n\r\nbody word%d here\r\n" % (i, i))
        store.index_pending()
        params = []

        def param(value):
            params.append(value)
            return "?"

        condition = fulltext.condition("word7", body_only=True, param=param)
        sql = f"SELECT m.uid FROM messages m WHERE {condition}"
        conn = store._reader()
        plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN p" in plan and "SCAN c" not in plan, plan
        assert [uid for (uid,) in conn.execute(sql, params)] == [8]


def test_blobs_collected_while_pending_do_not_keep_the_indexer_running(tmp_path):
    # A mix that expunges what it appends: the blobs are collected before the indexer sees them. The
    # backlog estimate must not stay above fulltext_batch, or every later delivery runs the indexer.
    with Store.open(tmp_path / "d", durable=False) as store:
        store.create_user("u")
        store.fulltext_batch = 4
        box = store.mailbox("u", "INBOX").id
        with _counting_indexer() as calls:
            for n in range(3):  # pending 3, then collected while pending: the estimate says 3
                store.append("u", "INBOX", b"Subject: t%d\r\n\r\ntemporary %d\r\n" % (n, n), flags={"\\Deleted"})
            store.expunge(box)
            assert fulltext.pending_count(store._reader()) == 0
            store.append("u", "INBOX", b"Subject: a\r\n\r\nfirst kept\r\n")  # estimate 4: the indexer runs...
            assert calls == [1]  # ...finds the one real pending blob and starts counting again from zero
            for n in range(2):
                store.append("u", "INBOX", b"Subject: k%d\r\n\r\nkept %d\r\n" % (n, n))
            assert calls == [1]  # not run again for each delivery
