"""Delivery: APPEND and MULTIAPPEND into the store, with group commit.

Outside the writer lock each message is hashed, parsed once if its blob is new (``delivery.py``) and
its blob file written (not yet fsynced). Concurrent deliveries queue and are committed together by
whichever takes the lock first: one ``BlobStore.sync`` (syncfs(2): one journal commit for every blob of
the batch) and then one transaction (one WAL fsync), each delivery in its own savepoint so one refusal
(quota, missing mailbox) does not fail the others. So a delivery is acknowledged only once its blob and
its rows are durable, and a batch of N costs two flushes instead of 3N. A failed delivery removes the
blob files it created that nothing refers to.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import flags as flagcodec
from . import fulltext, names, uidranges
from .blobs import blob_id_of
from .delivery import ParsedBlob, prepare_blob
from .errors import OverQuota
from .feed import Change, ChangeKind
from .records import AppendResult, NewMessage

if TYPE_CHECKING:  # annotations only
    from .store import _Transaction


@dataclass(frozen=True, slots=True)
class _Prepared:
    raw: bytes
    blob_id: str
    bits: int
    keywords: frozenset[str]
    internal_date: int
    internal_tz: int
    internal_day: int
    parsed: ParsedBlob | None
    wrote_blob: bool  # this delivery created the file (so a failed delivery removes it again)
    needs_sync: bool  # the file is not known durable yet: the group commit syncs it before committing


@dataclass(eq=False)
class _AppendRequest:
    user: str
    name: str
    prepared: list[_Prepared]
    done: bool = False
    result: AppendResult | None = None
    error: BaseException | None = None
    wal_ticket: int = 0  # the batch's commit, to wait for its WAL fsync (after the lock is released)


class DeliveryOperations:
    """Mixin of ``Store`` (uses its connections, transactions and blob store)."""

    def append(
        self,
        user: str,
        name: str,
        raw: bytes,
        flags: Iterable[str] = (),
        internal_date: _dt.datetime | None = None,
    ) -> AppendResult:
        """RFC 9051 §6.3.12 APPEND of one message; returns what APPENDUID needs."""
        return self.append_many(user, name, [NewMessage(raw, frozenset(flags), internal_date)])

    def append_many(self, user: str, name: str, messages: Sequence[NewMessage]) -> AppendResult:
        """RFC 3502 MULTIAPPEND: all messages or none, UIDs in order."""
        name = names.normalize(name)
        reader = self._reader()
        self._mailbox_info(reader, self._user_id(reader, user), name, target=True)  # fail before any write
        prepared: list[_Prepared] = []
        try:
            for message in messages:
                prepared.append(self._prepare(message))  # parse and write outside the lock
            # Blob before metadata, and still outside the lock: the files this delivery wrote are made
            # durable here, in its own thread, while other deliveries commit.
            self.blobs.sync(item.blob_id for item in prepared if item.needs_sync)
            return self._append_prepared(user, name, prepared)
        except BaseException:
            self._discard_new_blobs(prepared)
            raise

    def _discard_new_blobs(self, prepared: list[_Prepared]) -> None:
        """After a failed delivery, remove the blob files it wrote that nothing refers to."""
        fresh = [item.blob_id for item in prepared if item.wrote_blob]
        if not fresh:
            return
        with self._lock:
            conn = self._writer
            # Inside a write transaction, as in Store._collect_unreferenced_locked: a concurrent delivery
            # of the same bytes re-checks the file inside its own write transaction.
            conn.execute("BEGIN IMMEDIATE")
            try:
                for blob_id in fresh:
                    if conn.execute("SELECT 1 FROM blobs WHERE id = ?", (blob_id,)).fetchone() is None:
                        self.blobs.delete(blob_id)
            finally:
                conn.execute("ROLLBACK")

    def _append_prepared(self, user: str, name: str, prepared: list[_Prepared]) -> AppendResult:
        """Group commit: deliveries queued while a batch is being committed are committed together.

        Each delivery queues its request. If no batch is being committed, it becomes the leader: it takes
        the writer lock and commits every queued request in one transaction (one blob sync and one WAL
        fsync for all), each inside its own savepoint so a failing one (over quota, mailbox gone) is
        rolled back alone and gets its own exception. The others wait on a condition, not on the writer
        lock, so they all return the moment their batch is committed and go on preparing their next
        delivery (waiting on the lock made them return one by one, each behind the next leader's whole
        commit, and batches stayed small). When a leader finishes, a waiting request becomes the next.
        """
        request = _AppendRequest(user, name, prepared)
        with self._pending_changed:
            self._pending_appends.append(request)
            while not request.done and self._leading:
                self._pending_changed.wait()
            leader = not request.done
            if leader:
                self._leading = True
        if leader:
            try:
                with self._lock:
                    with self._pending_changed:
                        batch, self._pending_appends = self._pending_appends, []
                    self._commit_append_batch(batch)
            finally:
                with self._pending_changed:
                    self._leading = False
                    self._pending_changed.notify_all()
        if request.error is not None:
            raise request.error
        # Committed (at NORMAL, so already safe from kill -9); acknowledged once the WAL is on disk. Every
        # delivery waits here on its own, without the writer lock, sharing one fsync with everybody who
        # committed meanwhile, while the next leader may already be committing the next batch.
        if request.wal_ticket:
            self._wal_sync.wait(request.wal_ticket)
        return request.result

    def _commit_append_batch(self, batch: list[_AppendRequest]) -> None:
        try:
            with self._transaction_locked() as tx:
                for request in batch:
                    published = len(tx.changes)
                    tx.conn.execute("SAVEPOINT delivery")
                    try:
                        request.result = self._append_locked(tx, request.user, request.name, request.prepared)
                        tx.conn.execute("RELEASE delivery")
                    except Exception as error:
                        tx.conn.execute("ROLLBACK TO delivery")
                        tx.conn.execute("RELEASE delivery")
                        del tx.changes[published:]
                        request.error = error
            for request in batch:
                request.wal_ticket = tx.wal_ticket
        except BaseException as error:  # the commit itself failed: nobody in the batch is durable
            for request in batch:
                request.result = None
                request.error = error if isinstance(error, Exception) else RuntimeError("delivery interrupted")
            raise
        finally:
            for request in batch:
                request.done = True

    def _append_locked(self, tx: _Transaction, user: str, name: str, prepared: list[_Prepared]) -> AppendResult:
        now = int(time.time())
        conn = tx.conn
        user_id = self._user_id(conn, user)
        info = self._mailbox_info(conn, user_id, name, target=True)
        self._check_quota(conn, user_id, user, sum(len(p.raw) for p in prepared), len(prepared))
        uid = info.uid_next
        modseq = info.highest_modseq
        rows = []
        keywords: set[str] = set()
        for item in prepared:
            blob_num = self._ensure_blob(conn, item)
            modseq += 1
            item_keywords = self._canonical_keywords(conn, info.id, item.keywords)
            self._add_keywords(conn, info.id, item_keywords)
            rows.append(
                (info.id, uid, blob_num, len(item.raw), item.internal_date, item.internal_tz, item.internal_day,
                 now, item.bits, flagcodec.keywords_text(item_keywords), modseq)
            )
            keywords |= item_keywords
            uid += 1
        conn.executemany(
            "INSERT INTO messages (mailbox_id, uid, blob, size, internal_date, internal_tz, internal_day, "
            "save_date, flags, keywords, modseq, recent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            rows,
        )
        conn.execute(
            "UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?", (uid, modseq, info.id)
        )
        self._extend_uid_ranges(conn, info.id, info.uid_next, uid - 1)
        uids = tuple(row[1] for row in rows)
        tx.changes.append(
            Change(
                0, ChangeKind.MESSAGES_ADDED, user, info.id, name, uids,
                tuple(flagcodec.decode(row[8], row[9]) for row in rows), tuple(row[10] for row in rows),
                highest_modseq=modseq, uid_next=uid,
            )
        )
        return AppendResult(info.id, info.uid_validity, uids, modseq)

    def _prepare(self, message: NewMessage) -> _Prepared:
        bits, keywords = flagcodec.encode(message.flags)
        when = message.internal_date or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        offset = when.utcoffset()
        raw = bytes(message.raw)
        blob_id = blob_id_of(raw)
        known = self._reader().execute("SELECT 1 FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        if known:
            # A file with a row was made durable before that row committed. Should a collection have
            # removed it meanwhile, it is written again durably (and checked again under the lock).
            parsed = None
            wrote_blob = not self.blobs.exists(blob_id)
            if wrote_blob:
                self.blobs.put(raw, blob_id)
            needs_sync = False
        else:
            parsed = prepare_blob(raw, blob_id, self.summarize)
            # A file without a row may be a leftover of a crash, possibly incomplete after a power loss:
            # trusted only if it hashes right. It is written without fsync; the batch's sync follows.
            wrote_blob = not self.blobs.verified(blob_id)
            if wrote_blob:
                self.blobs.write(raw, blob_id)
            needs_sync = True
        return _Prepared(
            raw, blob_id, bits, keywords, int(when.timestamp()), int(offset.total_seconds() // 60),
            when.date().toordinal(), parsed, wrote_blob, needs_sync,
        )

    def _ensure_blob(self, conn, item: _Prepared) -> int:
        """The blob row for ``item`` (inserted with its parsed data if new); its file exists now."""
        row = conn.execute("SELECT num FROM blobs WHERE id = ?", (item.blob_id,)).fetchone()
        if row is not None:
            num = row[0]
        else:
            parsed = item.parsed or prepare_blob(item.raw, item.blob_id, self.summarize)
            num = conn.execute(
                "INSERT INTO blobs (id, size, parsed, envelope, body, bodystructure, preview, sent_date, sent_day, "
                "subject, base_subject, message_id, in_reply_to, refs, email_id, thread_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (parsed.blob_id, parsed.size, int(parsed.parsed), parsed.envelope, parsed.body, parsed.bodystructure,
                 parsed.preview, parsed.sent_date, parsed.sent_day, parsed.subject, parsed.base_subject,
                 parsed.message_id, parsed.in_reply_to, parsed.refs, parsed.email_id, parsed.thread_id),
            ).lastrowid
            conn.executemany(
                "INSERT INTO blob_headers (blob, name, value_folded) VALUES (?, ?, ?)",
                [(num, header, value) for header, value in parsed.headers],
            )
            fulltext.insert(conn, num, parsed.header_text, parsed.body_text, parsed.header_terms, parsed.body_terms)
        # A garbage collection between our write and this lock may have removed the file: write it again.
        if not self.blobs.exists(item.blob_id):
            self.blobs.put(item.raw, item.blob_id)
        return num

    def _extend_uid_ranges(self, conn, mailbox_id: int, low: int, high: int) -> None:
        text = conn.execute("SELECT uid_ranges FROM mailboxes WHERE id = ?", (mailbox_id,)).fetchone()[0]
        conn.execute(
            "UPDATE mailboxes SET uid_ranges = ? WHERE id = ?", (uidranges.append_run_text(text, low, high), mailbox_id)
        )

    def _check_quota(self, conn, user_id: int, user: str, add_bytes: int, add_messages: int) -> None:
        used_bytes, limit_bytes, used_messages, limit_messages = conn.execute(
            "SELECT used_storage_bytes, quota_storage_bytes, used_messages, quota_messages FROM users WHERE id = ?",
            (user_id,),
        ).fetchone()
        if limit_bytes is not None and add_bytes and used_bytes + add_bytes > limit_bytes:
            raise OverQuota(user, "STORAGE", limit_bytes, used_bytes + add_bytes)
        if limit_messages is not None and add_messages and used_messages + add_messages > limit_messages:
            raise OverQuota(user, "MESSAGE", limit_messages, used_messages + add_messages)

    def _canonical_keywords(self, conn, mailbox_id: int, keywords: frozenset[str]) -> frozenset[str]:
        """Keywords compare case-insensitively (as in imapcore.mail.search, Dovecot and Cyrus): a keyword
        takes the spelling already used in the mailbox, so ``$LABEL`` and ``$label`` are one flag."""
        if not keywords:
            return keywords
        known = {
            keyword.lower(): keyword
            for (keyword,) in conn.execute("SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?", (mailbox_id,))
        }
        chosen: dict[str, str] = {}
        for keyword in sorted(keywords):
            chosen.setdefault(keyword.lower(), known.get(keyword.lower(), keyword))
        return frozenset(chosen.values())

    def _add_keywords(self, conn, mailbox_id: int, keywords: Iterable[str]) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO mailbox_keywords (mailbox_id, keyword) VALUES (?, ?)",
            [(mailbox_id, keyword) for keyword in keywords],
        )
