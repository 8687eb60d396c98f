"""Opening SQLite connections the way the store needs them.

Autocommit mode (``isolation_level=None``): the store writes ``BEGIN IMMEDIATE``/``COMMIT`` itself, so a
transaction is exactly the code inside ``Store._transaction`` and never silently widened or split by
the sqlite3 module. WAL journal: readers do not block the writer nor each other. ``synchronous`` is
passed in (see ``store.py`` for the choice).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}

#: How long a statement waits for another connection's write lock before failing.
BUSY_TIMEOUT_MS = 60_000


def connect(path: Path | str, synchronous: str = "FULL") -> sqlite3.Connection:
    if synchronous.upper() not in _SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {sorted(_SYNCHRONOUS)}")
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache per connection
    return conn
