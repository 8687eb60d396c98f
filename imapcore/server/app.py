"""``serve(config)``: open the store, the TLS context and the listeners, and run sessions until shutdown.

Structure (ARCHITECTURE.md, concurrency model; after trio's ``serve_listeners`` and hypercorn):

* one nursery of accept loops, one per listener (cleartext with STARTTLS, or implicit TLS);
* one *handler nursery* holding one task per connection. A connection over ``limits.max_connections``
  is told ``* BYE [UNAVAILABLE]`` and closed (the hook for per-IP and per-user limits is
  ``Server._admit``);
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
import ssl
import threading
from dataclasses import dataclass

import trio

from imapcore.auth.authenticator import Authenticator
from imapcore.commands.context import ServerServices
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.responses import Status, StatusResponse
from imapcore.store import InProcessFeed, Store, UserNotFound

from . import tls
from .config import Config, parse_address
from .session import Session

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


class Server:
    def __init__(self, services: ServerServices, ssl_context: ssl.SSLContext) -> None:
        self.services = services
        self.ssl_context = ssl_context
        self.connection_limiter = trio.CapacityLimiter(services.config.limits.max_connections)
        self.active_sessions = 0

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

    def _admit(self) -> bool:
        """Room for one more connection? (Per-IP / per-user limits belong here too.)"""
        try:
            self.connection_limiter.acquire_nowait()
        except trio.WouldBlock:
            return False
        return True

    async def handle_connection(self, stream: trio.SocketStream, implicit_tls: bool) -> None:
        try:
            peer = stream.socket.getpeername()
            remote = (peer[0], peer[1])
        except OSError:
            await stream.aclose()
            return
        if not self._admit():
            with trio.move_on_after(1):
                try:
                    if implicit_tls:
                        await stream.aclose()  # no handshake for a connection we will not serve
                        return
                    await stream.send_all(
                        StatusResponse(Status.BYE, "Too many connections", ResponseCode(Code.UNAVAILABLE)).to_bytes()
                    )
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass
            await stream.aclose()
            return
        self.active_sessions += 1
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
                self.services, session_stream, remote_address=remote, tls=implicit_tls, ssl_context=self.ssl_context
            )
            await session.run()
        finally:
            self.active_sessions -= 1
            self.connection_limiter.release()


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
    task_status=trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the server until SIGTERM/SIGINT (when ``handle_signals`` and on the main thread) or until
    ``shutdown`` is set. ``task_status.started`` receives the list of ``BoundAddress``.

    ``store``: an already open store whose feed is an ``InProcessFeed`` of this Trio run (tests pass one
    to deliver messages while the server runs); the caller then closes it. By default the server opens
    ``config.data_dir`` itself."""
    config.data_path.mkdir(parents=True, exist_ok=True)
    ssl_context = tls_context(config)
    owns_store = store is None
    if store is None:
        store = Store.open(config.data_dir, feed=InProcessFeed(), synchronous=config.store_synchronous.upper())
    feed = store.feed
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
            authenticator=Authenticator(lookup_hash),
            store_limiter=trio.CapacityLimiter(max(4, 2 * (os.cpu_count() or 2))),
            write_limiter=trio.CapacityLimiter(16),
        )
        server = Server(services, ssl_context)
        plain = await _open_listeners(config.listen)
        implicit = await _open_listeners(config.listen_tls)
        bound = [_bound(STARTTLS_KIND, l) for l in plain] + [_bound(TLS_KIND, l) for l in implicit]
        shutdown = trio.Event() if shutdown is None else shutdown
        async with trio.open_nursery() as handlers:
            async with trio.open_nursery() as accepting:
                for listener in plain:
                    accepting.start_soon(server.accept_loop, listener, False, handlers)
                for listener in implicit:
                    accepting.start_soon(server.accept_loop, listener, True, handlers)
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


async def _wait_for_signal(shutdown: trio.Event) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("received %s", signal.Signals(signum).name)
            shutdown.set()
            return
