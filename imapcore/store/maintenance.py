"""``fsck`` and ``gc``: check and repair what the store promises, remove what nothing refers to.

fsck
  * every blob row's file exists and (with ``verify_hashes``) hashes to its name;
  * every message refers to an existing blob row, and every blob row has its full-text row (a missing
    one is rebuilt from the blob's bytes with ``repair``);
  * recounts every counter (blob reference counts, mailbox STATUS numbers, the mailbox's UID runs and
    expunge-record count, user quota usage) and, with
    ``repair``, writes the recount over any difference (reported in ``counters_repaired``);
  * ``uid_next`` is above every UID and ``highest_modseq`` at or above every MODSEQ of the mailbox
    (messages and expunge records); repaired upwards, never downwards.
  Files with no row (a crash between the blob write and the metadata commit) are listed as
  ``unreferenced_blobs``: expected after a crash, harmless, and removed by ``gc``; they do not make the
  report unclean.

gc
  Rows with no reference and their files go, then files with no row, each inside a write transaction
  so that a delivery (of this or another process) that wrote its blob but has not committed yet, and
  re-checks the file inside its own write transaction, cannot interleave; stale temporaries go too.

Both may run beside a live server process: what they change, they change inside SQLite write
transactions, which serialize with the server's. fsck's list of unreferenced files may then include the
blob of a delivery in progress (it is only reported, never removed by fsck).
"""

from __future__ import annotations

from . import fulltext, uidranges
from .delivery import insert_header_index, prepare_blob
from .errors import BlobCorrupt, BlobMissing
from .records import FsckReport

def fsck(store, *, repair: bool = True, verify_hashes: bool = True) -> FsckReport:
    corrupt, missing, problems, repaired = [], [], [], []
    with store._lock:
        conn = store._writer
        blob_rows = conn.execute("SELECT id, refcount FROM blobs").fetchall()
        known = set()
        for blob_id, refcount in blob_rows:
            known.add(blob_id)
            if refcount == 0:
                continue  # garbage awaiting collection (repair collects it below): its file may be gone
            try:
                if verify_hashes:
                    store.blobs.read(blob_id, verify=True)
                elif not store.blobs.exists(blob_id):
                    raise BlobMissing(blob_id)
            except BlobMissing:
                missing.append(blob_id)
            except BlobCorrupt:
                corrupt.append(blob_id)
        unreferenced = sorted(set(store.blobs.iter_ids()) - known)
        dangling = conn.execute(
            "SELECT m.mailbox_id, m.uid FROM messages m LEFT JOIN blobs b ON b.num = m.blob WHERE b.num IS NULL"
        ).fetchall()
        for mailbox_id, uid in dangling:
            problems.append(f"message {mailbox_id}/{uid} refers to no blob row")

        conn.execute("BEGIN IMMEDIATE")
        try:
            repaired.extend(_reindex_missing(store, conn, set(missing) | set(corrupt), repair))
            repaired.extend(_recount(conn, repair))
            conn.execute("COMMIT" if repair else "ROLLBACK")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if repair:
            store._collect_unreferenced_locked()
    if repair and store.synchronous in ("FULL", "EXTRA"):
        store._sync_wal()  # the repairs were committed at NORMAL, like every commit (store.py "Durability")
    return FsckReport(
        blobs_checked=len(blob_rows),
        corrupt_blobs=tuple(corrupt),
        missing_blobs=tuple(missing),
        unreferenced_blobs=tuple(unreferenced),
        counters_repaired=tuple(repaired),
        problems=tuple(problems),
    )


def _reindex_missing(store, conn, unreadable: set[str], repair: bool) -> list[str]:
    """Blobs whose full-text row is missing (search would silently miss them): parse and index again."""
    rows = conn.execute(
        "SELECT b.num, b.id FROM blobs b LEFT JOIN blob_fulltext t ON t.num = b.num WHERE t.num IS NULL "
        "AND b.num NOT IN (SELECT num FROM parse_pending)"  # not summarized yet: its texts come then
    ).fetchall()
    repaired = []
    for num, blob_id in rows:
        if blob_id in unreadable:
            continue  # reported as missing or corrupt already; nothing to index from
        repaired.append(f"blob {blob_id} had no full-text index row: reindexed")
        if not repair:
            continue
        parsed = prepare_blob(store.blobs.read(blob_id), blob_id, store.summarize)
        conn.execute("DELETE FROM blob_headers WHERE blob = ?", (num,))
        insert_header_index(conn, num, parsed.headers)
        fulltext.insert(conn, num, parsed.header_text, parsed.body_text, parsed.header_terms, parsed.body_terms)
    return repaired


def _recount(conn, repair: bool) -> list[str]:
    repaired = []
    for blob_num, stored, actual in conn.execute(
        "SELECT b.num, b.refcount, (SELECT count(*) FROM messages m WHERE m.blob = b.num) FROM blobs b"
    ).fetchall():
        if stored != actual:
            repaired.append(f"blob #{blob_num} refcount {stored} -> {actual}")
            conn.execute("UPDATE blobs SET refcount = ? WHERE num = ?", (actual, blob_num))

    mailbox_rows = conn.execute(
        "SELECT mb.id, mb.name, mb.messages, mb.unseen, mb.deleted, mb.size, mb.recent, mb.uid_next, mb.highest_modseq, "
        "count(m.uid), coalesce(sum((m.flags & 1) = 0), 0), coalesce(sum((m.flags & 8) != 0), 0), "
        "coalesce(sum(m.size), 0), coalesce(sum(m.recent), 0), coalesce(max(m.uid), 0), coalesce(max(m.modseq), 0) "
        "FROM mailboxes mb LEFT JOIN messages m ON m.mailbox_id = mb.id GROUP BY mb.id"
    ).fetchall()
    for (mailbox_id, name, messages, unseen, deleted, size, recent, uid_next, highest_modseq,
         r_messages, r_unseen, r_deleted, r_size, r_recent, max_uid, max_modseq) in mailbox_rows:
        expunged_max = conn.execute(
            "SELECT coalesce(max(uid), 0), coalesce(max(modseq), 0) FROM expunged WHERE mailbox_id = ?", (mailbox_id,)
        ).fetchone()
        needed_uid_next = max(uid_next, max_uid + 1, expunged_max[0] + 1)
        needed_modseq = max(highest_modseq, max_modseq, expunged_max[1])
        stored = (messages, unseen, deleted, size, recent, uid_next, highest_modseq)
        actual = (r_messages, r_unseen, r_deleted, r_size, r_recent, needed_uid_next, needed_modseq)
        if stored != actual:
            repaired.append(f"mailbox {name!r} (#{mailbox_id}) counters {stored} -> {actual}")
            conn.execute(
                "UPDATE mailboxes SET messages = ?, unseen = ?, deleted = ?, size = ?, recent = ?, uid_next = ?, "
                "highest_modseq = ? WHERE id = ?",
                (*actual, mailbox_id),
            )

    for mailbox_id, name, stored, actual in conn.execute(
        "SELECT mb.id, mb.name, mb.expunge_records, (SELECT count(*) FROM expunged e WHERE e.mailbox_id = mb.id) "
        "FROM mailboxes mb"
    ).fetchall():
        if stored != actual:  # only decides when the history is pruned; kept exact anyway
            repaired.append(f"mailbox {name!r} (#{mailbox_id}) expunge records {stored} -> {actual}")
            conn.execute("UPDATE mailboxes SET expunge_records = ? WHERE id = ?", (actual, mailbox_id))

    for mailbox_id, name, stored_text in conn.execute("SELECT id, name, uid_ranges FROM mailboxes").fetchall():
        actual_runs = uidranges.from_uids(
            uid for (uid,) in conn.execute("SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid", (mailbox_id,))
        )
        if uidranges.decode(stored_text) != actual_runs:
            repaired.append(f"mailbox {name!r} (#{mailbox_id}) UID runs rebuilt")
            conn.execute("UPDATE mailboxes SET uid_ranges = ? WHERE id = ?", (uidranges.encode(actual_runs), mailbox_id))

    for user_id, name, used_bytes, used_messages, r_bytes, r_messages in conn.execute(
        "SELECT u.id, u.name, u.used_storage_bytes, u.used_messages, "
        "coalesce((SELECT sum(m.size) FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE mb.user_id = u.id), 0), "
        "(SELECT count(*) FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE mb.user_id = u.id) "
        "FROM users u"
    ).fetchall():
        if (used_bytes, used_messages) != (r_bytes, r_messages):
            repaired.append(f"user {name!r} usage ({used_bytes}, {used_messages}) -> ({r_bytes}, {r_messages})")
            conn.execute(
                "UPDATE users SET used_storage_bytes = ?, used_messages = ? WHERE id = ?", (r_bytes, r_messages, user_id)
            )
    return repaired


def gc(store) -> list[str]:
    """Remove unreferenced blobs (rows and files), stale temporaries and retired files kept for reuse.

    Files with no row are unlinked while a write transaction is open, for the same reason as in
    ``Store._collect_unreferenced_locked``: a delivery that has written its file but not committed yet
    checks the file again inside its own write transaction, which cannot interleave with this one.
    """
    with store._lock:
        removed = store._collect_unreferenced_locked()
        conn = store._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            known = {blob_id for (blob_id,) in conn.execute("SELECT id FROM blobs")}
            for blob_id in store.blobs.iter_ids():
                if blob_id not in known:
                    store.blobs.delete(blob_id)
                    removed.append(blob_id)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        store.blobs.clean_temporaries()
        store.blobs.drain_pool()  # the space of collected files kept for reuse comes back too
    return removed
