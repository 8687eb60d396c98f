"""The store's writer lock: threads of one process, and optionally every process on the data directory.

One writer at a time is what SQLite allows anyway; the store takes its own lock around each write
transaction so that what must happen *with* the transaction happens under the same exclusion: the blob
file checks just before COMMIT, the deletion of unreferenced blob files right after it, and the
publication of the transaction's changes in commit order (``store.py``).

In one process a ``threading.RLock`` is enough (re-entrant: ``call_if_writer_free`` holds it around a
method that takes it again). When several server processes share a data directory
(``imapcore serve --workers N``), the lock also takes an exclusive ``flock(2)`` on ``writer.lock`` in
the data directory, held for as long as the outermost holder in this process holds the thread lock:

* a waiting process sleeps in the kernel and is woken when the lock is released, instead of polling
  SQLite's busy handler (which sleeps 1, 2, 5, 10 ... ms between tries, so a short contended write
  would cost milliseconds);
* a blob collection in one process and a delivery of the same bytes in another exclude each other,
  as two threads do.

flock locks belong to an open file description, so each process opens the file itself (after any
fork); the kernel releases the lock if the process dies, so a killed worker cannot leave it held.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

LOCK_FILE_NAME = "writer.lock"


class WriterLock:
    """``with lock:`` / ``acquire(blocking=...)`` / ``release()``, re-entrant per thread."""

    def __init__(self, lock_path: Path | str | None = None) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0  # nesting of the owning thread (only touched while holding _thread_lock)
        self._fd: int | None = None
        if lock_path is not None:
            self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    @property
    def process_shared(self) -> bool:
        return self._fd is not None

    def acquire(self, blocking: bool = True) -> bool:
        if not self._thread_lock.acquire(blocking):
            return False
        if self._depth == 0 and self._fd is not None:
            try:
                # fcntl.flock releases the GIL while it waits.
                fcntl.flock(self._fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._thread_lock.release()
                return False
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
