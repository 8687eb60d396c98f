"""``Store``: users, mailboxes and messages in SQLite, message bytes in the blob store.

Invariants this module keeps (each has a test in tests/store/):

* UIDs in a mailbox are given from ``uid_next`` upward, never reused within a UIDVALIDITY; ``uid_next``
  only grows. A mailbox created (or re-created under an old name) gets a UIDVALIDITY larger than any
  given before (``meta.last_uid_validity``), so UIDs of a former incarnation cannot be confused.
* Every change to a message (append, flag change, copy/move target) gets a MODSEQ larger than the
  mailbox's ``highest_modseq``, which then becomes that value; an expunge gets one new MODSEQ, recorded
  with each expunged UID (``expunged``) for QRESYNC VANISHED (RFC 7162 §3.2.10). That history is
  bounded: past ``expunge_history`` records (100,000 by default) a mailbox's oldest expunges are pruned
  and its ``expunge_floor`` raised; ``vanished_since`` stays exact above the floor and below it answers
  as RFC 7162 §3.2.6 asks (every UID of the set no longer present). Unbounded, the table grows by one
  row per expunged message forever (RFC 7162 §5.3 warns about exactly that).
* Counters (mailbox STATUS numbers, user quota usage, blob reference counts) are maintained by triggers
  in the same transaction as the rows they count (``schema.py``).
* Blob before metadata: bytes are written and made durable (``blobs.py``) before the transaction that
  refers to them commits. Each delivery writes its files in its own thread; the group-commit leader
  makes every new file of its batch durable with one flush (``BlobStore.sync``, syncfs(2)) before it
  takes the writer lock (``appending.py``); a file without a row is never
  trusted unchecked (a power loss before the sync may leave it incomplete), so a new delivery of the
  same bytes verifies its hash or writes it again. Under the writer lock, just before the commit, the
  file's existence is checked again so a concurrent garbage collection cannot have removed it. Blobs
  whose last reference went away are deleted after the commit, still under the writer lock.
* Changes are published on the change feed after commit, under the writer lock, so in commit order.

Threads: one writer connection guarded by a lock; one reader connection per thread (WAL lets readers run
beside the writer). Every public method is a plain blocking function, safe to call from
``trio.to_thread.run_sync``; short reads (STATUS, a few FETCH rows) are cheap enough to call inline.

Durability: ``synchronous="FULL"`` by default, and no fsync is ever made under the writer lock.

The order of a durable write (APPEND, COPY, MOVE, and users, mailboxes, quotas, subscriptions):
blob files durable -> metadata committed -> WAL durable -> acknowledged (the method returns).

1. Blobs: made durable by the group-commit leader, for its batch, before it takes the writer lock.
2. Commit: under the writer lock, at ``synchronous=NORMAL`` whatever the configured level. In WAL mode
   the transaction's frames, commit record included, are in the WAL file (the OS page cache) when
   COMMIT returns, and other connections see them: a kill -9 of the process can no longer lose it.
3. The lock is released (the change feed has been published in commit order, under it), then the
   committing thread waits for a WAL fsync that *started after* its commit (``_wal_sync``, a
   ``GroupSync``): if one is running that started earlier, it waits for it and then it or another
   waiter runs the next one, which covers everybody who committed meanwhile. A whole queue of
   committers pays one fsync, and the writer is free for the next commit (and for STORE, EXPUNGE and
   \\Recent claims run inline by ``call_if_writer_free``) during it. Checkpoints cannot void that fsync:
   at NORMAL SQLite fsyncs the WAL before a checkpoint and the database after it, before the WAL is
   reset or removed, so frames no longer in the WAL file are in a synced database (``_fsync_wal_file``:
   a missing WAL file needs no fsync).
4. Only then does the method return. A failed fsync fails every commit it was to cover (OSError, no
   acknowledgement; the rows are committed, so a client's retry can only duplicate, never lose).

What holds:

* kill -9 (process crash): every acknowledged write, durable or relaxed, survives (each is in the WAL
  before the lock is released). tests/store/test_crash.py kills a delivering process 50 times at FULL
  and 12 times at NORMAL and finds every acknowledged APPEND.
* power loss / kernel crash at FULL: every acknowledged APPEND (and every other durable write)
  survives: its blob and its WAL frames were fsynced before the acknowledgement. A client that saw
  "OK APPEND" may delete its own copy (a migration tool does), so an acknowledgement must mean durable.
  What may be lost: commits not acknowledged yet, including ones other sessions already saw (a reader
  or the change feed sees a commit before its fsync ends); and the last relaxed writes (below).
* relaxed writes (``_transaction(durable=False)``): flag changes (STORE, the implicit ``\\Seen`` of
  FETCH), EXPUNGE and \\Recent claims never wait for an fsync: they survive kill -9 but the last of them
  may be lost on power loss, until the next durable commit's fsync (which covers the whole WAL) or a
  checkpoint. Dovecot makes the same choice (it fsyncs when saving mail, not for flag changes or
  expunges). One exception keeps that safe: before unreferenced blob files are deleted the WAL is
  fsynced if any commit is not known durable (``_sync_wal``), so a lost expunge can never leave a
  message row pointing at a deleted file.
* ``synchronous="NORMAL"``/``"OFF"`` (and ``durable=False`` for blob files): nothing waits for an fsync;
  an acknowledgement then survives kill -9 (NORMAL) but not power loss.

Why: with the fsync under the lock (the previous design, FULL commits) every writer queued behind the
disk: on the issue's 10-client server mix, APPEND p50 13.5 ms and STORE/EXPUNGE 5.7-6.3 ms, mostly
waiting for another APPEND's fsync. Measured with benchmarks/store.py (20 KB messages, FULL, 1,000
per run, 2 runs, the old and the new code run in turns on the shared 2-core machine at load 3-5,
whose disk went from 0.3 to 4 ms per fsync meanwhile): one appender 151-293/s at 1.8-2.1 ms CPU per
message before, 443-504/s at 1.65-1.71 ms after; MULTIAPPEND of 10, 230-528/s at 1.8-2.3 ms before,
507-532/s at 1.8 ms after; 4 and 16 threads 267-490/s at 2.4-2.7 ms before, 189-650/s at 1.7-3.0 ms
after, too noisy there to call. What bounds them now is Python's CPU per delivery, not the disk nor
the lock: with no fsync at all (``synchronous="OFF"``) one thread delivers 756/s at 1.31 ms CPU.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from . import fulltext, names, schema
from .appending import DeliveryOperations, _AppendRequest, _Prepared, _prepared_item
from .blobs import BlobStore, blob_id_of
from .connection import BUSY_TIMEOUT_MS, connect
from .delivery import default_summarize
from .errors import UserExists, UserNotFound
from .feed import Change, ChangeFeed, ChangeKind, NullFeed
from .locking import LOCK_FILE_NAME, WriterLock
from .mailboxes import MailboxOperations
from .messages import FETCH_FIELDS, MessageOperations
from .records import AppendResult, NewMessage, QuotaUsage, UserInfo
from .syncing import FSYNC_FILE, FlusherGroupSync, GroupSync, WalCheckpointer, group_sync
from .uidsets import UidSets

T = TypeVar("T")

#: ``synchronous`` levels at which a WAL commit fsyncs.
_SYNCING = frozenset({"FULL", "EXTRA"})

#: Mailboxes every new user gets, with their RFC 6154 SPECIAL-USE attribute.
DEFAULT_MAILBOXES: tuple[tuple[str, str | None], ...] = (
    ("INBOX", None),
    ("Sent", "\\Sent"),
    ("Drafts", "\\Drafts"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
    ("Archive", "\\Archive"),
)

@dataclass
class _Transaction:
    conn: object
    changes: list[Change] = field(default_factory=list)
    dropped_references: bool = False  # some message rows went away: collect unreferenced blobs
    wal_ticket: int = 0  # a durable commit: ``Store._wait_durable`` waits for a WAL fsync covering it


class Store(MailboxOperations, DeliveryOperations, MessageOperations, UidSets):
    """The embedded store. Open with ``Store.open(data_dir)``; close with ``close()``.

    The operations live in mixins by subject (``mailboxes.py``, ``appending.py``, ``messages.py``,
    ``uidsets.py``); this class owns the connections, the writer lock and the transaction discipline.
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        feed: ChangeFeed | None = None,
        synchronous: str = "FULL",
        summarize: Callable[[bytes], object] | None = None,
        durable: bool = True,
        expunge_history: int = 100_000,
        process_shared: bool = False,
    ):
        self.data_dir = Path(data_dir)
        # Expunge records kept per mailbox for QRESYNC (messages.py ``_prune_expunge_history``).
        self.expunge_history = max(1, expunge_history)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(self.data_dir / "blobs", durable=durable)
        self.feed: ChangeFeed = feed or NullFeed()
        self.synchronous = synchronous.upper()
        # Relaxed transactions (``durable=False``) never sync more than the configured level.
        self._relaxed_synchronous = "NORMAL" if self.synchronous in _SYNCING else self.synchronous
        self._writer_synchronous = self.synchronous
        # Every commit takes a ticket; a durable one waits, after the writer lock is released, for a WAL
        # fsync that covers it, shared with every other commit waiting at the same time (syncing.py).
        self.db_path = self.data_dir / "meta.sqlite3"
        self._wal_sync = group_sync(self._fsync_wal_file, FSYNC_FILE, f"{self.db_path}-wal")
        #: Test seam: called in the thread running a WAL fsync, before it (the fsync is then "in progress").
        #: Only the Python twin of the flusher calls it (``IMAPCORE_PURE_PYTHON=1``).
        self.before_wal_fsync: Callable[[], None] | None = None
        self._defer_collection = False  # inside ``call_if_writer_free``: blob collection waits
        #: Blobs lost their last reference in a ``call_if_writer_free`` write: run ``collect_unreferenced``.
        self.collection_pending = False
        #: True (the server sets it): no write collects the blobs it freed itself, under the writer lock
        #: and in its caller's time; it sets ``collection_pending`` and the caller has ``collect_unreferenced``
        #: run later (the server: in the background, many expunges at once). False: collected at once.
        self.background_collection = False
        self.summarize = summarize or default_summarize
        self._checkpointer = WalCheckpointer(self.db_path, connect)  # checkpoints outside the writer lock
        # Re-entrant so that ``call_if_writer_free`` can hold it around a method that takes it again;
        # ``process_shared`` (several server processes on this data directory) adds an flock (locking.py).
        self._lock = WriterLock(self.data_dir / LOCK_FILE_NAME if process_shared else None)
        self._writer = connect(self.db_path, synchronous)
        if self.synchronous in _SYNCING:
            # Durable commits checkpoint outside the writer lock (``WalCheckpointer``, every 2,000 frames);
            # SQLite's own checkpoint, inside a COMMIT and so under the lock, is left as a far safety net.
            self._writer.execute("PRAGMA wal_autocheckpoint = 10000")
        try:
            schema.migrate(self._writer)
        except BaseException:
            self._writer.close()
            raise
        self._local = threading.local()
        self._readers: list = []
        self._readers_lock = threading.Lock()
        self._change_seq = itertools.count(1)
        self._pending_lock = threading.Lock()
        self._pending_changed = threading.Condition(self._pending_lock)
        self._pending_appends: list[_AppendRequest] = []
        self._leading = False  # a group-commit leader is committing a batch (appending.py)
        self._closed = False
        # Finish what a crash may have interrupted: blobs whose last reference went away just before, and
        # temporary files of blob writes that never reached their rename (older than an hour, so a
        # maintenance process opening the store beside a live server removes nothing in progress).
        self._collect_unreferenced()
        self.blobs.clean_temporaries()

    @classmethod
    def open(cls, data_dir: Path | str, **options) -> Store:
        return cls(data_dir, **options)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._writer.close()
        self._lock.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._checkpointer.close()  # after every connection of this store (syncing.py, frames_behind)
        self._wal_sync.close()
        self.blobs.close()

    @property
    def closed(self) -> bool:
        """``close`` was called: nothing may use the store any more (background rounds stop)."""
        return self._closed

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- connections and transactions --------------------------------------------------------------

    def _reader(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.db_path, self.synchronous)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def _snapshot(self) -> Iterator[object]:
        """A read transaction: several SELECTs that see one consistent state."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def _transaction(self, durable: bool = True) -> Iterator[_Transaction]:
        with self._lock:
            with self._transaction_locked(durable) as tx:
                yield tx
        self._wait_durable(tx.wal_ticket)  # outside the writer lock: see "Durability"

    def _wait_durable(self, wal_ticket: int) -> None:
        """Return once the commit of ``wal_ticket`` is on disk (at once for relaxed or non-syncing
        transactions, whose ticket is 0); then checkpoint the WAL if it has grown (``WalCheckpointer``)."""
        if wal_ticket:
            self._wal_sync.wait(wal_ticket)
            self._checkpointer.maybe_run()

    @property
    def _wal_unsynced(self) -> bool:
        """Some commit of this process may not be on disk yet (the WAL was not fsynced since)."""
        return self._wal_sync.pending

    @contextmanager
    def _transaction_locked(self, durable: bool = True) -> Iterator[_Transaction]:
        """One write transaction; the caller holds the writer lock. Publishes changes after commit.

        ``durable=False`` (flag changes, expunges, \\Recent claims): committed with
        ``synchronous=NORMAL``, no WAL fsync; see "Durability" in the module docstring.
        """
        conn = self._writer
        # Never an fsync under the writer lock: at FULL a durable commit is made at NORMAL (in WAL mode
        # it is in the WAL, in the page cache, when COMMIT returns) and ``_wait_durable`` fsyncs the WAL
        # after the lock is released. See "Durability".
        self._set_writer_synchronous(self._relaxed_synchronous)
        conn.execute("BEGIN IMMEDIATE")
        tx = _Transaction(conn)
        try:
            yield tx
            # A feed shared by several processes writes the changes into this transaction (change_log)
            # and numbers them; an in-process feed returns None and they are numbered below.
            seqs = self._record_changes(conn, tx.changes) if tx.changes else None
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        ticket = self._wal_sync.note()
        if durable and self.synchronous in _SYNCING:
            tx.wal_ticket = ticket
        if tx.changes:
            if seqs is None:
                seqs = [next(self._change_seq) for _ in tx.changes]
            numbered = [_renumber(change, seq) for change, seq in zip(tx.changes, seqs)]
            self.feed.publish(numbered)
        if tx.dropped_references:
            if not self._defer_collection and not self.background_collection:
                self._collect_unreferenced_locked()
            elif self._has_unreferenced_blobs():
                # Only when a blob really lost its last reference: an expunged message whose bytes other
                # messages still hold (the usual case on the server mix) costs no thread hop to find that.
                self.collection_pending = True

    def _has_unreferenced_blobs(self) -> bool:
        """Some blob has no reference left (an indexed probe: ``blobs_unreferenced``). Writer lock held."""
        return self._writer.execute("SELECT 1 FROM blobs WHERE refcount = 0 LIMIT 1").fetchone() is not None

    def _record_changes(self, conn, changes: list[Change]) -> list[int] | None:
        record = getattr(self.feed, "record", None)  # a test's duck-typed feed may have no ``record``
        return record(conn, changes) if record is not None else None

    def collect_unreferenced(self) -> list[str]:
        """Delete the blobs no message refers to any more (their rows and files); the blob ids removed.
        Blocking (a WAL fsync, unlinks): what ``call_if_writer_free`` leaves to a worker thread.

        The WAL fsync that must precede the unlinks (see ``_collect_unreferenced_locked``) is made here
        before the writer lock is taken, not under it: the unreferenced blobs are read first, the fsync
        then covers every commit before it (those that dropped their references among them, from any
        process: it flushes the WAL file), and under the lock only those blobs, still unreferenced, go.
        One that lost its last reference meanwhile waits for the next collection. Measured on the
        issue's mix with distinct APPENDs (each expunged message frees a blob): the fsync under the lock
        kept every other writer of both workers waiting ~1 ms per collection."""
        self.collection_pending = False
        candidates = [num for (num,) in self._reader().execute("SELECT num FROM blobs WHERE refcount = 0")]
        if not candidates:
            return []
        self._sync_wal()
        with self._lock:
            return self._collect_unreferenced_locked(candidates)

    def call_if_writer_free(self, fn: Callable[..., T], *args, **kwargs) -> tuple[bool, T | None]:
        """Run the write ``fn(*args, **kwargs)`` now if it needs no waiting: ``(True, result)``, or
        ``(False, None)`` when the writer lock is held (a group commit, another write) or another process
        holds SQLite's write lock. Nothing was written in the second case; the caller runs it again
        elsewhere (a worker thread). Lets the server run cheap relaxed writes (a flag change, a
        \\Recent claim) on its event loop instead of paying two thread hops for half a millisecond of work.

        Blobs left unreferenced (an expunge) are not collected here, since that may fsync and unlink:
        ``collection_pending`` is then true and the caller runs ``collect_unreferenced`` in a thread.
        """
        if not self._lock.acquire(blocking=False):
            return False, None
        conn = self._writer
        # A process-shared lock is the flock every server worker and command-line tool takes around its
        # writes (locking.py): holding it, nobody holds SQLite's write lock, so the busy timeout is left
        # alone (two PRAGMA statements per call were ~4% of the SQL of the server mix). A store of one
        # process only may meet another process's write at the SQLite level: never wait for it here.
        exclusive = self._lock.process_shared
        try:
            if not exclusive:
                conn.execute("PRAGMA busy_timeout = 0")
            self._defer_collection = True
            try:
                return True, fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if conn.in_transaction or not _is_busy(error):
                    raise
                return False, None  # BEGIN IMMEDIATE found the database locked: nothing was done
            finally:
                self._defer_collection = False
                if not exclusive:
                    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        finally:
            self._lock.release()

    def append_now(
        self, user: str, name: str, messages: Sequence[NewMessage], *, claim_recent_in: int | None = None
    ) -> tuple[AppendResult, int] | None:
        """``append_many`` committed now, in the calling thread, when it needs no waiting: every message's
        bytes are a blob the store already holds durably (a row and its file), so nothing is parsed,
        written or flushed, and the writer is free (``call_if_writer_free``). Returns ``(result,
        wal_ticket)``: the commit is made but not yet durable; the caller passes the ticket to
        ``wait_durable`` (blocking: a worker thread) before acknowledging. None when that is not the
        case: nothing was written, and the caller runs ``append_many`` (a worker thread).

        Lets the server commit such an APPEND on its event loop and send only the WAL fsync to a
        thread, instead of running the whole delivery there while the event loop wants the GIL back
        at every system call. In two steps for a caller that tries the writer more than once:
        ``prepare_append_now`` then ``commit_append_now``."""
        request = self.prepare_append_now(user, name, messages, claim_recent_in=claim_recent_in)
        return None if request is None else self.commit_append_now(request)

    def prepare_append_now(
        self, user: str, name: str, messages: Sequence[NewMessage], *, claim_recent_in: int | None = None,
        new_bytes: bool = False,
    ) -> _AppendRequest | None:
        """``append_now``'s reads (refusals as ``append_many`` makes them); None for bytes the store does
        not hold yet (to parse, write and flush: ``append_many``, in a worker thread).

        With ``new_bytes`` such bytes have their files written here as well, without fsync, and their
        summary deferred (``deferred_blob``: ``parse_deferred`` makes it later, or a SEARCH first). The
        request then goes through ``sync_append`` (the one blocking step, for a worker thread) before
        ``commit_append_now``; ``append_prepared`` is the fallback when the writer stays busy, and
        ``discard_append`` removes the new files of a request that is given up (refused, cancelled)."""
        normalized = names.normalize(name)
        reader = self._reader()
        # First only reads, so that a request given up here (None) has written nothing.
        found: list[tuple[bytes, str, bool]] = []  # (bytes, blob id, held by the store)
        for message in messages:
            raw = bytes(message.raw)
            blob_id = blob_id_of(raw)
            held = reader.execute("SELECT 1 FROM blobs WHERE id = ?", (blob_id,)).fetchone() is not None
            if held and not self.blobs.exists(blob_id):
                return None  # collected meanwhile: to be written again durably (``append_many``)
            if not held and not new_bytes:
                return None
            found.append((raw, blob_id, held))
        prepared: list[_Prepared] = []
        try:
            for message, (raw, blob_id, held) in zip(messages, found):
                prepared.append(
                    _prepared_item(raw, blob_id, message, None, False, needs_sync=False) if held
                    else self._prepare_new(raw, blob_id, message, defer_parse=True)
                )
        except BaseException:
            # Rare (a full disk): the removal waits for the writer lock, a commit's length.
            self._discard_new_blobs(prepared)
            raise
        # The target and the quota are checked by the commit itself (``_append_target``), under the lock.
        return _AppendRequest(user, normalized, prepared, claim_recent_in=claim_recent_in)

    def sync_append(self, request: _AppendRequest) -> None:
        """Blob before metadata: make the files ``prepare_append_now`` wrote durable (blocking; one
        syncfs shared with every delivery of this process flushing at the same time)."""
        self.blobs.sync((item.blob_id for item in request.prepared if item.needs_sync), coalesce=True)
        self.append_synced(request)

    def append_flush(self, request: _AppendRequest) -> tuple[GroupSync | FlusherGroupSync, int] | None:
        """``sync_append`` for a caller that awaits the flush itself (the event loop: ``flushwait``): the
        group flush and ticket covering the request's new files, to await before ``append_synced``; or
        None, and ``sync_append`` does it (blocking)."""
        return self.blobs.sync_ticket()

    def append_synced(self, request: _AppendRequest) -> None:
        """The flush of ``append_flush`` has covered the request's new files."""
        request.prepared = [replace(item, needs_sync=False) if item.needs_sync else item for item in request.prepared]

    def append_prepared(self, request: _AppendRequest) -> AppendResult:
        """A ``prepare_append_now`` request through the group commit (blocking), for when the writer
        stayed busy: what ``append_many`` does after preparing, its new files removed if it fails."""
        try:
            result = self._append_prepared(request.user, request.name, request.prepared, request.claim_recent_in)
        except BaseException:
            self._discard_new_blobs(request.prepared)
            raise
        return result

    def discard_append(self, request: _AppendRequest) -> None:
        """Remove the files a request given up before its commit wrote, those still unreferenced
        (blocking: takes the writer lock)."""
        self._discard_new_blobs(request.prepared)

    def index_due(self) -> bool:
        """Whether enough delivered blobs wait for the full-text index (``index_pending``) for a
        delivery in ``append_many`` to index a batch before it returns (counted in the database the
        first time, then followed as deliveries add them): a server delivering on its event loop hands
        that to a background task."""
        if self._fulltext_backlog is None:
            self._fulltext_backlog = fulltext.pending_count(self._reader())
        return self._fulltext_backlog >= self.fulltext_batch

    def commit_append_now(self, request: _AppendRequest) -> tuple[AppendResult, int] | None:
        """Commit a ``prepare_append_now`` request if the writer is free: ``(result, wal_ticket)``, or
        None (nothing written; the request may be tried again)."""
        request.error = request.result = None
        request.done = False
        done, _ = self.call_if_writer_free(self._commit_append_batch, [request])
        if not done:
            return None
        if request.error is not None:
            raise request.error
        return request.result, request.wal_ticket

    def wait_durable(self, wal_ticket: int) -> None:
        """Block until the commit of ``wal_ticket`` (``append_now``) is on disk: a WAL fsync, shared."""
        self._wait_durable(wal_ticket)

    @property
    def wal_flush(self) -> GroupSync | FlusherGroupSync:
        """The WAL fsync ``wait_durable`` waits for, for a caller that awaits it itself (the event loop:
        ``flushwait``), then calls ``checkpoint_due``."""
        return self._wal_sync

    def checkpoint_due(self) -> bool:
        """After a durable commit awaited outside ``wait_durable``: the WAL has grown enough for
        ``checkpoint`` (what ``wait_durable`` runs itself)."""
        return self._checkpointer.due()

    def checkpoint(self) -> None:
        """Copy the WAL into the database if it has grown (``WalCheckpointer``; blocking)."""
        self._checkpointer.maybe_run()

    def _set_writer_synchronous(self, level: str) -> None:
        """``PRAGMA synchronous`` on the writer, between transactions (SQLite refuses it inside one)."""
        if level != self._writer_synchronous:
            self._writer.execute(f"PRAGMA synchronous = {level}")
            self._writer_synchronous = level

    def _sync_wal(self) -> None:
        """Make every commit made so far durable, relaxed ones and ones made outside ``_transaction``
        (maintenance) included: a WAL fsync, shared with any committer waiting for one at the same time."""
        self._wal_sync.wait(self._wal_sync.note())

    def _fsync_wal_file(self) -> None:
        """The flush behind ``_wal_sync``: fsync the WAL file, so every frame written to it so far is on
        disk (what a FULL commit does with its own fsync). No WAL file: everything was checkpointed into
        the database, which SQLite fsyncs before it resets or removes the WAL (at NORMAL too)."""
        if self.before_wal_fsync is not None:
            self.before_wal_fsync()
        try:
            fd = os.open(f"{self.db_path}-wal", os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _collect_unreferenced(self) -> None:
        with self._lock:
            self._collect_unreferenced_locked()

    def _collect_unreferenced_locked(self, durable_candidates: list[int] | None = None) -> list[str]:
        """Remove blobs no message refers to any more. Caller holds the writer lock.

        Runs after the transaction that dropped the last reference has committed, as a transaction of
        its own; the files are unlinked while that transaction holds SQLite's write lock, so no delivery
        of the same bytes, from this process or another (``imapcore user del``, a second server), can
        slip in between "row gone" and "file gone": a delivery checks the file inside its own write
        transaction and writes it again if needed (``DeliveryOperations._ensure_blob``). If this
        transaction then fails, what is left is a row with refcount 0 and no file: still garbage, and
        collected next time.

        ``durable_candidates``: blob numbers seen unreferenced before a WAL fsync the caller has made
        since (``collect_unreferenced``); only those are collected, and no fsync is made here.
        """
        conn = self._writer
        if durable_candidates is None:
            if not self._has_unreferenced_blobs():
                return []
            if self._wal_unsynced:
                # The commit that dropped the last reference may not be on disk yet (synchronous=NORMAL):
                # make it durable before any file goes, or a power loss could bring back a message row
                # whose blob was already unlinked.
                self._sync_wal()
        removed = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            if durable_candidates is None:
                rows = conn.execute("SELECT num, id, size FROM blobs WHERE refcount = 0").fetchall()
            else:
                rows = []
                for chunk in range(0, len(durable_candidates), 500):
                    part = durable_candidates[chunk:chunk + 500]
                    rows += conn.execute(
                        f"SELECT num, id, size FROM blobs WHERE refcount = 0 AND num IN ({', '.join('?' * len(part))})",
                        part,
                    ).fetchall()
            # A fixed number of statements per 500 blobs, not per blob: each statement gives up the GIL,
            # which this thread then has to win back from the event loop while holding the writer.
            for start in range(0, len(rows), 500):
                chunk = rows[start:start + 500]
                nums = [num for num, _, _ in chunk]
                marks = ", ".join("?" * len(nums))
                conn.execute(f"DELETE FROM blob_headers WHERE blob IN ({marks})", nums)
                conn.execute(f"DELETE FROM parse_pending WHERE num IN ({marks})", nums)
                fulltext.delete_many(conn, nums)
                conn.execute(f"DELETE FROM blobs WHERE num IN ({marks})", nums)
                ids = [blob_id for _, blob_id, _ in chunk]
                self.blobs.delete_many(ids, [size for _, _, size in chunk])
                removed += ids
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return removed

    # --- users --------------------------------------------------------------------------------------

    def create_user(
        self,
        name: str,
        password_hash: str | None = None,
        *,
        quota_storage_bytes: int | None = None,
        quota_messages: int | None = None,
    ) -> UserInfo:
        """A new user with INBOX, Sent, Drafts, Trash, Junk and Archive (RFC 6154 attributes)."""
        with self._transaction() as tx:
            conn = tx.conn
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise UserExists(name)
            user_id = conn.execute(
                "INSERT INTO users (name, password_hash, quota_storage_bytes, quota_messages) VALUES (?, ?, ?, ?)",
                (name, password_hash, quota_storage_bytes, quota_messages),
            ).lastrowid
            for mailbox_name, special_use in DEFAULT_MAILBOXES:
                self._insert_mailbox(tx, user_id, name, mailbox_name, special_use)
                conn.execute("INSERT INTO subscriptions (user_id, name) VALUES (?, ?)", (user_id, mailbox_name))
        return self.user(name)

    def user(self, name: str) -> UserInfo:
        row = self._reader().execute(
            "SELECT id, name, password_hash, quota_storage_bytes, quota_messages, used_storage_bytes, "
            "used_messages FROM users WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            raise UserNotFound(name)
        return UserInfo(*row)

    def users(self) -> list[str]:
        return [row[0] for row in self._reader().execute("SELECT name FROM users ORDER BY name")]

    def set_password_hash(self, name: str, password_hash: str | None) -> None:
        with self._transaction() as tx:
            if tx.conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name)).rowcount == 0:
                raise UserNotFound(name)

    def set_quota(self, name: str, *, storage_bytes: int | None, messages: int | None) -> None:
        with self._transaction() as tx:
            cursor = tx.conn.execute(
                "UPDATE users SET quota_storage_bytes = ?, quota_messages = ? WHERE name = ?",
                (storage_bytes, messages, name),
            )
            if cursor.rowcount == 0:
                raise UserNotFound(name)

    def quota(self, name: str) -> QuotaUsage:
        info = self.user(name)
        return QuotaUsage(info.used_storage_bytes, info.quota_storage_bytes, info.used_messages, info.quota_messages)

    def delete_user(self, name: str) -> None:
        """Remove a user with all mailboxes, messages, expunge history, keywords and subscriptions, in one
        transaction (``UserNotFound`` if there is no such user); blobs no longer referenced by anyone are
        removed after the commit. Sessions of the user still connected get MAILBOX_DELETED for every
        mailbox on the change feed. This is the whole job: callers need no transaction of their own."""
        with self._transaction() as tx:
            conn = tx.conn
            user_id = self._user_id(conn, name)
            mailboxes = conn.execute("SELECT id, name FROM mailboxes WHERE user_id = ? ORDER BY name", (user_id,)).fetchall()
            for mailbox_id, mailbox_name in mailboxes:
                tx.changes.append(Change(0, ChangeKind.MAILBOX_DELETED, name, mailbox_id, mailbox_name))
                conn.execute("DELETE FROM messages WHERE mailbox_id = ?", (mailbox_id,))
                conn.execute("DELETE FROM expunged WHERE mailbox_id = ?", (mailbox_id,))
                conn.execute("DELETE FROM mailbox_keywords WHERE mailbox_id = ?", (mailbox_id,))
            conn.execute("DELETE FROM mailboxes WHERE user_id = ?", (user_id,))
            conn.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))
            conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
            tx.dropped_references = True

    def _user_id(self, conn, name: str) -> int:
        # Not cached: an indexed lookup costs microseconds, and a cache would go stale when another
        # process (the ``imapcore user`` command) deletes and re-creates a user.
        row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise UserNotFound(name)
        return row[0]
    # --- search and maintenance live in their own modules ----------------------------------------------

    def search(self, mailbox_id: int, program, *, uids: Sequence[int] | None = None,
               recent_uids: Iterable[int] = (), now: _dt.datetime | None = None) -> list[int]:
        """UIDs matching a search program, ascending (``search.py`` explains how each key is answered).

        ``uids`` is the session's view of the mailbox (sorted UIDs, position = sequence number − 1), used
        for sequence-set keys and to hide messages the session has not been told about yet.
        """
        from .search import run_search

        self.parse_deferred_of(mailbox_id)  # SEARCH answers from the summaries: none may be missing
        with self._snapshot() as conn:
            return run_search(self, conn, mailbox_id, program, uids=uids, recent_uids=recent_uids, now=now)

    def fsck(self, *, repair: bool = True, verify_hashes: bool = True):
        from .maintenance import fsck

        return fsck(self, repair=repair, verify_hashes=verify_hashes)

    def gc(self) -> list[str]:
        from .maintenance import gc

        return gc(self)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


def _renumber(change: Change, seq: int) -> Change:
    # What ``dataclasses.replace(change, seq=seq)`` gives, at a third of its cost (every write's changes).
    return Change(seq, change.kind, change.user, change.mailbox_id, change.mailbox_name, change.uids, change.flags,
                  change.modseqs, change.highest_modseq, change.uid_next, change.old_name)

__all__ = ["DEFAULT_MAILBOXES", "FETCH_FIELDS", "Store"]
