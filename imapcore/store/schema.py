"""The SQLite schema, its version and its migrations.

``PRAGMA user_version`` holds the schema version. ``MIGRATIONS[n]`` turns version ``n`` into ``n + 1``;
``migrate`` applies the missing ones in one transaction each, and refuses a database newer than this code.

Counters are kept by triggers, inside the same transaction as the change that moves them, so they cannot
drift from the rows they count whatever code path inserts, updates or deletes a message:
``mailboxes.messages/unseen/deleted/size/recent``, ``users.used_storage_bytes/used_messages`` (quota) and
``blobs.refcount``. ``fsck`` recounts them all and repairs any difference.

Parsed data lives per blob, not per message: ENVELOPE, BODY and BODYSTRUCTURE pre-serialized in IMAP
syntax, the PREVIEW text, the sent date, the threading headers, a header index (``blob_headers``, values
decoded and case-folded for SEARCH) and the full-text index (``blob_fulltext`` and ``blob_terms``,
FTS5 with the trigram tokenizer over distinct words; ``fulltext.py`` and ``search.py`` explain why).

Version 2 replaced version 1's FTS5 table ``blob_text`` (which indexed every trigram occurrence and
stored the text inside FTS5) and added ``mailboxes.expunge_floor``/``expunge_records`` (bounded expunge history).

Version 3 added ``change_log``, the committed changes as the cross-process change feed reads them.

Version 4 added ``fulltext_pending``, the blobs whose words are not in the trigram index yet (deferred
indexing, ``fulltext.py``).

Version 5 added ``parse_pending``, the blobs stored without their summary yet (``blobs.parsed`` = 2: an
APPEND on the server's event loop defers the parse, ``Store.parse_deferred``).

Dates are integers: seconds since the epoch, plus the zone of INTERNALDATE in minutes east of UTC, plus
the day number of the date *in its own zone*, because SEARCH BEFORE/ON/SINCE compare dates "disregarding
time and timezone" (RFC 9051 §6.4.4).
"""

from __future__ import annotations

import sqlite3

from .errors import SchemaTooNew

# Flag bits (flags.SystemFlag): SEEN=1, DELETED=8. Repeated in SQL text below.
_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    quota_storage_bytes INTEGER,
    quota_messages INTEGER,
    used_storage_bytes INTEGER NOT NULL DEFAULT 0,
    used_messages INTEGER NOT NULL DEFAULT 0
);

-- AUTOINCREMENT: a deleted mailbox's id is never given to a new one (sessions and the change feed
-- refer to mailboxes by id).
CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    uid_next INTEGER NOT NULL DEFAULT 1,
    highest_modseq INTEGER NOT NULL DEFAULT 1,
    special_use TEXT,
    mailbox_uuid TEXT NOT NULL UNIQUE,
    messages INTEGER NOT NULL DEFAULT 0,
    unseen INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    recent INTEGER NOT NULL DEFAULT 0,
    uid_ranges TEXT NOT NULL DEFAULT '[]',
    UNIQUE (user_id, name)
);

CREATE TABLE subscriptions (
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

CREATE TABLE blobs (
    num INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    refcount INTEGER NOT NULL DEFAULT 0,
    parsed INTEGER NOT NULL,
    envelope BLOB,
    body BLOB,
    bodystructure BLOB,
    preview TEXT,
    sent_date INTEGER,
    sent_day INTEGER,
    subject TEXT,
    base_subject TEXT,
    message_id TEXT,
    in_reply_to TEXT,
    refs TEXT,
    email_id TEXT NOT NULL,
    thread_id TEXT NOT NULL
);
CREATE INDEX blobs_unreferenced ON blobs(refcount) WHERE refcount = 0;

CREATE TABLE blob_headers (
    blob INTEGER NOT NULL REFERENCES blobs(num),
    name TEXT NOT NULL,
    value_folded TEXT NOT NULL
);
CREATE INDEX blob_headers_by_blob ON blob_headers(blob, name);

-- Text is case-folded by Python before indexing (delivery.py), so the index itself is case-sensitive.
CREATE VIRTUAL TABLE blob_text USING fts5(header, body, tokenize = 'trigram case_sensitive 1');

CREATE TABLE messages (
    mailbox_id INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    blob INTEGER NOT NULL REFERENCES blobs(num),
    size INTEGER NOT NULL,
    internal_date INTEGER NOT NULL,
    internal_tz INTEGER NOT NULL,
    internal_day INTEGER NOT NULL,
    save_date INTEGER NOT NULL,
    flags INTEGER NOT NULL DEFAULT 0,
    keywords TEXT NOT NULL DEFAULT '',
    modseq INTEGER NOT NULL,
    recent INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_by_modseq ON messages(mailbox_id, modseq);
CREATE INDEX messages_by_blob ON messages(blob);

CREATE TABLE mailbox_keywords (
    mailbox_id INTEGER NOT NULL,
    keyword TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, keyword)
) WITHOUT ROWID;

CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_by_modseq ON expunged(mailbox_id, modseq);
""" + """
CREATE TRIGGER messages_counted_in AFTER INSERT ON messages BEGIN
    UPDATE mailboxes SET
        messages = messages + 1,
        size = size + NEW.size,
        unseen = unseen + ((NEW.flags & 1) = 0),
        deleted = deleted + ((NEW.flags & 8) != 0),
        recent = recent + NEW.recent
    WHERE id = NEW.mailbox_id;
    UPDATE users SET
        used_messages = used_messages + 1,
        used_storage_bytes = used_storage_bytes + NEW.size
    WHERE id = (SELECT user_id FROM mailboxes WHERE id = NEW.mailbox_id);
    UPDATE blobs SET refcount = refcount + 1 WHERE num = NEW.blob;
END;

CREATE TRIGGER messages_counted_out AFTER DELETE ON messages BEGIN
    UPDATE mailboxes SET
        messages = messages - 1,
        size = size - OLD.size,
        unseen = unseen - ((OLD.flags & 1) = 0),
        deleted = deleted - ((OLD.flags & 8) != 0),
        recent = recent - OLD.recent
    WHERE id = OLD.mailbox_id;
    UPDATE users SET
        used_messages = used_messages - 1,
        used_storage_bytes = used_storage_bytes - OLD.size
    WHERE id = (SELECT user_id FROM mailboxes WHERE id = OLD.mailbox_id);
    UPDATE blobs SET refcount = refcount - 1 WHERE num = OLD.blob;
END;

CREATE TRIGGER messages_recounted AFTER UPDATE OF flags, recent ON messages BEGIN
    UPDATE mailboxes SET
        unseen = unseen + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0),
        deleted = deleted + ((NEW.flags & 8) != 0) - ((OLD.flags & 8) != 0),
        recent = recent + NEW.recent - OLD.recent
    WHERE id = NEW.mailbox_id;
END;
"""


def _v2(conn: sqlite3.Connection) -> None:
    """Version 2: the full-text index becomes ``fulltext.py``'s pair of tables (folded text stored once,
    a contentless trigram index of its distinct words), rebuilt from the old FTS5 table's stored text;
    and mailboxes get ``expunge_floor`` and ``expunge_records`` (``messages.py``: the expunge history is kept
    bounded; at or below the floor it may have been pruned)."""
    from . import fulltext

    for statement in fulltext.SCHEMA:
        conn.execute(statement)
    for num, header, body in conn.execute("SELECT rowid, header, body FROM blob_text").fetchall():
        fulltext.insert(conn, num, header or "", body or "")
    conn.execute("DROP TABLE blob_text")
    conn.execute("ALTER TABLE mailboxes ADD COLUMN expunge_floor INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE mailboxes ADD COLUMN expunge_records INTEGER NOT NULL DEFAULT 0")
    conn.execute(
        "UPDATE mailboxes SET expunge_records = (SELECT count(*) FROM expunged e WHERE e.mailbox_id = mailboxes.id)"
    )


#: Version 3: the change log through which several server processes on one data directory see each
#: other's committed changes (``sharedfeed.py``). Each row is one ``feed.Change``, written in the
#: transaction that made it; AUTOINCREMENT makes ``seq`` the commit order and never reuses a number,
#: even after old rows are pruned.
_V3 = """
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    payload TEXT NOT NULL
);
"""


# Version 4: blobs whose words are not in the trigram index yet (``fulltext.py``, "Deferred indexing"):
# deliveries record them here, in their own transaction, and ``fulltext.index_pending`` indexes them in
# batches. Rows already stored are all indexed, so the migration adds the table and nothing else.
_V4 = """
CREATE TABLE fulltext_pending (
    num INTEGER PRIMARY KEY
);
"""


# Version 5: blobs delivered without their summary (``blobs.parsed`` = 2), parsed later in batches or
# when a SEARCH needs them (``Store.parse_deferred``). Rows already stored are all parsed.
_V5 = """
CREATE TABLE parse_pending (
    num INTEGER PRIMARY KEY
);
"""


#: MIGRATIONS[n] upgrades schema version n to n + 1: an SQL script, or a function of the connection.
MIGRATIONS: tuple = (_V1, _v2, _V3, _V4, _V5)
SCHEMA_VERSION = len(MIGRATIONS)

#: The counter triggers, by name (the bulk loader of the benchmark drops and recreates them).
COUNTER_TRIGGERS = ("messages_counted_in", "messages_counted_out", "messages_recounted")


def version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to ``SCHEMA_VERSION``; returns the version found before."""
    found = version(conn)
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(found, SCHEMA_VERSION)
    for number in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            step = MIGRATIONS[number]
            if callable(step):
                step(conn)
            else:
                # executescript would COMMIT first; run statement by statement inside our transaction.
                for statement in _split(step):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


def trigger_sql(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    return {name: sql for name, sql in rows}


def _split(script: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies (which contain ``;``) whole."""
    statements = []
    current: list[str] = []
    for line in script.splitlines():
        if not line.strip():
            continue
        current.append(line)
        text = "\n".join(current)
        if sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    if current:
        statements.append("\n".join(current))
    return statements
