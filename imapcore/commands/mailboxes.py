"""Mailbox commands: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, NAMESPACE, STATUS.

Names cross the wire in the session's mode (``mutf7``: modified UTF-7 for IMAP4rev1, UTF-8 after
``ENABLE IMAP4rev2`` / ``UTF8=ACCEPT``) and reach the store as Unicode text; the store validates them
(``imapcore.store.names``: an invalid name is ``NO [CANNOT]``), treats INBOX case-insensitively and
raises the RFC 5530 codes (ALREADYEXISTS, NONEXISTENT, HASCHILDREN, CANNOT) that the dispatcher maps.

Documented choices (compared with Dovecot on the same sessions):

* one personal namespace rooted at ``""`` with ``/`` as delimiter (RFC 9051 §6.3.10 NAMESPACE);
* CREATE makes missing superiors real mailboxes (RFC 9051 §6.3.4 allows it), where Dovecot leaves them
  as ``\\NonExistent`` placeholders; so DELETE of a name with inferiors is ``NO [HASCHILDREN]``
  (RFC 9051 §6.3.5 lets the server refuse) instead of turning it into a ``\\Noselect`` name;
* DELETE or RENAME of the mailbox this session has selected is allowed; the session's view notices
  through the change feed (``SelectedMailbox.deleted``), exactly as when another session does it;
* CREATE and RENAME answer ``OK [MAILBOXID (...)]`` (RFC 8474 §4.1, OBJECTID);
* special-use attributes are listed for IMAP4rev2 sessions and whenever asked (RETURN (SPECIAL-USE) or
  the SPECIAL-USE selection option, RFC 6154 §2), and for plain LIST as Dovecot does (RFC 6154 §2: "MAY
  include ... in the response to a plain LIST").
"""

from __future__ import annotations

from imapcore.protocol import codes
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import BadCommand, CommandFailed
from imapcore.protocol.responses import AString, Atom, DataResponse, UntaggedBytes
from imapcore.store import MailboxStatus
from imapcore.syntax import commands as c
from imapcore.syntax.model import SearchKey

from . import listing, mutf7
from .context import SessionContext
from .registry import Completion, handles

DELIMITER = listing.DELIMITER

#: RFC 6154 §2 attributes a mailbox can be created with (CREATE-SPECIAL-USE, RFC 6154 §3). \All and
#: \Flagged name virtual mailboxes this server cannot make: refused with USEATTR.
CREATABLE_SPECIAL_USE = {name.upper(): name for name in ("\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash")}
KNOWN_SPECIAL_USE = {**CREATABLE_SPECIAL_USE, "\\ALL": "\\All", "\\FLAGGED": "\\Flagged"}

#: STATUS items (RFC 9051 §6.3.11; RECENT RFC 3501; HIGHESTMODSEQ RFC 7162 §3.1.8; SIZE RFC 8438;
#: APPENDLIMIT RFC 7889 §4; MAILBOXID RFC 8474 §4.2; DELETED-STORAGE RFC 9208) and how each value is had:
#: only the items asked for are computed, and their atoms are made once (STATUS comes at every check).
_STATUS_VALUES = {
    "MESSAGES": lambda ctx, status, reclaimable: status.messages,
    "RECENT": lambda ctx, status, reclaimable: _recent(ctx, status),
    "UIDNEXT": lambda ctx, status, reclaimable: status.uid_next,
    "UIDVALIDITY": lambda ctx, status, reclaimable: status.uid_validity,
    "UNSEEN": lambda ctx, status, reclaimable: status.unseen,
    "DELETED": lambda ctx, status, reclaimable: status.deleted,
    "SIZE": lambda ctx, status, reclaimable: status.size,
    "HIGHESTMODSEQ": lambda ctx, status, reclaimable: status.highest_modseq,
    "APPENDLIMIT": lambda ctx, status, reclaimable: ctx.config.limits.max_literal_bytes,
    "MAILBOXID": lambda ctx, status, reclaimable: (Atom(status.mailbox_id),),
    "DELETED-STORAGE": lambda ctx, status, reclaimable: reclaimable,
}
_STATUS_ATOMS = {name: Atom(name) for name in _STATUS_VALUES}
_STATUS_ATOM = Atom("STATUS")
STATUS_ITEMS = tuple(_STATUS_VALUES)


# --- names -------------------------------------------------------------------------------------------------


def store_name(ctx: SessionContext, wire_name: str, *, strip_delimiter: bool = False) -> str:
    """The store's name for a mailbox name as sent by this client.

    ``strip_delimiter``: RFC 9051 §6.3.4 — a trailing delimiter on CREATE (and RENAME's new name) only
    says the client intends to create inferiors; the name created is without it.
    """
    name = mutf7.from_client(wire_name, ctx.utf8)
    if strip_delimiter and name.endswith(DELIMITER) and name.strip(DELIMITER):
        name = name.rstrip(DELIMITER)
    return name


def wire_name(ctx: SessionContext, name: str) -> AString:
    return AString(mutf7.to_client(name, ctx.utf8))


# --- CREATE / DELETE / RENAME --------------------------------------------------------------------------------


@handles(c.Create)
async def create(ctx: SessionContext, cmd: c.Create) -> Completion:
    """RFC 9051 §6.3.4; ``(USE (...))`` from RFC 6154 §3."""
    name = store_name(ctx, cmd.mailbox, strip_delimiter=True)
    special_use = _special_use(cmd.special_use)
    info = await ctx.run_store(ctx.store.create_mailbox, ctx.user, name, special_use=special_use)
    return Completion(codes.mailboxid(info.mailbox_id), "CREATE completed")


def _special_use(requested: tuple[str, ...]) -> str | None:
    """RFC 6154 §3: an unknown or unsupported USE attribute is ``NO [USEATTR]``."""
    if not requested:
        return None
    chosen: list[str] = []
    for attribute in requested:
        canonical = CREATABLE_SPECIAL_USE.get(attribute.upper())
        if canonical is None:
            reason = "virtual mailboxes are not supported" if attribute.upper() in KNOWN_SPECIAL_USE else "unknown"
            raise CommandFailed(ResponseCode(Code.USEATTR), f"Special-use attribute {attribute}: {reason}")
        if canonical not in chosen:
            chosen.append(canonical)
    return " ".join(chosen)


@handles(c.Delete)
async def delete(ctx: SessionContext, cmd: c.Delete) -> Completion:
    """RFC 9051 §6.3.5: INBOX and names with inferiors are refused (module docstring)."""
    name = store_name(ctx, cmd.mailbox)
    await ctx.run_store(ctx.store.delete_mailbox, ctx.user, name)
    return Completion(text="DELETE completed")


@handles(c.Rename)
async def rename(ctx: SessionContext, cmd: c.Rename) -> Completion:
    """RFC 9051 §6.3.6: inferiors follow; RENAME INBOX moves its messages to the new name and leaves
    INBOX empty (the store does both in one transaction)."""
    old = store_name(ctx, cmd.mailbox)
    new = store_name(ctx, cmd.new_mailbox, strip_delimiter=True)
    info = await ctx.run_store(ctx.store.rename_mailbox, ctx.user, old, new)
    return Completion(codes.mailboxid(info.mailbox_id), "RENAME completed")


# --- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------------------------------------------


@handles(c.Subscribe)
async def subscribe(ctx: SessionContext, cmd: c.Subscribe) -> Completion:
    """RFC 9051 §6.3.7: like Dovecot, only an existing mailbox can be subscribed (the RFC lets the server
    check); ``NO [NONEXISTENT]`` otherwise."""
    name = store_name(ctx, cmd.mailbox)
    await ctx.run_store(ctx.store.mailbox, ctx.user, name)
    await ctx.run_store(ctx.store.subscribe, ctx.user, name)
    return Completion(text="SUBSCRIBE completed")


@handles(c.Unsubscribe)
async def unsubscribe(ctx: SessionContext, cmd: c.Unsubscribe) -> Completion:
    """RFC 9051 §6.3.8: a name may be unsubscribed even if it no longer exists."""
    name = store_name(ctx, cmd.mailbox)
    await ctx.run_store(ctx.store.unsubscribe, ctx.user, name)
    return Completion(text="UNSUBSCRIBE completed")


# --- LIST / LSUB -------------------------------------------------------------------------------------------------

_SELECTION_OPTIONS = {"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"}
_RETURN_OPTIONS = {"SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS"}


@handles(c.List)
async def list_(ctx: SessionContext, cmd: c.List) -> Completion:
    """RFC 9051 §6.3.9 with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154) and LIST-STATUS (RFC 5819)."""
    selection = {option.upper() for option in (cmd.selection_options or ())}
    returns = {option.name.upper(): option for option in (cmd.return_options or ())}
    unknown = (selection - _SELECTION_OPTIONS) | (set(returns) - _RETURN_OPTIONS)
    if unknown:
        raise BadCommand(f"Unsupported LIST option {sorted(unknown)[0]}")  # RFC 5258 §3
    if "RECURSIVEMATCH" in selection and not selection - {"RECURSIVEMATCH", "REMOTE"}:
        raise BadCommand("RECURSIVEMATCH needs another selection option")  # RFC 5258 §3.2
    status_items = _status_items(returns["STATUS"].status_items) if "STATUS" in returns else ()
    # RFC 9051 §6.3.9: the extended syntax is any of selection options, return options, several patterns.
    extended = cmd.selection_options is not None or cmd.return_options is not None or cmd.multiple_patterns

    reference = mutf7_pattern(ctx, cmd.reference)
    patterns = [mutf7_pattern(ctx, pattern) for pattern in cmd.patterns]
    if not cmd.multiple_patterns and patterns == [""]:
        # RFC 9051 §6.3.9: LIST "" "" asks for the delimiter and the root name.
        ctx.untagged(DataResponse((Atom("LIST"), (Atom("\\Noselect"),), DELIMITER, AString(""))))
        return Completion(text="LIST completed")
    canonical = tuple(listing.canonical_pattern(reference, p) for p in patterns if p != "")
    request = listing.ListRequest(
        patterns=canonical,
        select_subscribed="SUBSCRIBED" in selection,
        select_special_use="SPECIAL-USE" in selection,
        recursive_match="RECURSIVEMATCH" in selection,
        return_subscribed="SUBSCRIBED" in returns or "SUBSCRIBED" in selection,  # RFC 5258 §3.1
        special_use=True,
        children=not extended or "CHILDREN" in returns,
    )
    store = ctx.store
    mailboxes = await ctx.run_store(store.mailbox_names, ctx.user)
    # Subscriptions only matter when selected or returned (``list_entries``); a plain LIST skips the read.
    uses_subscriptions = request.select_subscribed or request.return_subscribed
    subscriptions = await ctx.run_store(store.subscriptions, ctx.user) if uses_subscriptions else ()
    if not status_items:
        # The answer is a function of the mailboxes' names and special uses, the subscriptions, the
        # request and the name encoding: a mail client's LIST at every check gets the bytes it got last
        # time when none of those changed (read anyway: never stale), without building them again.
        key = (request, ctx.utf8, tuple(mailboxes), tuple(subscriptions))
        cached = ctx.list_cache
        if cached is None or cached[0] != key:
            responses = [_list_response(ctx, entry) for entry in listing.list_entries(mailboxes, subscriptions, request)]
            cached = ctx.list_cache = (key, b"".join([response.to_bytes(ctx.utf8) for response in responses]))
        if cached[1]:
            ctx.untagged(UntaggedBytes(cached[1]))
        return Completion(text="LIST completed")
    entries = listing.list_entries(mailboxes, subscriptions, request)
    # RFC 5819: one store read gives every mailbox's counters, whatever the number of entries.
    statuses = await ctx.run_store(store.statuses, ctx.user)
    for entry in entries:
        ctx.untagged(_list_response(ctx, entry))
        status = statuses.get(entry.name)
        if status is not None:
            # RFC 5819 §2: the STATUS response follows the mailbox's LIST response.
            reclaimable = await _reclaimable(ctx, status, status_items)
            _queue_status(ctx, entry.name, status, status_items, reclaimable)
    return Completion(text="LIST completed")


def _list_response(ctx: SessionContext, entry: listing.ListEntry) -> DataResponse:
    items: tuple = (Atom("LIST"), tuple(Atom(a) for a in entry.attributes), DELIMITER, wire_name(ctx, entry.name))
    if entry.child_info:
        items += (("CHILDINFO", entry.child_info),)  # RFC 5258 §3.5
    return DataResponse(items)


def mutf7_pattern(ctx: SessionContext, text: str) -> str:
    """A LIST reference or pattern in store terms. The wildcards are printable ASCII, so a rev1 pattern
    decodes like a name; one that is not valid modified UTF-7 matches nothing rather than failing."""
    if ctx.utf8:
        return text
    try:
        return mutf7.decode(text)
    except mutf7.InvalidModifiedUtf7:
        return "\x00"  # no stored name contains NUL


@handles(c.Lsub)
async def lsub(ctx: SessionContext, cmd: c.Lsub) -> Completion:
    """RFC 3501 §6.3.9 (IMAP4rev1; RFC 9051 keeps it for compatibility)."""
    reference = mutf7_pattern(ctx, cmd.reference)
    pattern = mutf7_pattern(ctx, cmd.pattern)
    if pattern == "":
        return Completion(text="LSUB completed")  # no delimiter probe for LSUB (Dovecot answers nothing)
    store = ctx.store
    mailboxes = await ctx.run_store(store.list_mailboxes, ctx.user)
    subscriptions = await ctx.run_store(store.subscriptions, ctx.user)
    for entry in listing.lsub_entries(mailboxes, subscriptions, listing.canonical_pattern(reference, pattern)):
        ctx.untagged(
            DataResponse((Atom("LSUB"), tuple(Atom(a) for a in entry.attributes), DELIMITER, wire_name(ctx, entry.name)))
        )
    return Completion(text="LSUB completed")


# --- NAMESPACE -----------------------------------------------------------------------------------------------------


@handles(c.Namespace)
async def namespace(ctx: SessionContext, cmd: c.Namespace) -> Completion:
    """RFC 9051 §6.3.10 / RFC 2342: one personal namespace, no other users' or shared ones."""
    ctx.untagged(DataResponse((Atom("NAMESPACE"), (("", DELIMITER),), None, None)))
    return Completion(text="NAMESPACE completed")


# --- STATUS ----------------------------------------------------------------------------------------------------------


def _status_items(requested: tuple[str, ...]) -> tuple[str, ...]:
    items: list[str] = []
    for item in requested:
        name = item.upper()
        if name not in STATUS_ITEMS:
            raise BadCommand(f"Unknown STATUS item {item}")
        if name not in items:
            items.append(name)
    return tuple(items)


def _recent(ctx: SessionContext, status: MailboxStatus) -> int:
    """RFC 3501 §6.3.10 RECENT: the store counts the messages no session has claimed yet; for the mailbox
    this session has selected, the ones it claimed are recent too (Dovecot answers the same)."""
    selected = ctx.selected
    if selected is not None and selected.mailbox_id == status.id:
        return status.recent + len(selected.recent)
    return status.recent


def deleted_storage(store, mailbox_id: int) -> int:
    """RFC 9208 §4.1.4 DELETED-STORAGE: what an EXPUNGE would free. Blobs are shared between messages,
    so the exact disk figure is not per mailbox; the RFC's allowed stand-in is used: the sum of the
    RFC822.SIZE of the messages flagged \\Deleted (octets). Blocking."""
    uids = store.search(mailbox_id, SearchKey("DELETED"))
    if not uids:
        return 0
    return sum(row.size for row in store.fetch_rows(mailbox_id, uids, ("size",)))


async def _reclaimable(ctx: SessionContext, status: MailboxStatus, items: tuple[str, ...]) -> int:
    if "DELETED-STORAGE" not in items or not status.deleted:
        return 0
    return await ctx.run_store(deleted_storage, ctx.store, status.id)


def _queue_status(
    ctx: SessionContext, name: str, status: MailboxStatus, items: tuple[str, ...], reclaimable: int = 0
) -> None:
    if "HIGHESTMODSEQ" in items:
        ctx.use_condstore()  # RFC 7162 §3.1: STATUS (HIGHESTMODSEQ) is a CONDSTORE-enabling command
    attributes: list = []
    for item in items:
        attributes += [_STATUS_ATOMS[item], _STATUS_VALUES[item](ctx, status, reclaimable)]
    ctx.untagged(DataResponse((_STATUS_ATOM, wire_name(ctx, name), tuple(attributes))))



@handles(c.Status)
async def status(ctx: SessionContext, cmd: c.Status) -> Completion:
    """RFC 9051 §6.3.11; allowed on the selected mailbox too (the counts are the store's)."""
    items = _status_items(cmd.items)
    name = store_name(ctx, cmd.mailbox)
    info = await ctx.run_store(ctx.store.status, ctx.user, name)
    _queue_status(ctx, info.name, info, items, await _reclaimable(ctx, info, items))
    return Completion(text="STATUS completed")
