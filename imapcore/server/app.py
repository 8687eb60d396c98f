"""``serve(config)``: open the store, the TLS context and the listeners, and run sessions until shutdown.

Structure (ARCHITECTURE.md, concurrency model; after trio's ``serve_listeners`` and hypercorn):

* one nursery of accept loops, one per listener (cleartext with STARTTLS, or implicit TLS);
* one *handler nursery* holding one task per connection. ``Server._admit`` checks the connection against
  ``imapcore.server.limits.ConnectionLimits`` (its address's limit first, then the global one) and the
  authentication throttle (an address refused for too many failures); a connection that is not admitted
  is told ``* BYE [UNAVAILABLE]`` before any TLS handshake or parsing and closed, so a refused
  connection costs a few hundred bytes for a moment. Per-user session limits, the command-rate budget,
  shape limits and the heavy-work limiter are applied per command (``imapcore.commands.guard``);
* ``task_status.started(bound)`` reports the actual ``(kind, host, port)`` of every listener, so tests
  and ``--listen 127.0.0.1:0`` work without guessing ports;
* shutdown (SIGTERM/SIGINT, or the ``shutdown`` event): stop accepting, cancel the handler nursery;
  every session's cleanup says ``* BYE`` inside a shielded window bounded by
  ``timeouts.shutdown_grace_s``; then the store is closed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import ssl
import threading
from dataclasses import dataclass

import trio

from imapcore.auth.authenticator import Authenticator
from imapcore.auth.throttle import AuthThrottle, ThrottlePolicy
from imapcore.commands.context import ServerServices
from imapcore.commands.guard import CommandGuard
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.responses import Status, StatusResponse
from imapcore.store import Store, UserNotFound
from imapcore.store.sharedfeed import SharedFeed

from . import tls
from .config import Config, Limits, parse_address
from .limits import ConnectionLimits, SharedConnectionLimits
from .sharedstate import SharedRecords, SharedState, SharedVerificationCache
from .session import Session
from .workers import BALANCE_DEFER_S, SessionCounts, WorkerSetup

log = logging.getLogger(__name__)

STARTTLS_KIND = "STARTTLS"
TLS_KIND = "TLS"


@dataclass(frozen=True, slots=True)
class BoundAddress:
    kind: str  # STARTTLS (cleartext, upgradable) or TLS (implicit)
    host: str
    port: int


def tls_context(config: Config) -> ssl.SSLContext:
    """The configured certificate, or a self-signed one generated into the data directory once."""
    if config.tls_cert and config.tls_key:
        return tls.server_context(config.tls_cert, config.tls_key)
    cert, key, created = tls.ensure_self_signed(config.data_path)
    if created:
        log.warning("no TLS certificate configured: generated a self-signed one in %s", cert)
    else:
        log.info("using the self-signed TLS certificate %s", cert)
    return tls.server_context(cert, key)


def throttle_policy(limits: Limits) -> ThrottlePolicy:
    return ThrottlePolicy(
        free_failures=limits.auth_free_failures,
        delay_s=limits.auth_delay_s,
        delay_max_s=limits.auth_delay_max_s,
        ban_failures=limits.auth_ban_failures,
        ban_s=limits.auth_ban_s,
        memory_s=limits.auth_failure_memory_s,
        max_keys=limits.auth_tracked_keys,
        parallel_free=limits.auth_parallel_free,
    )


#: Refused connections are logged at most this often (a flood must not flood the log too).
REFUSAL_LOG_INTERVAL_S = 10.0


class Server:
    def __init__(self, services: ServerServices, ssl_context: ssl.SSLContext,
                 balance: SessionCounts | None = None, shared: SharedState | None = None) -> None:
        self.services = services
        self.ssl_context = ssl_context
        limits = services.config.limits
        if shared is None:
            self.limits = ConnectionLimits(limits.max_connections, limits.max_connections_per_ip,
                                           limits.max_sessions_per_user)
        else:  # several worker processes: the limits hold for all of them together (sharedstate.py)
            self.limits = SharedConnectionLimits(limits.max_connections, limits.max_connections_per_ip,
                                                 limits.max_sessions_per_user, shared)
        self.balance = balance
        self.throttle = services.authenticator.throttle
        self.guard = CommandGuard(limits, self.limits.admit_user, self.limits.release_user)
        self.active_sessions = 0
        self.refused = 0  # connections refused since start
        self._refused_logged = 0
        self._refusal_logged_at = -REFUSAL_LOG_INTERVAL_S

    async def accept_loop(self, listener: trio.SocketListener, implicit_tls: bool, handlers: trio.Nursery) -> None:
        while True:
            try:
                stream = await listener.accept()
            except OSError as error:
                # EMFILE and friends: wait a little instead of spinning (as trio.serve_listeners does).
                log.error("accept failed: %s", error)
                await trio.sleep(0.1)
                continue
            handlers.start_soon(self.handle_connection, stream, implicit_tls)

    async def accept_shared(self, sock: socket.socket, implicit_tls: bool, handlers: trio.Nursery) -> None:
        """Accept from a listening socket every worker process shares (``workers.py``): a worker that
        carries more sessions than another lets that one take the connection first."""
        while True:
            await trio.lowlevel.wait_readable(sock)
            if self.balance is not None and self.balance.overloaded():
                await trio.sleep(BALANCE_DEFER_S)
            try:
                connection, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                continue  # another worker took it
            except OSError as error:
                log.error("accept failed: %s", error)
                await trio.sleep(0.1)
                continue
            stream = trio.SocketStream(trio.socket.from_stdlib_socket(connection))
            handlers.start_soon(self.handle_connection, stream, implicit_tls)

    def _admit(self, host: str, borrower: object):
        """A connection slot for ``host`` (``imapcore.server.limits.Slot``), or the reason for refusing."""
        if self.throttle is not None and self.throttle.banned(host):
            return "Too many authentication failures from your address; try again later"
        slot = self.limits.admit(host, borrower)
        if slot is None:
            if self.limits.server_full():
                return "Too many connections"
            return "Too many connections from your address"
        return slot

    def _note_refusal(self, host: str, reason: str) -> None:
        self.refused += 1
        now = trio.current_time()
        if now - self._refusal_logged_at >= REFUSAL_LOG_INTERVAL_S:
            log.warning("connection refused: %s: rip=%s (%d refused since the last report)",
                        reason, host, self.refused - self._refused_logged)
            self._refused_logged = self.refused
            self._refusal_logged_at = now

    def _refuse(self, stream: trio.SocketStream, implicit_tls: bool, reason: str) -> None:
        """Say ``* BYE [UNAVAILABLE] reason`` and close, without a checkpoint or a TLS handshake."""
        sock = stream.socket
        try:
            if not implicit_tls:
                # A non-blocking write: a fresh socket's send buffer takes these few bytes at once.
                os.write(sock.fileno(), StatusResponse(Status.BYE, reason, ResponseCode(Code.UNAVAILABLE)).to_bytes())
        except OSError:
            pass
        finally:
            sock.close()

    async def handle_connection(self, stream: trio.SocketStream, implicit_tls: bool) -> None:
        try:
            peer = stream.socket.getpeername()
            remote = (peer[0], peer[1])
        except OSError:
            await stream.aclose()
            return
        borrower = object()
        slot = self._admit(remote[0], borrower)
        if isinstance(slot, str):
            self._note_refusal(remote[0], slot)
            self._refuse(stream, implicit_tls, slot)
            return
        self.active_sessions += 1
        if self.balance is not None:
            self.balance.add(1)
        try:
            session_stream: trio.abc.Stream = stream
            if implicit_tls:
                session_stream = trio.SSLStream(stream, self.ssl_context, server_side=True)
                with trio.move_on_after(self.services.config.timeouts.tls_handshake_s) as scope:
                    try:
                        await session_stream.do_handshake()
                    except (trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError, OSError) as error:
                        log.info("TLS handshake with %s failed: %s", remote, error)
                        scope.cancel()
                if scope.cancelled_caught:
                    with trio.move_on_after(1):
                        await stream.aclose()
                    return
            session = Session(
                self.services, session_stream, remote_address=remote, tls=implicit_tls,
                ssl_context=self.ssl_context, guard=self.guard.session(),
            )
            await session.run()
        finally:
            self.active_sessions -= 1
            if self.balance is not None:
                self.balance.add(-1)
            self.limits.release(slot, borrower)


async def _open_listeners(addresses: tuple[str, ...]) -> list[trio.SocketListener]:
    listeners: list[trio.SocketListener] = []
    for address in addresses:
        host, port = parse_address(address)
        listeners.extend(await trio.open_tcp_listeners(port, host=host))
    return listeners


def _bound(kind: str, listener: trio.SocketListener) -> BoundAddress:
    name = listener.socket.getsockname()
    return BoundAddress(kind, name[0], name[1])


async def serve(
    config: Config,
    *,
    shutdown: trio.Event | None = None,
    handle_signals: bool = True,
    store: Store | None = None,
    worker: WorkerSetup | None = None,
    task_status=trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the server until SIGTERM/SIGINT (when ``handle_signals`` and on the main thread) or until
    ``shutdown`` is set. ``task_status.started`` receives the list of ``BoundAddress``.

    ``store``: an already open store whose feed is an ``InProcessFeed`` of this Trio run (tests pass one
    to deliver messages while the server runs); the caller then closes it. By default the server opens
    ``config.data_dir`` itself.

    ``worker``: run as one of several worker processes (``workers.py``): accept from the supervisor's
    listening sockets, share the store with the other workers (process-shared writer lock, the change
    feed through the database)."""
    config.data_path.mkdir(parents=True, exist_ok=True)
    ssl_context = tls_context(config)
    owns_store = store is None
    balance = None
    shared = SharedState(config.data_path, worker.index) if worker is not None else None
    if store is None:
        # The shared feed with one process too: the command line (``imapcore deliver``, ``user del``)
        # writes beside the server, and its changes reach the sessions through the change log.
        if worker is None:
            feed = SharedFeed(config.data_path, None, ())
        else:
            feed = SharedFeed(config.data_path, worker.wake_fd, worker.peer_fds, worker_index=worker.index)
            balance = SessionCounts(worker.sessions_path, worker.workers, worker.index)
        try:
            store = Store.open(config.data_dir, feed=feed, synchronous=config.store_synchronous.upper(),
                               process_shared=True)
        except BaseException:
            if isinstance(feed, SharedFeed):
                feed.close()
            raise
    feed = store.feed
    # Blobs freed by an EXPUNGE (MOVE, DELETE...) are collected in the background, several at once
    # (commands/context.py, BlobCollector), not under the writer lock in the command's time.
    store.background_collection = True
    # Full-text indexing likewise: in a background task a moment after deliveries (BackgroundIndexer).
    store.background_indexing = True
    try:

        def lookup_hash(user: str) -> str | None:
            try:
                return store.user(user).password_hash
            except UserNotFound:
                return None

        services = ServerServices(
            store=store,
            feed=feed,
            config=config,
            authenticator=Authenticator(
                lookup_hash, throttle=_throttle(config.limits, shared),
                cache=SharedVerificationCache(shared, worker.cache_secret) if shared is not None else None,
            ),
            store_limiter=trio.CapacityLimiter(max(4, 2 * (os.cpu_count() or 2))),
            write_limiter=trio.CapacityLimiter(16),
        )
        server = Server(services, ssl_context, balance, shared)
        if worker is None:
            plain = await _open_listeners(config.listen)
            implicit = await _open_listeners(config.listen_tls)
        else:
            plain, implicit = [], []
        bound = [_bound(STARTTLS_KIND, l) for l in plain] + [_bound(TLS_KIND, l) for l in implicit]
        shutdown = trio.Event() if shutdown is None else shutdown
        async with trio.open_nursery() as handlers:
            async with trio.open_nursery() as accepting:
                for listener in plain:
                    accepting.start_soon(server.accept_loop, listener, False, handlers)
                for listener in implicit:
                    accepting.start_soon(server.accept_loop, listener, True, handlers)
                if worker is not None:
                    for sock, implicit_tls in worker.sockets:
                        accepting.start_soon(server.accept_shared, sock, implicit_tls, handlers)
                        name = sock.getsockname()
                        bound.append(BoundAddress(TLS_KIND if implicit_tls else STARTTLS_KIND, name[0], name[1]))
                if isinstance(feed, SharedFeed):
                    accepting.start_soon(feed.follow)
                if worker is None or worker.index == 0:
                    accepting.start_soon(_index_in_the_background, store, services.write_limiter)
                if handle_signals and threading.current_thread() is threading.main_thread():
                    accepting.start_soon(_wait_for_signal, shutdown)
                task_status.started(bound)
                await shutdown.wait()
                log.info("shutting down: %d sessions open", server.active_sessions)
                accepting.cancel_scope.cancel()
            for listener in plain + implicit:
                await listener.aclose()
            # Every session's cleanup says BYE within the grace period (Session._finish).
            handlers.cancel_scope.cancel()
    finally:
        if owns_store:
            store.close()
            if isinstance(feed, SharedFeed):
                feed.close()
        if balance is not None:
            balance.close()
        if shared is not None:
            shared.close()


#: How often the server looks for delivered messages not yet in the full-text index.
INDEX_INTERVAL_S = 5.0


async def _index_in_the_background(store: Store, limiter: trio.CapacityLimiter) -> None:
    """Deliveries leave their words to be indexed later, in batches (``imapcore.store.fulltext``): a
    delivering thread indexes only once 64 are waiting, so a quiet server would keep up to 63 pending
    for ever (SEARCH stays exact, only slower on them). This drains them every ``INDEX_INTERVAL_S``
    in a worker thread; with several workers, worker 0 does it."""
    while True:
        await trio.sleep(INDEX_INTERVAL_S)
        try:
            if store.pending_parse_count():
                await trio.to_thread.run_sync(store.parse_deferred, 1024, limiter=limiter)
            if store.pending_index_count():
                await trio.to_thread.run_sync(store.index_pending, 1024, limiter=limiter)
        except Exception:  # a busy or failing disk: the next round tries again, SEARCH is exact anyway
            log.exception("background full-text indexing failed")


def _throttle(limits: Limits, shared: SharedState | None) -> AuthThrottle:
    """The authentication throttle; with several workers its records are shared (sharedstate.py), so an
    address has one schedule however its connections are spread."""
    policy = throttle_policy(limits)
    if shared is None:
        return AuthThrottle(policy)
    return AuthThrottle(policy, records=SharedRecords(shared, policy.max_keys))


async def _wait_for_signal(shutdown: trio.Event) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("received %s", signal.Signals(signum).name)
            shutdown.set()
            return
