"""Admission state shared by the worker processes of one server: connection counts and the throttle.

With several workers (``workers.py``) the limits of issue 5 must still hold for the whole server: 50
connections per client address, 100 sessions per user, 10,000 in total, and one authentication throttle
schedule per address, however the kernel spreads a client's connections over the workers. So the
counts and the throttle's records live in one small SQLite database that every worker uses
(``admission.sqlite3`` in the data directory, recreated empty by the supervisor at each start: like the
in-process tables it replaces, it is memory, not data):

* ``counts(kind, key, worker, n)``: live connections per address key (``kind`` "address"), sessions per
  user ("user"), connections in total ("total", key ""), each worker's share in its own row, so the
  supervisor can drop exactly a dead worker's rows (``forget_worker``);
* ``records(tbl, key, ...)``: ``imapcore.auth.throttle``'s failure records (``SharedRecords``, the
  same interface as its in-memory tables), with a ``touched`` counter for the oldest-first bound;
* ``verified(key, expires)``: the cache of successful password verifications
  (``SharedVerificationCache``), so a user who logged in through one worker does not pay the argon2
  hash again in another. Keys are HMACs under a secret the supervisor draws at start and the workers
  inherit in memory; it is never written anywhere, so the table is worthless on its own.

Every operation is one short transaction under an exclusive ``flock`` on ``admission.lock`` (waiting in
the kernel, not in SQLite's sleeping busy handler), without fsync (``synchronous=OFF``: the state is
rebuilt empty after a crash anyway). It runs on the event loop: a few tens of microseconds per
connection and per login, never per command.
"""

from __future__ import annotations

import fcntl
import math
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imapcore.auth.cache import VerificationCache
from imapcore.auth.throttle import Record

DB_NAME = "admission.sqlite3"
LOCK_NAME = "admission.lock"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counts (kind TEXT NOT NULL, key TEXT NOT NULL, worker INTEGER NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY (kind, key, worker)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS records (tbl TEXT NOT NULL, key TEXT NOT NULL, failures INTEGER NOT NULL, "
    "in_flight INTEGER NOT NULL, last_failure REAL, not_before REAL, banned_until REAL, "
    "touched INTEGER NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS records_by_age ON records (tbl, touched)",
    # How many records each table holds (kept exactly by SharedRecords, so bounding is not a count(*)).
    "CREATE TABLE IF NOT EXISTS sizes (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS verified (key BLOB PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID",
)


def _real(value: float) -> float | None:
    return None if value == -math.inf else value


def _unreal(value: float | None) -> float:
    return -math.inf if value is None else value


class SharedState:
    """One worker's handle on the admission database."""

    def __init__(self, data_dir: Path | str, worker: int) -> None:
        data_dir = Path(data_dir)
        self.worker = worker
        self._lock_fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._conn = sqlite3.connect(str(data_dir / DB_NAME), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._depth = 0
        with self.transaction():
            for statement in _SCHEMA:
                self._conn.execute(statement)

    @classmethod
    def reset(cls, data_dir: Path | str) -> None:
        """Start empty (the supervisor, before the workers exist)."""
        data_dir = Path(data_dir)
        for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
            try:
                os.unlink(data_dir / name)
            except FileNotFoundError:
                pass
        cls(data_dir, 0).close()

    def forget_worker(self, worker: int) -> None:
        """A worker died: its connections and sessions are gone, and its logins in flight with them."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM counts WHERE worker = ?", (worker,))
            conn.execute("UPDATE records SET in_flight = 0 WHERE in_flight != 0")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Re-entrant: an inner call joins the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self._conn
            finally:
                self._depth -= 1
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._depth = 1
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        finally:
            self._depth = 0
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    # --- counts --------------------------------------------------------------------------------------------

    def acquire(self, kind: str, key: str, capacity: int) -> bool:
        """Take one of ``capacity`` slots of ``kind``/``key`` for this worker, if the whole server has one."""
        with self.transaction() as conn:
            if self._total(conn, kind, key) >= capacity:
                return False
            conn.execute(
                "INSERT INTO counts (kind, key, worker, n) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (kind, key, worker) DO UPDATE SET n = n + 1",
                (kind, key, self.worker),
            )
            return True

    def release(self, kind: str, key: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE counts SET n = n - 1 WHERE kind = ? AND key = ? AND worker = ?", (kind, key, self.worker))
            conn.execute("DELETE FROM counts WHERE kind = ? AND key = ? AND worker = ? AND n <= 0", (kind, key, self.worker))

    def in_use(self, kind: str, key: str) -> int:
        return self._total(self._conn, kind, key)

    @staticmethod
    def _total(conn, kind: str, key: str) -> int:
        return conn.execute("SELECT coalesce(sum(n), 0) FROM counts WHERE kind = ? AND key = ?", (kind, key)).fetchone()[0]

    def close(self) -> None:
        self._conn.close()
        os.close(self._lock_fd)


class SharedRecords:
    """``imapcore.auth.throttle``'s record tables in the shared database (``MemoryRecords``' interface).

    ``session()`` is one transaction: records read in it are cached, and those ``put`` are written back
    when it ends, so the throttle's logic runs unchanged on plain ``Record`` objects."""

    def __init__(self, state: SharedState, max_keys: int) -> None:
        self._state = state
        self.max_keys = max_keys
        self._loaded: dict[tuple[str, str], Record | None] | None = None
        self._existed: dict[tuple[str, str], bool] = {}  # had a row when the session read it
        self._dirty: dict[tuple[str, str], bool] = {}  # key -> recently used (touch) or only changed

    @contextmanager
    def session(self):
        if self._loaded is not None:  # nested: part of the outer session
            yield self
            return
        with self._state.transaction() as conn:
            self._loaded, self._existed, self._dirty = {}, {}, {}
            try:
                yield self
                self._write(conn)
            finally:
                self._loaded, self._existed, self._dirty = None, {}, {}

    def get(self, table: str, key: str) -> Record | None:
        cache_key = (table, key)
        if cache_key not in self._loaded:
            row = self._state._conn.execute(
                "SELECT failures, in_flight, last_failure, not_before, banned_until FROM records "
                "WHERE tbl = ? AND key = ?", (table, key),
            ).fetchone()
            record = None
            if row is not None:
                record = Record()
                record.failures, record.in_flight = row[0], row[1]
                record.last_failure, record.not_before, record.banned_until = map(_unreal, row[2:])
            self._loaded[cache_key] = record
            self._existed[cache_key] = row is not None
        return self._loaded[cache_key]

    def put(self, table: str, key: str, record: Record, recent: bool = False) -> None:
        if (table, key) not in self._loaded:
            self.get(table, key)  # learn whether it exists (for the table sizes)
        self._loaded[(table, key)] = record
        self._dirty[(table, key)] = self._dirty.get((table, key), False) or recent

    def delete(self, table: str, key: str) -> None:
        if (table, key) not in self._loaded:
            self.get(table, key)
        self._loaded[(table, key)] = None
        self._dirty[(table, key)] = False

    def count(self) -> int:
        return self._state._conn.execute("SELECT count(*) FROM records").fetchone()[0]

    def _write(self, conn) -> None:
        touched = None
        grown: dict[str, int] = {}
        for (table, key), recent in self._dirty.items():
            record = self._loaded[(table, key)]
            existed = self._existed[(table, key)]
            if record is None:
                if existed:
                    conn.execute("DELETE FROM records WHERE tbl = ? AND key = ?", (table, key))
                    grown[table] = grown.get(table, 0) - 1
                continue
            if touched is None:
                touched = time.monotonic_ns()  # one clock for every process of the machine
            if not existed:
                grown[table] = grown.get(table, 0) + 1
            conn.execute(
                "INSERT INTO records (tbl, key, failures, in_flight, last_failure, not_before, banned_until, touched) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tbl, key) DO UPDATE SET failures = excluded.failures, "
                "in_flight = excluded.in_flight, last_failure = excluded.last_failure, "
                "not_before = excluded.not_before, banned_until = excluded.banned_until, "
                "touched = CASE WHEN ? THEN excluded.touched ELSE records.touched END",
                (table, key, record.failures, record.in_flight, _real(record.last_failure),
                 _real(record.not_before), _real(record.banned_until), touched, recent),
            )
        for table, delta in grown.items():
            conn.execute("INSERT INTO sizes (tbl, n) VALUES (?, ?) ON CONFLICT (tbl) DO UPDATE SET n = n + ?",
                         (table, delta, delta))
            excess = conn.execute("SELECT n FROM sizes WHERE tbl = ?", (table,)).fetchone()[0] - self.max_keys
            if excess > 0:
                # The oldest records beyond the bound go first (one flood of random names cannot grow it).
                conn.execute(
                    "DELETE FROM records WHERE tbl = ? AND key IN "
                    "(SELECT key FROM records WHERE tbl = ? ORDER BY touched LIMIT ?)", (table, table, excess),
                )
                conn.execute("UPDATE sizes SET n = n - ? WHERE tbl = ?", (excess, table))


class SharedVerificationCache(VerificationCache):
    """``imapcore.auth.cache.VerificationCache`` with its entries in the admission database."""

    def __init__(self, state: SharedState, secret: bytes, max_entries: int = 10_000, ttl_s: float = 600.0,
                 clock=time.monotonic) -> None:
        super().__init__(max_entries, ttl_s, clock)
        self._secret = secret
        self._state = state
        self._remembered = 0

    def hit(self, user: str, password: str, stored_hash: str) -> bool:
        key = self._key(user, password, stored_hash)
        row = self._state._conn.execute("SELECT expires FROM verified WHERE key = ?", (key,)).fetchone()
        return row is not None and row[0] > self._clock()

    def remember(self, user: str, password: str, stored_hash: str) -> None:
        key = self._key(user, password, stored_hash)
        now = self._clock()
        with self._state.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO verified (key, expires) VALUES (?, ?)", (key, now + self.ttl_s))
            self._remembered += 1
            if self._remembered % 64 == 0:  # the bound, now and then: expired entries, then the oldest
                conn.execute("DELETE FROM verified WHERE expires <= ?", (now,))
                excess = conn.execute("SELECT count(*) FROM verified").fetchone()[0] - self.max_entries
                if excess > 0:
                    conn.execute("DELETE FROM verified WHERE key IN "
                                 "(SELECT key FROM verified ORDER BY expires LIMIT ?)", (excess,))

    def __len__(self) -> int:
        return self._state._conn.execute("SELECT count(*) FROM verified WHERE expires > ?",
                                         (self._clock(),)).fetchone()[0]
