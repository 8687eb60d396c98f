"""``SessionContext``: everything a command handler may use, and nothing else.

A handler sees the session through this object: the store (``run_store`` for blocking calls), the
change feed, the configuration, who is logged in, which extensions the client has enabled, the selected
mailbox (``selected``, a ``SelectedMailbox``), and a queue of untagged responses. It never sees the
socket: the few handlers that talk to the client in the middle of a command (IDLE, AUTHENTICATE) do so
through ``channel``, a ``SessionChannel`` that the server's session implements.

Invariants the session relies on (STYLE.md §10):

* one command at a time per connection: a context is only ever used by the handler of the command in
  progress, so nothing here is locked;
* store transactions finish (``run_store`` returns) before anything is awaited on the network; a handler
  never holds a store lock while the client is slow to read.
"""

from __future__ import annotations

import abc
import functools
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from imapcore.protocol import codes
from imapcore.protocol.responses import ContinuationRequest, Response, Status, StatusResponse

from .flushwait import wait_flushed
from .selected import SelectedMailbox

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from imapcore.auth.authenticator import Authenticator
    from imapcore.store import AppendResult
    from imapcore.protocol import events
    from imapcore.server.config import Config
    from imapcore.store import ChangeFeed, Store

T = TypeVar("T")

#: Store methods that only read, with one or two indexed queries: they run inline on the event loop.
#: Measured under the load benchmark: the query takes ~0.5 ms, the hop to a worker thread and back
#: several ms (GIL hand-offs, and waiting for a thread while others sit in fsync).
INLINE_READS = frozenset({
    "mailbox", "mailbox_by_id", "select", "status", "status_by_id", "statuses", "subscriptions",
    "list_mailboxes", "mailbox_names", "uids", "keywords", "user", "users", "quota", "changed_since", "vanished_since",
    "blob_id",
})

#: Store methods that write (and fsync). They get their own limiter: they serialise on the store's
#: writer lock anyway, and reads must never queue behind them for a worker thread.
WRITES = frozenset({
    "append", "append_many", "copy", "move", "store_flags", "expunge", "claim_recent", "create_mailbox",
    "delete_mailbox", "rename_mailbox", "subscribe", "unsubscribe", "create_user", "delete_user",
    "set_password_hash", "set_quota",
})

#: ``run_read`` runs a read inline up to this size (messages or UIDs).
INLINE_READ_MAX = 100

#: ``run_append`` takes APPENDs up to this many bytes on the event loop: hashed there (~2 us per KB,
#: without the GIL) and, for new bytes, their file written there, their summary left for later.
INLINE_APPEND_BYTES = 256 * 1024

#: How many times an inline write tries the writer at once (the other sessions run in between)...
INLINE_WRITE_TRIES = 3
#: ...then how long it goes on trying, every ``INLINE_WRITE_POLL_S``, before it goes to a worker thread.
#: The writer is mostly held for well under a millisecond, by the other worker process as often as by
#: this one; measured with the issue's 10-client mix, an APPEND that went to the group commit in a thread
#: after three tries took 6 ms at p50 there (its statements fight the event loop for the GIL).
INLINE_WRITE_PATIENCE_S = 0.02
INLINE_WRITE_POLL_S = 0.001

#: Inline store calls a command may make before one of them yields to the scheduler. Every command
#: already yields while its session waits for the client, so most need no extra trip through Trio's run
#: loop (~3 us each, several per command); a handler making many calls still lets other sessions run.
INLINE_CALLS_PER_YIELD = 8

#: Writes committed without an fsync (store.py "Durability": flag changes, expunges, \Recent claims):
#: ``run_store`` tries them inline on the event loop when small and the writer is free.
RELAXED_WRITES = frozenset({"store_flags", "expunge", "claim_recent"})

#: Extensions a client can turn on with ENABLE (RFC 5161), upper case as stored in ``enabled``.
ENABLEABLE = ("CONDSTORE", "QRESYNC", "IMAP4REV2", "UTF8=ACCEPT")


async def _in_thread_to_the_end(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread (Trio's thread cache), awaited to its end even if the task is
    cancelled meanwhile (``abandon_on_cancel`` off). For a wait that only blocks in the kernel (a WAL
    fsync): no capacity limiter, no context copy, none of ``trio.to_thread.run_sync``'s layers, whose
    Python cost was a visible share of an APPEND once its commit ran on the event loop."""
    task = trio.lowlevel.current_task()
    token = trio.lowlevel.current_trio_token()

    def deliver(result) -> None:  # in the worker thread: hand the outcome to the Trio thread
        token.run_sync_soon(trio.lowlevel.reschedule, task, result)

    trio.lowlevel.start_thread_soon(functools.partial(fn, *args), deliver)
    return await trio.lowlevel.wait_task_rescheduled(lambda raise_cancel: trio.lowlevel.Abort.FAILED)


class ClientGone(Exception):
    """The client closed the connection while a command was talking to it (IDLE, AUTHENTICATE).

    The dispatcher lets it through (it is not a server bug) and the session ends quietly.
    """


class AfterCompletion:
    """What the session must do right after writing the tagged completion (set by a handler)."""

    NOTHING = "nothing"
    START_TLS = "starttls"  # RFC 9051 §6.2.1: the TLS negotiation begins after the OK


class SessionChannel(abc.ABC):
    """The part of the session a handler may drive while its command is in progress."""

    @abc.abstractmethod
    async def send(self, responses: list[Response], atomic: bool = True) -> None:
        """Write these untagged responses now, in one write (IDLE pushes, long FETCH output).
        ``atomic``: the write is shielded from cancellation (IDLE's forwarder is cancelled when DONE
        arrives and must never leave half a response on the wire)."""

    @abc.abstractmethod
    async def send_continuation(self, request: ContinuationRequest) -> None:
        """Write a ``+`` continuation; the connection then reads the client's next line (IDLE's DONE,
        a SASL response) and ``next_line_event`` returns it."""

    @abc.abstractmethod
    async def next_line_event(self) -> events.Event:
        """The client's answer to the continuation: ``IdleDone``, ``IdleAborted``,
        ``AuthenticateResponse`` or ``AuthenticateCancelled`` (their ``output`` already written).
        Raises ``ClientGone`` when the client hangs up instead."""


@dataclass(frozen=True, slots=True)
class ServerServices:
    """What every session of one server shares."""

    store: Store
    feed: ChangeFeed
    config: Config
    authenticator: Authenticator
    store_limiter: trio.CapacityLimiter  # reads that are not cheap enough to run inline
    write_limiter: trio.CapacityLimiter | None = None  # writes (default: ``store_limiter``)
    collector: BlobCollector = field(default_factory=lambda: BlobCollector())
    indexer: BackgroundIndexer = field(default_factory=lambda: BackgroundIndexer())
    checkpointer: WalCheckpoints = field(default_factory=lambda: WalCheckpoints())


class BackgroundRounds(abc.ABC):
    """Work for the whole server done in rounds by one Trio system task at a time, in the background:
    ``request`` starts the task (it outlives the session that asked and is cancelled with the server),
    and a request while a round is on asks for one more after it. Only the Trio thread uses it, so
    plain flags are enough. Subclasses say what a round is (``_round``) and whether work is left
    without a request (``_more``)."""

    __slots__ = ("running", "again")
    NAME = "background rounds"

    def __init__(self) -> None:
        self.running = False
        self.again = False

    def request(self, store: Store, limiter: trio.CapacityLimiter) -> None:
        if self.running:
            self.again = True
            return
        self.running = True
        trio.lowlevel.spawn_system_task(self._run, store, limiter, name=self.NAME)

    async def _run(self, store: Store, limiter: trio.CapacityLimiter) -> None:
        try:
            while not store.closed:  # a round asked for during the server's shutdown: nothing to do
                self.again = False  # what is asked from here on, this round takes or the next one
                await self._round(store, limiter)
                if not (self.again or self._more(store)):
                    break
        except Exception:  # a system task must not raise: the work stays pending for the next round
            if not store.closed:  # closed under a round at shutdown: the work waits for the next start
                log.exception("%s failed", self.NAME)
        finally:
            self.running = False

    @abc.abstractmethod
    async def _round(self, store: Store, limiter: trio.CapacityLimiter) -> None:
        """One round of the work (each subclass says what)."""

    def _more(self, store: Store) -> bool:
        return False


class BlobCollector(BackgroundRounds):
    """``Store.collect_unreferenced`` in a worker thread, one at a time for the whole server.

    A write that frees blobs leaves them to collect (``Store.collection_pending``,
    ``Store.background_collection``). The EXPUNGE that freed them does not wait for their deletion (a WAL
    fsync, a write transaction and the unlinks; nothing a client can observe): a round waits
    ``GATHER_S`` so that other sessions' expunges join it, and rounds go on while blobs are pending."""

    __slots__ = ()
    NAME = "blob collection"

    #: How long a collection waits before each round, so that the expunges of other sessions in the
    #: meantime join it (one transaction, one WAL fsync and one thread hop for all of them). Measured
    #: with the issue's 10-client mix, new bytes in every APPEND and each expunged at once: at 0.02 s
    #: each worker ran ~50 rounds a second (5 ms each at p50, partly holding the store's writer, under
    #: which the unlinks happen); at 0.25 s, ~4 rounds of ~40 blobs. Freed space comes back that much
    #: later, which nothing a client sees depends on.
    GATHER_S = 0.25

    async def _round(self, store: Store, limiter: trio.CapacityLimiter) -> None:
        await trio.sleep(self.GATHER_S)
        if store.collection_pending:
            await trio.to_thread.run_sync(store.collect_unreferenced, limiter=limiter)

    def _more(self, store: Store) -> bool:
        return store.collection_pending


class BackgroundIndexer(BackgroundRounds):
    """Summarizes the blobs an APPEND stored without their summary (``Store.parse_deferred``) and
    indexes delivered blobs for full-text search (``Store.index_pending``), in worker threads, in the
    background, after such an APPEND or once one finds many waiting for the index (``Store.index_due``),
    instead of in that APPEND's time as a delivery in ``append_many`` does.

    A round waits ``DELAY_S`` first and takes only what was delivered before: a message expunged
    meanwhile (a draft saved again, a mix that expunges what it appends) is collected before it is
    parsed or indexed, instead of being parsed and indexed only to be deleted a moment later. A SEARCH
    does not wait for it (``Store.search`` parses its mailbox's waiting blobs first), nor do FETCH, SORT
    and THREAD (they parse such a blob's bytes themselves, as for one the parser could not read).
    Measured with the issue's 10-client mix and new bytes in every APPEND: indexing in the APPEND took
    ~19 ms at p90 every 64 deliveries, under the writer lock, for blobs mostly collected already. The
    indexer is ~10x faster than delivery (#3's figures), so it keeps up without holding deliveries back;
    the server's periodic round (``server/app.py``) catches what is left on a quiet server."""

    __slots__ = ()
    NAME = "full-text indexing"

    DELAY_S = 1.0
    BATCH = 1024

    async def _round(self, store: Store, limiter: trio.CapacityLimiter) -> None:
        up_to = store.newest_pending_index()  # what was delivered before the delay, no later
        await trio.sleep(self.DELAY_S)
        if up_to is None:
            return
        await trio.to_thread.run_sync(store.parse_deferred, None, up_to, limiter=limiter)
        while await trio.to_thread.run_sync(store.index_pending, self.BATCH, up_to, limiter=limiter) >= self.BATCH:
            pass


class WalCheckpoints(BackgroundRounds):
    """``Store.checkpoint`` in a worker thread, for durable commits the event loop awaited itself
    (``flushwait``): ``Store.wait_durable`` checkpoints a grown WAL in its caller's thread, which such a
    commit has not got."""

    __slots__ = ()
    NAME = "WAL checkpoint"

    async def _round(self, store: Store, limiter: trio.CapacityLimiter) -> None:
        await trio.to_thread.run_sync(store.checkpoint, limiter=limiter)


class SessionContext:
    """The per-connection state handlers read and change. See the module docstring."""

    __slots__ = (
        "services",
        "channel",
        "remote_address",
        "tls",
        "user",
        "selected",
        "enabled",
        "client_id",
        "after_completion",
        "_condstore_used",
        "_untagged",
        "inline_calls",
        "mailbox_ids",
        "list_cache",
    )

    def __init__(
        self,
        services: ServerServices,
        channel: SessionChannel,
        *,
        remote_address: tuple[str, int] | None,
        tls: bool,
    ) -> None:
        self.services = services
        self.channel = channel
        self.remote_address = remote_address
        self.tls = tls
        self.user: str | None = None
        self.selected: SelectedMailbox | None = None
        self.enabled: set[str] = set()
        self.client_id: tuple[tuple[str, str | None], ...] | None = None  # RFC 2971 ID from the client
        self.after_completion = AfterCompletion.NOTHING
        self._condstore_used = False
        self._untagged: list[Response] = []
        #: Inline store calls since this session last yielded (the session resets it per command).
        self.inline_calls = 0
        #: Mailbox ids by name, as this session last opened them (a hint ``SelectedMailbox.open`` checks).
        self.mailbox_ids: dict[tuple[str | None, str], int] = {}
        #: The last plain LIST's answer: (what it was computed from, its bytes); see ``mailboxes.list_``.
        self.list_cache: tuple[tuple, bytes] | None = None

    # --- shared services ---------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def feed(self) -> ChangeFeed:
        return self.services.feed

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def authenticator(self) -> Authenticator:
        return self.services.authenticator

    async def _inline_checkpoint(self) -> None:
        """Before an inline store call: a cancellation point, and a real yield to the scheduler only
        every ``INLINE_CALLS_PER_YIELD`` calls of one command (see there)."""
        self.inline_calls += 1
        if self.inline_calls >= INLINE_CALLS_PER_YIELD:
            self.inline_calls = 0
            await trio.lowlevel.checkpoint()
        else:
            await trio.lowlevel.checkpoint_if_cancelled()

    async def run_store(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call: inline for the cheap reads of ``INLINE_READS`` (after a
        cancellation point; a handler making many calls still yields, ``INLINE_CALLS_PER_YIELD``) and
        for small ``RELAXED_WRITES`` when the store's writer is free, otherwise in a worker thread
        bounded by the server-wide read or write limiter.

        A thread cannot be abandoned (``abandon_on_cancel`` is off): a transaction always finishes and
        publishes its changes, even if this session is being cancelled.
        """
        services = self.services
        name = getattr(fn, "__name__", "")
        if name in INLINE_READS and getattr(fn, "__self__", None) is services.store:
            await self._inline_checkpoint()
            return fn(*args, **kwargs)
        if (
            name in RELAXED_WRITES
            and getattr(fn, "__self__", None) is services.store
            and self._write_size(args) <= INLINE_READ_MAX
        ):
            # Measured with the 10-client mix: a flag change or a \Recent claim is ~0.3 ms of
            # work, the round trip through a worker thread several ms (two GIL hand-offs and a wake-up).
            # ``call_if_writer_free`` never waits: when the writer is busy, the thread it is.
            await self._inline_checkpoint()
            store = services.store

            def attempt() -> tuple | None:
                done, result = store.call_if_writer_free(fn, *args, **kwargs)
                return (result,) if done else None

            outcome = await self._when_writer_free(attempt)
            if outcome is not None:
                if store.collection_pending:
                    # An expunge freed blobs: deleting them fsyncs, so not on the event loop, and not
                    # in this command's time either (``BlobCollector.request``).
                    services.collector.request(store, services.write_limiter or services.store_limiter)
                return outcome[0]
        limiter = services.store_limiter
        if name in WRITES and services.write_limiter is not None:
            limiter = services.write_limiter
        call = functools.partial(fn, *args, **kwargs) if kwargs or args else fn
        result = await trio.to_thread.run_sync(call, limiter=limiter)
        store = services.store
        if store.collection_pending:  # the write freed blobs (``Store.background_collection``)
            services.collector.request(store, services.write_limiter or services.store_limiter)
        return result

    async def run_append(self, name: str, messages: list, claim_recent_in: int | None) -> AppendResult:
        """``Store.append_many`` for this user, with as little as possible in worker threads.

        An APPEND up to ``INLINE_APPEND_BYTES`` is prepared on the event loop
        (``Store.prepare_append_now``: hashed, new bytes written without fsync and their summary
        deferred), its new files flushed in one thread hop (``sync_append``), committed on the event
        loop when the writer is free soon enough (``_when_writer_free``, ``commit_append_now``), and
        acknowledged after a second hop for the WAL fsync (``wait_durable``). Otherwise the whole
        delivery runs in a worker thread (``append_many``), whose Python work then takes the GIL from
        the event loop at each of the loop's system calls and each of its own statements. Measured with
        the issue's 10-client mix and new bytes in every APPEND (2 workers): ~3,100 commands/s with the
        delivery in a thread, ~3,600 committed inline, ~4,300 with the summary deferred."""
        services = self.services
        store = services.store
        limiter = services.write_limiter or services.store_limiter
        size = sum(len(m.raw) for m in messages)
        if len(messages) <= INLINE_READ_MAX and size <= INLINE_APPEND_BYTES:
            await self._inline_checkpoint()
            request = store.prepare_append_now(self.user, name, messages, claim_recent_in=claim_recent_in,
                                               new_bytes=True)
            if request is not None:
                return await self._deliver_prepared(request, limiter)
        call = functools.partial(store.append_many, self.user, name, messages, claim_recent_in=claim_recent_in)
        result = await trio.to_thread.run_sync(call, limiter=limiter)
        self._index_later(False, limiter)
        return result

    async def _deliver_prepared(self, request, limiter: trio.CapacityLimiter) -> AppendResult:
        """Flush, commit and acknowledge a prepared APPEND (``run_append``). Until its commit the request
        owns the files it wrote: refused or cancelled before then, it removes them again."""
        store = self.services.store
        handed_over = False
        try:
            if request.needs_sync:
                flush = store.append_flush(request)
                if flush is None:
                    await _in_thread_to_the_end(store.sync_append, request)
                else:
                    await wait_flushed(*flush, _in_thread_to_the_end)
                    store.append_synced(request)
            now = await self._when_writer_free(store.commit_append_now, request)
            if now is None:  # the writer stayed busy: the group commit, which cleans up after itself
                async with limiter:
                    handed_over = True
                    return await _in_thread_to_the_end(store.append_prepared, request)
            handed_over = True  # committed
            result, wal_ticket = now
            if wal_ticket:
                await wait_flushed(store.wal_flush, wal_ticket, _in_thread_to_the_end)
                if store.checkpoint_due():
                    self.services.checkpointer.request(store, limiter)
        except BaseException:
            if not handed_over and request.wrote_files:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(store.discard_append, request, limiter=limiter)
            raise
        self._index_later(request.deferred_parse, limiter)
        return result

    def _index_later(self, deferred_parse: bool, limiter: trio.CapacityLimiter) -> None:
        """After a delivery: ask for the background round (``BackgroundIndexer``) if it left summaries
        to make or many blobs waiting for the full-text index."""
        store = self.services.store
        if deferred_parse or store.index_due():
            self.services.indexer.request(store, limiter)

    async def _when_writer_free(self, attempt: Callable[..., T | None], *args: Any) -> T | None:
        """``attempt(*args)`` (a write that returns None when the writer was busy, having written
        nothing) until it is done: ``INLINE_WRITE_TRIES`` times letting the other sessions run in
        between, then every ``INLINE_WRITE_POLL_S`` for up to ``INLINE_WRITE_PATIENCE_S``; None if the
        writer stayed busy all along (the caller then waits for it in a worker thread). A try costs a
        few microseconds where a worker thread costs a hop each way and the GIL at every statement."""
        for _ in range(INLINE_WRITE_TRIES):
            result = attempt(*args)
            if result is not None:
                return result
            await trio.lowlevel.checkpoint()  # nothing was written: cancelling here is clean
        deadline = trio.current_time() + INLINE_WRITE_PATIENCE_S
        while trio.current_time() < deadline:
            await trio.sleep(INLINE_WRITE_POLL_S)
            result = attempt(*args)
            if result is not None:
                return result
        return None

    def _write_size(self, args: tuple) -> float:
        """How many messages a relaxed write (``store_flags``/``expunge``: mailbox id, UIDs or None;
        ``claim_recent``: mailbox id) may touch: the UIDs given, or the whole selected mailbox."""
        uids = args[1] if len(args) > 1 else None
        if isinstance(uids, (list, tuple)):
            return len(uids)
        selected = self.selected
        if uids is None and args and selected is not None and selected.mailbox_id == args[0]:
            return len(selected.uids)
        return float("inf")  # a sequence set or another mailbox: size unknown, not inline

    async def run_read(self, fn: Callable[..., T], *args: Any, size: int, **kwargs: Any) -> T:
        """A read whose cost grows with ``size`` (messages to serialize, UIDs to look at): inline on
        the event loop when ``size <= INLINE_READ_MAX``, else in a worker thread like ``run_store``.

        Measured with the issue's 10-client mix (20 messages per mailbox, writes going on): building a
        FETCH batch inline instead of in a thread took FETCH FLAGS p99 from ~20 ms to ~6 ms and the
        whole mix from ~1,250 to ~1,850 commands/s, because every thread hop waits for the GIL while
        other workers hold it.
        """
        if size <= INLINE_READ_MAX:
            await self._inline_checkpoint()
            return fn(*args, **kwargs)
        call = functools.partial(fn, *args, **kwargs) if kwargs or args else fn
        return await trio.to_thread.run_sync(call, limiter=self.services.store_limiter)

    # --- enabled extensions ---------------------------------------------------------------------------

    @property
    def rev2(self) -> bool:
        """IMAP4rev2 behaviour (ESEARCH, no \\Recent, UTF-8 names) once ENABLE IMAP4rev2 was accepted."""
        return "IMAP4REV2" in self.enabled

    @property
    def utf8(self) -> bool:
        """Mailbox names and strings in UTF-8 (RFC 9051 §6.3.1, RFC 6855): after IMAP4rev2 or UTF8=ACCEPT."""
        return "IMAP4REV2" in self.enabled or "UTF8=ACCEPT" in self.enabled

    @property
    def qresync(self) -> bool:
        """RFC 7162 §3.2.3: QRESYNC is on only after ENABLE QRESYNC."""
        return "QRESYNC" in self.enabled

    @property
    def condstore(self) -> bool:
        """RFC 7162 §3.1: on after ENABLE CONDSTORE/QRESYNC or the first CONDSTORE-enabling command."""
        return self._condstore_used or "CONDSTORE" in self.enabled or "QRESYNC" in self.enabled

    def use_condstore(self) -> None:
        """Called by a CONDSTORE-enabling command (SELECT/EXAMINE (CONDSTORE), FETCH MODSEQ or
        CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, STATUS HIGHESTMODSEQ).

        RFC 7162 §3.1: when the first enabling command is not SELECT/EXAMINE and a mailbox is selected,
        the server sends ``* OK [HIGHESTMODSEQ n]`` before that command's tagged response.
        """
        if self.condstore:
            return
        self._condstore_used = True
        if self.selected is not None and not self.selected.opening:
            self.untagged(
                StatusResponse(Status.OK, "Highest", codes.highestmodseq(self.selected.highest_modseq))
            )

    def reset_enabled(self) -> None:
        """RFC 8437 §3: after UNAUTHENTICATE nothing stays enabled."""
        self.enabled.clear()
        self._condstore_used = False

    # --- connection facts ---------------------------------------------------------------------------

    @property
    def loopback(self) -> bool:
        if self.remote_address is None:
            return True  # an in-memory stream in tests: no network involved
        try:
            return ipaddress.ip_address(self.remote_address[0].split("%")[0]).is_loopback
        except ValueError:
            return False

    @property
    def cleartext_auth_allowed(self) -> bool:
        """Passwords may be sent over TLS, or in clear only over loopback (the issue's policy;
        RFC 9051 §6.2.3 and §11.1: LOGINDISABLED on insecure links)."""
        return self.tls or self.loopback

    def capabilities(self) -> tuple[str, ...]:
        from .capabilities import capabilities  # capabilities imports the registry, which imports us

        return capabilities(self)

    # --- untagged output ------------------------------------------------------------------------------

    def untagged(self, response: Response) -> None:
        """Queue an untagged response; the session writes the queue before the tagged completion."""
        self._untagged.append(response)

    def take_untagged(self) -> list[Response]:
        queued, self._untagged = self._untagged, []
        return queued

    async def flush(self) -> None:
        """Write what is queued now (a long FETCH may flush every few thousand messages)."""
        if self._untagged:
            await self.channel.send(self.take_untagged(), atomic=False)

    # --- the selected mailbox ---------------------------------------------------------------------------

    @property
    def saved_result(self) -> tuple[int, ...] | None:
        """RFC 5182 SEARCHRES ``$``: UIDs saved by the last SEARCH RETURN (SAVE), or None."""
        return None if self.selected is None else self.selected.saved_result

    @saved_result.setter
    def saved_result(self, uids: tuple[int, ...] | None) -> None:
        if self.selected is not None:
            self.selected.saved_result = None if uids is None else tuple(uids)

    async def select(self, name: str, read_only: bool) -> SelectedMailbox:
        """Open ``name`` (already decoded from modified UTF-7) as the selected mailbox.

        The previous selection, if any, is dropped first (RFC 9051 §6.3.2: no expunge, no
        notifications). Store errors (``MailboxNotFound``...) propagate to the dispatcher; the
        connection then leaves selected state because the SELECT fails.
        """
        previous, self.selected = self.selected, None
        # The old view is dropped; its feed subscription is kept for ``open`` to reuse if the same
        # mailbox is selected again (or to close).
        spare = previous.release_subscription() if previous is not None else None
        assert self.user is not None
        self.selected = await SelectedMailbox.open(self, name, read_only, spare)
        return self.selected

    async def unselect(self) -> None:
        selected, self.selected = self.selected, None
        if selected is not None:
            await selected.close()
