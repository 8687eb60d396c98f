"""Persistence: content-addressed blobs, SQLite metadata, the change feed, full-text search, fsck/gc.

Public API (everything a session needs; all methods are blocking and thread-safe — call heavy ones with
``trio.to_thread.run_sync``):

``Store.open(data_dir, *, feed=None, synchronous="FULL", summarize=None, durable=True,
expunge_history=100_000, process_shared=False) -> Store``; ``process_shared``: other processes use the
same directory (server workers, the command line), so the writer lock is also an flock (``locking.py``);
``close()``. Creates ``data_dir/blobs/`` and ``data_dir/meta.sqlite3``.

Users: ``create_user(name, password_hash=None, *, quota_storage_bytes=None, quota_messages=None)``
(with INBOX, Sent, Drafts, Trash, Junk, Archive), ``user(name) -> UserInfo``, ``users()``,
``set_password_hash``, ``set_quota(name, *, storage_bytes, messages)``, ``quota(name) -> QuotaUsage``,
``delete_user(name)``.

Mailboxes (by user + name, ``/`` delimiter): ``list_mailboxes(user)``, ``mailbox(user, name)``,
``mailbox_by_id(id)``, ``create_mailbox(user, name, *, special_use=None)``, ``delete_mailbox``,
``rename_mailbox(user, old, new)``, ``subscribe``, ``unsubscribe``, ``subscriptions(user)``,
``status(user, name)``/``status_by_id(id) -> MailboxStatus``, ``statuses(user) -> {name: MailboxStatus}``,
``select(user, name) -> MailboxSnapshot`` (counters, UID runs, keywords in one snapshot; ``.uids``
expands the runs), ``uids(id)``, ``keywords(id)``, ``claim_recent(id)`` (rev1 \\Recent).

Messages (by mailbox id + UIDs; a UID set is a ``SequenceSet`` in UID terms or an iterable of UIDs):
``append(user, name, raw, flags=(), internal_date=None) -> AppendResult``,
``append_many(user, name, [NewMessage]) -> AppendResult`` (atomic),
``copy(id, uids, user, target) -> CopyResult``, ``move(...)``, ``store_flags(id, uids, FlagMode, flags,
*, unchanged_since=None) -> StoreResult``, ``expunge(id, uids=None) -> ExpungeResult``,
``fetch_rows(id, uids, fields) -> [FetchRow]`` (pre-serialized ENVELOPE/BODY/BODYSTRUCTURE),
``changed_since(id, modseq)``, ``vanished_since(id, modseq, uids=None)`` (exact above
``expunge_history_floor(id)``; below it every UID of the set no longer present, RFC 7162 §3.2.6),
``blob_id(id, uid)``,
``read_blob(blob_id, *, verify=False)``, ``open_blob(blob_id)``,
``search(id, program, *, uids=None, recent_uids=(), now=None) -> [uid]``.

Maintenance: ``fsck(*, repair=True, verify_hashes=True) -> FsckReport``, ``gc() -> [blob_id]``; the
same as ``imapcore fsck`` / ``imapcore gc`` (``cli.py``). Deferred full-text indexing:
``pending_index_count()``, ``index_pending(limit=None) -> int`` (SEARCH is exact either way).

Layout of this package: ``store.py`` (connections, transactions, users) with its operations in
``mailboxes.py``, ``appending.py`` (group commit), ``messages.py`` and ``uidsets.py``; ``blobs.py``
(content-addressed files; batched ``write`` + ``sync``), ``schema.py`` (tables, triggers, migrations),
``delivery.py`` (what is computed once per blob), ``fulltext.py`` (the word-trigram index),
``search.py`` (SEARCH as SQL + FTS5 trigram), ``feed.py`` (change feed), ``sharedfeed.py`` (the change
feed across processes, through ``change_log``), ``locking.py`` (the writer lock), ``syncing.py`` (group
fsync, WAL checkpoints),
``maintenance.py`` (fsck, gc), ``names.py``, ``flags.py``, ``uidranges.py``, ``records.py``, ``errors.py``.

Change feed (``feed.py``): pass ``feed=InProcessFeed()`` (created inside ``trio.run``), or
``SharedFeed(data_dir, wake_fd, peer_fds)`` when several processes share the store (the server does);
``feed.subscribe(user, mailbox_id=None)`` gives a subscription whose ``await receive()`` returns
``Change`` objects in commit order, or one ``ChangeKind.RESYNC`` after falling behind. Subscribe before
reading the state you will keep up to date.

Errors (``errors.py``) carry ``code``, the response code for the server's ``NO``.
"""

from .errors import (
    BlobCorrupt,
    BlobMissing,
    CannotDeleteInbox,
    HasChildren,
    InvalidBlobId,
    InvalidFlag,
    InvalidMailboxName,
    InvalidSpecialUse,
    MailboxExists,
    MailboxNotFound,
    OverQuota,
    StoreError,
    UserExists,
    UserNotFound,
)
from .feed import Change, ChangeFeed, ChangeKind, InProcessFeed, NullFeed, Subscription
from .flags import FlagMode
from .records import (
    AppendResult,
    CopyResult,
    ExpungeResult,
    FetchRow,
    FlagChange,
    FsckReport,
    MailboxInfo,
    MailboxName,
    MailboxSnapshot,
    MailboxStatus,
    NewMessage,
    QuotaUsage,
    StoreResult,
    UserInfo,
)
from .search import UnsupportedSearchKey
from .store import DEFAULT_MAILBOXES, FETCH_FIELDS, Store

__all__ = [name for name in dir() if not name.startswith("_")]
