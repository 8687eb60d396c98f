"""The change feed of several server processes on one data directory (``imapcore serve --workers N``).

Each worker process has its own sessions and its own ``SharedFeed``; a change committed by one must reach
the sessions of all. The theory:

* **The log is the truth.** ``record`` writes each change of a write transaction into ``change_log``
  inside that transaction (schema v3), so a change exists exactly when its transaction committed, and
  its ``seq`` (AUTOINCREMENT) is the commit order across every process: the store's writer lock is
  process-shared then (``locking.py``), so transactions, and their numbers, are serialized.
* **Local first.** The committing process delivers its own changes at once, exactly as
  ``InProcessFeed`` does (before the committing command answers), without reading them back.
* **Others follow.** ``publish`` then raises the shared *latest seq* (an 8-byte counter in a small file
  every worker maps, ``change_log.seq``) and writes one byte into every other worker's wake-up pipe.
  A worker's ``follow`` task wakes on its pipe (or every ``POLL_S`` in case a byte was lost), reads the
  rows after the last ``seq`` it delivered, and delivers them to its subscribers.
* **Order per subscriber is seq order.** Every delivery in a process runs on its Trio thread and
  advances one ``delivered_seq``: a change at or below it is skipped (it came both ways), and before a
  local batch whose first ``seq`` is not the next one the gap is read from the log first.
* **A command boundary sees everything committed before it.** ``receive_nowait`` (what a session calls
  at a command boundary) first compares the shared counter with ``delivered_seq`` (a memory read) and,
  if behind, reads the log: a client that saw "OK" from one worker and then sends NOOP to another is
  told about the change, whatever the wake-up pipe's timing.
* **Bounded.** The log keeps the last ``KEEP`` changes (older rows are pruned by the writer every
  ``PRUNE_EVERY`` changes). A worker that finds a gap below the oldest row (it was stalled for longer
  than the log covers) tells every subscriber to resync, as a full subscriber buffer does.

Rows are JSON (the fields of ``feed.Change``); the follower decodes only rows of users that have a
subscriber in its process.

**Only what concerns a process costs it anything.** Beside the latest seq, the counter file holds one
latest seq per *bucket* of users (``BUCKETS``, by CRC-32 of the name, the same in every process),
raised by the publisher before the global one. A process whose subscribers' buckets are all at or below
its ``delivered_seq`` has nothing to read whatever the global counter says: it moves ``delivered_seq``
up to it without a query (why that is safe: ``catch_up``). Likewise a local batch that follows other
processes' commits reads the gap from the log only if one of its users' buckets moved into it (the
publisher notes that, under the writer lock, before raising the buckets for its own batch). And each
worker marks, in ``change_log.interest`` (one byte per bucket and worker), the buckets it has
subscribers in: a publisher writes a wake-up byte only to peers with a subscriber in one of the batch's
buckets. With ten clients of ten users on two workers, most commits concern no session of the other
worker: before this, each one cost that worker a wake-up and a log query (and its sessions a query at
their next command).

The server uses this feed with one worker too (no peers): then what other processes write, the command
line's ``imapcore deliver`` and ``imapcore user del`` (``ChangeLogWriter``), reaches its sessions, at
their next command or, in IDLE, within ``POLL_S``.
"""

from __future__ import annotations

import json
import mmap
import os
import sqlite3
import struct
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import trio

from .connection import connect
from .feed import Change, ChangeFeed, ChangeKind, InProcessFeed, _InProcessSubscription

COUNTER_FILE_NAME = "change_log.seq"
INTEREST_FILE_NAME = "change_log.interest"
#: Buckets of users in the counter file (a process reads the log when one of its users' buckets moved).
BUCKETS = 1024
#: How many changes the log keeps, and how often the writer prunes it.
KEEP = 20_000
PRUNE_EVERY = 1_000
#: The follower also looks at the counter this often: the bound on how late a change made by a process
#: without a wake-up pipe (the command line) reaches an IDLE session, and a backstop for a lost wake-up.
POLL_S = 0.2
#: Rows read per query while catching up.
_BATCH = 2_000

_SEQ = struct.Struct("<Q")
#: The counter file: the latest seq, then the latest seq of each bucket.
_COUNTER_BYTES = _SEQ.size * (1 + BUCKETS)


#: ``json.dumps(..., separators=...)`` builds an encoder per call; one made once is twice as fast.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def bucket_of(user: str) -> int:
    """The user's bucket: the same in every process (``hash`` of a str is salted per process)."""
    return zlib.crc32(user.encode("utf-8", "surrogatepass")) % BUCKETS


def encode(change: Change) -> str:
    return _COMPACT.encode(
        [change.kind.value, change.mailbox_id, change.mailbox_name, change.uids,
         [sorted(flags) for flags in change.flags], change.modseqs, change.highest_modseq, change.uid_next,
         change.old_name],
    )


def decode(seq: int, user: str, payload: str) -> Change:
    kind, mailbox_id, mailbox_name, uids, flags, modseqs, highest_modseq, uid_next, old_name = json.loads(payload)
    return Change(
        seq, ChangeKind(kind), user, mailbox_id, mailbox_name, tuple(uids), tuple(frozenset(f) for f in flags),
        tuple(modseqs), highest_modseq, uid_next, old_name,
    )


def _map_file(path: Path | str, size: int) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        if os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)  # also grows a counter file of an older version (8 bytes)
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


class SeqCounter:
    """The latest committed ``seq``, and the latest of each bucket of users, in a file every worker
    process maps (a hint: the log is the truth). Written only under the store's writer lock."""

    def __init__(self, path: Path | str) -> None:
        self._map = _map_file(path, _COUNTER_BYTES)

    def get(self) -> int:
        return _SEQ.unpack_from(self._map, 0)[0]

    def set(self, seq: int) -> None:
        _SEQ.pack_into(self._map, 0, seq)

    def bucket(self, bucket: int) -> int:
        return _SEQ.unpack_from(self._map, _SEQ.size * (1 + bucket))[0]

    def newest_of(self, buckets: Iterable[int]) -> int:
        """The latest seq of any of ``buckets`` (0 for none)."""
        unpack, base, step = _SEQ.unpack_from, _SEQ.size, _SEQ.size
        return max((unpack(self._map, base + step * b)[0] for b in buckets), default=0)

    def advance(self, changes: Sequence[Change], buckets: Iterable[int]) -> None:
        """Note a committed batch: its buckets first, then the latest seq (a reader that sees the new
        latest seq sees the buckets too: ``SharedFeed.catch_up``)."""
        seq = changes[-1].seq
        for b in buckets:
            offset = _SEQ.size * (1 + b)
            if _SEQ.unpack_from(self._map, offset)[0] < seq:
                _SEQ.pack_into(self._map, offset, seq)
        if self.get() < seq:
            self.set(seq)

    def clamp(self, seq: int) -> None:
        """No value above ``seq`` (a database made anew under an old counter file)."""
        for offset in range(0, _COUNTER_BYTES, _SEQ.size):
            if _SEQ.unpack_from(self._map, offset)[0] > seq:
                _SEQ.pack_into(self._map, offset, seq)

    def close(self) -> None:
        self._map.close()


class Interest:
    """Which buckets of users each worker has subscribers in: one byte per worker and bucket in a file
    every worker maps. A worker writes only its own row; publishers read the others' (a hint: a lost
    wake-up costs at most ``POLL_S``, and a command boundary reads the counters anyway)."""

    def __init__(self, path: Path | str, workers: int, index: int) -> None:
        self._map = _map_file(path, workers * BUCKETS)
        self.index = index
        self._map[index * BUCKETS:(index + 1) * BUCKETS] = bytes(BUCKETS)  # a restarted worker starts clean

    def add(self, bucket: int) -> None:
        self._map[self.index * BUCKETS + bucket] = 1

    def remove(self, bucket: int) -> None:
        self._map[self.index * BUCKETS + bucket] = 0

    def wants(self, worker: int, buckets: Iterable[int]) -> bool:
        row = worker * BUCKETS
        return any(self._map[row + b] for b in buckets)

    def close(self) -> None:
        self._map.close()


def latest_seq(conn) -> int:
    """The newest ``seq`` ever given (also when the log has been emptied by pruning); 0 for a database
    the store has not created yet (no ``sqlite_sequence`` table)."""
    try:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'change_log'").fetchone()
    except sqlite3.OperationalError:
        return 0
    return row[0] if row else 0


def reset_counter(data_dir: Path | str) -> None:
    """Set the shared counter to the log's newest ``seq`` (the supervisor does this before starting
    workers; a counter file left from an earlier run may be stale)."""
    data_dir = Path(data_dir)
    conn = connect(data_dir / "meta.sqlite3")
    try:
        seq = latest_seq(conn)
    finally:
        conn.close()
    counter = SeqCounter(data_dir / COUNTER_FILE_NAME)
    counter.clamp(seq)
    counter.set(seq)
    counter.close()


class ChangeLogWriter(ChangeFeed):
    """The feed of a process that changes the store beside a running server but has no sessions (the
    command line): its changes go into ``change_log`` and the shared counter, where the server's
    ``SharedFeed`` finds them."""

    def __init__(self, data_dir: Path | str) -> None:
        self._counter = SeqCounter(Path(data_dir) / COUNTER_FILE_NAME)

    def record(self, conn, changes: list[Change]) -> list[int]:
        return _record(conn, changes)

    def publish(self, changes: Iterable[Change]) -> None:
        batch = tuple(changes)
        if batch:
            self._counter.advance(batch, {bucket_of(change.user) for change in batch})

    def subscribe(self, user: str, mailbox_id: int | None = None):
        raise RuntimeError("ChangeLogWriter has no subscribers")

    def close(self) -> None:
        self._counter.close()


def _record(conn, changes: list[Change]) -> list[int]:
    """Write ``changes`` into the committing transaction; their ``seq`` numbers. Prunes the log now and
    then (every ``PRUNE_EVERY`` numbers), in the same transaction."""
    seqs = []
    for change in changes:
        cursor = conn.execute("INSERT INTO change_log (user, payload) VALUES (?, ?)", (change.user, encode(change)))
        seqs.append(cursor.lastrowid)
    if seqs[-1] // PRUNE_EVERY != (seqs[0] - 1) // PRUNE_EVERY:
        conn.execute("DELETE FROM change_log WHERE seq <= ?", (seqs[-1] - KEEP,))
    return seqs


class _SharedSubscription(_InProcessSubscription):
    def receive_nowait(self) -> Change:
        self._feed.catch_up()
        return super().receive_nowait()


class SharedFeed(InProcessFeed):
    """Create inside ``trio.run`` of a worker process, after the store's schema exists.

    ``wake_fd``: the read end of this worker's wake-up pipe (non-blocking); ``peer_fds``: the write ends
    of the other workers' pipes (non-blocking), in worker order. ``worker_index``: this worker's number
    (``peer_fds`` then belong to every other number, in order): peers are woken only for batches in
    which they have a subscriber (``Interest``); without it every batch wakes every peer.
    """

    _subscription_class = _SharedSubscription

    def __init__(self, data_dir: Path | str, wake_fd: int | None, peer_fds: Sequence[int], buffer_size: int = 1024,
                 *, worker_index: int | None = None):
        super().__init__(buffer_size)
        data_dir = Path(data_dir)
        self._conn = connect(data_dir / "meta.sqlite3")
        self._counter = SeqCounter(data_dir / COUNTER_FILE_NAME)
        self._wake_fd = wake_fd
        self._peer_fds = tuple(peer_fds)
        self._interest: Interest | None = None
        self._peers: tuple[tuple[int, int], ...] = ()  # (worker number, write end) with ``Interest``
        if worker_index is not None and self._peer_fds:
            workers = len(self._peer_fds) + 1
            self._interest = Interest(data_dir / INTEREST_FILE_NAME, workers, worker_index)
            numbers = [n for n in range(workers) if n != worker_index]
            self._peers = tuple(zip(numbers, self._peer_fds))
        self.delivered_seq = latest_seq(self._conn)  # what came before this process started is history
        self._published_seq = self.delivered_seq
        self._users: Counter[str] = Counter()  # users with a subscriber here (rows of others are skipped)
        #: The buckets of ``_users``; replaced, never changed in place, so a publishing thread can read it.
        self._buckets: frozenset[int] = frozenset()
        self._users_in_bucket: Counter[int] = Counter()
        self._bucket_of: dict[str, int] = {}
        #: First seq of a local batch -> the newest seq of this process's buckets before it (``publish``).
        self._gap_hints: dict[int, int] = {}
        self._recorded = 0

    # --- the writer's side (any thread, under the store's writer lock) ---------------------------------

    def record(self, conn, changes: list[Change]) -> list[int]:
        return _record(conn, changes)

    def _bucket(self, user: str) -> int:
        bucket = self._bucket_of.get(user)
        if bucket is None:
            if len(self._bucket_of) >= 4096:
                self._bucket_of = {}
            bucket = self._bucket_of[user] = bucket_of(user)
        return bucket

    def publish(self, changes: Iterable[Change]) -> None:
        batch = tuple(changes)
        if not batch:
            return
        # Under the writer lock: nobody else commits meanwhile, so the newest seq of this process's
        # buckets now is the newest change before this batch that may concern its subscribers.
        self._gap_hints[batch[0].seq] = self._counter.newest_of(self._buckets)
        buckets = {self._bucket(change.user) for change in batch}
        self._counter.advance(batch, buckets)
        super().publish(batch)
        interest = self._interest
        for number, fd in self._peers or ((None, fd) for fd in self._peer_fds):
            if interest is not None and not interest.wants(number, buckets):
                continue  # no subscriber there for these users: its sessions read the counters anyway
            try:
                os.write(fd, b"!")
            except (BlockingIOError, BrokenPipeError):
                pass  # a full pipe already holds a wake-up; a gone worker reads the log when restarted

    # --- delivery (the Trio thread) ---------------------------------------------------------------------

    def _deliver_batch(self, batch: tuple[Change, ...]) -> None:
        """A batch this process committed (``InProcessFeed._flush`` hands them over oldest first)."""
        hint = self._gap_hints.pop(batch[0].seq, None)
        if batch[0].seq > self.delivered_seq + 1:
            # Another process committed in between. Read that from the log only if it may concern a
            # subscriber here: ``hint`` is the newest seq of this process's buckets before this batch (a
            # user subscribed since then subscribed after the gap was committed: its snapshot has it).
            if hint is None or hint > self.delivered_seq:
                self._follow_log(until=batch[0].seq - 1)
            else:
                self.delivered_seq = batch[0].seq - 1
        for change in batch:
            if change.seq > self.delivered_seq:
                self._deliver(change)
                self.delivered_seq = change.seq

    def catch_up(self) -> None:
        """Deliver what other processes committed up to now (a memory read when there is nothing).

        When none of this process's buckets moved past ``delivered_seq``, nothing up to the latest seq
        read concerns a subscriber here, and ``delivered_seq`` moves up to it without reading the log:
        every publisher raises the buckets of its batch before the latest seq, under the writer lock, so
        a change at or below the latest seq read has its bucket raised already (this process's own
        batches included, which may not have been handed over yet)."""
        latest = self._counter.get()
        if latest > self.delivered_seq:
            self._flush()  # this process's own batches first: they may fill the gap without a read
            if self._counter.newest_of(self._buckets) > self.delivered_seq:
                self._follow_log()
            elif latest > self.delivered_seq:
                self.delivered_seq = latest
                self._published_seq = max(self._published_seq, latest)

    def _follow_log(self, until: int | None = None) -> None:
        while True:
            query = "SELECT seq, user, payload FROM change_log WHERE seq > ?"
            params: tuple = (self.delivered_seq,)
            if until is not None:
                query += " AND seq <= ?"
                params += (until,)
            rows = self._conn.execute(query + f" ORDER BY seq LIMIT {_BATCH}", params).fetchall()
            if not rows:
                return
            if rows[0][0] > self.delivered_seq + 1:
                self._lost(rows[0][0] - 1)
            for seq, user, payload in rows:
                if self._users[user]:
                    self._deliver(decode(seq, user, payload))
                self.delivered_seq = seq
            self._published_seq = max(self._published_seq, self.delivered_seq)
            if len(rows) < _BATCH:
                return

    def _lost(self, seq: int) -> None:
        """Rows up to ``seq`` were pruned before this process read them: every subscriber resyncs."""
        for subscriber in tuple(self._subscribers):
            if not subscriber.behind and not subscriber.closed:
                subscriber.behind = True
                subscriber.behind_seq = seq

    async def follow(self) -> None:
        """Run for the life of the worker: deliver other processes' changes as they are announced."""
        while True:
            with trio.move_on_after(POLL_S):
                if self._wake_fd is not None:
                    await trio.lowlevel.wait_readable(self._wake_fd)
                    try:
                        while os.read(self._wake_fd, 4096):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    await trio.sleep_forever()
            self.catch_up()

    # --- subscriptions -------------------------------------------------------------------------------------

    def subscribe(self, user: str, mailbox_id: int | None = None):
        self.catch_up()  # so the subscription starts after everything committed so far
        subscription = super().subscribe(user, mailbox_id)
        self._users[user] += 1
        if self._users[user] == 1:
            bucket = self._bucket(user)
            self._users_in_bucket[bucket] += 1
            if self._users_in_bucket[bucket] == 1:
                self._buckets = self._buckets | {bucket}
                if self._interest is not None:
                    self._interest.add(bucket)
        return subscription

    def _remove(self, subscription: _InProcessSubscription) -> None:
        if subscription in self._subscribers:
            user = subscription.user
            self._users[user] -= 1
            if not self._users[user]:
                del self._users[user]
                bucket = self._bucket(user)
                self._users_in_bucket[bucket] -= 1
                if not self._users_in_bucket[bucket]:
                    del self._users_in_bucket[bucket]
                    self._buckets = self._buckets - {bucket}
                    if self._interest is not None:
                        self._interest.remove(bucket)
        super()._remove(subscription)

    def close(self) -> None:
        self._conn.close()
        self._counter.close()
        if self._interest is not None:
            self._interest.close()
