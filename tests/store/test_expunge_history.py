"""Bounded expunge history for QRESYNC (RFC 7162): exact VANISHED above the floor, the §3.2.6 superset
below it, and the bound really holds."""

from imapcore.store import FlagMode, Store
from imapcore.syntax.model import SequenceSet


def expunge(store, box, uids):
    store.store_flags(box, uids, FlagMode.ADD, ["\\Deleted"])
    return store.expunge(box, uids).highest_modseq


def test_history_is_pruned_to_the_bound_and_the_floor_tells(tmp_path):
    with Store.open(tmp_path / "d", durable=False, synchronous="OFF", expunge_history=8) as store:
        store.create_user("u")
        for n in range(40):
            store.append("u", "INBOX", b"Subject: %d\r\n\r\nx\r\n" % n)
        box = store.mailbox("u", "INBOX").id
        assert store.expunge_history_floor(box) == 0
        modseqs = {}
        for uid in range(1, 31, 2):  # 15 single expunges: 1, 3, ..., 29
            modseqs[uid] = expunge(store, box, [uid])
        floor = store.expunge_history_floor(box)
        assert floor > 0  # past 8 + 8 // 4 = 10 records the oldest went
        kept = store._writer.execute("SELECT uid, modseq FROM expunged WHERE mailbox_id = ? ORDER BY uid", (box,)).fetchall()
        assert len(kept) <= 10
        assert all(modseq > floor for _, modseq in kept)
        assert {uid for uid, modseq in modseqs.items() if modseq > floor} == {uid for uid, _ in kept}

        # At or above the floor: exact, as before.
        assert store.vanished_since(box, floor) == sorted(uid for uid, m in modseqs.items() if m > floor)
        assert store.vanished_since(box, modseqs[27]) == [29]
        # Below it: every UID of the set that is gone (RFC 7162 §3.2.6), a superset of the true answer.
        early = modseqs[9]
        answer = store.vanished_since(box, early)
        assert answer == list(range(1, 31, 2))
        assert set(uid for uid, m in modseqs.items() if m > early) <= set(answer)
        assert store.vanished_since(box, early, SequenceSet(((5, 12),))) == [5, 7, 9, 11]
        assert store.vanished_since(box, early, [3, 4, 29]) == [3, 29]
        assert store.fsck().clean


def test_a_multi_uid_expunge_is_pruned_whole(tmp_path):
    with Store.open(tmp_path / "d", durable=False, synchronous="OFF", expunge_history=4) as store:
        store.create_user("u")
        for n in range(20):
            store.append("u", "INBOX", b"Subject: %d\r\n\r\ny\r\n" % n)
        box = store.mailbox("u", "INBOX").id
        first = expunge(store, box, list(range(1, 7)))  # 6 UIDs sharing one MODSEQ: over 4 + 4 // 4
        # Pruning never splits one MODSEQ: the whole expunge goes, and the floor says it may be missing.
        assert store.expunge_history_floor(box) == first
        assert store._writer.execute("SELECT count(*) FROM expunged").fetchone()[0] == 0
        assert store.vanished_since(box, first) == []  # nothing expunged after it: exact
        assert store.vanished_since(box, first - 1) == [1, 2, 3, 4, 5, 6]  # §3.2.6 superset, here exact
        second = expunge(store, box, [10, 11])
        assert store.expunge_history_floor(box) == first  # 2 records: under the bound, nothing pruned
        assert store.vanished_since(box, first) == [10, 11]
        assert store.vanished_since(box, 1) == [1, 2, 3, 4, 5, 6, 10, 11]
        assert store.vanished_since(box, second) == []


def test_fsck_repairs_the_expunge_record_count(tmp_path):
    with Store.open(tmp_path / "d", durable=False, synchronous="OFF") as store:
        store.create_user("u")
        for n in range(3):
            store.append("u", "INBOX", b"Subject: %d\r\n\r\nz\r\n" % n)
        box = store.mailbox("u", "INBOX").id
        expunge(store, box, [1, 2])
        with store._lock:
            store._writer.execute("UPDATE mailboxes SET expunge_records = 99 WHERE id = ?", (box,))
        report = store.fsck()
        assert any("expunge records 99 -> 2" in line for line in report.counters_repaired)
        assert store.fsck().clean
