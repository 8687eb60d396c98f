"""Delivery: APPEND and MULTIAPPEND into the store, with group commit.

The path of a delivery, and where each cost is paid (store.py "Durability" says why it is durable):

1. In the delivering thread, no lock: hash the bytes; if the blob is new, parse it once
   (``delivery.prepare_blob``, one parser at a time per process, ``_PARSERS``) and write its file,
   without fsync.
2. Queue for the group commit (``_append_prepared``): whoever finds no commit running becomes the
   leader. It takes every queued delivery, makes all their new files durable with ONE flush
   (``BlobStore.sync(..., coalesce=True)``: syncfs(2)) holding no lock, then takes the writer lock and
   commits them in ONE transaction at ``synchronous=NORMAL`` with a fixed number of statements
   whatever the batch size (``_commit_append_batch``); refusals (quota, mailbox gone) are decided
   beforehand in Python. (``blob_sync_by_leader = False``: each delivery fsyncs its own files and
   directory instead; measured on the shared test machine with 4 and 16 threads, the leader's one
   flush per batch cost less CPU per message, 1.6-1.9 ms against 2.0-2.7, with 3-4 times larger
   batches and a third fewer WAL fsyncs.)
3. Release the lock and hand the leadership on, then wait for a WAL fsync that started after the
   commit, shared with everyone who committed meanwhile (``Store._wait_durable``), and only then wake
   the batch's other deliveries (``wakeup.Wakeup``: once each, without the GIL), which return.
4. If many blobs wait for the full-text index, index a batch of them (``fulltext.py``, "Deferred
   indexing") after the acknowledgement is decided.

A failed delivery removes the blob files it created that nothing refers to.

The server takes a small APPEND through the same steps on its event loop, one delivery at a time
(``Store.prepare_append_now`` with ``new_bytes``, ``sync_append``, ``commit_append_now``,
``wait_durable``: commands/context.py ``run_append``), with only the two flushes in worker threads, and
leaves step 4 to a background task (``background_indexing``).

Measured (the shared 2-core machine, whose figures vary by 2x from minute to minute; CPU per message
varies less): see store.py "Durability" for before/after. The figures are bounded by the CPU a delivery
costs holding the GIL, not by the disk: so the search folding, the index words, the blob file write and
the wake-ups are done in C without the GIL (``native/``), and what is left is mostly parsing (about
0.16 ms of a 20 KB message) and SQL statement overhead. With no fsync at all one thread then costs
about 0.72 ms of CPU per message (1.31 ms before those changes).
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import flags as flagcodec
from . import fulltext, names, uidranges
from .blobs import blob_id_of
from .delivery import DEFERRED, ParsedBlob, deferred_blob, insert_header_index, prepare_blob
from .wakeup import Wakeup
from .errors import MailboxNotFound, OverQuota, UserNotFound
from .feed import Change, ChangeKind
from .records import AppendResult, NewMessage

if TYPE_CHECKING:  # annotations only
    from .store import _Transaction

log = logging.getLogger(__name__)


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


def _prepared_item(raw: bytes, blob_id: str, message: NewMessage, parsed: ParsedBlob | None, wrote_blob: bool,
                   *, needs_sync: bool) -> _Prepared:
    """A delivery's message with its flags and INTERNALDATE in the form the rows take (now if none)."""
    bits, keywords = flagcodec.encode(message.flags)
    when = message.internal_date or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    offset = when.utcoffset()
    return _Prepared(
        raw, blob_id, bits, keywords, int(when.timestamp()), int(offset.total_seconds() // 60),
        when.date().toordinal(), parsed, wrote_blob, needs_sync,
    )


@dataclass(slots=True)
class _Quota:
    """A user's quota row as the batch being committed sees it (the triggers move the real one)."""

    used_bytes: int
    quota_bytes: int | None
    used_messages: int
    quota_messages: int | None

    def copy(self) -> _Quota:
        return _Quota(self.used_bytes, self.quota_bytes, self.used_messages, self.quota_messages)


@dataclass(slots=True)
class _Target:
    """A delivery target mailbox as the batch being committed sees it; written once, at the end."""

    quota: _Quota  # shared by every target of the same user
    mailbox_id: int
    uid_validity: int
    uid_next: int
    highest_modseq: int
    uid_ranges: str

    def copy(self, quota: _Quota) -> _Target:
        return _Target(quota, self.mailbox_id, self.uid_validity, self.uid_next, self.highest_modseq,
                       self.uid_ranges)

    def write(self, conn) -> None:
        conn.execute(
            "UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, uid_ranges = ? WHERE id = ?",
            (self.uid_next, self.highest_modseq, self.uid_ranges, self.mailbox_id),
        )


#: Parsing a new message (``prepare_blob``: summarize, search folding) is Python holding the GIL all
#: along, so deliveries of one process parse one at a time. Measured with 16 delivering threads
#: (benchmarks/store.py sizes, no fsync): 773 messages/s at 1.23 ms CPU each with one parser, 525/s at
#: 2.37 ms with sixteen: threads taking the GIL from each other every switch interval made no more
#: progress, they only kept the group-commit leader waiting for it after each statement.
_PARSERS = threading.Lock()


class _BatchFailed(Exception):
    """A statement of the one-statement-per-table path failed: commit the batch delivery by delivery."""


def _chunks(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


_BLOB_COLUMNS = (
    "id, size, parsed, envelope, body, bodystructure, preview, sent_date, sent_day, subject, base_subject, "
    "message_id, in_reply_to, refs, email_id, thread_id"
)


def _insert_blobs(conn, blobs: list[ParsedBlob]) -> None:
    """New blob rows with their header index and full-text rows, a fixed number of statements for any
    number of blobs. A blob row that exists already (another process delivered the same bytes) is kept;
    only rows inserted here (``refcount = 0`` until their messages are inserted) get the other rows."""
    for chunk in _chunks(blobs, 100):
        conn.execute(
            f"INSERT INTO blobs ({_BLOB_COLUMNS}) VALUES "
            + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            + " ON CONFLICT (id) DO NOTHING",
            [value for parsed in chunk for value in (
                parsed.blob_id, parsed.size, DEFERRED if parsed.deferred else int(parsed.parsed), parsed.envelope,
                parsed.body, parsed.bodystructure,
                parsed.preview, parsed.sent_date, parsed.sent_day, parsed.subject, parsed.base_subject,
                parsed.message_id, parsed.in_reply_to, parsed.refs, parsed.email_id, parsed.thread_id)],
        )
        deferred = [parsed.blob_id for parsed in chunk if parsed.deferred]
        if deferred:  # their summary, header index and texts come later (``Store.parse_deferred``)
            conn.execute(
                f"INSERT INTO parse_pending (num) SELECT b.num FROM blobs b WHERE b.refcount = 0 "
                f"AND b.parsed = {DEFERRED} AND b.id IN ("
                + ", ".join("?" * len(deferred)) + ")", deferred,
            )
            chunk = [parsed for parsed in chunk if not parsed.deferred]
            if not chunk:
                continue
        values = ", ".join(["(?, ?, ?, ?, ?)"] * len(chunk))
        params = [value for parsed in chunk for value in (
            parsed.blob_id, parsed.header_text, parsed.body_text, parsed.header_terms, parsed.body_terms)]
        source = f"FROM (VALUES {values}) AS v JOIN blobs b ON b.id = v.column1 WHERE b.refcount = 0"
        # The texts come as UTF-8 bytes (delivery.ParsedBlob) and are stored as TEXT.
        conn.execute("INSERT INTO blob_fulltext (num, header, body) "
                     f"SELECT b.num, CAST(v.column2 AS TEXT), CAST(v.column3 AS TEXT) {source}", params)
        # Words computed already (an unparsable message: nothing to index) go into the index now; the
        # others wait for the deferred indexer (fulltext.py, "Deferred indexing").
        if any(parsed.header_terms is not None for parsed in chunk):
            conn.execute("INSERT INTO blob_terms (rowid, header, body) "
                         f"SELECT b.num, CAST(v.column4 AS TEXT), CAST(v.column5 AS TEXT) {source} "
                         "AND v.column4 IS NOT NULL", params)
        if any(parsed.header_terms is None for parsed in chunk):
            conn.execute(f"INSERT INTO fulltext_pending (num) SELECT b.num {source} AND v.column4 IS NULL", params)
        headers = [(parsed.blob_id, name, value) for parsed in chunk for name, value in parsed.headers]
        for part in _chunks(headers, 300):
            conn.execute(
                "INSERT INTO blob_headers (blob, name, value_folded) SELECT b.num, v.column2, v.column3 FROM (VALUES "
                + ", ".join(["(?, ?, ?)"] * len(part))
                + ") AS v JOIN blobs b ON b.id = v.column1 WHERE b.refcount = 0",
                [value for row in part for value in row],
            )


def _stage(targets: dict) -> dict:
    """A copy of a batch's targets for one delivery, kept only if that delivery succeeds."""
    staged = {key: quota.copy() for key, quota in targets.items() if key[1] is None}
    for key, target in targets.items():
        if key[1] is not None:
            staged[key] = target.copy(staged[(key[0], None)])
    return staged


@dataclass(eq=False)
class _AppendRequest:
    user: str
    name: str
    prepared: list[_Prepared]
    done: bool = False
    result: AppendResult | None = None
    error: BaseException | None = None
    wal_ticket: int = 0  # the batch's commit, to wait for its WAL fsync (after the lock is released)
    #: The delivering session has this mailbox selected and takes \\Recent for what it adds there.
    claim_recent_in: int | None = None
    # Set when the request is done (committed or refused) or when it is handed the leadership.
    wakeup: Wakeup = field(default_factory=Wakeup)  # set without the GIL (wakeup.py)

    @property
    def needs_sync(self) -> bool:
        """It wrote files that must be made durable before its commit (``Store.sync_append``)."""
        return any(item.needs_sync for item in self.prepared)

    @property
    def wrote_files(self) -> bool:
        """It created files, which a request given up must remove (``Store.discard_append``)."""
        return any(item.wrote_blob for item in self.prepared)

    @property
    def deferred_parse(self) -> bool:
        """It stores blobs whose summary is left for later (``Store.parse_deferred``)."""
        return any(item.parsed is not None and item.parsed.deferred for item in self.prepared)


class DeliveryOperations:
    """Mixin of ``Store`` (uses its connections, transactions and blob store)."""

    #: A delivering thread that finds this many blobs waiting for the trigram index, after its own
    #: acknowledgement, indexes them (``fulltext.index_pending``) before returning.
    fulltext_batch = 64
    #: Who makes new blob files durable: the group-commit leader, for its whole batch, with one flush
    #: before it takes the writer lock (True); or each delivery in its own thread (False).
    blob_sync_by_leader = True
    _fulltext_backlog: int | None = None  # blobs waiting, as far as this process knows (None: count them)
    #: Set by a server that indexes in a background task (``commands/context.py``, BackgroundIndexer)
    #: when ``index_due``: deliveries then never index in their own time.
    background_indexing = False

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

    def append_many(
        self, user: str, name: str, messages: Sequence[NewMessage], *, claim_recent_in: int | None = None
    ) -> AppendResult:
        """RFC 3502 MULTIAPPEND: all messages or none, UIDs in order.

        ``claim_recent_in``: the id of the mailbox the appending session has selected (read-write, an
        IMAP4rev1 client). If the messages land there, they are \\Recent for that session (RFC 3501
        §2.3.2: the first session told of them, which it is, in the APPEND's own answer): they are
        stored already claimed and ``AppendResult.recent`` lists them, which spares the session the
        read and the write transaction of ``claim_recent`` right after."""
        name = names.normalize(name)
        reader = self._reader()
        self._mailbox_info_of(reader, user, name, target=True)  # fail before any write
        prepared: list[_Prepared] = []
        try:
            for message in messages:
                prepared.append(self._prepare(message))  # parse and write outside the lock
            # Blob before metadata, and still outside the lock: the files this delivery wrote are made
            # durable here, in its own thread, while other deliveries commit.
            if not self.blob_sync_by_leader:
                self.blobs.sync(item.blob_id for item in prepared if item.needs_sync)
            return self._append_prepared(user, name, prepared, claim_recent_in)
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

    def _append_prepared(
        self, user: str, name: str, prepared: list[_Prepared], claim_recent_in: int | None = None
    ) -> AppendResult:
        """Group commit: deliveries queued while a batch is being committed are committed together.

        Each delivery queues its request. If no batch is being committed, it becomes the leader: it takes
        the writer lock and commits every queued request in one transaction; a refused one (over quota,
        mailbox gone) gets its own exception and changes nothing. The others wait on a condition, not on
        the writer lock, so they all go on the moment their batch is committed (waiting on the lock
        made them return one by one, each behind the next leader's whole commit, and batches stayed
        small). When a leader has committed, it hands the leadership to the oldest request still queued,
        then waits, without any lock, for the WAL fsync that covers its batch (shared through
        ``GroupSync`` with every other committer), and only then wakes the members of its batch, already
        durable. Each request has its own event, so a commit wakes exactly the threads it concerns, and
        each exactly once: waking a thread is a futex call made holding the GIL, which measured about a
        third of the GIL time of 16 delivering threads (on this virtual machine a wake-up is an
        inter-processor interrupt) when each member was woken at the commit and again by the fsync.
        """
        request = _AppendRequest(user, name, prepared, claim_recent_in=claim_recent_in)
        with self._pending_lock:
            self._pending_appends.append(request)
            leader = not self._leading
            self._leading = True
        if not leader:
            request.wakeup.wait()
            leader = not request.done  # handed the leadership by the previous leader
        if leader:
            batch: list[_AppendRequest] = []
            try:
                try:
                    with self._pending_lock:
                        batch, self._pending_appends = self._pending_appends, []
                    if self.blob_sync_by_leader:
                        self._sync_batch_blobs(batch)
                    with self._lock:
                        self._commit_append_batch(batch)
                finally:
                    with self._pending_lock:
                        successor = self._pending_appends[0] if self._pending_appends else None
                        self._leading = successor is not None
                    if successor is not None:
                        successor.wakeup.set()
                # Committed (at NORMAL, so already safe from kill -9); acknowledged once the WAL is on
                # disk: one wait for the whole batch, without the writer lock, sharing the fsync with
                # everybody who committed meanwhile, while the next leader commits the next batch.
                self._wait_batch_durable(batch)
            finally:
                for other in batch:
                    if other is not request:
                        other.wakeup.set()
        if request.error is not None:
            raise request.error
        try:
            self._index_if_backlogged()
        except Exception:  # the delivery is durable: a failed indexing batch is retried by the next one
            log.exception("deferred full-text indexing failed")
        return request.result

    def _wait_batch_durable(self, batch: list[_AppendRequest]) -> None:
        """Wait for the WAL fsync covering ``batch``'s commit; if it fails, no delivery of the batch is
        acknowledged (each raises the error: its rows are committed, but may not be on disk)."""
        ticket = max((request.wal_ticket for request in batch if request.error is None), default=0)
        try:
            self._wait_durable(ticket)
        except BaseException as error:
            failure = error if isinstance(error, Exception) else RuntimeError("delivery interrupted")
            for request in batch:
                if request.error is None:
                    request.result = None
                    request.error = failure
            raise

    def pending_index_count(self) -> int:
        """How many delivered blobs are not in the trigram index yet (``index_pending`` does them)."""
        return fulltext.pending_count(self._reader())

    def parse_deferred(self, limit: int | None = None, up_to: int | None = None,
                       mailbox_id: int | None = None) -> int:
        """Summarize blobs stored without their summary (``deferred_blob``), oldest first: at most
        ``limit`` (None: all), only numbers up to ``up_to`` if given, only those of ``mailbox_id``'s
        messages if given. Blocking; how many were done.

        The blobs are read and parsed outside the writer lock; under it, in a relaxed transaction,
        only those still waiting *and still the same blob* (a collected blob's number may be given
        again) get their columns, header index and texts, and go to the full-text indexer's queue. A
        commit lost to a power failure leaves them waiting, to be parsed again. EMAILID and THREADID
        stay those given at delivery (RFC 8474: immutable)."""
        done = 0
        while limit is None or done < limit:
            batch = 256 if limit is None else min(256, limit - done)
            sql = "SELECT p.num, b.id FROM parse_pending p JOIN blobs b ON b.num = p.num WHERE p.num <= ?"
            params = [fulltext.MAX_NUM if up_to is None else up_to]
            if mailbox_id is not None:
                sql += " AND EXISTS (SELECT 1 FROM messages m WHERE m.blob = p.num AND m.mailbox_id = ?)"
                params.append(mailbox_id)
            rows = self._reader().execute(sql + " ORDER BY p.num LIMIT ?", (*params, batch)).fetchall()
            if not rows:
                break
            parsed = []
            with _PARSERS:
                for num, blob_id in rows:
                    try:
                        raw = self.blobs.read(blob_id)
                    except Exception:  # fsck reports a missing or damaged file; parse what there is
                        log.exception("deferred parse: cannot read blob %s", blob_id)
                        raw = b""
                    parsed.append((num, prepare_blob(raw, blob_id, self.summarize)))
            with self._transaction(durable=False) as tx:
                conn = tx.conn
                for num, blob in parsed:
                    still = conn.execute(
                        "DELETE FROM parse_pending WHERE num = ? "
                        "AND EXISTS (SELECT 1 FROM blobs WHERE num = ? AND id = ?)", (num, num, blob.blob_id),
                    ).rowcount
                    if not still:
                        continue  # parsed by another process meanwhile, or collected
                    conn.execute(
                        "UPDATE blobs SET parsed = ?, envelope = ?, body = ?, bodystructure = ?, preview = ?, "
                        "sent_date = ?, sent_day = ?, subject = ?, base_subject = ?, message_id = ?, "
                        "in_reply_to = ?, refs = ? WHERE num = ?",
                        (int(blob.parsed), blob.envelope, blob.body, blob.bodystructure, blob.preview,
                         blob.sent_date, blob.sent_day, blob.subject, blob.base_subject, blob.message_id,
                         blob.in_reply_to, blob.refs, num),
                    )
                    insert_header_index(conn, num, blob.headers)
                    fulltext.insert_pending(conn, num, blob.header_text, blob.body_text)
                    done += 1
                    if self._fulltext_backlog is not None:
                        self._fulltext_backlog += 1
            if len(rows) < batch:
                break
        return done

    def parse_deferred_of(self, mailbox_id: int) -> None:
        """Before a SEARCH of ``mailbox_id``: summarize its messages' blobs still waiting for that
        (usually none: one indexed lookup per waiting blob)."""
        if self._reader().execute(
            "SELECT 1 FROM parse_pending p WHERE EXISTS "
            "(SELECT 1 FROM messages m WHERE m.blob = p.num AND m.mailbox_id = ?) LIMIT 1", (mailbox_id,)
        ).fetchone():
            self.parse_deferred(mailbox_id=mailbox_id)

    def pending_parse_count(self) -> int:
        """How many blobs wait for their summary (``parse_deferred`` makes it)."""
        return self._reader().execute("SELECT count(*) FROM parse_pending").fetchone()[0]

    def newest_pending_index(self) -> int | None:
        """The newest blob waiting to be summarized or for the trigram index, for
        ``parse_deferred``/``index_pending(up_to=...)``."""
        return self._reader().execute(
            "SELECT max(num) FROM (SELECT max(num) AS num FROM parse_pending "
            "UNION ALL SELECT max(num) FROM fulltext_pending)"
        ).fetchone()[0]

    def index_pending(self, limit: int | None = None, up_to: int | None = None) -> int:
        """Put blobs delivered since into the trigram index (SEARCH is exact without it, only slower on
        the pending ones); at most ``limit`` (None: all), only those up to ``newest_pending_index``'s
        ``up_to`` if given. Blocking; the number indexed."""
        total = 0
        while limit is None or total < limit:
            batch = 256 if limit is None else min(256, limit - total)
            done = fulltext.index_pending(self, batch, up_to)
            total += done
            self._fulltext_backlog = max(0, (self._fulltext_backlog or 0) - done)
            if done < batch:
                # Nothing more is pending: the estimate starts again from zero. (Blobs collected while
                # pending never reach the indexer, so counting down by ``done`` alone left the estimate
                # above ``fulltext_batch`` for good on a mix that expunges what it appends: every
                # delivery then ran the indexer for the one or two blobs just delivered, under the
                # writer lock, only for their index entries to be deleted again a moment later.)
                self._fulltext_backlog = 0
                break
        return total

    def _index_if_backlogged(self) -> None:
        if self.background_indexing:
            return
        if self._fulltext_backlog is None:
            self._fulltext_backlog = fulltext.pending_count(self._reader())
        if self._fulltext_backlog < self.fulltext_batch:
            return
        running = self.__dict__.setdefault("_indexing", threading.Lock())
        if running.acquire(blocking=False):  # one indexer at a time; the others go on delivering
            try:
                self.index_pending(limit=self.fulltext_batch)  # bounded: this APPEND waits for it
            finally:
                running.release()

    def _sync_batch_blobs(self, batch: list[_AppendRequest]) -> None:
        """Blob before metadata: the leader makes every new blob of its batch durable with one flush
        (``BlobStore.sync(..., coalesce=True)``: syncfs(2)), before it takes the writer lock."""
        try:
            self.blobs.sync(
                (item.blob_id for request in batch for item in request.prepared if item.needs_sync), coalesce=True
            )
        except BaseException as error:
            for request in batch:
                request.error = error if isinstance(error, Exception) else RuntimeError("delivery interrupted")
                request.done = True
            raise

    def _commit_append_batch(self, batch: list[_AppendRequest]) -> None:
        """Commit ``batch`` in one transaction, under the writer lock.

        Every statement here is paid under the lock, and each one also gives up the GIL, which the leader
        then has to win back from the threads busy parsing the next deliveries: with them running, that
        costs about a switch interval (``sys.setswitchinterval``) per statement, far more than the
        statement itself. So the batch is written with a fixed number of statements whatever its size
        (``_insert_batch``: one multi-row INSERT per table); the refusals a delivery can meet (mailbox
        or user gone, over quota) are decided beforehand in Python from the user and mailbox rows read
        once per batch. Should a statement fail anyway (a row that cannot be stored), the transaction is
        rolled back and the batch committed again delivery by delivery, each in its own savepoint, so
        the failure stays with the delivery that caused it.
        """
        try:
            try:
                with self._transaction_locked() as tx:
                    self._append_batch_locked(tx, batch)
            except _BatchFailed:
                for request in batch:
                    request.result = request.error = None
                with self._transaction_locked() as tx:
                    self._append_each_locked(tx, batch)
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

    def _append_batch_locked(self, tx: _Transaction, batch: list[_AppendRequest]) -> None:
        conn = tx.conn
        now = int(time.time())
        targets: dict = {}
        accepted: list[tuple[_AppendRequest, _Target, int]] = []
        for request in batch:
            try:
                target = self._append_target(conn, targets, request.user, request.name)
                self._check_target_quota(target, request.user, request.prepared)
            except Exception as error:
                request.error = error
                continue
            first_uid = self._assign(target, request.prepared)
            accepted.append((request, target, first_uid))
        try:
            self._insert_batch(conn, now, accepted)
        except Exception as error:
            raise _BatchFailed from error
        for request, target, first_uid in accepted:
            request.result = self._announce(tx, request, target, first_uid)
        if self._fulltext_backlog is not None:  # None: counted in the database when first needed
            self._fulltext_backlog += sum(
                1 for request, _, _ in accepted for item in request.prepared
                if item.parsed is not None and not item.parsed.deferred)
        for key, target in targets.items():
            if key[1] is not None:
                target.write(conn)

    def _append_each_locked(self, tx: _Transaction, batch: list[_AppendRequest]) -> None:
        """The slow path: one savepoint per delivery, so one failing delivery is rolled back alone."""
        conn = tx.conn
        now = int(time.time())
        targets: dict = {}
        for request in batch:
            published = len(tx.changes)
            conn.execute("SAVEPOINT delivery")
            staged = _stage(targets)
            try:
                target = self._append_target(conn, staged, request.user, request.name)
                self._check_target_quota(target, request.user, request.prepared)
                first_uid = self._assign(target, request.prepared)
                self._insert_batch(conn, now, [(request, target, first_uid)], one_by_one=True)
                request.result = self._announce(tx, request, target, first_uid)
                conn.execute("RELEASE delivery")
                targets = staged
            except Exception as error:
                conn.execute("ROLLBACK TO delivery")
                conn.execute("RELEASE delivery")
                del tx.changes[published:]
                request.error = error
        for key, target in targets.items():
            if key[1] is not None:
                target.write(conn)

    @staticmethod
    def _check_target_quota(target: _Target, user: str, prepared: list[_Prepared]) -> None:
        quota = target.quota
        add_bytes = sum(len(p.raw) for p in prepared)
        if quota.quota_bytes is not None and add_bytes and quota.used_bytes + add_bytes > quota.quota_bytes:
            raise OverQuota(user, "STORAGE", quota.quota_bytes, quota.used_bytes + add_bytes)
        if quota.quota_messages is not None and prepared and quota.used_messages + len(prepared) > quota.quota_messages:
            raise OverQuota(user, "MESSAGE", quota.quota_messages, quota.used_messages + len(prepared))

    @staticmethod
    def _assign(target: _Target, prepared: list[_Prepared]) -> int:
        """Give the delivery its UIDs and MODSEQs (in ``target``, the batch's view); the first UID."""
        first_uid = target.uid_next
        count = len(prepared)
        if count:
            target.uid_ranges = uidranges.append_run_text(target.uid_ranges, first_uid, first_uid + count - 1)
        target.uid_next += count
        target.highest_modseq += count
        target.quota.used_bytes += sum(len(p.raw) for p in prepared)
        target.quota.used_messages += count
        return first_uid

    def _insert_batch(self, conn, now: int, accepted: list, *, one_by_one: bool = False) -> None:
        """The rows of the accepted deliveries: new blobs (with their header index and full-text rows)
        and messages, each table with one multi-row INSERT (``one_by_one``: the slow path's own way)."""
        new_blobs: dict[str, ParsedBlob] = {}
        message_rows: list[tuple] = []
        # A garbage collection between a delivery's write and this lock may have removed its file (it
        # removes files inside a write transaction, so the check here, under ours, cannot race it).
        missing = self.blobs.missing(item.blob_id for request, _, _ in accepted for item in request.prepared)
        for request, target, first_uid in accepted:
            modseq = target.highest_modseq - (target.uid_next - first_uid)
            recent = 0 if request.claim_recent_in == target.mailbox_id else 1
            for offset, item in enumerate(request.prepared):
                parsed = item.parsed
                if parsed is None and one_by_one:
                    # Known when prepared, but the row may have been collected since: then parse it now. (The
                    # fast path finds out through the messages INSERT below, and comes here.)
                    if conn.execute("SELECT 1 FROM blobs WHERE id = ?", (item.blob_id,)).fetchone() is None:
                        parsed = prepare_blob(item.raw, item.blob_id, self.summarize)
                if parsed is not None:
                    new_blobs.setdefault(item.blob_id, parsed)
                if item.blob_id in missing:
                    self.blobs.put(item.raw, item.blob_id)
                    missing.discard(item.blob_id)
                keywords = item.keywords
                if keywords:
                    keywords = self._canonical_keywords(conn, target.mailbox_id, keywords)
                    self._add_keywords(conn, target.mailbox_id, keywords)
                message_rows.append(
                    (target.mailbox_id, first_uid + offset, item.blob_id, len(item.raw), item.internal_date,
                     item.internal_tz, item.internal_day, now, item.bits, flagcodec.keywords_text(keywords),
                     modseq + offset + 1, recent)
                )
        if new_blobs:
            _insert_blobs(conn, list(new_blobs.values()))
        inserted = 0
        for chunk in _chunks(message_rows, 400):
            inserted += conn.execute(
                "INSERT INTO messages (mailbox_id, uid, blob, size, internal_date, internal_tz, internal_day, "
                "save_date, flags, keywords, modseq, recent) "
                "SELECT v.column1, v.column2, b.num, v.column4, v.column5, v.column6, v.column7, v.column8, "
                "v.column9, v.column10, v.column11, v.column12 FROM (VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                + ") AS v JOIN blobs b ON b.id = v.column3 ORDER BY v.column2",
                [value for row in chunk for value in row],
            ).rowcount
        if inserted != len(message_rows):  # the JOIN dropped a message whose blob row is missing
            raise LookupError("a delivered message found no blob row")

    def _announce(self, tx: _Transaction, request: _AppendRequest, target: _Target, first_uid: int) -> AppendResult:
        """The delivery's change for the feed, and its result."""
        count = len(request.prepared)
        uids = tuple(range(first_uid, first_uid + count))
        last_modseq = target.highest_modseq - (target.uid_next - first_uid - count)
        modseqs = tuple(range(last_modseq - count + 1, last_modseq + 1))
        flags = tuple(flagcodec.decode(item.bits, flagcodec.keywords_text(item.keywords)) for item in request.prepared)
        tx.changes.append(
            Change(
                0, ChangeKind.MESSAGES_ADDED, request.user, target.mailbox_id, request.name, uids, flags, modseqs,
                highest_modseq=last_modseq, uid_next=first_uid + count,
            )
        )
        recent = uids if request.claim_recent_in == target.mailbox_id else ()
        return AppendResult(target.mailbox_id, target.uid_validity, uids, last_modseq, recent)

    def _append_target(self, conn, targets: dict, user: str, name: str) -> _Target:
        """The target mailbox of a delivery, read once per batch (keys ``(user, name)``; the user's
        ``_Quota`` under ``(user, None)``)."""
        target = targets.get((user, name))
        if target is None:
            row = conn.execute(
                "SELECT u.used_storage_bytes, u.quota_storage_bytes, u.used_messages, u.quota_messages, "
                "mb.id, mb.uid_validity, mb.uid_next, mb.highest_modseq, mb.uid_ranges "
                "FROM users u LEFT JOIN mailboxes mb ON mb.user_id = u.id AND mb.name = ? WHERE u.name = ?",
                (name, user),
            ).fetchone()
            if row is None:
                raise UserNotFound(user)
            if row[4] is None:
                raise MailboxNotFound(name, target=True)
            quota = targets.get((user, None))
            if quota is None:
                quota = targets[(user, None)] = _Quota(*row[:4])
            target = targets[(user, name)] = _Target(quota, *row[4:])
        return target

    def _prepare(self, message: NewMessage) -> _Prepared:
        raw = bytes(message.raw)
        blob_id = blob_id_of(raw)
        known = self._reader().execute("SELECT 1 FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        if known:
            # A file with a row was made durable before that row committed. Should a collection have
            # removed it meanwhile, it is written again durably (and checked again under the lock).
            wrote_blob = not self.blobs.exists(blob_id)
            if wrote_blob:
                self.blobs.put(raw, blob_id)
            return _prepared_item(raw, blob_id, message, None, wrote_blob, needs_sync=False)
        with _PARSERS:
            return self._prepare_new(raw, blob_id, message)

    def _prepare_new(self, raw: bytes, blob_id: str, message: NewMessage, *, defer_parse: bool = False) -> _Prepared:
        """Parse bytes the store does not hold (the caller holds ``_PARSERS``), or with ``defer_parse``
        leave that for later (``deferred_blob``), and write their file, not yet durable. A file without a
        row may be a leftover of a crash, possibly incomplete after a power loss: trusted only if it
        hashes right (``write_new``); the delivery's sync follows."""
        parsed = deferred_blob(raw, blob_id) if defer_parse else prepare_blob(raw, blob_id, self.summarize)
        wrote_blob = self.blobs.write_new(raw, blob_id)
        return _prepared_item(raw, blob_id, message, parsed, wrote_blob, needs_sync=True)

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
