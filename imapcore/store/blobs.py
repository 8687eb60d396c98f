"""Content-addressed blob store: a message's exact bytes, stored once, named by their SHA-256.

Layout (after dulwich's loose object store, STYLE §12)::

    <root>/ab/abcdef...64 hex...        one file per distinct message, fanned out by the first two hex
    <root>/tmp/                         temporary files being written

Writing (``put``): if the final file exists the call is a no-op (same bytes, same name). Otherwise the
bytes go to a uniquely named file in ``tmp/``, are fsynced, renamed into place, and the fan-out directory
is fsynced so the rename itself survives a crash. Only then may metadata that points at the blob be
committed (``store.py`` does that), so a crash leaves at most an unreferenced blob for ``gc``, never a
message pointing at nothing.

Batched writing (``write`` then ``sync``): deliveries write and rename their files without fsync, and
the group commit makes the whole batch durable with one ``sync`` (syncfs(2) on Linux) before its
metadata transaction; the same order, paid once per batch instead of twice per blob.

Every id is validated (64 lower-case hex digits) before a path is built from it, so no id from the
database or a client can escape the root.

Removal (``delete``) is only called by the metadata layer after the transaction that dropped the last
reference has committed, while it still holds the writer lock (see ``store.py``).
"""

from __future__ import annotations

import bisect
import contextlib
import ctypes
import errno
import hashlib
import os
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from imapcore._native import use_c

from .errors import BlobCorrupt, BlobMissing, InvalidBlobId
from .syncing import SYNCFS, FlusherGroupSync, GroupSync, group_sync

_BLOB_ID = re.compile(r"[0-9a-f]{64}\Z")


def blob_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def validate_blob_id(blob_id: object) -> str:
    if not isinstance(blob_id, str) or _BLOB_ID.match(blob_id) is None:
        raise InvalidBlobId(blob_id)
    return blob_id


def _load_syncfs():
    """syncfs(2) through ctypes, or None where the C library lacks it (not Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_syncfs = _load_syncfs()


_fdatasync = getattr(os, "fdatasync", os.fsync)

try:
    from imapcore._cblobio import ffi as _cblobio_ffi, lib as _cblobio
except ImportError:  # not built (no compiler at install time): os calls
    _write_file = None
else:
    _write_file = _cblobio.imc_write_file if use_c(_cblobio) else None
_write_new_file = None if _write_file is None else _cblobio.imc_write_new_file
_missing_files = None if _write_file is None else _cblobio.imc_missing_files
_retire_files = None if _write_file is None else _cblobio.imc_retire_files
_write_pooled_file = None if _write_file is None else _cblobio.imc_write_pooled_file

#: Retired files a store keeps (in ``free/``) for new blobs to be written into, and the largest blob
#: whose file is kept. On the test machine's ext4 (no journal) creating a file cost 0.4 ms of system time
#: once files had been deleted recently (the allocator skips recently deleted inodes), writing into a
#: retired one 0.09 ms with its renames; the bounds keep at most POOL_FILES * POOL_MAX_BYTES of space
#: held per process (64 MiB; ``imapcore gc`` gives it back). 128 files were too few: a collection round
#: (``BlobCollector``, every 0.25 s) of the issue's mix frees ~175 blobs per worker, and the deliveries
#: after the 128 reused ones created files again (5% of an APPEND+EXPUNGE's CPU in ext4_create).
POOL_FILES = 1024
POOL_MAX_BYTES = 64 * 1024

#: From this many blobs in one ``sync`` call, one syncfs(2) replaces the per-file fsyncs.
SYNCFS_FROM = 3


def _fsync_dir(path: Path | str) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _retire_files_py(paths: list[str], pooled: list[str]) -> list[int]:
    """``imc_retire_files`` (native/blobio.c) with os calls: the first ``len(pooled)`` files renamed there,
    the others unlinked; 1 for each file removed, 0 for one that was not there."""
    flags = []
    for index, path in enumerate(paths):
        try:
            if index < len(pooled):
                os.rename(path, pooled[index])
            else:
                os.unlink(path)
        except FileNotFoundError:
            flags.append(0)
        else:
            flags.append(1)
    return flags


def _write_pooled_file_py(pooled: str, temporary: str, final: str, data: bytes) -> int:
    """``imc_write_pooled_file`` (native/blobio.c) with os calls: 0, -1 (``pooled`` is gone) or an errno."""
    if os.path.lexists(final):
        return errno.EEXIST
    try:
        os.rename(pooled, temporary)
    except FileNotFoundError:
        return -1
    except OSError as error:
        return error.errno
    try:
        fd = os.open(temporary, os.O_WRONLY)  # not O_TRUNC: see imc_write_pooled_file
        try:
            if os.fstat(fd).st_size > len(data):
                os.ftruncate(fd, len(data))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.rename(temporary, final)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return error.errno
    return 0


def _sizes_of(paths: Iterable[str]) -> list[tuple[int, str]]:
    """(size, path) of each file still there (the pool a new store finds in ``free/``)."""
    found = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            found.append((os.stat(path).st_size, path))
    return found


class BlobStore:
    """Files under one root directory; safe to use from several threads at once."""

    def __init__(self, root: Path | str, *, durable: bool = True, sync_mode: str = "fsync"):
        if sync_mode not in ("fsync", "syncfs"):
            raise ValueError("sync_mode must be 'fsync' or 'syncfs'")
        self.sync_mode = sync_mode
        self.root = Path(root)
        self._root_text = str(self.root)
        self._syncfs_group = (
            group_sync(self._syncfs, SYNCFS, self._root_text) if _syncfs is not None else GroupSync(self._syncfs)
        )
        self._tmp_text = f"{self._root_text}/tmp"
        self.durable = durable
        self._tmp = self.root / "tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(exist_ok=True)
        # Files of collected blobs kept for reuse (``delete_many``, ``write_new``): their names here, as
        # this process knows them (another process may take one first: the rename then fails, harmlessly).
        self._free_text = f"{self._root_text}/free"
        os.makedirs(self._free_text, exist_ok=True)
        # (size, path), ascending: ``write_new`` takes the largest file no longer than the new blob, so
        # that writing it only grows the file (shrinking one frees blocks: see imc_write_pooled_file).
        self._pool: list[tuple[int, str]] = sorted(_sizes_of(
            f"{self._free_text}/{name}" for name in os.listdir(self._free_text)))[:POOL_FILES]
        self._pool_lock = threading.Lock()
        # All 256 fan-out directories exist from the start: a delivery never creates one, so it never
        # pays a mkdir and an fsync of the root on top of its own file and directory fsyncs.
        if not (self.root / "ff").is_dir():
            for number in range(256):
                (self.root / f"{number:02x}").mkdir(exist_ok=True)
            if durable:
                _fsync_dir(self.root)

    def path_of(self, blob_id: str) -> Path:
        validate_blob_id(blob_id)
        return self.root / blob_id[:2] / blob_id

    def _path(self, blob_id: str) -> str:
        """``path_of`` as a plain string (pathlib's object building showed up in delivery profiles)."""
        validate_blob_id(blob_id)
        return f"{self._root_text}/{blob_id[:2]}/{blob_id}"

    def _temporary(self, blob_id: str) -> str:
        """A fresh name in ``tmp/`` for a file being written (unique across processes and threads)."""
        return f"{self._tmp_text}/{blob_id}.{os.getpid()}.{os.urandom(6).hex()}"

    def exists(self, blob_id: str) -> bool:
        return os.path.exists(self._path(blob_id))

    def missing(self, blob_ids: Iterable[str]) -> set[str]:
        """Which of ``blob_ids`` have no file (``exists`` for a whole batch: with the C extension one
        call, so a group-commit leader gives up the GIL once instead of once per delivery)."""
        blob_ids = list(dict.fromkeys(blob_ids))
        if _missing_files is None or not blob_ids:
            return {blob_id for blob_id in blob_ids if not self.exists(blob_id)}
        paths = b"".join(self._path(blob_id).encode() + b"\0" for blob_id in blob_ids)
        flags = _cblobio_ffi.new("unsigned char[]", len(blob_ids))
        error = _missing_files(paths, len(blob_ids), flags)
        if error:
            raise OSError(error, os.strerror(error))
        return {blob_id for blob_id, flag in zip(blob_ids, flags) if flag}

    def write(self, data: bytes, blob_id: str) -> None:
        """Write ``data`` under its final name WITHOUT making it durable: ``sync`` must follow before any
        metadata refers to it. Used by group commit, where one ``sync`` serves a whole batch.

        The file appears atomically (rename of a complete temporary file). Before the ``sync`` a power
        loss may leave a named file whose content never reached the disk; such a file has no metadata
        row (rows are committed after the sync), and ``DeliveryOperations`` never trusts a file without a
        row before checking its hash (``verified``).
        """
        final = self._path(blob_id)
        temporary = self._temporary(blob_id)
        if _write_file is not None:
            # One call, one release of the GIL, instead of four (native/blobio.c does exactly the below).
            error = _write_file(temporary.encode(), final.encode(), data, len(data))
            if error:
                raise OSError(error, os.strerror(error), temporary)
            return
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except BaseException:
            os.close(fd)
            os.unlink(temporary)
            raise
        os.close(fd)
        try:
            os.replace(temporary, final)
        except BaseException:
            os.unlink(temporary)
            raise

    def write_new(self, data: bytes, blob_id: str) -> bool:
        """``write``, unless a file that hashes to its name is already there (one a crash left, say);
        whether it wrote. Like ``write``, not durable before ``sync``. A file of that name whose content
        is wrong is replaced. The bytes go into a retired file when ``delete_many`` kept one
        (``imc_write_pooled_file``), else into a new one; with the C extension either takes one call."""
        final = self._path(blob_id)
        while True:
            entry = self._take_pooled(len(data))
            if entry is None:
                break
            pooled = entry[1]
            temporary = self._temporary(blob_id)
            if _write_pooled_file is not None:
                error = _write_pooled_file(pooled.encode(), temporary.encode(), final.encode(), data, len(data))
            else:
                error = _write_pooled_file_py(pooled, temporary, final, data)
            if not error:
                return True
            if error == errno.EEXIST:
                self._keep_pooled([entry])  # not taken: the file is already there
                break
            if error != -1:  # -1: another process took that file; try the next one
                raise OSError(error, os.strerror(error), temporary)
        if _write_new_file is not None:
            temporary = self._temporary(blob_id)
            error = _write_new_file(temporary.encode(), final.encode(), data, len(data))
            if not error:
                return True
            if error != errno.EEXIST:
                raise OSError(error, os.strerror(error), temporary)
        if self.verified(blob_id):
            return False
        self.write(data, blob_id)
        return True

    def verified(self, blob_id: str) -> bool:
        """Whether the file exists and hashes to its name (a file left by a crash may not)."""
        try:
            with open(self._path(blob_id), "rb") as file:
                return blob_id_of(file.read()) == blob_id
        except FileNotFoundError:
            return False

    def sync(self, blob_ids: Iterable[str], *, coalesce: bool = False) -> None:
        """Make blobs written with ``write`` durable: their contents and their directory entries.

        Called outside the store's writer lock: by the group-commit leader for its whole batch with
        ``coalesce=True`` (one syncfs(2) where there is one, whatever ``sync_mode``), or by each delivery
        for its own files. ``sync_mode``:

        * ``"fsync"``: each file and each fan-out directory touched is fsynced (two journal commits per
          blob on ext4, but concurrent deliveries' fsyncs overlap and the kernel batches them);
        * ``"syncfs"``: one syncfs(2) (Linux) flushes the whole file system, shared through a
          ``GroupSync`` by every delivery waiting at the same time; it also flushes whatever else is
          dirty on that file system (other processes' writes), which is why it is not the default
          (measured with 16 delivering threads on the shared test machine: no better than "fsync").

        A delivery of ``SYNCFS_FROM`` blobs or more (a MULTIAPPEND) uses syncfs(2) in either mode: one
        flush instead of two per blob, one after the other in the delivering thread.
        """
        if not self.durable:
            return
        blob_ids = list(dict.fromkeys(blob_ids))
        if not blob_ids:
            return
        if _syncfs is not None and (coalesce or self.sync_mode == "syncfs" or len(blob_ids) >= SYNCFS_FROM):
            self._syncfs_group.wait(self._syncfs_group.note())
            return
        for blob_id in blob_ids:
            fd = os.open(self._path(blob_id), os.O_RDONLY)
            try:
                _fdatasync(fd)
            finally:
                os.close(fd)
        for fanout in sorted({blob_id[:2] for blob_id in blob_ids}):
            _fsync_dir(f"{self._root_text}/{fanout}")

    def sync_ticket(self) -> tuple[GroupSync | FlusherGroupSync, int] | None:
        """``sync(..., coalesce=True)`` for a caller that awaits the flush itself (the event loop:
        ``imapcore/commands/flushwait.py``): the syncfs group and a ticket covering every file written so
        far, or None where it has nothing to wait for (not durable) or no syncfs(2) (``sync`` then)."""
        if _syncfs is None or not self.durable:
            return None
        return self._syncfs_group, self._syncfs_group.note()

    def _syncfs(self) -> None:
        fd = os.open(self._root_text, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            if _syncfs(fd) != 0:
                error = ctypes.get_errno()
                raise OSError(error, os.strerror(error), self._root_text)
        finally:
            os.close(fd)

    def put(self, data: bytes, blob_id: str | None = None) -> str:
        """Store ``data`` durably and return its id; a no-op if it is already there."""
        if blob_id is None:
            blob_id = blob_id_of(data)
        final = self.path_of(blob_id)
        if final.exists():
            return blob_id
        fanout = final.parent
        new_fanout = not fanout.exists()
        if new_fanout:
            fanout.mkdir(exist_ok=True)
        temporary = self._temporary(blob_id)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self.durable:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        os.close(fd)
        # rename is atomic: a reader sees either no file or the complete one.
        os.replace(temporary, final)
        if self.durable:
            _fsync_dir(fanout)
            if new_fanout:
                _fsync_dir(self.root)
        return blob_id

    def read(self, blob_id: str, *, verify: bool = False) -> bytes:
        try:
            with open(self._path(blob_id), "rb", buffering=0) as file:  # FETCH BODY[]: one read
                data = file.readall()
        except FileNotFoundError:
            raise BlobMissing(blob_id) from None
        if verify:
            actual = blob_id_of(data)
            if actual != blob_id:
                raise BlobCorrupt(blob_id, actual)
        return data

    def open(self, blob_id: str):
        """A binary file object for streaming large messages (the caller closes it)."""
        try:
            return open(self.path_of(blob_id), "rb")
        except FileNotFoundError:
            raise BlobMissing(blob_id) from None

    def size(self, blob_id: str) -> int:
        try:
            return self.path_of(blob_id).stat().st_size
        except FileNotFoundError:
            raise BlobMissing(blob_id) from None

    def delete(self, blob_id: str) -> bool:
        path = self.path_of(blob_id)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def delete_many(self, blob_ids: list[str], sizes: list[int] | None = None) -> list[str]:
        """``delete`` for a batch (a collection, under the store's writer lock): with the C extension
        one call, giving up the GIL once instead of once per file. Given the blobs' ``sizes``, the files
        of small ones are kept in ``free/`` (up to ``POOL_FILES``) for ``write_new`` to reuse instead of
        creating files. The ids whose file was there."""
        if not blob_ids:
            return []
        size_of = dict(zip(blob_ids, sizes or ()))
        room = POOL_FILES - len(self._pool) if sizes is not None else 0
        kept = [blob_id for blob_id, size in zip(blob_ids, sizes or ()) if size <= POOL_MAX_BYTES][:max(0, room)]
        if kept:
            chosen = set(kept)
            blob_ids = kept + [blob_id for blob_id in blob_ids if blob_id not in chosen]
        paths = [self._path(blob_id) for blob_id in blob_ids]
        pooled = [f"{self._free_text}/{blob_id}" for blob_id in kept]
        if _retire_files is not None:
            flags = _cblobio_ffi.new("unsigned char[]", len(blob_ids))
            error = _retire_files(b"".join(path.encode() + b"\0" for path in paths),
                                  b"".join(path.encode() + b"\0" for path in pooled), len(paths), len(pooled), flags)
            if error:
                raise OSError(error, os.strerror(error))
        else:
            flags = _retire_files_py(paths, pooled)
        self._keep_pooled([(size_of[blob_id], target) for blob_id, target, flag in zip(kept, pooled, flags) if flag])
        return [blob_id for blob_id, flag in zip(blob_ids, flags) if flag]

    def _take_pooled(self, length: int) -> tuple[int, str] | None:
        """A retired file for a new blob of ``length`` bytes, out of the pool: the largest no longer
        than it (writing then only grows the file), else the smallest; None when the pool is empty."""
        with self._pool_lock:
            if not self._pool:
                return None
            index = bisect.bisect_right(self._pool, (length, "\uffff")) - 1
            return self._pool.pop(max(index, 0))

    def _keep_pooled(self, entries: list[tuple[int, str]]) -> None:
        with self._pool_lock:
            for entry in entries:
                bisect.insort(self._pool, entry)

    def iter_ids(self) -> Iterator[str]:
        """Every stored blob id (files with other names, e.g. stray temporaries, are skipped)."""
        for fanout in sorted(self.root.iterdir()):
            if len(fanout.name) != 2 or not fanout.is_dir():
                continue
            for entry in sorted(fanout.iterdir()):
                name = entry.name
                if _BLOB_ID.match(name) and name[:2] == fanout.name:
                    yield name

    def close(self) -> None:
        """Stop the flusher thread of ``sync`` (syncing.py), if it has one."""
        self._syncfs_group.close()

    def clean_temporaries(self, older_than_s: float = 3600.0) -> int:
        """Remove leftovers of writes interrupted by a crash; returns how many were removed.

        Only files older than ``older_than_s`` go, so a maintenance run beside a live server never
        removes a write in progress.
        """
        import time

        removed = 0
        limit = time.time() - older_than_s
        for entry in self._tmp.iterdir():
            try:
                if entry.stat().st_mtime <= limit:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def drain_pool(self) -> int:
        """Remove the retired files kept for reuse (``delete_many``), this process's and any other's;
        how many. Safe beside a live server: one that finds a file gone creates a new one instead."""
        with self._pool_lock:
            self._pool.clear()
        removed = 0
        for name in os.listdir(self._free_text):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self._free_text}/{name}")
                removed += 1
        return removed

    def disk_usage(self) -> int:
        total = 0
        for blob_id in self.iter_ids():
            total += self.path_of(blob_id).stat().st_blocks * 512
        return total
