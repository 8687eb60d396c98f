"""The store never drops SQLite's locks on the wal-index (``-shm``) file.

POSIX releases every fcntl lock a process holds on a file when any descriptor of that file is closed
(https://www.sqlite.org/howtocorrupt.html §2.2). The WAL checkpointer reads the wal-index header; when it
opened and closed the ``-shm`` after each commit, the process lost SQLite's "dead-man switch" lock (byte
128, ``UNIX_SHM_DMS`` in SQLite's os_unix.c), another connection reset the wal-index and truncated the
file, and server workers died of SIGBUS mid-COMMIT. Here another process checks that the lock is still
held after commits."""

import subprocess
import sys

from imapcore.store import Store

PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
except OSError:
    print("held")
else:
    print("free")
"""


def _dms(shm) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE, str(shm)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_commits_leave_sqlite_its_wal_index_locks(tmp_path):
    with Store.open(tmp_path / "s") as store:  # durable: every commit is followed by frames_behind()
        store.create_user("u")
        shm = store.db_path.with_name(store.db_path.name + "-shm")
        assert _dms(shm) == "held"
        for n in range(5):
            store.append("u", "INBOX", b"Subject: %d\r\n\r\nbody\r\n" % n)
        assert store._checkpointer._shm_fd is not None  # the header was read
        assert _dms(shm) == "held"
