"""The change feed: committed changes, delivered to the sessions watching a user or a mailbox.

Theory of operation
-------------------
The store calls ``ChangeFeed.publish(changes)`` after a transaction has committed, while it still holds
its writer lock, so the feed sees changes in commit order; each ``Change`` carries ``seq``, a number that
increases by one per change, given under that same lock. ``publish`` is a plain function that never
blocks and may be called from any thread (the server runs store calls in worker threads).

``InProcessFeed`` queues each committed batch (in commit order, under the store's writer lock) and
delivers the queue on the Trio thread: at once when the commit was made on the Trio thread itself (an
inline store call), otherwise through ``TrioToken.run_sync_soon`` (thread-safe, first-in first-out).
Either way a change reaches the other sessions before the committing command can answer its client.
Delivery pushes each change to every matching subscriber's bounded Trio memory channel with
``send_nowait``. A subscriber whose buffer is full is not waited for (a slow client
must not slow the writer or grow memory): it is marked *behind*, further changes are not queued for it,
and its next ``receive()`` empties the stale buffer and returns one ``ChangeKind.RESYNC`` change. The
session then reloads its state from the store; changes committed after that reload may repeat what it
read (a session applies them idempotently: a UID it already knows, a flag set it already has).

Several processes on one data directory (``imapcore serve --workers N``) use ``sharedfeed.SharedFeed``:
``record`` writes each change into the committing transaction (table ``change_log``), so ``seq`` is the
commit order across processes, and ``publish`` also wakes the other processes, which read the log.

Who sees what: a subscription for a user and no mailbox sees all of that user's changes; one for a
mailbox sees that mailbox's message changes and the user's mailbox-list changes (create, rename, delete,
subscription), which IMAP NOTIFY and LIST-STATUS sessions want.
"""

from __future__ import annotations

import abc
import collections
import enum
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import trio


class ChangeKind(enum.Enum):
    MESSAGES_ADDED = "added"  # uids, flags, modseqs of new messages (APPEND, COPY/MOVE target)
    EXPUNGED = "expunged"  # uids removed; highest_modseq is the expunge's MODSEQ (QRESYNC VANISHED)
    FLAGS_CHANGED = "flags"  # uids with their new flags and MODSEQs
    MAILBOX_CREATED = "created"
    MAILBOX_RENAMED = "renamed"  # old_name -> mailbox_name
    MAILBOX_DELETED = "deleted"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    RESYNC = "resync"  # the subscriber fell behind: reload state from the store

    @property
    def is_mailbox_list_change(self) -> bool:
        return self in _MAILBOX_LIST_KINDS


_MAILBOX_LIST_KINDS = frozenset(
    {
        ChangeKind.MAILBOX_CREATED,
        ChangeKind.MAILBOX_RENAMED,
        ChangeKind.MAILBOX_DELETED,
        ChangeKind.SUBSCRIBED,
        ChangeKind.UNSUBSCRIBED,
    }
)


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    kind: ChangeKind
    user: str
    mailbox_id: int | None = None
    mailbox_name: str | None = None
    uids: tuple[int, ...] = ()
    flags: tuple[frozenset[str], ...] = ()  # aligned with uids (MESSAGES_ADDED, FLAGS_CHANGED)
    modseqs: tuple[int, ...] = ()  # aligned with uids (MESSAGES_ADDED, FLAGS_CHANGED)
    highest_modseq: int = 0  # the mailbox's HIGHESTMODSEQ after this change
    uid_next: int = 0  # the mailbox's UIDNEXT after this change (MESSAGES_ADDED)
    old_name: str | None = None


class Subscription(abc.ABC):
    @abc.abstractmethod
    async def receive(self) -> Change:
        """The next change in commit order, or a ``RESYNC`` change after falling behind."""

    def receive_nowait(self) -> Change:
        """Like ``receive`` but raises ``trio.WouldBlock`` when nothing is waiting (a session collects
        what arrived at a command boundary without waiting). A feed that cannot tell keeps this default."""
        raise trio.WouldBlock

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()


class ChangeFeed(abc.ABC):
    def record(self, conn, changes: list[Change]) -> list[int] | None:
        """Called by the store inside the write transaction, just before COMMIT: a feed shared between
        processes writes ``changes`` there and returns their ``seq`` numbers (commit order across every
        process). A feed of one process keeps nothing: None, and the store numbers them itself."""
        return None

    @abc.abstractmethod
    def publish(self, changes: Iterable[Change]) -> None:
        """Called by the store after commit, in commit order; never blocks; any thread."""

    @abc.abstractmethod
    def subscribe(self, user: str, mailbox_id: int | None = None) -> Subscription:
        """Start receiving the user's (or one mailbox's) changes committed from now on.

        Subscribe first, then read the state to keep up to date: nothing committed in between is lost
        (it may be both in the state read and in the feed; sessions apply changes idempotently).
        """


class NullFeed(ChangeFeed):
    """For maintenance tools and tests that run the store without sessions: changes go nowhere."""

    def publish(self, changes: Iterable[Change]) -> None:
        return None

    def subscribe(self, user: str, mailbox_id: int | None = None) -> Subscription:
        raise RuntimeError("NullFeed has no subscribers")


class _InProcessSubscription(Subscription):
    def __init__(self, feed: InProcessFeed, user: str, mailbox_id: int | None, buffer_size: int, after_seq: int):
        self._feed = feed
        self.after_seq = after_seq  # changes up to this one were committed before the subscription
        self.user = user
        self.mailbox_id = mailbox_id
        self._send, self._receive = trio.open_memory_channel[Change](buffer_size)
        self.behind = False
        self.behind_seq = 0
        self.closed = False

    def wants(self, change: Change) -> bool:
        if change.user != self.user or change.seq <= self.after_seq:
            return False
        if self.mailbox_id is None or change.kind.is_mailbox_list_change:
            return True
        return change.mailbox_id == self.mailbox_id

    def offer(self, change: Change) -> None:
        if self.behind or self.closed:
            return
        try:
            self._send.send_nowait(change)
        except trio.WouldBlock:
            self.behind = True
            self.behind_seq = change.seq

    async def receive(self) -> Change:
        if self.behind:
            return self._resync()
        change = await self._receive.receive()
        if self.behind:  # fell behind while this change waited in the buffer
            return self._resync()
        return change

    def receive_nowait(self) -> Change:
        if self.behind:
            return self._resync()
        change = self._receive.receive_nowait()
        if self.behind:
            return self._resync()
        return change

    def _resync(self) -> Change:
        while True:
            try:
                self._receive.receive_nowait()
            except trio.WouldBlock:
                break
        self.behind = False
        return Change(seq=self.behind_seq, kind=ChangeKind.RESYNC, user=self.user, mailbox_id=self.mailbox_id)

    async def aclose(self) -> None:
        self.closed = True
        self._feed._remove(self)
        await self._send.aclose()
        await self._receive.aclose()


class InProcessFeed(ChangeFeed):
    """Trio memory channels in one process. Create it inside ``trio.run`` (it remembers the Trio token)."""

    def __init__(self, buffer_size: int = 1024):
        self.buffer_size = buffer_size
        self._token = trio.lowlevel.current_trio_token()
        self._trio_thread = threading.get_ident()
        # Insertion-ordered, O(1) removal (10,000 sessions in IDLE come and go); by user for delivery:
        # a change concerns only its user's subscribers, so delivering it costs nothing per other user.
        self._subscribers: dict[_InProcessSubscription, None] = {}
        self._by_user: dict[str, list[_InProcessSubscription]] = {}
        self._published_seq = 0
        self._pending: collections.deque[tuple[Change, ...]] = collections.deque()
        self._pending_lock = threading.Lock()

    def publish(self, changes: Iterable[Change]) -> None:
        batch = tuple(changes)
        if not batch:
            return
        # Noted before the hand-over, so a subscription made before delivery but after this commit can
        # tell that these changes are older than itself.
        self._published_seq = batch[-1].seq
        # The store calls this under its writer lock, so batches enter the queue in commit order.
        with self._pending_lock:
            self._pending.append(batch)
        if threading.get_ident() == self._trio_thread:
            # A store call made inline on the Trio thread: deliver before it returns. Deferring it would
            # let the committing session answer its client, and another session answer a NOOP, before
            # the change reached that other session (trio runs ready tasks in random order).
            self._flush()
            return
        try:
            # From a worker thread: the hand-over is queued before the thread's own completion, which
            # trio delivers through the same FIFO, so the committing command ends after delivery too.
            self._token.run_sync_soon(self._flush)
        except trio.RunFinishedError:
            return  # the Trio run is over: nobody is listening any more

    def _flush(self) -> None:
        """Deliver every queued batch, oldest first (runs on the Trio thread only)."""
        while True:
            with self._pending_lock:
                if not self._pending:
                    return
                batch = self._pending.popleft()
            self._deliver_batch(batch)

    def _deliver_batch(self, batch: tuple[Change, ...]) -> None:
        for change in batch:
            self._deliver(change)

    def _deliver(self, change: Change) -> None:
        subscribers = self._by_user.get(change.user)
        if subscribers:
            for subscriber in tuple(subscribers):
                if subscriber.wants(change):
                    subscriber.offer(change)

    #: The subscription type ``subscribe`` makes (``SharedFeed`` catches up with other processes first).
    _subscription_class: type[_InProcessSubscription] = _InProcessSubscription

    def subscribe(self, user: str, mailbox_id: int | None = None) -> Subscription:
        if threading.get_ident() != self._trio_thread:
            raise RuntimeError("subscribe from the Trio thread")
        subscription = self._subscription_class(self, user, mailbox_id, self.buffer_size, self._published_seq)
        self._subscribers[subscription] = None
        self._by_user.setdefault(user, []).append(subscription)
        return subscription

    def _remove(self, subscription: _InProcessSubscription) -> None:
        if subscription in self._subscribers:
            del self._subscribers[subscription]
            same_user = self._by_user[subscription.user]
            same_user.remove(subscription)
            if not same_user:
                del self._by_user[subscription.user]
