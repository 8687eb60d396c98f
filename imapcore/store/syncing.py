"""``GroupSync``: one flush (an fsync, a syncfs) shared by every thread that needs it.

``group_sync`` makes one: ``FlusherGroupSync`` when the C part ``native/flusher.c`` is built (the flush
runs in a thread of its own that never takes the GIL, and the event loop can await it without a worker
thread: ``imapcore/commands/flushwait.py``), otherwise ``GroupSync``, its Python twin, where the first
waiting thread flushes for everyone. Both hand out tickets and coalesce flushes the same way.

A thread that has written something it must make durable before going on (a committed WAL frame, a
blob file) takes a *ticket* with ``note()`` right after the write, then calls ``wait(ticket)``. A flush
covers every write noted before the flush *started*: the flush reads the ticket counter first, then
syncs. So ``wait`` returns at once when a flush that started after the note has finished; when a flush
is running that started before the note, it waits for it to end and then runs (or waits for) the next
one. N threads that arrive during one flush are all served by the following single flush: the cost of
a flush is shared by everyone who queued while the previous one ran (the classic group commit).

The waiting happens with no other lock held, which is the point: the store's writer lock is released
before its committers wait for the WAL fsync (``store.py``, "Durability").

A flush that fails fails every ticket it was meant to cover (each waiter raises ``OSError``): after a
failed fsync, Linux may report the next one successful although the data never reached the disk, so a
retry must not turn an unknown outcome into an acknowledgement.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Callable

from imapcore._native import use_c

try:
    from imapcore._cflusher import ffi as _ffi, lib as _lib
except ImportError:  # not built (no compiler at install time)
    _ffi = _lib = None

#: What a flush is (``group_sync``): an fsync of one file (missing: nothing to flush), a syncfs(2) of the
#: file system holding one directory.
FSYNC_FILE = "fsync"
SYNCFS = "syncfs"


class GroupSync:
    """Coalesces ``flush()`` calls across threads; thread-safe."""

    #: No descriptor to await: the event loop waits in a worker thread (``flushwait.wait_flushed``).
    notify_fd: int | None = None

    def __init__(self, flush: Callable[[], None]):
        self._flush = flush
        self._changed = threading.Condition(threading.Lock())
        self._noted = 0  # tickets handed out so far
        self._covered = 0  # every ticket up to this one is durable
        self._failed = 0  # every ticket above ``_covered`` up to this one was in a failed flush
        self._error: BaseException | None = None
        self._flushing = False
        #: How many flushes ran (benchmarks and tests read it).
        self.flushes = 0

    def note(self) -> int:
        """A ticket for a write that has just completed."""
        with self._changed:
            self._noted += 1
            return self._noted

    @property
    def pending(self) -> bool:
        """Whether some noted write is not known durable yet."""
        return self._covered < self._noted

    def wait(self, ticket: int) -> None:
        """Return once a flush that started after ``ticket`` was noted has finished."""
        with self._changed:
            while True:
                if self._covered >= ticket:
                    return
                if self._failed >= ticket:
                    raise OSError(f"a shared flush failed: {self._error!r}") from self._error
                if not self._flushing:
                    break
                self._changed.wait()
            self._flushing = True
            target = self._noted  # every write noted before this point is complete
        try:
            self._flush()
        except BaseException as error:
            with self._changed:
                self._flushing = False
                self._failed = max(self._failed, target)
                self._error = error
                self._changed.notify_all()
            raise
        with self._changed:
            self._flushing = False
            self.flushes += 1
            self._covered = max(self._covered, target)
            self._changed.notify_all()

    def close(self) -> None:
        """Nothing to release (``FlusherGroupSync.close`` stops its thread)."""


class FlusherGroupSync:
    """``GroupSync`` with its flush made by a C thread that never takes the GIL (``native/flusher.c``).

    Threads ``wait`` as with ``GroupSync`` (in C, the GIL released). The event loop ``request``s a flush
    covering a ticket and learns of each finished flush from ``notify_fd`` (an eventfd, readable once a
    flush has ended), then asks ``done``: no worker thread, no GIL hand-off. A failed flush fails every
    ticket it covered for good (``OSError`` with its errno).
    """

    __slots__ = ("_handle", "notify_fd", "what", "__weakref__")

    def __init__(self, kind: str, path: str):
        handle = _lib.imc_flusher_new(_lib.IMC_FLUSH_SYNCFS if kind == SYNCFS else _lib.IMC_FLUSH_FSYNC,
                                      os.fsencode(path))
        if handle == _ffi.NULL:
            raise OSError(f"cannot make a flusher for {path}")
        self._handle = _ffi.gc(handle, _lib.imc_flusher_free)
        self.notify_fd: int | None = _lib.imc_flusher_fd(handle)
        self.what = f"{kind} {path}"

    def note(self) -> int:
        """A ticket for a write that has just completed."""
        return _lib.imc_flusher_note(self._handle)

    @property
    def pending(self) -> bool:
        """Whether some noted write is not known durable yet."""
        return bool(_lib.imc_flusher_pending(self._handle))

    @property
    def flushes(self) -> int:
        """How many flushes succeeded (benchmarks and tests read it)."""
        return _lib.imc_flusher_flushes(self._handle)

    def wait(self, ticket: int) -> None:
        """Return once a flush that started after ``ticket`` was noted has finished (blocking)."""
        self._check(-_lib.imc_flusher_wait(self._handle, ticket))

    def request(self, ticket: int) -> bool:
        """Have a flush covering ``ticket`` made, without waiting: True if it is durable already.
        Otherwise ``notify_fd`` becomes readable when a flush ends; ``done`` then says."""
        return self._check(_lib.imc_flusher_request(self._handle, ticket))

    def done(self, ticket: int) -> bool:
        """Whether ``ticket`` is durable; ``OSError`` if its flush failed."""
        return self._check(_lib.imc_flusher_state(self._handle, ticket))

    def _check(self, state: int) -> bool:
        if state < 0:
            raise OSError(-state, f"a shared flush failed ({self.what}): {os.strerror(-state)}")
        return state > 0

    def close(self) -> None:
        """Stop the thread (after the flush it may be making). Nobody may wait any more."""
        _ffi.release(self._handle)
        self.notify_fd = None


def group_sync(flush: Callable[[], None], kind: str, path: str) -> GroupSync | FlusherGroupSync:
    """The group flush of ``path`` (``kind``: ``FSYNC_FILE`` or ``SYNCFS``): in C when built and allowed
    (``imapcore._native.use_c``), else ``GroupSync(flush)``, with ``flush`` doing the same in Python."""
    if use_c(_lib):
        try:
            return FlusherGroupSync(kind, path)
        except OSError:
            pass  # no eventfd or memory left: the Python twin does the same, in the waiting thread
    return GroupSync(flush)


#: ``-shm`` descriptors of closed stores whose file other connections still used (never closed).
_LEFT_OPEN: list[int] = []


class WalCheckpointer:
    """Checkpoints of the WAL run by a committer after its acknowledgement wait, outside the writer lock.

    SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past ``wal_autocheckpoint``
    pages, that is under the store's writer lock, and at ``synchronous=NORMAL`` it fsyncs the WAL and
    the database file: every writer waited for two fsyncs and a few megabytes of copying every few dozen
    deliveries (a delivery adds up to 30 pages). Here a committer that finds more than ``pages`` frames
    not yet checkpointed (2,000; SQLite's own, pushed to 10,000 by the store, stays as the safety
    net) runs a PASSIVE checkpoint on a connection of its own, beside the writer; once everything is
    copied, the next write transaction starts the WAL over. One checkpoint at a time; others skip.

    The count comes from the wal-index header in the ``-shm`` file (https://www.sqlite.org/walformat.html
    §2.2, native byte order): ``mxFrame`` (offset 16, the last valid frame) minus ``nBackfill`` (offset
    96, frames already copied into the database). The WAL file's size cannot tell: it is reused, not
    shrunk, after a checkpoint.
    """

    def __init__(self, db_path, connect, *, pages: int = 2000):
        self._db_path = str(db_path)
        self._shm_path = f"{db_path}-shm"
        self._shm_fd: int | None = None  # see frames_behind: opened once, never closed
        self._connect = connect
        self._pages = pages
        self._running = threading.Lock()
        #: How many checkpoints ran (tests and benchmarks read it).
        self.checkpoints = 0

    def frames_behind(self) -> int:
        """Frames in the WAL not yet copied into the database (0 without a wal-index).

        The ``-shm`` file is read through ONE descriptor kept open for the life of the process, never
        closed: POSIX drops every fcntl lock a process holds on a file when ANY descriptor of that file
        is closed (https://www.sqlite.org/howtocorrupt.html §2.2). Opening and closing the ``-shm`` here
        after each commit dropped SQLite's own locks on it, its "dead-man switch" among them; another
        connection then believed itself alone, reset the wal-index and truncated the file, and every
        process that had it mapped died of SIGBUS in the middle of a COMMIT (seen under load with two
        server workers). A descriptor left open holds no lock and costs nothing. It is closed only once
        its file is deleted (SQLite deletes the ``-shm`` when the last connection closes: no lock is left
        on it anywhere), here when a new one has been made, or by ``close``."""
        fd = self._shm_fd
        if fd is None or os.fstat(fd).st_nlink == 0:
            try:
                fd = os.open(self._shm_path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return 0
            if self._shm_fd is not None:
                os.close(self._shm_fd)  # a deleted file: nobody's locks are on it
            self._shm_fd = fd
        header = os.pread(fd, 100, 0)
        if len(header) < 100:
            return 0
        max_frame = int.from_bytes(header[16:20], sys.byteorder)
        backfilled = int.from_bytes(header[96:100], sys.byteorder)
        return max(0, max_frame - backfilled)

    def close(self) -> None:
        """After the store's connections are closed: the ``-shm`` descriptor goes if its file is gone
        (the last connection deleted it); if the file is still there, other connections, maybe of this
        process, may hold locks on it, and the descriptor is left open (see ``frames_behind``)."""
        fd, self._shm_fd = self._shm_fd, None
        if fd is not None:
            if os.fstat(fd).st_nlink == 0:
                os.close(fd)
            else:
                _LEFT_OPEN.append(fd)

    def due(self) -> bool:
        """Whether ``maybe_run`` would checkpoint now."""
        return self.frames_behind() >= self._pages

    def maybe_run(self) -> None:
        if not self.due():
            return
        if not self._running.acquire(blocking=False):
            return
        try:
            conn = self._connect(self._db_path, "NORMAL")  # NORMAL: the WAL and the database get fsynced
            try:
                conn.execute("PRAGMA busy_timeout = 0")
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self.checkpoints += 1
            except sqlite3.OperationalError:
                pass  # busy (another process checkpoints): a later committer tries again
            finally:
                conn.close()
        finally:
            self._running.release()
