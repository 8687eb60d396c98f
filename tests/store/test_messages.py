import datetime as dt
import hashlib

import pytest

from imapcore.store import FlagMode, InvalidFlag, MailboxNotFound, NewMessage, OverQuota
from imapcore.syntax.model import STAR, SequenceSet
from support.store_corpus import make_message

ALL = SequenceSet(((1, STAR),))


def inbox(store):
    return store.mailbox("alice", "INBOX").id


def test_append_assigns_ascending_uids_and_modseqs(store):
    results = [store.append("alice", "INBOX", make_message(i)) for i in range(5)]
    assert [r.uids for r in results] == [(1,), (2,), (3,), (4,), (5,)]
    modseqs = [r.highest_modseq for r in results]
    assert modseqs == sorted(modseqs) and len(set(modseqs)) == 5
    status = store.status("alice", "INBOX")
    assert (status.messages, status.uid_next, status.unseen, status.recent) == (5, 6, 5, 5)
    assert status.size == sum(len(make_message(i)) for i in range(5))
    assert status.highest_modseq == modseqs[-1]


def test_append_keeps_bytes_internal_date_and_flags(store):
    raw = b"not a mail at all \x00\xff\r\nno header separator"
    when = dt.datetime(2023, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    result = store.append("alice", "INBOX", raw, ["\\Seen", "$Label1", "\\draft"], when)
    row = store.fetch_rows(result.mailbox_id, result.uids, ["flags", "internal_date", "size", "blob_id"])[0]
    assert row.flags == frozenset({"\\Seen", "\\Draft", "$Label1"})
    assert row.internal_date == when and row.internal_date.utcoffset() == dt.timedelta(hours=-7)
    assert row.size == len(raw)
    assert row.blob_id == hashlib.sha256(raw).hexdigest()
    assert store.read_blob(row.blob_id, verify=True) == raw
    assert "$Label1" in store.keywords(result.mailbox_id)


def test_fetch_rows_give_preserialized_envelope(store):
    result = store.append("alice", "INBOX", make_message(1))
    row = store.fetch_rows(result.mailbox_id, ALL, ["envelope", "bodystructure", "modseq", "email_id", "thread_id"])[0]
    from imapcore.mail import summarize

    summary = summarize(make_message(1))
    assert row.envelope == summary.envelope and row.bodystructure == summary.bodystructure
    assert row.modseq == result.highest_modseq
    assert row.email_id.startswith("M") and row.thread_id.startswith("T")


def test_multiappend_is_atomic(store):
    good = NewMessage(make_message(1))
    bad = NewMessage(make_message(2), frozenset({"\\Bogus"}))
    with pytest.raises(InvalidFlag):
        store.append_many("alice", "INBOX", [good, bad])
    assert store.status("alice", "INBOX").messages == 0
    with pytest.raises(MailboxNotFound) as info:
        store.append("alice", "Nowhere", make_message(1))
    assert info.value.code == "TRYCREATE"
    result = store.append_many("alice", "INBOX", [good, NewMessage(make_message(2))])
    assert result.uids == (1, 2)


def test_quota_is_exact_and_enforced(store):
    raw = make_message(3)
    store.set_quota("alice", storage_bytes=2 * len(raw), messages=None)
    store.append("alice", "INBOX", raw)
    store.append("alice", "Sent", raw)
    with pytest.raises(OverQuota) as info:
        store.append("alice", "INBOX", b"x")
    assert info.value.code == "OVERQUOTA"
    usage = store.quota("alice")
    assert (usage.used_storage_bytes, usage.used_messages) == (2 * len(raw), 2)
    with pytest.raises(OverQuota):
        store.copy(inbox(store), ALL, "alice", "Archive")
    store.move(inbox(store), ALL, "alice", "Archive")  # moving within the user does not change usage
    assert store.quota("alice").used_messages == 2
    store.set_quota("alice", storage_bytes=None, messages=3)
    store.append("alice", "INBOX", b"y")
    with pytest.raises(OverQuota):
        store.append("alice", "INBOX", b"z")


def test_copy_and_move_keep_flags_and_map_uids(store):
    box = inbox(store)
    for i in range(4):
        store.append("alice", "INBOX", make_message(i), ["\\Flagged"] if i % 2 else [])
    copied = store.copy(box, SequenceSet(((2, 3),)), "alice", "Archive")
    assert copied.source_uids == (2, 3) and copied.target_uids == (1, 2)
    archive = store.mailbox("alice", "Archive")
    assert copied.uid_validity == archive.uid_validity
    flags = [r.flags for r in store.fetch_rows(archive.id, ALL, ["flags"])]
    assert flags == [frozenset({"\\Flagged"}), frozenset()]
    moved = store.move(box, [1, 4, 99], "alice", "Trash")
    assert moved.source_uids == (1, 4) and moved.target_uids == (1, 2)
    assert store.uids(box) == [2, 3]
    assert store.vanished_since(box, moved.expunged_modseq - 1) == [1, 4]
    with pytest.raises(MailboxNotFound) as info:
        store.copy(box, ALL, "alice", "Nowhere")
    assert info.value.code == "TRYCREATE"


def test_store_flags_modes_modseq_and_unchangedsince(store):
    box = inbox(store)
    for i in range(3):
        store.append("alice", "INBOX", make_message(i))
    before = store.status_by_id(box).highest_modseq
    added = store.store_flags(box, ALL, FlagMode.ADD, ["\\Seen", "$x"])
    assert [c.uid for c in added.changed] == [1, 2, 3]
    assert [c.modseq for c in added.changed] == [before + 1, before + 2, before + 3]
    assert store.status_by_id(box).unseen == 0
    again = store.store_flags(box, SequenceSet.single(1), FlagMode.ADD, ["\\Seen"])
    assert again.changed == () and again.unchanged[0].uid == 1
    assert store.status_by_id(box).highest_modseq == before + 3
    removed = store.store_flags(box, [2], FlagMode.REMOVE, ["\\Seen"])
    assert removed.changed[0].flags == frozenset({"$x"})
    guarded = store.store_flags(box, ALL, FlagMode.REPLACE, ["\\Answered"], unchanged_since=before + 2)
    assert guarded.modified == (2, 3)  # their MODSEQs moved past UNCHANGEDSINCE
    assert [c.uid for c in guarded.changed] == [1]
    changed = store.changed_since(box, before + 3)
    assert [(c.uid, c.flags) for c in changed] == [(1, frozenset({"\\Answered"})), (2, frozenset({"$x"}))]


def test_expunge_all_deleted_or_uid_set(store):
    box = inbox(store)
    for i in range(5):
        store.append("alice", "INBOX", make_message(i), ["\\Deleted"] if i != 2 else [])
    assert store.status_by_id(box).deleted == 4
    partial = store.expunge(box, SequenceSet(((1, 2),)))
    assert partial.uids == (1, 2)
    rest = store.expunge(box)
    assert rest.uids == (4, 5)
    assert rest.highest_modseq == partial.highest_modseq + 1
    assert store.uids(box) == [3]
    assert store.vanished_since(box, 0) == [1, 2, 4, 5]
    assert store.vanished_since(box, partial.highest_modseq) == [4, 5]
    status = store.status_by_id(box)
    assert (status.messages, status.deleted, status.uid_next) == (1, 0, 6)


def test_blob_shared_and_removed_after_last_reference(store):
    raw = make_message(42)
    box = inbox(store)
    store.append("alice", "INBOX", raw, ["\\Deleted"])
    store.append("alice", "Sent", raw)
    blob_id = hashlib.sha256(raw).hexdigest()
    assert list(store.blobs.iter_ids()) == [blob_id]
    store.expunge(box)
    assert store.blobs.exists(blob_id)  # still referenced from Sent
    store.delete_mailbox("alice", "Sent")
    assert not store.blobs.exists(blob_id)
    assert store.fsck().clean


def test_select_snapshot_and_recent(store):
    for i in range(3):
        store.append("alice", "INBOX", make_message(i), ["$kw"])
    snapshot = store.select("alice", "inbox")
    assert snapshot.uids == (1, 2, 3) and snapshot.keywords == frozenset({"$kw"})
    assert snapshot.status.recent == 3
    assert store.claim_recent(snapshot.status.id) == (1, 2, 3)
    assert store.claim_recent(snapshot.status.id) == ()
    assert store.status("alice", "INBOX").recent == 0


def test_fetch_rows_with_many_ranges(store):
    box = inbox(store)
    store.append_many("alice", "INBOX", [NewMessage(f"Subject: {i}\r\n\r\n{i}\r\n".encode()) for i in range(200)])
    odd = SequenceSet(tuple((n, n) for n in range(1, 200, 2)))
    assert [r.uid for r in store.fetch_rows(box, odd, ["flags"])] == list(range(1, 200, 2))
    assert [r.uid for r in store.fetch_rows(box, SequenceSet(((150, STAR),)), ["size"])] == list(range(150, 201))
    assert [r.uid for r in store.fetch_rows(box, SequenceSet(((999, STAR),)), ["flags"])] == [200]


def test_store_reopens_with_state(tmp_path):
    from imapcore.store import Store

    with Store.open(tmp_path / "d", durable=False) as first:
        first.create_user("bob")
        first.append("bob", "INBOX", b"Subject: a\r\n\r\nx\r\n")
    with Store.open(tmp_path / "d", durable=False) as second:
        assert second.status("bob", "INBOX").messages == 1
        assert second.append("bob", "INBOX", b"Subject: b\r\n\r\ny\r\n").uids == (2,)


def test_schema_version_and_refusal_of_newer(tmp_path):
    import sqlite3

    import pytest as _pytest

    from imapcore.store import Store
    from imapcore.store.errors import SchemaTooNew
    from imapcore.store.schema import SCHEMA_VERSION

    with Store.open(tmp_path / "d", durable=False):
        pass
    conn = sqlite3.connect(tmp_path / "d" / "meta.sqlite3")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with _pytest.raises(SchemaTooNew):
        Store.open(tmp_path / "d", durable=False)


def test_keywords_are_case_insensitive_within_a_mailbox(store):
    box = inbox(store)
    store.append("alice", "INBOX", b"Subject: k\r\n\r\nx\r\n", ["$Label"])
    store.append("alice", "INBOX", b"Subject: l\r\n\r\ny\r\n", ["$LABEL"])
    assert store.keywords(box) == frozenset({"$Label"})
    rows = store.fetch_rows(box, ALL, ["flags"])
    assert [r.flags for r in rows] == [frozenset({"$Label"})] * 2
    removed = store.store_flags(box, ALL, FlagMode.REMOVE, ["$label"])
    assert [c.flags for c in removed.changed] == [frozenset(), frozenset()]


def test_condstore_and_qresync_queries_restricted_to_uids(store):
    box = inbox(store)
    for i in range(6):
        store.append("alice", "INBOX", make_message(i), ["\\Deleted"] if i in (1, 4) else [])
    base = store.status_by_id(box).highest_modseq
    store.store_flags(box, [3, 5, 6], FlagMode.ADD, ["\\Seen"])
    store.expunge(box)
    assert [c.uid for c in store.changed_since(box, base)] == [3, 6]
    assert [c.uid for c in store.changed_since(box, base, SequenceSet(((4, STAR),)))] == [6]
    assert store.vanished_since(box, base) == [2, 5]
    assert store.vanished_since(box, base, SequenceSet(((1, 3),))) == [2]
    assert store.vanished_since(box, base, [5]) == [5]
    assert store.vanished_since(box, store.status_by_id(box).highest_modseq) == []


def test_move_within_one_mailbox_and_open_blob(store):
    box = inbox(store)
    store.append("alice", "INBOX", b"Subject: a\r\n\r\nbody a\r\n")
    moved = store.move(box, [1], "alice", "INBOX")
    assert moved.source_uids == (1,) and moved.target_uids == (2,)
    assert store.uids(box) == [2]
    with store.open_blob(store.blob_id(box, 2)) as handle:
        assert handle.read() == b"Subject: a\r\n\r\nbody a\r\n"
