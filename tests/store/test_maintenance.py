import threading

from imapcore.cli import main as imapcore_main
from imapcore.store import Store
from support.store_corpus import make_message


def make_store(path):
    store = Store.open(path, durable=False)
    store.create_user("alice")
    for i in range(4):
        store.append("alice", "INBOX", make_message(i))
    return store


def test_fsck_reports_corruption_and_repairs_counters(tmp_path, capsys):
    data = tmp_path / "data"
    with make_store(data) as store:
        blob_id = store.blob_id(store.mailbox("alice", "INBOX").id, 2)
        store._writer.execute("UPDATE mailboxes SET messages = 99, unseen = 0 WHERE name = 'INBOX'")
        store._writer.execute("UPDATE users SET used_messages = 1")
    capsys.readouterr()
    assert imapcore_main(["fsck", "--data-dir", str(data)]) == 1  # counters were wrong: repaired, reported
    out = capsys.readouterr().out
    assert "repaired: mailbox 'INBOX'" in out and "repaired: user 'alice'" in out
    assert imapcore_main(["fsck", "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out.strip().endswith("clean")
    with Store.open(data, durable=False) as store:
        assert store.status("alice", "INBOX").messages == 4 and store.quota("alice").used_messages == 4
        store.blobs.path_of(blob_id).write_bytes(b"bit rot")
    assert imapcore_main(["fsck", "--data-dir", str(data)]) == 1
    assert f"corrupt blob: {blob_id}" in capsys.readouterr().out


def test_gc_removes_only_unreferenced_blobs_and_reads_config(tmp_path, capsys):
    data = tmp_path / "data"
    with make_store(data) as store:
        orphan = store.blobs.put(b"left behind by a crash before the metadata commit")
        kept = set(store.blobs.iter_ids()) - {orphan}
    config = tmp_path / "imapcore.toml"
    config.write_text(f'data_dir = "{data}"\n')
    capsys.readouterr()
    assert imapcore_main(["fsck", "--config", str(config)]) == 0
    assert f"unreferenced blob (run gc): {orphan}" in capsys.readouterr().out
    assert imapcore_main(["gc", "--config", str(config)]) == 0
    assert f"removed {orphan}" in capsys.readouterr().out
    with Store.open(data, durable=False) as store:
        assert set(store.blobs.iter_ids()) == kept
    assert imapcore_main(["gc", "--data-dir", str(tmp_path / "nowhere")]) == 2


def test_concurrent_appenders_from_threads_get_distinct_ascending_uids(tmp_path):
    with Store.open(tmp_path / "d", durable=False) as store:
        store.create_user("alice")
        results = []
        lock = threading.Lock()

        def worker(offset):
            for i in range(25):
                result = store.append("alice", "INBOX", make_message(offset * 100 + i, body_kb=0.2))
                with lock:
                    results.append(result.uids[0])

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results) == list(range(1, 101))
        assert store.uids(store.mailbox("alice", "INBOX").id) == list(range(1, 101))
        assert store.fsck().clean


def test_gc_racing_deliveries_never_leaves_a_message_without_its_blob(tmp_path):
    from imapcore.store import FlagMode
    from imapcore.syntax.model import STAR, SequenceSet

    raws = [make_message(900 + i, body_kb=0.2) for i in range(5)]
    with Store.open(tmp_path / "d", durable=False) as store:
        store.create_user("alice")
        box = store.mailbox("alice", "INBOX").id
        stop = threading.Event()
        errors = []

        def collector():
            while not stop.is_set():
                try:
                    store.gc()
                except Exception as error:  # pragma: no cover - reported below
                    errors.append(error)
                # Let the delivering thread take the writer lock: threading.Lock is not fair, and a loop
                # that re-takes it at once can starve the other thread indefinitely.
                stop.wait(0.002)

        thread = threading.Thread(target=collector)
        thread.start()
        try:
            for round_number in range(40):
                for raw in raws:  # the same bytes again and again: their blobs come and go
                    store.append("alice", "INBOX", raw)
                for row in store.fetch_rows(box, SequenceSet(((1, STAR),)), ["blob_id"]):
                    assert store.read_blob(row.blob_id, verify=True)
                if round_number % 2:
                    store.store_flags(box, SequenceSet(((1, STAR),)), FlagMode.ADD, ["\\Deleted"])
                    store.expunge(box)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not errors
        report = store.fsck()
        assert report.clean and not report.missing_blobs


def test_fsck_rebuilds_a_missing_full_text_row(tmp_path):
    from imapcore.store import fulltext
    from imapcore.syntax.model import SearchKey

    with make_store(tmp_path / "d") as store:
        box = store.mailbox("alice", "INBOX").id
        word = "seed2"  # the generated body of message 2 ends with "seed2"
        before = store.search(box, SearchKey("BODY", (word,)))
        assert before == [3]
        with store._lock:
            num = store._writer.execute("SELECT min(blob) FROM messages WHERE uid = 3").fetchone()[0]
            assert fulltext.delete(store._writer, num)
        assert store.search(box, SearchKey("BODY", (word,))) == []
        report = store.fsck()
        assert any("reindexed" in line for line in report.counters_repaired)
        assert store.search(box, SearchKey("BODY", (word,))) == before
        assert store.fsck().clean
