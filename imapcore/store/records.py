"""The values the store hands to its callers: frozen, typed, free of SQLite objects.

``FetchRow`` is a ``NamedTuple`` rather than a dataclass because FETCH builds tens of thousands of them
per second and tuple construction is several times cheaper; it is just as immutable.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    name: str
    password_hash: str | None
    quota_storage_bytes: int | None
    quota_messages: int | None
    used_storage_bytes: int
    used_messages: int


class MailboxName(NamedTuple):
    """What a plain LIST needs of a mailbox (``Store.mailbox_names``): a tuple, cheap to make."""

    name: str
    special_use: str | None


@dataclass(frozen=True, slots=True)
class MailboxInfo:
    """One mailbox. ``mailbox_id`` is the RFC 8474 MAILBOXID (stable across RENAME); ``id`` is ours."""

    id: int
    user_id: int
    name: str
    uid_validity: int
    uid_next: int
    highest_modseq: int
    special_use: str | None
    mailbox_id: str
    subscribed: bool


@dataclass(frozen=True, slots=True)
class MailboxStatus:
    """STATUS items (RFC 9051 §6.3.11; RECENT from RFC 3501; HIGHESTMODSEQ RFC 7162; SIZE RFC 8438)."""

    id: int
    name: str
    messages: int
    uid_next: int
    uid_validity: int
    unseen: int
    deleted: int
    size: int
    highest_modseq: int
    recent: int
    mailbox_id: str


@dataclass(frozen=True, slots=True)
class MailboxSnapshot:
    """What SELECT needs, read in one transaction: counters, the UIDs, the keywords in use.

    ``uid_ranges`` are the mailbox's UIDs as ascending disjoint ``(low, high)`` runs (short even for a
    million messages); ``uids`` expands them when a session wants the plain list.
    """

    status: MailboxStatus
    uid_ranges: tuple[tuple[int, int], ...]
    keywords: frozenset[str]
    special_use: str | None

    @property
    def uids(self) -> tuple[int, ...]:
        return tuple(uid for low, high in self.uid_ranges for uid in range(low, high + 1))


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One message to APPEND. ``internal_date`` must be timezone-aware; ``None`` means now (UTC)."""

    raw: bytes
    flags: frozenset[str] = frozenset()
    internal_date: _dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    """For APPENDUID (RFC 4315): the UIDs given, in the order of the messages appended."""

    mailbox_id: int
    uid_validity: int
    uids: tuple[int, ...]
    highest_modseq: int
    #: The UIDs stored already \Recent-claimed for the appending session (``append_many``'s
    #: ``claim_recent_in``); empty otherwise.
    recent: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CopyResult:
    """For COPYUID (RFC 4315 §3): source UIDs ascending and the destination UID given to each."""

    target_mailbox_id: int
    uid_validity: int
    source_uids: tuple[int, ...]
    target_uids: tuple[int, ...]
    expunged_modseq: int | None = None  # MOVE: the source's HIGHESTMODSEQ after the expunge


class FlagChange(NamedTuple):
    uid: int
    flags: frozenset[str]
    modseq: int


@dataclass(frozen=True, slots=True)
class StoreResult:
    """STORE outcome: the messages whose flags changed, and those refused by UNCHANGEDSINCE (MODIFIED)."""

    changed: tuple[FlagChange, ...]
    modified: tuple[int, ...]
    highest_modseq: int
    # Messages matched but already carrying the requested flags: the server still sends FETCH for them
    # (RFC 9051 §6.4.6) unless .SILENT; their unchanged flags and modseq are here.
    unchanged: tuple[FlagChange, ...] = ()


@dataclass(frozen=True, slots=True)
class ExpungeResult:
    uids: tuple[int, ...]
    highest_modseq: int


class FetchRow(NamedTuple):
    """Metadata of one message for FETCH; a field not asked for is ``None``.

    ``envelope``, ``body`` and ``bodystructure`` are IMAP syntax, computed once at delivery; they are
    ``None`` also when the message could not be parsed (the caller then parses the blob itself).
    """

    uid: int
    flags: frozenset[str] | None = None
    modseq: int | None = None
    size: int | None = None
    internal_date: _dt.datetime | None = None
    save_date: _dt.datetime | None = None
    blob_id: str | None = None
    envelope: bytes | None = None
    body: bytes | None = None
    bodystructure: bytes | None = None
    preview: str | None = None
    email_id: str | None = None
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """RFC 9208: usage and limits (``None``: unlimited) for STORAGE (bytes here) and MESSAGE."""

    used_storage_bytes: int
    quota_storage_bytes: int | None
    used_messages: int
    quota_messages: int | None


@dataclass(frozen=True, slots=True)
class FsckReport:
    blobs_checked: int = 0
    corrupt_blobs: tuple[str, ...] = ()
    missing_blobs: tuple[str, ...] = ()
    unreferenced_blobs: tuple[str, ...] = ()
    counters_repaired: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def clean(self) -> bool:
        return not (self.corrupt_blobs or self.missing_blobs or self.counters_repaired or self.problems)
