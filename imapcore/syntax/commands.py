"""Typed client commands: what the grammar's transformer builds and what the command handlers receive.

One frozen dataclass per command (RFC 9051 §6 and the extensions in ``grammar/imap.lark``). Every one
has ``tag: str`` first and a class-level ``name``, the upper-case command name. UID variants are the
same class with ``uid=True`` (RFC 9051 §6.4.9), SELECT and EXAMINE share their fields, and shared
values (sequence sets, search keys, sections, partials) come from ``imapcore.syntax.model``.

Conventions for values:

* astrings (mailbox names, user names, header names...) are ``str`` decoded from UTF-8 as sent; bytes
  that are not UTF-8 are kept with ``surrogateescape`` so nothing is lost. Mailbox names are kept exactly
  as sent (modified UTF-7 decoding is the server's job).
* message data (APPEND, CATENATE TEXT, metadata values) stays ``bytes``.
* keywords, flags and options are kept as sent, except that the names the grammar knows are
  upper-cased (``FLAGS``, ``CONDSTORE``...); system flags are given their RFC spelling (``\\Seen``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from .model import Partial, SearchAnd, Section, SequenceSet


@dataclass(frozen=True, slots=True)
class Command:
    tag: str
    name: ClassVar[str] = ""


# --- command-any (RFC 9051 §6.1) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capability(Command):
    name: ClassVar[str] = "CAPABILITY"


@dataclass(frozen=True, slots=True)
class Noop(Command):
    name: ClassVar[str] = "NOOP"


@dataclass(frozen=True, slots=True)
class Logout(Command):
    name: ClassVar[str] = "LOGOUT"


@dataclass(frozen=True, slots=True)
class Id(Command):
    """RFC 2971: ``parameters`` is None for ``ID NIL``, else (field, value-or-None) pairs in order."""

    parameters: tuple[tuple[str, str | None], ...] | None = None
    name: ClassVar[str] = "ID"


# --- command-nonauth (RFC 9051 §6.2) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartTls(Command):
    name: ClassVar[str] = "STARTTLS"


@dataclass(frozen=True, slots=True)
class Authenticate(Command):
    """``initial_response`` is the SASL-IR base64 text (RFC 4959) as sent ("=" means empty), or None."""

    mechanism: str = ""
    initial_response: str | None = None
    name: ClassVar[str] = "AUTHENTICATE"


@dataclass(frozen=True, slots=True)
class Login(Command):
    username: str = ""
    password: str = ""
    name: ClassVar[str] = "LOGIN"


# --- command-auth (RFC 9051 §6.3 and extensions) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enable(Command):
    capabilities: tuple[str, ...] = ()
    name: ClassVar[str] = "ENABLE"


@dataclass(frozen=True, slots=True)
class QResync:
    """SELECT (QRESYNC (uidvalidity modseq [known-uids] [(seqs uids)])); RFC 7162 §3.2.5."""

    uid_validity: int
    mod_seq: int
    known_uids: SequenceSet | None = None
    known_sequence_set: SequenceSet | None = None
    known_uid_set: SequenceSet | None = None


@dataclass(frozen=True, slots=True)
class Select(Command):
    mailbox: str = ""
    condstore: bool = False
    qresync: QResync | None = None
    name: ClassVar[str] = "SELECT"


@dataclass(frozen=True, slots=True)
class Examine(Command):
    mailbox: str = ""
    condstore: bool = False
    qresync: QResync | None = None
    name: ClassVar[str] = "EXAMINE"


@dataclass(frozen=True, slots=True)
class Create(Command):
    """``special_use`` holds the RFC 6154 ``USE`` attributes (``\\Sent``...) of CREATE-SPECIAL-USE."""

    mailbox: str = ""
    special_use: tuple[str, ...] = ()
    name: ClassVar[str] = "CREATE"


@dataclass(frozen=True, slots=True)
class Delete(Command):
    mailbox: str = ""
    name: ClassVar[str] = "DELETE"


@dataclass(frozen=True, slots=True)
class Rename(Command):
    mailbox: str = ""
    new_mailbox: str = ""
    name: ClassVar[str] = "RENAME"


@dataclass(frozen=True, slots=True)
class Subscribe(Command):
    mailbox: str = ""
    name: ClassVar[str] = "SUBSCRIBE"


@dataclass(frozen=True, slots=True)
class Unsubscribe(Command):
    mailbox: str = ""
    name: ClassVar[str] = "UNSUBSCRIBE"


@dataclass(frozen=True, slots=True)
class ListReturnOption:
    """A LIST RETURN option (RFC 5258); ``status_items`` for ``STATUS (...)`` (RFC 5819)."""

    name: str
    status_items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class List(Command):
    """LIST; ``patterns`` has one entry unless the RFC 5258 ``(p1 p2)`` form was used.

    ``selection_options`` is None when no ``(...)`` was sent; ``return_options`` None when no RETURN.
    """

    reference: str = ""
    patterns: tuple[str, ...] = ("",)
    selection_options: tuple[str, ...] | None = None
    return_options: tuple[ListReturnOption, ...] | None = None
    multiple_patterns: bool = False
    name: ClassVar[str] = "LIST"


@dataclass(frozen=True, slots=True)
class Lsub(Command):
    reference: str = ""
    pattern: str = ""
    name: ClassVar[str] = "LSUB"


@dataclass(frozen=True, slots=True)
class Namespace(Command):
    name: ClassVar[str] = "NAMESPACE"


@dataclass(frozen=True, slots=True)
class Status(Command):
    mailbox: str = ""
    items: tuple[str, ...] = ()
    name: ClassVar[str] = "STATUS"


class AppendKind(Enum):
    """How an APPEND message was sent."""

    LITERAL = "literal"  # {n} / {n+}
    LITERAL8 = "literal8"  # ~{n} (RFC 3516 BINARY)
    UTF8 = "utf8"  # UTF8 (~{n}) (RFC 6855)
    CATENATE = "catenate"  # CATENATE (...) (RFC 4469)


@dataclass(frozen=True, slots=True)
class CatenatePart:
    """``URL url`` (``url`` set) or ``TEXT literal`` (``text`` set; ``literal8`` for ``~{n}``)."""

    url: str | None = None
    text: bytes | None = None
    literal8: bool = False


@dataclass(frozen=True, slots=True)
class AppendMessage:
    """One message of APPEND / MULTIAPPEND (RFC 3502) or REPLACE (RFC 8508).

    ``flags`` is None when no flag list was sent; ``internal_date`` None when no date-time was sent.
    ``data`` is the message for every kind but CATENATE, whose pieces are ``parts``.
    """

    flags: tuple[str, ...] | None = None
    internal_date: _dt.datetime | None = None
    data: bytes = b""
    kind: AppendKind = AppendKind.LITERAL
    parts: tuple[CatenatePart, ...] = ()


@dataclass(frozen=True, slots=True)
class Append(Command):
    mailbox: str = ""
    messages: tuple[AppendMessage, ...] = ()
    name: ClassVar[str] = "APPEND"


@dataclass(frozen=True, slots=True)
class Idle(Command):
    name: ClassVar[str] = "IDLE"


@dataclass(frozen=True, slots=True)
class Unauthenticate(Command):
    name: ClassVar[str] = "UNAUTHENTICATE"


@dataclass(frozen=True, slots=True)
class GetQuota(Command):
    root: str = ""
    name: ClassVar[str] = "GETQUOTA"


@dataclass(frozen=True, slots=True)
class GetQuotaRoot(Command):
    mailbox: str = ""
    name: ClassVar[str] = "GETQUOTAROOT"


@dataclass(frozen=True, slots=True)
class SetQuota(Command):
    """``limits``: (resource name upper-cased, limit) pairs; RFC 9208 §4.2.3."""

    root: str = ""
    limits: tuple[tuple[str, int], ...] = ()
    name: ClassVar[str] = "SETQUOTA"


@dataclass(frozen=True, slots=True)
class GetMetadata(Command):
    """RFC 5464 §4.2; ``depth`` is "0", "1" or "infinity" (None when not sent)."""

    mailbox: str = ""
    entries: tuple[str, ...] = ()
    max_size: int | None = None
    depth: str | None = None
    entry_list: bool = False  # sent as a parenthesised list
    name: ClassVar[str] = "GETMETADATA"


@dataclass(frozen=True, slots=True)
class SetMetadata(Command):
    """RFC 5464 §4.3; a value of None (NIL) removes the entry."""

    mailbox: str = ""
    entries: tuple[tuple[str, bytes | None], ...] = ()
    name: ClassVar[str] = "SETMETADATA"


@dataclass(frozen=True, slots=True)
class NotifyEvent:
    """An RFC 5465 event; ``fetch_items`` only for MessageNew."""

    name: str
    fetch_items: tuple = ()


@dataclass(frozen=True, slots=True)
class NotifyGroup:
    """``(filter events)``; ``events`` None means NONE."""

    filter: str
    mailboxes: tuple[str, ...] = ()
    events: tuple[NotifyEvent, ...] | None = None
    many_mailboxes: bool = False


@dataclass(frozen=True, slots=True)
class Notify(Command):
    """NOTIFY NONE (``groups`` empty, ``set`` false) or NOTIFY SET [STATUS] groups; RFC 5465 §8."""

    set: bool = False
    status: bool = False
    groups: tuple[NotifyGroup, ...] = ()
    name: ClassVar[str] = "NOTIFY"


@dataclass(frozen=True, slots=True)
class SetAcl(Command):
    mailbox: str = ""
    identifier: str = ""
    rights: str = ""
    name: ClassVar[str] = "SETACL"


@dataclass(frozen=True, slots=True)
class DeleteAcl(Command):
    mailbox: str = ""
    identifier: str = ""
    name: ClassVar[str] = "DELETEACL"


@dataclass(frozen=True, slots=True)
class GetAcl(Command):
    mailbox: str = ""
    name: ClassVar[str] = "GETACL"


@dataclass(frozen=True, slots=True)
class ListRights(Command):
    mailbox: str = ""
    identifier: str = ""
    name: ClassVar[str] = "LISTRIGHTS"


@dataclass(frozen=True, slots=True)
class MyRights(Command):
    mailbox: str = ""
    name: ClassVar[str] = "MYRIGHTS"


@dataclass(frozen=True, slots=True)
class Compress(Command):
    mechanism: str = ""
    name: ClassVar[str] = "COMPRESS"


@dataclass(frozen=True, slots=True)
class GenUrlAuth(Command):
    """``requests``: (url-rump, mechanism) pairs; RFC 4467 §7."""

    requests: tuple[tuple[str, str], ...] = ()
    name: ClassVar[str] = "GENURLAUTH"


@dataclass(frozen=True, slots=True)
class ResetKey(Command):
    mailbox: str | None = None
    mechanisms: tuple[str, ...] = ()
    name: ClassVar[str] = "RESETKEY"


@dataclass(frozen=True, slots=True)
class UrlFetch(Command):
    urls: tuple[str, ...] = ()
    name: ClassVar[str] = "URLFETCH"


# --- command-select (RFC 9051 §6.4 and extensions) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check(Command):
    name: ClassVar[str] = "CHECK"


@dataclass(frozen=True, slots=True)
class Close(Command):
    name: ClassVar[str] = "CLOSE"


@dataclass(frozen=True, slots=True)
class Unselect(Command):
    name: ClassVar[str] = "UNSELECT"


@dataclass(frozen=True, slots=True)
class Expunge(Command):
    """EXPUNGE, or UID EXPUNGE sequence-set (RFC 4315) when ``uid``."""

    uid: bool = False
    sequence_set: SequenceSet | None = None
    name: ClassVar[str] = "EXPUNGE"


@dataclass(frozen=True, slots=True)
class Copy(Command):
    uid: bool = False
    sequence_set: SequenceSet = SequenceSet()
    mailbox: str = ""
    name: ClassVar[str] = "COPY"


@dataclass(frozen=True, slots=True)
class Move(Command):
    uid: bool = False
    sequence_set: SequenceSet = SequenceSet()
    mailbox: str = ""
    name: ClassVar[str] = "MOVE"


@dataclass(frozen=True, slots=True)
class FetchItem:
    """One fetch attribute (RFC 9051 §6.4.5).

    ``name`` is upper-case: ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT
    BODYSTRUCTURE UID MODSEQ EMAILID THREADID SAVEDATE PREVIEW, ``BODY`` (with ``section`` None it is the
    non-extensible BODYSTRUCTURE), ``BINARY`` and ``BINARY.SIZE``. ``peek`` is BODY.PEEK / BINARY.PEEK;
    ``lazy`` is PREVIEW (LAZY) (RFC 8970).
    """

    name: str
    section: Section | None = None
    partial: Partial | None = None
    peek: bool = False
    lazy: bool = False


#: The fetch macros of RFC 9051 §6.4.5.
FETCH_MACROS = {
    "ALL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"),
    "FAST": ("FLAGS", "INTERNALDATE", "RFC822.SIZE"),
    "FULL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"),
}


@dataclass(frozen=True, slots=True)
class Fetch(Command):
    """FETCH / UID FETCH. ``macro`` is ALL / FAST / FULL when one was sent (``items`` is its expansion).

    ``changed_since`` and ``vanished`` are the RFC 7162 fetch modifiers. ``single`` is true when one
    attribute was sent without parentheses.
    """

    uid: bool = False
    sequence_set: SequenceSet = SequenceSet()
    items: tuple[FetchItem, ...] = ()
    macro: str | None = None
    changed_since: int | None = None
    vanished: bool = False
    single: bool = False
    name: ClassVar[str] = "FETCH"


class StoreMode(Enum):
    REPLACE = ""
    ADD = "+"
    REMOVE = "-"


@dataclass(frozen=True, slots=True)
class StoreAction:
    """``[+|-]FLAGS[.SILENT] flags``; RFC 9051 §6.4.6. ``parenthesized`` says how the flags were sent."""

    mode: StoreMode = StoreMode.REPLACE
    silent: bool = False
    flags: tuple[str, ...] = ()
    parenthesized: bool = True


@dataclass(frozen=True, slots=True)
class Store(Command):
    uid: bool = False
    sequence_set: SequenceSet = SequenceSet()
    action: StoreAction = StoreAction()
    unchanged_since: int | None = None
    name: ClassVar[str] = "STORE"


@dataclass(frozen=True, slots=True)
class SearchReturnOption:
    """A RETURN option (RFC 4731 MIN MAX ALL COUNT, RFC 5182 SAVE, RFC 5267 CONTEXT UPDATE, RFC 9394
    PARTIAL with ``partial`` = (first, last), negative for the ``-n:-m`` form)."""

    name: str
    partial: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Search(Command):
    """SEARCH / UID SEARCH. ``return_options`` None means no RETURN (a plain SEARCH response)."""

    uid: bool = False
    charset: str | None = None
    criteria: SearchAnd = SearchAnd()
    return_options: tuple[SearchReturnOption, ...] | None = None
    name: ClassVar[str] = "SEARCH"


@dataclass(frozen=True, slots=True)
class SortCriterion:
    key: str
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Sort(Command):
    """SORT / UID SORT (RFC 5256), with ESORT return options (RFC 5267)."""

    uid: bool = False
    criteria: tuple[SortCriterion, ...] = ()
    charset: str = "UTF-8"
    search: SearchAnd = SearchAnd()
    return_options: tuple[SearchReturnOption, ...] | None = None
    name: ClassVar[str] = "SORT"


@dataclass(frozen=True, slots=True)
class Thread(Command):
    uid: bool = False
    algorithm: str = "REFERENCES"
    charset: str = "UTF-8"
    search: SearchAnd = SearchAnd()
    name: ClassVar[str] = "THREAD"


@dataclass(frozen=True, slots=True)
class Replace(Command):
    """REPLACE / UID REPLACE (RFC 8508): ``number`` is a sequence number, or a UID when ``uid``."""

    uid: bool = False
    number: int = 1
    mailbox: str = ""
    message: AppendMessage = AppendMessage()
    name: ClassVar[str] = "REPLACE"


@dataclass(frozen=True, slots=True)
class CancelUpdate(Command):
    """CANCELUPDATE (RFC 5267 §4.2): the tags of the SEARCH/SORT UPDATE contexts to cancel."""

    tags: tuple[str, ...] = ()
    name: ClassVar[str] = "CANCELUPDATE"


#: Every command class by its name.
COMMAND_CLASSES: dict[str, type[Command]] = {
    cls.name: cls
    for cls in (
        Capability, Noop, Logout, Id, StartTls, Authenticate, Login, Enable, Select, Examine, Create,
        Delete, Rename, Subscribe, Unsubscribe, List, Lsub, Namespace, Status, Append, Idle, Unauthenticate,
        GetQuota, GetQuotaRoot, SetQuota, GetMetadata, SetMetadata, Notify, SetAcl, DeleteAcl, GetAcl,
        ListRights, MyRights, Compress, GenUrlAuth, ResetKey, UrlFetch, Check, Close, Unselect, Expunge,
        Copy, Move, Fetch, Store, Search, Sort, Thread, Replace, CancelUpdate,
    )
}
