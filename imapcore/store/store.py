"""``Store``: users, mailboxes and messages in SQLite, message bytes in the blob store.

Invariants this module keeps (each has a test in tests/store/):

* UIDs in a mailbox are given from ``uid_next`` upward, never reused within a UIDVALIDITY; ``uid_next``
  only grows. A mailbox created (or re-created under an old name) gets a UIDVALIDITY larger than any
  given before (``meta.last_uid_validity``), so UIDs of a former incarnation cannot be confused.
* Every change to a message (append, flag change, copy/move target) gets a MODSEQ larger than the
  mailbox's ``highest_modseq``, which then becomes that value; an expunge gets one new MODSEQ, recorded
  with each expunged UID (``expunged``) for QRESYNC VANISHED (RFC 7162 §3.2.10).
* Counters (mailbox STATUS numbers, user quota usage, blob reference counts) are maintained by triggers
  in the same transaction as the rows they count (``schema.py``).
* Blob before metadata: bytes are written and fsynced (``blobs.py``) before the transaction that refers
  to them commits; under the writer lock, just before that commit, the file's existence is checked again
  so a concurrent garbage collection cannot have removed it. Blobs whose last reference went away are
  deleted after the commit, still under the writer lock.
* Changes are published on the change feed after commit, under the writer lock, so in commit order.

Threads: one writer connection guarded by a lock; one reader connection per thread (WAL lets readers run
beside the writer). Every public method is a plain blocking function, safe to call from
``trio.to_thread.run_sync``; short reads (STATUS, a few FETCH rows) are cheap enough to call inline.

Durability: ``PRAGMA synchronous=FULL`` by default, chosen from measurements:

* kill -9 (process crash): tests/store/test_crash.py kills a delivering process 50 times with FULL and
  12 times with NORMAL; no acknowledged APPEND was lost with either. Under WAL a committed transaction is
  in the WAL file (in the OS page cache) before COMMIT returns, so a process crash cannot lose it.
* power loss / kernel crash: NORMAL does not fsync the WAL at commit, so the last acknowledged APPENDs
  can vanish; FULL fsyncs it. A client that saw "OK APPEND" may delete its own copy (a migration tool
  does), so an acknowledgement must mean durable, the same promise the blob fsyncs already make.
* cost: one WAL fsync per commit. benchmarks/store.py measured one appender at ~150/s with FULL against
  ~170/s with NORMAL on the shared test machine (where file + directory fsync alone took ~1 ms);
  concurrent deliveries share that fsync through group commit (``_append_prepared``).
``synchronous="NORMAL"`` stays selectable for deployments that accept the power-loss window.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from imapcore.syntax.model import SequenceSet

from . import flags as flagcodec
from . import names, schema, uidranges
from .blobs import BlobStore, blob_id_of
from .connection import connect
from .delivery import ParsedBlob, default_summarize, prepare_blob
from .errors import (
    CannotDeleteInbox,
    HasChildren,
    InvalidMailboxName,
    MailboxExists,
    MailboxNotFound,
    OverQuota,
    UserExists,
    UserNotFound,
)
from .feed import Change, ChangeFeed, ChangeKind, NullFeed
from .flags import FlagMode
from .records import (
    AppendResult,
    CopyResult,
    ExpungeResult,
    FetchRow,
    FlagChange,
    MailboxInfo,
    MailboxSnapshot,
    MailboxStatus,
    NewMessage,
    QuotaUsage,
    StoreResult,
    UserInfo,
)

#: Mailboxes every new user gets, with their RFC 6154 SPECIAL-USE attribute.
DEFAULT_MAILBOXES: tuple[tuple[str, str | None], ...] = (
    ("INBOX", None),
    ("Sent", "\\Sent"),
    ("Drafts", "\\Drafts"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
    ("Archive", "\\Archive"),
)

#: Every FETCH field ``fetch_rows`` knows, and the SQL column (m: messages, b: blobs) behind it.
FETCH_FIELDS = {
    "flags": "m.flags, m.keywords",
    "modseq": "m.modseq",
    "size": "m.size",
    "internal_date": "m.internal_date, m.internal_tz",
    "save_date": "m.save_date",
    "blob_id": "b.id",
    "envelope": "b.envelope",
    "body": "b.body",
    "bodystructure": "b.bodystructure",
    "preview": "b.preview",
    "email_id": "b.email_id",
    "thread_id": "b.thread_id",
}
_TWO_COLUMNS = frozenset({"flags", "internal_date"})
_BLOB_FIELDS = frozenset({"blob_id", "envelope", "body", "bodystructure", "preview", "email_id", "thread_id"})

# Above this many ranges a UID set is filtered in Python rather than as OR'ed BETWEENs.
_MAX_SQL_RANGES = 32
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()

UidSet = SequenceSet | Iterable[int]


@dataclass
class _Transaction:
    conn: object
    changes: list[Change] = field(default_factory=list)
    dropped_references: bool = False  # some message rows went away: collect unreferenced blobs


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


@dataclass(eq=False)
class _AppendRequest:
    user: str
    name: str
    prepared: list[_Prepared]
    done: bool = False
    result: AppendResult | None = None
    error: BaseException | None = None


class Store:
    """The embedded store. Open with ``Store.open(data_dir)``; close with ``close()``."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        feed: ChangeFeed | None = None,
        synchronous: str = "FULL",
        summarize: Callable[[bytes], object] | None = None,
        durable: bool = True,
    ):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(self.data_dir / "blobs", durable=durable)
        self.feed: ChangeFeed = feed or NullFeed()
        self.synchronous = synchronous
        self.summarize = summarize or default_summarize
        self.db_path = self.data_dir / "meta.sqlite3"
        self._lock = threading.Lock()
        self._writer = connect(self.db_path, synchronous)
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
        self._pending_appends: list[_AppendRequest] = []
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
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

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
    def _transaction(self) -> Iterator[_Transaction]:
        with self._lock:
            with self._transaction_locked() as tx:
                yield tx

    @contextmanager
    def _transaction_locked(self) -> Iterator[_Transaction]:
        """One write transaction; the caller holds the writer lock. Publishes changes after commit."""
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        tx = _Transaction(conn)
        try:
            yield tx
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if tx.changes:
            numbered = [_renumber(change, next(self._change_seq)) for change in tx.changes]
            self.feed.publish(numbered)
        if tx.dropped_references:
            self._collect_unreferenced_locked()

    def _collect_unreferenced(self) -> None:
        with self._lock:
            self._collect_unreferenced_locked()

    def _collect_unreferenced_locked(self) -> list[str]:
        """Drop blob rows with no reference (committed), then their files. Caller holds the lock."""
        conn = self._writer
        rows = conn.execute("SELECT num, id FROM blobs WHERE refcount = 0").fetchall()
        if not rows:
            return []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for num, _blob_id in rows:
                conn.execute("DELETE FROM blob_headers WHERE blob = ?", (num,))
                conn.execute("DELETE FROM blob_text WHERE rowid = ?", (num,))
                conn.execute("DELETE FROM blobs WHERE num = ? AND refcount = 0", (num,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        removed = []
        for _num, blob_id in rows:
            self.blobs.delete(blob_id)
            removed.append(blob_id)
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
        """Remove a user with all mailboxes, messages and subscriptions, in one transaction; blobs no
        longer referenced by anyone are removed after the commit."""
        with self._transaction() as tx:
            conn = tx.conn
            user_id = self._user_id(conn, name)
            mailbox_ids = [row[0] for row in conn.execute("SELECT id FROM mailboxes WHERE user_id = ?", (user_id,))]
            for mailbox_id in mailbox_ids:
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

    # --- mailboxes ----------------------------------------------------------------------------------

    _MAILBOX_COLUMNS = (
        "mb.id, mb.user_id, mb.name, mb.uid_validity, mb.uid_next, mb.highest_modseq, mb.special_use, "
        "mb.mailbox_uuid, s.name IS NOT NULL"
    )
    _MAILBOX_FROM = "mailboxes mb LEFT JOIN subscriptions s ON s.user_id = mb.user_id AND s.name = mb.name"

    def list_mailboxes(self, user: str) -> list[MailboxInfo]:
        conn = self._reader()
        user_id = self._user_id(conn, user)
        rows = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.user_id = ? ORDER BY mb.name",
            (user_id,),
        ).fetchall()
        return [MailboxInfo(*row[:-1], bool(row[-1])) for row in rows]

    def mailbox(self, user: str, name: str) -> MailboxInfo:
        conn = self._reader()
        return self._mailbox_info(conn, self._user_id(conn, user), names.normalize(name))

    def mailbox_by_id(self, mailbox_id: int) -> MailboxInfo:
        row = self._reader().execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.id = ?", (mailbox_id,)
        ).fetchone()
        if row is None:
            raise MailboxNotFound(f"#{mailbox_id}")
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def _mailbox_info(self, conn, user_id: int, name: str, *, target: bool = False) -> MailboxInfo:
        row = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.user_id = ? AND mb.name = ?",
            (user_id, name),
        ).fetchone()
        if row is None:
            raise MailboxNotFound(name, target=target)
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def _next_uid_validity(self, conn) -> int:
        # RFC 9051 §2.3.1.1: a re-created mailbox must get a new UIDVALIDITY; time-based and strictly
        # increasing across all mailboxes, also across restarts and clock steps backwards.
        row = conn.execute("SELECT value FROM meta WHERE key = 'last_uid_validity'").fetchone()
        value = max(int(time.time()), (row[0] if row else 0) + 1)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_uid_validity', ?)", (value,))
        return value

    def _insert_mailbox(self, tx: _Transaction, user_id: int, user: str, name: str, special_use: str | None) -> int:
        mailbox_id = tx.conn.execute(
            "INSERT INTO mailboxes (user_id, name, uid_validity, special_use, mailbox_uuid) VALUES (?, ?, ?, ?, ?)",
            (user_id, name, self._next_uid_validity(tx.conn), special_use, "F" + uuid.uuid4().hex),
        ).lastrowid
        tx.changes.append(Change(0, ChangeKind.MAILBOX_CREATED, user, mailbox_id, name))
        return mailbox_id

    def create_mailbox(self, user: str, name: str, *, special_use: str | None = None) -> MailboxInfo:
        """RFC 9051 §6.3.4: create ``name`` and any missing superior names."""
        name = names.normalize(name)
        with self._transaction() as tx:
            conn = tx.conn
            user_id = self._user_id(conn, user)
            if conn.execute("SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, name)).fetchone():
                raise MailboxExists(name)
            for parent in names.parents(name):
                if not conn.execute(
                    "SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, parent)
                ).fetchone():
                    self._insert_mailbox(tx, user_id, user, parent, None)
            self._insert_mailbox(tx, user_id, user, name, special_use)
        return self.mailbox(user, name)

    def delete_mailbox(self, user: str, name: str) -> None:
        """RFC 9051 §6.3.5: INBOX cannot be deleted; a name with inferiors is refused (HASCHILDREN).

        Subscriptions are kept (RFC 3501 §6.3.6: a server must not remove a subscription by itself).
        """
        name = names.normalize(name)
        if names.is_inbox(name):
            raise CannotDeleteInbox()
        with self._transaction() as tx:
            conn = tx.conn
            user_id = self._user_id(conn, user)
            info = self._mailbox_info(conn, user_id, name)
            if conn.execute(
                "SELECT 1 FROM mailboxes WHERE user_id = ? AND substr(name, 1, ?) = ? LIMIT 1",
                (user_id, len(name) + 1, name + names.DELIMITER),
            ).fetchone():
                raise HasChildren(name)
            conn.execute("DELETE FROM messages WHERE mailbox_id = ?", (info.id,))
            conn.execute("DELETE FROM expunged WHERE mailbox_id = ?", (info.id,))
            conn.execute("DELETE FROM mailbox_keywords WHERE mailbox_id = ?", (info.id,))
            conn.execute("DELETE FROM mailboxes WHERE id = ?", (info.id,))
            tx.changes.append(Change(0, ChangeKind.MAILBOX_DELETED, user, info.id, name))
            tx.dropped_references = True

    def rename_mailbox(self, user: str, old_name: str, new_name: str) -> MailboxInfo:
        """RFC 9051 §6.3.6: inferiors follow; missing superiors of the new name are created.

        Renaming INBOX moves its messages to a new mailbox and leaves INBOX empty (its inferiors stay).
        Subscriptions of renamed names follow them.
        """
        old_name = names.normalize(old_name)
        new_name = names.normalize(new_name)
        if new_name == old_name or new_name.startswith(old_name + names.DELIMITER):
            raise InvalidMailboxName(new_name, f"cannot rename {old_name!r} to itself or below itself")
        if names.is_inbox(new_name):
            raise MailboxExists(new_name)
        with self._transaction() as tx:
            conn = tx.conn
            user_id = self._user_id(conn, user)
            info = self._mailbox_info(conn, user_id, old_name)
            if conn.execute("SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, new_name)).fetchone():
                raise MailboxExists(new_name)
            for parent in names.parents(new_name):
                if not conn.execute(
                    "SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, parent)
                ).fetchone():
                    self._insert_mailbox(tx, user_id, user, parent, None)
            if names.is_inbox(old_name):
                target_id = self._insert_mailbox(tx, user_id, user, new_name, None)
                uids = [row[0] for row in conn.execute("SELECT uid FROM messages WHERE mailbox_id = ?", (info.id,))]
                if uids:
                    self._copy_locked(tx, info, uids, user, self._mailbox_info(conn, user_id, new_name), move=True)
                return self.mailbox_by_id_in(conn, target_id)
            prefix = old_name + names.DELIMITER
            renamed = conn.execute(
                "SELECT id, name FROM mailboxes WHERE user_id = ? AND (name = ? OR substr(name, 1, ?) = ?) "
                "ORDER BY name",
                (user_id, old_name, len(prefix), prefix),
            ).fetchall()
            for mailbox_id, current in renamed:
                replacement = new_name + current[len(old_name):]
                names.normalize(replacement)  # the new name may make a child too long or too deep
                if replacement != new_name and conn.execute(
                    "SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, replacement)
                ).fetchone():
                    raise MailboxExists(replacement)
                conn.execute("UPDATE mailboxes SET name = ? WHERE id = ?", (replacement, mailbox_id))
                if conn.execute(
                    "DELETE FROM subscriptions WHERE user_id = ? AND name = ?", (user_id, current)
                ).rowcount:
                    conn.execute(
                        "INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)", (user_id, replacement)
                    )
                tx.changes.append(
                    Change(0, ChangeKind.MAILBOX_RENAMED, user, mailbox_id, replacement, old_name=current)
                )
            return self.mailbox_by_id_in(conn, info.id)

    def mailbox_by_id_in(self, conn, mailbox_id: int) -> MailboxInfo:
        row = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.id = ?", (mailbox_id,)
        ).fetchone()
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def subscribe(self, user: str, name: str) -> None:
        """RFC 9051 §6.3.7. A name that does not exist (yet) may be subscribed."""
        name = names.normalize(name)
        with self._transaction() as tx:
            user_id = self._user_id(tx.conn, user)
            if tx.conn.execute(
                "INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)", (user_id, name)
            ).rowcount:
                tx.changes.append(Change(0, ChangeKind.SUBSCRIBED, user, None, name))

    def unsubscribe(self, user: str, name: str) -> None:
        name = names.normalize(name)
        with self._transaction() as tx:
            user_id = self._user_id(tx.conn, user)
            if tx.conn.execute(
                "DELETE FROM subscriptions WHERE user_id = ? AND name = ?", (user_id, name)
            ).rowcount:
                tx.changes.append(Change(0, ChangeKind.UNSUBSCRIBED, user, None, name))

    def subscriptions(self, user: str) -> list[str]:
        conn = self._reader()
        user_id = self._user_id(conn, user)
        return [row[0] for row in conn.execute("SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name", (user_id,))]

    # --- status and selection -----------------------------------------------------------------------

    _STATUS_COLUMNS = (
        "id, name, messages, uid_next, uid_validity, unseen, deleted, size, highest_modseq, recent, mailbox_uuid"
    )

    def status(self, user: str, name: str) -> MailboxStatus:
        conn = self._reader()
        row = conn.execute(
            f"SELECT {self._STATUS_COLUMNS} FROM mailboxes WHERE user_id = ? AND name = ?",
            (self._user_id(conn, user), names.normalize(name)),
        ).fetchone()
        if row is None:
            raise MailboxNotFound(name)
        return MailboxStatus(*row)

    def statuses(self, user: str) -> dict[str, MailboxStatus]:
        """STATUS of every mailbox of a user in one query (LIST-STATUS, RFC 5819; NOTIFY)."""
        conn = self._reader()
        return {
            row[1]: MailboxStatus(*row)
            for row in conn.execute(
                f"SELECT {self._STATUS_COLUMNS} FROM mailboxes WHERE user_id = ? ORDER BY name",
                (self._user_id(conn, user),),
            )
        }

    def status_by_id(self, mailbox_id: int) -> MailboxStatus:
        row = self._reader().execute(
            f"SELECT {self._STATUS_COLUMNS} FROM mailboxes WHERE id = ?", (mailbox_id,)
        ).fetchone()
        if row is None:
            raise MailboxNotFound(f"#{mailbox_id}")
        return MailboxStatus(*row)

    def select(self, user: str, name: str) -> MailboxSnapshot:
        """Counters, sorted UIDs and keywords of a mailbox, read in one consistent snapshot."""
        name = names.normalize(name)
        with self._snapshot() as conn:
            row = conn.execute(
                f"SELECT {self._STATUS_COLUMNS}, special_use, uid_ranges FROM mailboxes WHERE user_id = ? AND name = ?",
                (self._user_id(conn, user), name),
            ).fetchone()
            if row is None:
                raise MailboxNotFound(name)
            status = MailboxStatus(*row[:-2])
            keywords = frozenset(
                kw for (kw,) in conn.execute("SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?", (status.id,))
            )
        return MailboxSnapshot(status, tuple(uidranges.decode(row[-1])), keywords, row[-2])

    def uids(self, mailbox_id: int) -> list[int]:
        return [
            uid
            for (uid,) in self._reader().execute(
                "SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid", (mailbox_id,)
            )
        ]

    def keywords(self, mailbox_id: int) -> frozenset[str]:
        return frozenset(
            kw
            for (kw,) in self._reader().execute(
                "SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?", (mailbox_id,)
            )
        )

    def claim_recent(self, mailbox_id: int) -> tuple[int, ...]:
        """RFC 3501 §2.3.2 \\Recent: the first session to select gets the recent UIDs; they stop being recent."""
        with self._transaction() as tx:
            uids = tuple(
                uid
                for (uid,) in tx.conn.execute(
                    "SELECT uid FROM messages WHERE mailbox_id = ? AND recent = 1 ORDER BY uid", (mailbox_id,)
                )
            )
            if uids:
                tx.conn.execute("UPDATE messages SET recent = 0 WHERE mailbox_id = ? AND recent = 1", (mailbox_id,))
        return uids

    # --- UID sets -------------------------------------------------------------------------------------

    def _resolve_uids(self, conn, mailbox_id: int, uid_set: UidSet) -> list[int]:
        """The existing UIDs of ``uid_set`` (``*`` is the largest UID in use), ascending."""
        if isinstance(uid_set, SequenceSet):
            largest = conn.execute("SELECT max(uid) FROM messages WHERE mailbox_id = ?", (mailbox_id,)).fetchone()[0]
            if largest is None:
                return []
            ranges = _merge(sorted(uid_set.iter_ranges(largest)))
        else:
            wanted = sorted(set(uid_set))
            if not wanted:
                return []
            ranges = _ranges_of(wanted)
        if len(ranges) <= _MAX_SQL_RANGES:
            clause = " OR ".join(["uid BETWEEN ? AND ?"] * len(ranges))
            params = [mailbox_id, *itertools.chain.from_iterable(ranges)]
            return [
                uid
                for (uid,) in conn.execute(
                    f"SELECT uid FROM messages WHERE mailbox_id = ? AND ({clause}) ORDER BY uid", params
                )
            ]
        return _filter_ranges(
            (uid for (uid,) in conn.execute(
                "SELECT uid FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid",
                (mailbox_id, ranges[0][0], max(high for _low, high in ranges)),
            )),
            ranges,
        )

    def _uid_clause(self, conn, mailbox_id: int, uid_set: UidSet) -> tuple[str, list]:
        """SQL condition on ``m.uid`` for a UID set, with its parameters."""
        if isinstance(uid_set, SequenceSet):
            largest = conn.execute("SELECT max(uid) FROM messages WHERE mailbox_id = ?", (mailbox_id,)).fetchone()[0]
            if largest is None:
                return "0", []
            ranges = _merge(sorted(uid_set.iter_ranges(largest)))
        else:
            wanted = sorted(set(uid_set))
            if not wanted:
                return "0", []
            ranges = _ranges_of(wanted)
        if len(ranges) <= _MAX_SQL_RANGES:
            return "(" + " OR ".join(["m.uid BETWEEN ? AND ?"] * len(ranges)) + ")", list(
                itertools.chain.from_iterable(ranges)
            )
        return "m.uid IN (SELECT value FROM json_each(?))", [_json_list(_expand(ranges))]

    # --- delivery -----------------------------------------------------------------------------------

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

    def append_many(self, user: str, name: str, messages: Sequence[NewMessage]) -> AppendResult:
        """RFC 3502 MULTIAPPEND: all messages or none, UIDs in order."""
        name = names.normalize(name)
        reader = self._reader()
        self._mailbox_info(reader, self._user_id(reader, user), name, target=True)  # fail before any write
        prepared: list[_Prepared] = []
        try:
            for message in messages:
                prepared.append(self._prepare(message))  # parse and fsync outside the lock
            return self._append_prepared(user, name, prepared)
        except BaseException:
            self._discard_new_blobs(prepared)
            raise

    def _discard_new_blobs(self, prepared: list[_Prepared]) -> None:
        """After a failed delivery, remove the blob files it wrote that nothing refers to."""
        fresh = [item.blob_id for item in prepared if item.wrote_blob]
        if not fresh:
            return
        with self._lock:
            for blob_id in fresh:
                if self._writer.execute("SELECT 1 FROM blobs WHERE id = ?", (blob_id,)).fetchone() is None:
                    self.blobs.delete(blob_id)

    def _append_prepared(self, user: str, name: str, prepared: list[_Prepared]) -> AppendResult:
        """Group commit: deliveries waiting for the writer lock are committed together.

        Each delivery queues its request, then takes the writer lock. Whoever gets the lock first commits
        every queued request in one transaction (one WAL fsync for all), each inside its own savepoint so
        a failing one (over quota, mailbox gone) is rolled back alone and gets its own exception. A thread
        that finds its request already committed by another simply returns its result.
        """
        request = _AppendRequest(user, name, prepared)
        with self._pending_lock:
            self._pending_appends.append(request)
        with self._lock:
            if not request.done:
                with self._pending_lock:
                    batch, self._pending_appends = self._pending_appends, []
                self._commit_append_batch(batch)
        if request.error is not None:
            raise request.error
        return request.result

    def _commit_append_batch(self, batch: list[_AppendRequest]) -> None:
        try:
            with self._transaction_locked() as tx:
                for request in batch:
                    published = len(tx.changes)
                    tx.conn.execute("SAVEPOINT delivery")
                    try:
                        request.result = self._append_locked(tx, request.user, request.name, request.prepared)
                        tx.conn.execute("RELEASE delivery")
                    except Exception as error:
                        tx.conn.execute("ROLLBACK TO delivery")
                        tx.conn.execute("RELEASE delivery")
                        del tx.changes[published:]
                        request.error = error
        except BaseException as error:  # the commit itself failed: nobody in the batch is durable
            for request in batch:
                request.result = None
                request.error = error if isinstance(error, Exception) else RuntimeError("delivery interrupted")
            raise
        finally:
            for request in batch:
                request.done = True

    def _append_locked(self, tx: _Transaction, user: str, name: str, prepared: list[_Prepared]) -> AppendResult:
        now = int(time.time())
        conn = tx.conn
        user_id = self._user_id(conn, user)
        info = self._mailbox_info(conn, user_id, name, target=True)
        self._check_quota(conn, user_id, user, sum(len(p.raw) for p in prepared), len(prepared))
        uid = info.uid_next
        modseq = info.highest_modseq
        rows = []
        keywords: set[str] = set()
        for item in prepared:
            blob_num = self._ensure_blob(conn, item)
            modseq += 1
            item_keywords = self._canonical_keywords(conn, info.id, item.keywords)
            self._add_keywords(conn, info.id, item_keywords)
            rows.append(
                (info.id, uid, blob_num, len(item.raw), item.internal_date, item.internal_tz, item.internal_day,
                 now, item.bits, flagcodec.keywords_text(item_keywords), modseq)
            )
            keywords |= item_keywords
            uid += 1
        conn.executemany(
            "INSERT INTO messages (mailbox_id, uid, blob, size, internal_date, internal_tz, internal_day, "
            "save_date, flags, keywords, modseq, recent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            rows,
        )
        conn.execute(
            "UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?", (uid, modseq, info.id)
        )
        self._extend_uid_ranges(conn, info.id, info.uid_next, uid - 1)
        uids = tuple(row[1] for row in rows)
        tx.changes.append(
            Change(
                0, ChangeKind.MESSAGES_ADDED, user, info.id, name, uids,
                tuple(flagcodec.decode(row[8], row[9]) for row in rows), tuple(row[10] for row in rows),
                highest_modseq=modseq, uid_next=uid,
            )
        )
        return AppendResult(info.id, info.uid_validity, uids, modseq)

    def _prepare(self, message: NewMessage) -> _Prepared:
        bits, keywords = flagcodec.encode(message.flags)
        when = message.internal_date or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        offset = when.utcoffset()
        raw = bytes(message.raw)
        blob_id = blob_id_of(raw)
        known = self._reader().execute("SELECT 1 FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        parsed = None if known else prepare_blob(raw, blob_id, self.summarize)
        wrote_blob = not self.blobs.exists(blob_id)
        self.blobs.put(raw, blob_id)
        return _Prepared(
            raw, blob_id, bits, keywords, int(when.timestamp()), int(offset.total_seconds() // 60),
            when.date().toordinal(), parsed, wrote_blob,
        )

    def _ensure_blob(self, conn, item: _Prepared) -> int:
        """The blob row for ``item`` (inserted with its parsed data if new); its file exists now."""
        row = conn.execute("SELECT num FROM blobs WHERE id = ?", (item.blob_id,)).fetchone()
        if row is not None:
            num = row[0]
        else:
            parsed = item.parsed or prepare_blob(item.raw, item.blob_id, self.summarize)
            num = conn.execute(
                "INSERT INTO blobs (id, size, parsed, envelope, body, bodystructure, preview, sent_date, sent_day, "
                "subject, base_subject, message_id, in_reply_to, refs, email_id, thread_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (parsed.blob_id, parsed.size, int(parsed.parsed), parsed.envelope, parsed.body, parsed.bodystructure,
                 parsed.preview, parsed.sent_date, parsed.sent_day, parsed.subject, parsed.base_subject,
                 parsed.message_id, parsed.in_reply_to, parsed.refs, parsed.email_id, parsed.thread_id),
            ).lastrowid
            conn.executemany(
                "INSERT INTO blob_headers (blob, name, value_folded) VALUES (?, ?, ?)",
                [(num, header, value) for header, value in parsed.headers],
            )
            conn.execute(
                "INSERT INTO blob_text (rowid, header, body) VALUES (?, ?, ?)",
                (num, parsed.header_text, parsed.body_text),
            )
        # A garbage collection between our write and this lock may have removed the file: write it again.
        if not self.blobs.exists(item.blob_id):
            self.blobs.put(item.raw, item.blob_id)
        return num

    def _extend_uid_ranges(self, conn, mailbox_id: int, low: int, high: int) -> None:
        runs = uidranges.decode(conn.execute("SELECT uid_ranges FROM mailboxes WHERE id = ?", (mailbox_id,)).fetchone()[0])
        conn.execute(
            "UPDATE mailboxes SET uid_ranges = ? WHERE id = ?",
            (uidranges.encode(uidranges.append_run(runs, low, high)), mailbox_id),
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

    # --- copy, move ---------------------------------------------------------------------------------

    def copy(self, mailbox_id: int, uids: UidSet, user: str, target_name: str) -> CopyResult:
        """RFC 9051 §6.4.7 COPY: flags and INTERNALDATE kept, new UIDs; the mapping for COPYUID."""
        return self._copy(mailbox_id, uids, user, target_name, move=False)

    def move(self, mailbox_id: int, uids: UidSet, user: str, target_name: str) -> CopyResult:
        """RFC 6851 MOVE: copy and expunge the source messages in one transaction."""
        return self._copy(mailbox_id, uids, user, target_name, move=True)

    def _copy(self, mailbox_id: int, uids: UidSet, user: str, target_name: str, *, move: bool) -> CopyResult:
        target_name = names.normalize(target_name)
        with self._transaction() as tx:
            conn = tx.conn
            source = self.mailbox_by_id_in_checked(conn, mailbox_id)
            target = self._mailbox_info(conn, self._user_id(conn, user), target_name, target=True)
            source_uids = self._resolve_uids(conn, mailbox_id, uids)
            return self._copy_locked(tx, source, source_uids, user, target, move=move)

    def mailbox_by_id_in_checked(self, conn, mailbox_id: int) -> MailboxInfo:
        row = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.id = ?", (mailbox_id,)
        ).fetchone()
        if row is None:
            raise MailboxNotFound(f"#{mailbox_id}")
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def _copy_locked(
        self, tx: _Transaction, source: MailboxInfo, source_uids: list[int], user: str, target: MailboxInfo,
        *, move: bool,
    ) -> CopyResult:
        conn = tx.conn
        if not source_uids:
            return CopyResult(target.id, target.uid_validity, (), ())
        rows = self._message_rows(conn, source.id, source_uids)
        if not (move and source.user_id == target.user_id):
            self._check_quota(conn, target.user_id, user, sum(row[2] for row in rows), len(rows))
        now = int(time.time())
        uid = target.uid_next
        modseq = target.highest_modseq
        inserted = []
        spellings: dict[str, str] = {}
        for _uid, blob, size, internal_date, internal_tz, internal_day, bits, keywords in rows:
            modseq += 1
            if keywords:
                if keywords not in spellings:
                    canonical = self._canonical_keywords(conn, target.id, flagcodec.parse_keywords(keywords))
                    self._add_keywords(conn, target.id, canonical)
                    spellings[keywords] = flagcodec.keywords_text(canonical)
                keywords = spellings[keywords]
            inserted.append(
                (target.id, uid, blob, size, internal_date, internal_tz, internal_day, now, bits, keywords, modseq)
            )
            uid += 1
        conn.executemany(
            "INSERT INTO messages (mailbox_id, uid, blob, size, internal_date, internal_tz, internal_day, "
            "save_date, flags, keywords, modseq, recent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            inserted,
        )
        conn.execute("UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?", (uid, modseq, target.id))
        self._extend_uid_ranges(conn, target.id, target.uid_next, uid - 1)
        copied = tuple(row[0] for row in rows)
        new_uids = tuple(row[1] for row in inserted)
        tx.changes.append(
            Change(
                0, ChangeKind.MESSAGES_ADDED, user, target.id, target.name, new_uids,
                tuple(flagcodec.decode(row[8], row[9]) for row in inserted), tuple(row[10] for row in inserted),
                highest_modseq=modseq, uid_next=uid,
            )
        )
        expunged_modseq = None
        if move:
            # Re-read: the target may be the source itself, whose highest_modseq just moved.
            current = conn.execute("SELECT highest_modseq FROM mailboxes WHERE id = ?", (source.id,)).fetchone()[0]
            expunged_modseq = self._expunge_locked(tx, source, list(copied), current, user)
        return CopyResult(target.id, target.uid_validity, copied, new_uids, expunged_modseq)

    def _message_rows(self, conn, mailbox_id: int, uids: list[int]) -> list[tuple]:
        rows = []
        for chunk in _chunks(uids, 500):
            rows.extend(
                conn.execute(
                    "SELECT uid, blob, size, internal_date, internal_tz, internal_day, flags, keywords FROM messages "
                    f"WHERE mailbox_id = ? AND uid IN ({','.join('?' * len(chunk))}) ORDER BY uid",
                    (mailbox_id, *chunk),
                ).fetchall()
            )
        return rows

    # --- flags --------------------------------------------------------------------------------------

    def store_flags(
        self,
        mailbox_id: int,
        uids: UidSet,
        mode: FlagMode,
        flags: Iterable[str],
        *,
        unchanged_since: int | None = None,
        user: str | None = None,
    ) -> StoreResult:
        """RFC 9051 §6.4.6 STORE; RFC 7162 §3.1.3 UNCHANGEDSINCE (refused UIDs in ``modified``).

        Each message whose flags change gets its own new MODSEQ.
        """
        bits, keywords = flagcodec.encode(flags)
        with self._transaction() as tx:
            conn = tx.conn
            info = self.mailbox_by_id_in_checked(conn, mailbox_id)
            user = user or self._user_name(conn, info.user_id)
            keywords = self._canonical_keywords(conn, mailbox_id, keywords)
            wanted = self._resolve_uids(conn, mailbox_id, uids)
            modseq = info.highest_modseq
            changed, unchanged, modified, updates = [], [], [], []
            for chunk in _chunks(wanted, 500):
                rows = conn.execute(
                    f"SELECT uid, flags, keywords, modseq FROM messages WHERE mailbox_id = ? "
                    f"AND uid IN ({','.join('?' * len(chunk))}) ORDER BY uid",
                    (mailbox_id, *chunk),
                ).fetchall()
                for uid, old_bits, old_keywords_text, old_modseq in rows:
                    if unchanged_since is not None and old_modseq > unchanged_since:
                        modified.append(uid)
                        continue
                    old_keywords = flagcodec.parse_keywords(old_keywords_text)
                    if mode is FlagMode.REPLACE:
                        new_bits, new_keywords = bits, keywords
                    elif mode is FlagMode.ADD:
                        new_bits, new_keywords = old_bits | bits, old_keywords | keywords
                    else:
                        new_bits, new_keywords = old_bits & ~bits, old_keywords - keywords
                    new_text = flagcodec.keywords_text(new_keywords)
                    if new_bits == old_bits and new_text == old_keywords_text:
                        unchanged.append(FlagChange(uid, flagcodec.decode(old_bits, old_keywords_text), old_modseq))
                        continue
                    modseq += 1
                    updates.append((new_bits, new_text, modseq, mailbox_id, uid))
                    changed.append(FlagChange(uid, flagcodec.decode(new_bits, new_text), modseq))
            if updates:
                conn.executemany(
                    "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?", updates
                )
                conn.execute("UPDATE mailboxes SET highest_modseq = ? WHERE id = ?", (modseq, mailbox_id))
                if mode is not FlagMode.REMOVE:
                    self._add_keywords(conn, mailbox_id, keywords)
                tx.changes.append(
                    Change(
                        0, ChangeKind.FLAGS_CHANGED, user, mailbox_id, info.name,
                        tuple(c.uid for c in changed), tuple(c.flags for c in changed),
                        tuple(c.modseq for c in changed), highest_modseq=modseq,
                    )
                )
        return StoreResult(tuple(changed), tuple(modified), modseq, tuple(unchanged))

    def _user_name(self, conn, user_id: int) -> str:
        return conn.execute("SELECT name FROM users WHERE id = ?", (user_id,)).fetchone()[0]

    # --- expunge --------------------------------------------------------------------------------------

    def expunge(self, mailbox_id: int, uids: UidSet | None = None, *, user: str | None = None) -> ExpungeResult:
        """RFC 9051 §6.4.3 EXPUNGE (all ``\\Deleted``), or RFC 4315 UID EXPUNGE (``\\Deleted`` within ``uids``)."""
        with self._transaction() as tx:
            conn = tx.conn
            info = self.mailbox_by_id_in_checked(conn, mailbox_id)
            user = user or self._user_name(conn, info.user_id)
            if uids is None:
                doomed = [
                    uid for (uid,) in conn.execute(
                        "SELECT uid FROM messages WHERE mailbox_id = ? AND flags & 8 ORDER BY uid", (mailbox_id,)
                    )
                ]
            else:
                clause, params = self._uid_clause(conn, mailbox_id, uids)
                doomed = [
                    uid for (uid,) in conn.execute(
                        f"SELECT m.uid FROM messages m WHERE m.mailbox_id = ? AND m.flags & 8 AND {clause} "
                        "ORDER BY m.uid",
                        (mailbox_id, *params),
                    )
                ]
            if not doomed:
                return ExpungeResult((), info.highest_modseq)
            modseq = self._expunge_locked(tx, info, doomed, info.highest_modseq, user)
        return ExpungeResult(tuple(doomed), modseq)

    def _expunge_locked(self, tx: _Transaction, info: MailboxInfo, uids: list[int], highest_modseq: int, user: str) -> int:
        conn = tx.conn
        modseq = highest_modseq + 1
        conn.executemany(
            "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?", [(info.id, uid) for uid in uids]
        )
        conn.executemany(
            "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)",
            [(info.id, uid, modseq) for uid in uids],
        )
        runs = uidranges.decode(conn.execute("SELECT uid_ranges FROM mailboxes WHERE id = ?", (info.id,)).fetchone()[0])
        conn.execute(
            "UPDATE mailboxes SET highest_modseq = ?, uid_ranges = ? WHERE id = ?",
            (modseq, uidranges.encode(uidranges.remove(runs, sorted(uids))), info.id),
        )
        tx.changes.append(
            Change(0, ChangeKind.EXPUNGED, user, info.id, info.name, tuple(uids), highest_modseq=modseq)
        )
        tx.dropped_references = True
        return modseq

    # --- reading messages -----------------------------------------------------------------------------

    def fetch_rows(self, mailbox_id: int, uids: UidSet, fields: Iterable[str] = ("flags",)) -> list[FetchRow]:
        """Metadata for FETCH, ascending by UID, straight from the database (no reparsing).

        ``fields`` names entries of ``FETCH_FIELDS``; the rest of each ``FetchRow`` is ``None``.
        """
        wanted = [name for name in FETCH_FIELDS if name in set(fields)]
        columns = ", ".join(["m.uid"] + [FETCH_FIELDS[name] for name in wanted])
        join = " JOIN blobs b ON b.num = m.blob" if _BLOB_FIELDS.intersection(wanted) else ""
        conn = self._reader()
        clause, params = self._uid_clause(conn, mailbox_id, uids)
        cursor = conn.execute(
            f"SELECT {columns} FROM messages m{join} WHERE m.mailbox_id = ? AND {clause} ORDER BY m.uid",
            (mailbox_id, *params),
        )
        if wanted == ["flags"]:  # the most frequent FETCH by far: a fast path
            decode = flagcodec.decode
            return [FetchRow(uid, decode(bits, kw)) for uid, bits, kw in cursor]
        builders = [_FIELD_BUILDERS[name] for name in wanted]
        result = []
        for row in cursor:
            values = {}
            position = 1
            for name, build in zip(wanted, builders):
                width = 2 if name in _TWO_COLUMNS else 1
                values[name] = build(*row[position:position + width])
                position += width
            result.append(FetchRow(row[0], **values))
        return result

    def changed_since(self, mailbox_id: int, modseq: int, uids: UidSet | None = None) -> list[FlagChange]:
        """RFC 7162 CHANGEDSINCE: messages whose MODSEQ is greater than ``modseq``, ascending by UID."""
        conn = self._reader()
        clause, params = ("1", []) if uids is None else self._uid_clause(conn, mailbox_id, uids)
        return [
            FlagChange(uid, flagcodec.decode(bits, kw), message_modseq)
            for uid, bits, kw, message_modseq in conn.execute(
                f"SELECT m.uid, m.flags, m.keywords, m.modseq FROM messages m WHERE m.mailbox_id = ? "
                f"AND m.modseq > ? AND {clause} ORDER BY m.uid",
                (mailbox_id, modseq, *params),
            )
        ]

    def vanished_since(self, mailbox_id: int, modseq: int, uids: UidSet | None = None) -> list[int]:
        """RFC 7162 §3.2.5 QRESYNC: UIDs expunged after ``modseq``, ascending."""
        conn = self._reader()
        result = [
            uid
            for (uid,) in conn.execute(
                "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid", (mailbox_id, modseq)
            )
        ]
        if uids is not None and result:
            if isinstance(uids, SequenceSet):
                largest = max(result[-1], self.status_by_id(mailbox_id).uid_next - 1)
                result = [uid for uid in result if uids.contains(uid, largest)]
            else:
                keep = set(uids)
                result = [uid for uid in result if uid in keep]
        return result

    def blob_id(self, mailbox_id: int, uid: int) -> str:
        row = self._reader().execute(
            "SELECT b.id FROM messages m JOIN blobs b ON b.num = m.blob WHERE m.mailbox_id = ? AND m.uid = ?",
            (mailbox_id, uid),
        ).fetchone()
        if row is None:
            raise KeyError((mailbox_id, uid))
        return row[0]

    def read_blob(self, blob_id: str, *, verify: bool = False) -> bytes:
        """The exact bytes of a message (BODY[]); ``verify`` checks them against the SHA-256 name."""
        return self.blobs.read(blob_id, verify=verify)

    def open_blob(self, blob_id: str):
        return self.blobs.open(blob_id)

    # --- search and maintenance live in their own modules ----------------------------------------------

    def search(self, mailbox_id: int, program, *, uids: Sequence[int] | None = None,
               recent_uids: Iterable[int] = (), now: _dt.datetime | None = None) -> list[int]:
        """UIDs matching a search program, ascending (``search.py`` explains how each key is answered).

        ``uids`` is the session's view of the mailbox (sorted UIDs, position = sequence number − 1), used
        for sequence-set keys and to hide messages the session has not been told about yet.
        """
        from .search import run_search

        with self._snapshot() as conn:
            return run_search(self, conn, mailbox_id, program, uids=uids, recent_uids=recent_uids, now=now)

    def fsck(self, *, repair: bool = True, verify_hashes: bool = True):
        from .maintenance import fsck

        return fsck(self, repair=repair, verify_hashes=verify_hashes)

    def gc(self) -> list[str]:
        from .maintenance import gc

        return gc(self)


def _renumber(change: Change, seq: int) -> Change:
    from dataclasses import replace

    return replace(change, seq=seq)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _ranges_of(sorted_uids: list[int]) -> list[tuple[int, int]]:
    ranges = []
    start = previous = sorted_uids[0]
    for uid in sorted_uids[1:]:
        if uid != previous + 1:
            ranges.append((start, previous))
            start = uid
        previous = uid
    ranges.append((start, previous))
    return ranges


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged


def _expand(ranges: list[tuple[int, int]]) -> list[int]:
    return [uid for low, high in ranges for uid in range(low, high + 1)]


def _json_list(values: list[int]) -> str:
    return "[" + ",".join(map(str, values)) + "]"


def _filter_ranges(uids: Iterable[int], ranges: list[tuple[int, int]]) -> list[int]:
    import bisect

    lows = [low for low, _high in ranges]
    result = []
    for uid in uids:
        index = bisect.bisect_right(lows, uid) - 1
        if index >= 0 and uid <= ranges[index][1]:
            result.append(uid)
    return result


def _timestamp(seconds: int | None, tz_minutes: int = 0) -> _dt.datetime | None:
    if seconds is None:
        return None
    return _dt.datetime.fromtimestamp(seconds, _zone(tz_minutes))


_ZONES: dict[int, _dt.timezone] = {}


def _zone(minutes: int) -> _dt.timezone:
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES[minutes] = _dt.timezone(_dt.timedelta(minutes=minutes))
    return zone


_FIELD_BUILDERS = {
    "flags": flagcodec.decode,
    "modseq": lambda value: value,
    "size": lambda value: value,
    "internal_date": _timestamp,
    "save_date": lambda value: _timestamp(value),
    "blob_id": lambda value: value,
    "envelope": lambda value: value,
    "body": lambda value: value,
    "bodystructure": lambda value: value,
    "preview": lambda value: value,
    "email_id": lambda value: value,
    "thread_id": lambda value: value,
}
