"""``SelectedMailbox``: one session's view of its selected mailbox, kept in step with the change feed.

Theory of operation
-------------------
IMAP sequence numbers belong to a session: message *n* is the n-th UID of what this client has been
told (RFC 9051 §2.3.1.2). So the view keeps ``uids``, the sorted UIDs the client knows about, and only
changes it when it tells the client (``* n EXISTS``, ``* n EXPUNGE`` / ``* VANISHED``).

Opening: subscribe to the mailbox's change feed *first*, then read the snapshot from the store
(``Store.select``). Changes committed between the two arrive on the feed although the snapshot already
holds them, so every change is applied idempotently: a new UID below the snapshot's UIDNEXT is already
known, an expunge of an unknown UID is ignored, a flag change whose MODSEQ is not above what this
session already knows (the snapshot's HIGHESTMODSEQ, or what its own STORE reported) is not repeated.

Changes from other sessions (and other paths: delivery, the CLI) are collected by ``poll`` (at a command
boundary) or ``wait`` (IDLE) and turned into responses by ``pending_updates(allow_expunge)``:

* new messages: ``* n EXISTS`` (and ``* r RECENT`` for an IMAP4rev1 client); EXISTS never goes down
  except through EXPUNGE responses;
* flag changes: ``* n FETCH (UID u FLAGS (...) [MODSEQ (m)])`` (MODSEQ once CONDSTORE is on, RFC 7162
  §3.1.4; UID always, as QRESYNC requires, RFC 7162 §3.2.4);
* expunges: deferred while ``allow_expunge`` is false, because RFC 9051 §7.5.1 forbids EXPUNGE while
  answering FETCH, STORE or SEARCH (the numbers the client sent must keep meaning the same messages);
  then ``* n EXPUNGE`` (highest first, so no number shifts under a later one) or, with QRESYNC,
  one ``* VANISHED uid-set`` (RFC 7162 §3.2.10).

This session's own changes are reported by the command that made them (``note_flags`` after a STORE,
``note_expunged`` after EXPUNGE/MOVE), which also records them so that their echo on the feed is not
reported a second time. A ``RESYNC`` from the feed (this session fell behind) reloads the UIDs and the
flag changes since the known HIGHESTMODSEQ from the store and reports the difference.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from imapcore.protocol import codes
from imapcore.protocol.errors import BadCommand
from imapcore.protocol.responses import (
    Atom, DataResponse, FetchResponse, Raw, Response, Status, StatusResponse, UntaggedBytes,
)
from imapcore.store import Change, ChangeKind, FlagChange, MailboxNotFound, MailboxSnapshot
from imapcore.syntax.model import STAR, SequenceSet

if TYPE_CHECKING:
    from imapcore.store import Subscription

    from .context import SessionContext

#: Mailbox ids a session remembers by name (``SelectedMailbox.open``); forgotten all at once past this.
_KNOWN_IDS_MAX = 64

#: RFC 9051 §2.3.2: the system flags, in the order they are usually listed.
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")


@functools.lru_cache(maxsize=256)
def flag_lines(keywords: frozenset[str], read_only: bool) -> tuple[bytes, bytes]:
    """The ``* FLAGS (...)`` and ``* OK [PERMANENTFLAGS (...)]`` lines of a mailbox with these keywords
    (RFC 9051 §7.3.5, §7.1), for SELECT and for a keyword new to the mailbox: the same for every mailbox
    with the same keywords, so made once (a mail client SELECTs at every check)."""
    flags = (*SYSTEM_FLAGS, *sorted(keywords))
    permanent = () if read_only else (*flags, "\\*")
    text = "Read-only mailbox." if read_only else "Flags permitted."
    return (DataResponse((Atom("FLAGS"), tuple(Atom(flag) for flag in flags))).to_bytes(),
            StatusResponse(Status.OK, text, codes.permanentflags(permanent)).to_bytes())


def flag_atoms(flags: Iterable[str]) -> tuple[Atom, ...]:
    """Flags in a stable order (system flags first, then keywords sorted) as response atoms."""
    flags = set(flags)
    ordered = [flag for flag in SYSTEM_FLAGS if flag in flags]
    ordered += sorted(flag for flag in flags if flag not in SYSTEM_FLAGS)
    return tuple(Atom(flag) for flag in ordered)


@dataclass(frozen=True, slots=True)
class SpareSubscription:
    """The feed subscription of a selection being replaced, with whose mailbox it follows."""

    user: str | None
    mailbox_id: int
    subscription: Subscription


class SelectedMailbox:
    """The selected mailbox of one session (see the module docstring)."""

    def __init__(
        self,
        ctx: SessionContext,
        snapshot: MailboxSnapshot,
        subscription: Subscription,
        read_only: bool,
    ) -> None:
        status = snapshot.status
        self._ctx = ctx
        self._user = ctx.user
        self._subscription: Subscription | None = subscription
        self.snapshot = snapshot
        self.mailbox_id = status.id
        self.name = status.name
        self.read_only = read_only
        self.uid_validity = status.uid_validity
        self.uid_next = status.uid_next
        self.highest_modseq = status.highest_modseq
        self.uids: list[int] = list(snapshot.uids)
        #: rev1 \Recent (RFC 3501 §2.3.2) UIDs of this session; the SELECT handler fills it.
        self.recent: set[int] = set()
        #: RFC 5182 SEARCHRES: the UIDs saved by SEARCH RETURN (SAVE); reset by a new SELECT.
        self.saved_result: tuple[int, ...] | None = None
        #: True while the SELECT/EXAMINE that opened this view is still running.
        self.opening = True
        #: True once the mailbox was deleted (or renamed away) by another session.
        self.deleted = False
        self._told_exists = len(self.uids)
        self._told_recent = 0
        # A new UID at or below this is already in ``uids`` (or was expunged before we looked).
        self._max_known = status.uid_next - 1
        # Flag changes with a MODSEQ at or below this are already known to the client.
        self._baseline_modseq = status.highest_modseq
        self._own_flags: dict[int, int] = {}  # uid -> MODSEQ this session's STORE already reported
        self._expunge_pending: set[int] = set()  # expunged elsewhere, not yet told (RFC 9051 §7.5.1)
        self._flag_updates: dict[int, tuple[frozenset[str], int]] = {}
        self._changes: list[Change] = []
        self._unclaimed_arrivals = False
        #: Keywords the client was told are defined (``* FLAGS``); a new one is announced (RFC 9051 §7.3.5).
        self.keywords: set[str] = set(snapshot.keywords)
        self._keywords_grew = False
        self._claimed: set[int] = set()  # \\Recent UIDs claimed from the store, not yet in ``recent``

    # --- opening and closing ------------------------------------------------------------------------

    @classmethod
    async def open(
        cls, ctx: SessionContext, name: str, read_only: bool, spare: SpareSubscription | None = None
    ) -> SelectedMailbox:
        """Subscribe to the mailbox's changes, then read its snapshot (see the module docstring).

        The feed subscription needs the mailbox id before the snapshot is read. The id this session
        found the last time it opened ``name`` is tried first, which spares a store read on every
        re-SELECT: if the snapshot shows that id, the subscription was made before the snapshot, as
        required; if not (the name now belongs to another mailbox), the id is looked up again.

        ``spare``: the previous selection's subscription (``release_subscription``). Re-selecting the
        same mailbox keeps it instead of closing it and opening a new one: it was made before this
        snapshot too, and whatever it still holds from before is applied idempotently like any change
        the snapshot already shows. It is closed here when not used."""
        try:
            store = ctx.store
            known_ids = ctx.mailbox_ids
            key = (ctx.user, name)  # UNAUTHENTICATE may change the user
            mailbox_id = known_ids.get(key)
            if mailbox_id is not None:
                reuse = None
                if spare is not None and spare.user == ctx.user and spare.mailbox_id == mailbox_id:
                    reuse, spare = spare.subscription, None
                opened = await cls._subscribe_and_read(ctx, name, mailbox_id, reuse, raise_if_replaced=False)
                if opened is not None:
                    return cls(ctx, opened[0], opened[1], read_only)
                known_ids.pop(key, None)
            info = await ctx.run_store(store.mailbox, ctx.user, name)
            reuse = None
            if spare is not None and spare.user == ctx.user and spare.mailbox_id == info.id:
                reuse, spare = spare.subscription, None
            snapshot, subscription = await cls._subscribe_and_read(ctx, name, info.id, reuse, raise_if_replaced=True)
            if len(known_ids) >= _KNOWN_IDS_MAX:
                known_ids.clear()
            known_ids[key] = info.id
            return cls(ctx, snapshot, subscription, read_only)
        finally:
            if spare is not None:
                with trio.CancelScope(shield=True):
                    await spare.subscription.aclose()

    @staticmethod
    async def _subscribe_and_read(
        ctx: SessionContext, name: str, mailbox_id: int, subscription: Subscription | None, *, raise_if_replaced: bool
    ):
        """``(snapshot, subscription)`` when ``name`` is still mailbox ``mailbox_id``; otherwise raise
        ``MailboxNotFound`` (renamed and replaced between the two reads) or, unless
        ``raise_if_replaced``, return None. ``subscription``: one to that mailbox already open (it is
        closed like a new one when the mailbox turns out to be another)."""
        if subscription is None:
            subscription = ctx.feed.subscribe(ctx.user, mailbox_id)  # before reading: see the module docstring
        try:
            snapshot = await ctx.run_store(ctx.store.select, ctx.user, name)
            if snapshot.status.id != mailbox_id:
                if raise_if_replaced:
                    raise MailboxNotFound(name)
                with trio.CancelScope(shield=True):
                    await subscription.aclose()
                return None
        except BaseException:
            with trio.CancelScope(shield=True):
                await subscription.aclose()
            raise
        return snapshot, subscription

    def release_subscription(self) -> SpareSubscription | None:
        """Give up this view's feed subscription for the next SELECT to reuse (``open``'s ``spare``);
        ``close`` then has nothing left to close. None if already given up."""
        subscription, self._subscription = self._subscription, None
        if subscription is None:
            return None
        return SpareSubscription(self._user, self.mailbox_id, subscription)

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with trio.CancelScope(shield=True):
                await subscription.aclose()

    # --- numbers ----------------------------------------------------------------------------------------

    @property
    def exists(self) -> int:
        return len(self.uids)

    def seq_of(self, uid: int) -> int | None:
        """The sequence number of ``uid`` in this session's view, or None if the client does not know it."""
        index = bisect.bisect_left(self.uids, uid)
        if index < len(self.uids) and self.uids[index] == uid:
            return index + 1
        return None

    def resolve(self, sequence_set: SequenceSet, uid: bool) -> list[int]:
        """The UIDs (ascending, no duplicates) that ``sequence_set`` names in this session's view.

        RFC 9051 §9: ``*`` is the largest number in use and ``n:m`` equals ``m:n``. For a UID set, UIDs
        that do not exist are silently left out (RFC 9051 §6.4.8) and ``n:*`` with n above every UID
        still names the largest one. For message sequence numbers, a number above EXISTS is a client
        error, answered ``BAD`` as Dovecot does ("Invalid messageset"), and so is any sequence set,
        ``*`` included, in an empty mailbox (Dovecot again). ``$`` is the saved search result (RFC 5182 §2.1), minus what has been expunged.
        """
        uids = self.uids
        if sequence_set.saved:
            saved = self.saved_result or ()
            return sorted(u for u in set(saved) if self.seq_of(u) is not None)
        if not uids:
            if not uid:
                raise BadCommand("Invalid messageset: the mailbox is empty")
            return []
        if uid:
            ranges = sorted(sequence_set.iter_ranges(uids[-1]))
            result: list[int] = []
            for low, high in _merge(ranges):
                start = bisect.bisect_left(uids, low)
                end = bisect.bisect_right(uids, high)
                result.extend(uids[start:end])
            return result
        count = len(uids)
        ranges = sorted(sequence_set.iter_ranges(count))
        if ranges and ranges[-1][1] > count:
            raise BadCommand(f"Invalid messageset: only {count} messages exist")
        result = []
        for low, high in _merge(ranges):
            result.extend(uids[low - 1:high])
        return result

    # --- this session's own changes -------------------------------------------------------------------

    def note_flags(self, changes: Iterable[FlagChange]) -> None:
        """This session's STORE reported these flag changes itself: do not repeat them from the feed."""
        for change in changes:
            self._learn_keywords(change.flags)
            if change.modseq > self._own_flags.get(change.uid, 0):
                self._own_flags[change.uid] = change.modseq
            self._flag_updates.pop(change.uid, None)
            if change.modseq > self.highest_modseq:
                self.highest_modseq = change.modseq

    def note_expunged(self, uids: Iterable[int], highest_modseq: int | None = None) -> list[Response]:
        """This session expunged ``uids`` (EXPUNGE, UID EXPUNGE, MOVE, CLOSE): remove them from the view
        and return the ``* n EXPUNGE`` responses (or one ``* VANISHED``) for the handler to queue."""
        if highest_modseq is not None and highest_modseq > self.highest_modseq:
            self.highest_modseq = highest_modseq
        return self._remove(set(uids))

    def note_recent_claimed(self, uids: Iterable[int]) -> None:
        """This session's APPEND stored ``uids`` already claimed as \\Recent for it
        (``Store.append_many(claim_recent_in=...)``): they join ``recent`` once the feed brings them,
        and their arrival needs no claim of its own."""
        self._claimed.update(uids)

    # --- changes from elsewhere --------------------------------------------------------------------------

    async def poll(self, claim_recent: bool = True) -> None:
        """Collect the changes already waiting on the feed (a command boundary). Never blocks for long:
        only a RESYNC, or claiming \\Recent for an IMAP4rev1 client, makes it call the store."""
        while True:
            try:
                change = self._subscription.receive_nowait()
            except trio.WouldBlock:
                break
            await self._collect(change)
        if claim_recent:
            await self._claim_recent()

    async def wait(self) -> None:
        """Wait for at least one change, then collect what else is waiting (IDLE)."""
        await self._collect(await self._subscription.receive())
        # An idling session does not claim \\Recent: the session that made the change (or the next one
        # at a command boundary) gets it, as with Dovecot, whose IDLE notices changes a little later.
        await self.poll(claim_recent=False)

    async def _claim_recent(self) -> None:
        """RFC 3501 §2.3.2: a new message is \\Recent in one session only, the first to be told about
        it (as Dovecot does). An IMAP4rev1 session with the mailbox open read-write claims the recent
        messages when new ones arrive; EXAMINE never claims."""
        if self.read_only or self._ctx.rev2 or not self._unclaimed_arrivals:
            return
        self._unclaimed_arrivals = False
        try:
            # The counter is read inline; the claim is a write (the store's writer lock; no fsync, but
            # a worker thread when the writer is busy), worth it only when something is left to claim.
            status = await self._ctx.run_store(self._ctx.store.status_by_id, self.mailbox_id)
            if not status.recent:
                return
            claimed = await self._ctx.run_store(self._ctx.store.claim_recent, self.mailbox_id)
        except MailboxNotFound:
            self.deleted = True
            return
        self._claimed.update(claimed)

    async def _collect(self, change: Change) -> None:
        if change.kind is ChangeKind.RESYNC:
            await self._resync()
            self._unclaimed_arrivals = True
        else:
            self._changes.append(change)
            if change.kind is ChangeKind.MESSAGES_ADDED and not self._claimed.issuperset(change.uids):
                self._unclaimed_arrivals = True

    async def _resync(self) -> None:
        ctx = self._ctx
        store = ctx.store
        try:
            status = await ctx.run_store(store.status_by_id, self.mailbox_id)
            current = await ctx.run_store(store.uids, self.mailbox_id)
            changed = await ctx.run_store(store.changed_since, self.mailbox_id, self._baseline_modseq)
        except MailboxNotFound:
            self.deleted = True
            return
        present = set(current)
        gone = tuple(uid for uid in self.uids if uid not in present)
        user, mailbox_id = ctx.user or "", self.mailbox_id
        self._changes.append(Change(0, ChangeKind.EXPUNGED, user, mailbox_id, uids=gone))
        self._changes.append(
            Change(
                0, ChangeKind.MESSAGES_ADDED, user, mailbox_id,
                uids=tuple(uid for uid in current if uid > self._max_known),
                uid_next=status.uid_next, highest_modseq=status.highest_modseq,
            )
        )
        flagged = [row for row in changed if row.uid <= self._max_known]
        self._changes.append(
            Change(
                0, ChangeKind.FLAGS_CHANGED, user, mailbox_id,
                uids=tuple(row.uid for row in flagged), flags=tuple(row.flags for row in flagged),
                modseqs=tuple(row.modseq for row in flagged), highest_modseq=status.highest_modseq,
            )
        )

    def _apply(self) -> bool:
        """Fold the collected changes into the view's pending state; True if EXISTS grew."""
        grew = False
        changes, self._changes = self._changes, []
        claimed, self._claimed = self._claimed, set()
        for change in changes:
            kind = change.kind
            if kind is ChangeKind.MESSAGES_ADDED or kind is ChangeKind.FLAGS_CHANGED:
                for flags in change.flags:
                    self._learn_keywords(flags)
            if kind is ChangeKind.MESSAGES_ADDED:
                for uid in change.uids:
                    if uid > self._max_known:
                        self.uids.append(uid)
                        self._max_known = uid
                        grew = True
                if change.uid_next > self.uid_next:
                    self.uid_next = change.uid_next
            elif kind is ChangeKind.EXPUNGED:
                for uid in change.uids:
                    if self.seq_of(uid) is not None:
                        self._expunge_pending.add(uid)
                        self._flag_updates.pop(uid, None)
            elif kind is ChangeKind.FLAGS_CHANGED:
                for uid, flags, modseq in zip(change.uids, change.flags, change.modseqs):
                    if modseq <= self._baseline_modseq or uid in self._expunge_pending:
                        continue
                    own = self._own_flags.get(uid)
                    if own is not None and modseq <= own:
                        if modseq == own:
                            del self._own_flags[uid]  # the echo arrived: nothing more to suppress
                        continue
                    if self.seq_of(uid) is not None:
                        self._flag_updates[uid] = (flags, modseq)
            elif kind is ChangeKind.MAILBOX_RENAMED and change.mailbox_id == self.mailbox_id:
                self.name = change.mailbox_name or self.name
            elif kind is ChangeKind.MAILBOX_DELETED and change.mailbox_id == self.mailbox_id:
                self.deleted = True
            if change.highest_modseq > self.highest_modseq and change.mailbox_id == self.mailbox_id:
                self.highest_modseq = change.highest_modseq
        for uid in claimed:
            if self.seq_of(uid) is not None:
                self.recent.add(uid)
            elif uid > self._max_known:  # claimed before its feed change was collected: keep for later
                self._claimed.add(uid)
        return grew

    def _learn_keywords(self, flags: Iterable[str]) -> None:
        for flag in flags:
            if not flag.startswith("\\") and flag not in self.keywords:
                self.keywords.add(flag)
                self._keywords_grew = True

    def keyword_updates(self) -> list[Response]:
        """``* FLAGS (...)`` and ``* OK [PERMANENTFLAGS (...)]`` when a keyword new to this mailbox
        appeared (RFC 9051 §7.3.5, §7.1); the session sends them before a command's other responses,
        so the client knows the keyword before a FETCH shows it (Dovecot's order)."""
        self._apply()
        if not self._keywords_grew:
            return []
        self._keywords_grew = False
        flags_line, permanent_line = flag_lines(frozenset(self.keywords), self.read_only)
        # Read-only: the PERMANENTFLAGS () SELECT said stays true, not said again.
        if self.read_only:
            return [UntaggedBytes(flags_line)]
        return [UntaggedBytes(flags_line), UntaggedBytes(permanent_line)]

    def pending_updates(self, allow_expunge: bool) -> list[Response]:
        """Untagged responses for what changed elsewhere since the client was last told.

        ``allow_expunge`` is false at the end of FETCH, STORE and SEARCH (RFC 9051 §7.5.1): expunges
        then wait for a later command boundary, and sequence numbers stay what the client believes.
        """
        out: list[Response] = self.keyword_updates()
        if self.deleted:
            # Another session deleted (or a CLI removed the user of) the selected mailbox: nothing this
            # client holds is valid any more. Dovecot's answer, which clients handle: BYE.
            return [StatusResponse(Status.BYE, "Selected mailbox was deleted, have to disconnect.")]
        if allow_expunge and self._expunge_pending:
            doomed, self._expunge_pending = self._expunge_pending, set()
            out.extend(self._remove(doomed))
        if len(self.uids) != self._told_exists:
            self._told_exists = len(self.uids)
            out.append(DataResponse((self._told_exists, Atom("EXISTS"))))
            if not self._ctx.rev2 and len(self.recent) != self._told_recent:
                self._told_recent = len(self.recent)
                out.append(DataResponse((self._told_recent, Atom("RECENT"))))
        if self._flag_updates:
            updates, self._flag_updates = self._flag_updates, {}
            condstore = self._ctx.condstore
            for uid in sorted(updates):
                seq = self.seq_of(uid)
                if seq is None:
                    continue
                flags, modseq = updates[uid]
                out.append(self.flags_response(seq, uid, flags, modseq if condstore else None))
        return out

    def flags_response(self, seq: int, uid: int, flags: Iterable[str], modseq: int | None) -> FetchResponse:
        """``* seq FETCH (UID u FLAGS (...) [MODSEQ (m)])``, with ``\\Recent`` for an IMAP4rev1 client."""
        flags = set(flags)
        if uid in self.recent and not self._ctx.rev2:
            flags.add("\\Recent")
        items: tuple = (("UID", uid), ("FLAGS", flag_atoms(flags)))
        if modseq is not None:
            items += (("MODSEQ", (modseq,)),)
        return FetchResponse(seq, items)

    # --- helpers -------------------------------------------------------------------------------------------

    def _remove(self, doomed: set[int]) -> list[Response]:
        """Drop ``doomed`` UIDs from the view and say so (EXPUNGE highest first, or VANISHED)."""
        positions = [index for index, uid in enumerate(self.uids) if uid in doomed] if doomed else []
        if not positions:
            return []
        removed = [self.uids[index] for index in positions]
        keep = set(positions)
        self.uids = [uid for index, uid in enumerate(self.uids) if index not in keep]
        self._told_exists -= len(positions)
        for uid in removed:
            self.recent.discard(uid)
            self._flag_updates.pop(uid, None)
            self._own_flags.pop(uid, None)
            self._expunge_pending.discard(uid)
        if len(self.recent) != self._told_recent:
            self._told_recent = len(self.recent)  # EXPUNGE implicitly lowers RECENT (RFC 3501 §7.4.1)
        if self._ctx.qresync:
            # RFC 7162 §3.2.10: with QRESYNC enabled, VANISHED replaces EXPUNGE.
            return [DataResponse((Atom("VANISHED"), Raw(codes.uid_set(removed).encode("ascii"))))]
        return [DataResponse((index + 1, Atom("EXPUNGE"))) for index in reversed(positions)]


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ``(low, high)`` ranges merged where they overlap or touch."""
    merged: list[tuple[int, int]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged
