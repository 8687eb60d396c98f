"""Opening and closing the selected mailbox: SELECT, EXAMINE, CLOSE, UNSELECT, CHECK.

SELECT/EXAMINE (RFC 9051 §6.3.2, §6.3.3) open a ``SelectedMailbox`` (``ctx.select``: feed subscription
first, then one store snapshot) and describe it, in the order Dovecot uses:

    * OK [CLOSED]                  only when another mailbox was selected (RFC 9051 §7.1, RFC 7162 §3.2.11)
    * FLAGS (...)                  system flags and the keywords in use
    * OK [PERMANENTFLAGS (...)]    the same plus \\* (empty for a read-only mailbox)
    * n EXISTS
    * r RECENT                     IMAP4rev1 sessions only (RFC 3501 §7.3.2)
    * OK [UNSEEN s]                IMAP4rev1 sessions only, when a message is unseen (RFC 3501 §6.3.1)
    * OK [UIDVALIDITY v] / [UIDNEXT u]
    * OK [HIGHESTMODSEQ m]         once CONDSTORE is on (RFC 7162 §3.1.2.1: "once a CONDSTORE enabling
                                   command is issued"; this SELECT's (CONDSTORE) counts)
    * OK [MAILBOXID (...)]         RFC 8474 §4.1
    * LIST (...) "/" name          IMAP4rev2 sessions (RFC 9051 §6.3.2: REQUIRED)
    * VANISHED (EARLIER) ... / * n FETCH (UID FLAGS MODSEQ)   SELECT (QRESYNC ...) (RFC 7162 §3.2.5)
    tag OK [READ-WRITE] | [READ-ONLY]

\\Recent (rev1): a SELECT claims the mailbox's recent messages for this session (the store hands them to
one session only); EXAMINE must not change \\Recent (RFC 3501 §6.3.2), so it reports the store's count
and claims nothing.

A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2): ``ctx.select`` drops the old view before
opening the new one, and the state table moves the connection to authenticated state on the ``NO``.
"""

from __future__ import annotations

from imapcore.protocol import codes
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import BadCommand
from imapcore.protocol.responses import Atom, DataResponse, Raw, Status, StatusResponse, UntaggedBytes
from imapcore.store import MailboxNotFound
from imapcore.syntax import commands as c
from imapcore.syntax.model import STAR, SequenceSet

from . import listing
from .context import SessionContext
from .mailboxes import DELIMITER, store_name, wire_name
from .registry import Completion, handles
from .selected import SelectedMailbox, flag_lines


@handles(c.Select, c.Examine)
async def select(ctx: SessionContext, cmd: c.Select | c.Examine) -> Completion:
    read_only = isinstance(cmd, c.Examine)
    qresync = cmd.qresync
    seq_match: list[tuple[int, int]] = []
    if qresync is not None:
        # RFC 7162 §3.2.5: QRESYNC parameters need ENABLE QRESYNC first, and are checked before the
        # mailbox is opened (a BAD leaves the current selection alone).
        if not ctx.qresync:
            raise BadCommand("QRESYNC parameter without ENABLE QRESYNC")
        seq_match = _sequence_match(qresync)
    if ctx.selected is not None:
        # RFC 9051 §6.3.2: the current mailbox is closed whatever happens next (even an undecodable name:
        # the NO then leaves authenticated state, and the session drops the view).
        ctx.untagged(StatusResponse(Status.OK, "Previous mailbox closed.", ResponseCode(Code.CLOSED)))
    name = store_name(ctx, cmd.mailbox)
    view = await ctx.select(name, read_only)
    try:
        if cmd.condstore or qresync is not None:
            ctx.use_condstore()  # RFC 7162 §3.1.8 / §3.2.5: (CONDSTORE) and (QRESYNC) enable CONDSTORE
        await _describe(ctx, view, read_only)
        if qresync is not None and qresync.uid_validity == view.uid_validity:
            await _resync(ctx, view, qresync, seq_match)
    except Exception:
        # Deleted between the snapshot and now, or a store failure: the SELECT fails as a whole and,
        # like the connection's state after the NO, nothing stays selected.
        await ctx.unselect()
        raise
    view.opening = False
    code = ResponseCode(Code.READ_ONLY if read_only else Code.READ_WRITE)
    return Completion(code, "EXAMINE completed" if read_only else "SELECT completed")


async def _describe(ctx: SessionContext, view: SelectedMailbox, read_only: bool) -> None:
    store = ctx.store
    snapshot = view.snapshot
    status = snapshot.status
    ctx.untagged(UntaggedBytes(b"".join(flag_lines(snapshot.keywords, read_only))))
    ctx.untagged(DataResponse((view.exists, Atom("EXISTS"))))
    if not ctx.rev2:
        if read_only:
            recent = status.recent
        elif status.recent:  # nothing to claim otherwise: spare the write transaction
            claimed = await ctx.run_store(store.claim_recent, view.mailbox_id)
            known = set(view.uids)
            view.recent.update(uid for uid in claimed if uid in known)
            recent = len(view.recent)
        else:
            recent = len(view.recent)
        ctx.untagged(DataResponse((recent, Atom("RECENT"))))
        if status.unseen:
            # One indexed query whose cost grows with the mailbox: inline for a small one (no thread hop
            # on every SELECT of a rev1 client), in a worker thread for a large one.
            # Not restricted to the view's UIDs (encoding them into the query costs more than the
            # query): a message added since the snapshot has a higher UID than every known one, so the
            # smallest unseen UID is the same, and ``seq_of`` leaves out one the client was not told of.
            unseen = await ctx.run_read(store.first_unseen, view.mailbox_id, size=len(view.uids))
            first = view.seq_of(unseen) if unseen is not None else None
            if first is not None:
                # RFC 3501 §7.1 [UNSEEN n] (gone from IMAP4rev2): the first unseen message.
                ctx.untagged(StatusResponse(Status.OK, f"First unseen.", ResponseCode("UNSEEN", str(first))))
    ctx.untagged(StatusResponse(Status.OK, "UIDs valid", codes.uidvalidity(view.uid_validity)))
    ctx.untagged(StatusResponse(Status.OK, "Predicted next UID", codes.uidnext(view.uid_next)))
    if ctx.condstore:
        ctx.untagged(StatusResponse(Status.OK, "Highest", codes.highestmodseq(view.highest_modseq)))
    ctx.untagged(StatusResponse(Status.OK, "Ok", codes.mailboxid(status.mailbox_id)))
    if ctx.rev2:
        await _list_response(ctx, view)


async def _list_response(ctx: SessionContext, view: SelectedMailbox) -> None:
    """RFC 9051 §6.3.2: the LIST response of the selected mailbox, with accurate attributes."""
    store = ctx.store
    mailboxes = await ctx.run_store(store.list_mailboxes, ctx.user)
    pattern = "".join("*" if ch in "*%" else ch for ch in view.name)  # names never hold wildcards
    request = listing.ListRequest(patterns=(pattern,), special_use=True)
    # No \Subscribed asked for (nor selected on): the subscriptions are not read.
    for entry in listing.list_entries(mailboxes, (), request):
        if entry.name == view.name:
            ctx.untagged(
                DataResponse((Atom("LIST"), tuple(Atom(a) for a in entry.attributes), DELIMITER, wire_name(ctx, entry.name)))
            )


def _sequence_match(qresync: c.QResync) -> list[tuple[int, int]]:
    """RFC 7162 §3.2.5.2: the (sequence number, UID) pairs of the message sequence match data."""
    seqs_set, uids_set = qresync.known_sequence_set, qresync.known_uid_set
    if seqs_set is None or uids_set is None:
        return []
    seqs = _expand(seqs_set)
    uids = _expand(uids_set)
    if len(seqs) != len(uids):
        raise BadCommand("QRESYNC sequence match data: the two sets differ in size")
    return list(zip(seqs, uids))


def _expand(sequence_set: SequenceSet, limit: int = 100_000) -> list[int]:
    numbers: list[int] = []
    for low, high in sequence_set.ranges:
        if low == STAR or high == STAR:
            raise BadCommand("QRESYNC sequence match data cannot use *")
        low, high = min(low, high), max(low, high)
        if len(numbers) + high - low + 1 > limit:
            raise BadCommand("QRESYNC sequence match data too large")
        numbers.extend(range(low, high + 1))
    return numbers


async def _resync(ctx: SessionContext, view: SelectedMailbox, qresync: c.QResync, seq_match: list[tuple[int, int]]) -> None:
    """RFC 7162 §3.2.5.1: expunges (VANISHED (EARLIER)) and flag changes since the client's modseq, for the
    UIDs it knows (all of 1:UIDNEXT-1 when it sent none). The store keeps every expunge's modseq, so the
    answer is exact; the sequence match data (§3.2.5.2) still trims what the client says it knows."""
    store = ctx.store
    known = qresync.known_uids
    vanished = await ctx.run_store(store.vanished_since, view.mailbox_id, qresync.mod_seq, known)
    floor = 0
    for seq, uid in seq_match:
        if 1 <= seq <= view.exists and view.uids[seq - 1] == uid:
            floor = uid
        else:
            break
    vanished = [uid for uid in vanished if uid > floor]
    if vanished:
        ctx.untagged(DataResponse((Atom("VANISHED"), Raw(b"(EARLIER)"), Raw(codes.uid_set(vanished).encode("ascii")))))
    changed = await ctx.run_store(store.changed_since, view.mailbox_id, qresync.mod_seq, known)
    for change in changed:
        seq = view.seq_of(change.uid)
        if seq is not None:  # newer messages are told through the feed, with EXISTS first
            ctx.untagged(view.flags_response(seq, change.uid, change.flags, change.modseq))


@handles(c.Close)
async def close(ctx: SessionContext, cmd: c.Close) -> Completion:
    """RFC 9051 §6.4.1: expunge \\Deleted messages without EXPUNGE responses (not for a read-only
    mailbox), then return to authenticated state."""
    view = ctx.selected
    if view is not None and not view.read_only and not view.deleted:
        try:
            await ctx.run_store(ctx.store.expunge, view.mailbox_id, None, user=ctx.user)
        except MailboxNotFound:
            pass  # deleted meanwhile: nothing left to expunge
    await ctx.unselect()
    return Completion(text="CLOSE completed")


@handles(c.Unselect)
async def unselect(ctx: SessionContext, cmd: c.Unselect) -> Completion:
    """RFC 9051 §6.4.2: leave selected state without expunging."""
    await ctx.unselect()
    return Completion(text="UNSELECT completed")


@handles(c.Check)
async def check(ctx: SessionContext, cmd: c.Check) -> Completion:
    """RFC 3501 §6.4.1: a checkpoint. Every transaction is already durable when it commits, so there is
    nothing to do; the session reports pending changes after it like after NOOP."""
    return Completion(text="CHECK completed")

