"""One task per connection: drive the sans-IO ``Connection`` over a Trio stream and run commands.

Theory of operation
-------------------
The session reads bytes (bounded receive size), feeds ``imapcore.protocol.Connection`` and loops over
its events. A ``CommandReceived`` goes to ``imapcore.commands.dispatch.run_command``; the untagged
responses the handler queued, then the selected mailbox's pending updates (other sessions' changes),
then the tagged completion are serialized together. Output is buffered and written with one
``send_all`` when the session is about to wait for the client (or the buffer is large), so a pipelined
burst of commands is answered with few writes.

Invariants (STYLE.md §10):

* one command at a time per connection, in arrival order: the connection hands out the next command
  only after the previous one's tagged completion was sent (pipelined commands wait in its buffer);
* nothing is written while a store transaction is open: handlers await ``run_store`` to completion
  before the session writes;
* a handler's exception never ends the session (``run_command`` maps it); only the client hanging up,
  an unrecoverable framing error, LOGOUT, an autologout timer or server shutdown end it;
* whatever ends the session, the ``finally`` block closes the selection's feed subscription and the
  stream, and, when the connection is still open, says ``* BYE`` inside a shielded, bounded window.

Timers (RFC 9051 §5.4): before login a client has ``timeouts.pre_login_s`` between reads and
``timeouts.login_deadline_s`` from the greeting to a successful login in all (a slowloris that sends a
byte every few seconds is cut off at the deadline); after login ``timeouts.idle_timeout_s`` (at least 30
minutes by default) between commands, and ``timeouts.idle_rearm_s`` inside IDLE (clients re-issue IDLE
every 29 minutes, RFC 9051 §6.3.13). Before login, and over TLS, each read runs in a cancel scope with
the timer's deadline; after login on a plain socket the deadlines are kept by one task
(``autologout.py``), which ends an expired wait, because a cancel scope per read cost more than a
NOOP's handler. A write that stalls for ``timeouts.send_stall_s`` ends the session:
a client that does not read pins at most one output batch (``FLUSH_BYTES`` or one FETCH flush) and its
socket buffers, never the whole response.

Before login, literals are limited to ``limits.max_literal_bytes_before_login``: the session looks for
literal markers in what it reads (the only literals a client sends before login are user names and
passwords) and answers a larger one with ``* BYE [TOOBIG]`` before the client sends the data.

Abuse limits (``imapcore.commands.guard``): every command goes through the session's ``SessionGuard``
(rate budget, shape limits, heavy-work limiter, per-user session slot); when a login is refused for the
user's session limit, the session says ``* BYE`` and closes.
"""

from __future__ import annotations

import logging
import os
import re
import ssl

import trio

from imapcore.commands.context import (
    AfterCompletion,
    ClientGone,
    ServerServices,
    SessionChannel,
    SessionContext,
)
from imapcore.auth.throttle import REMOTE_ADDRESS
from imapcore.commands.dispatch import run_command
from imapcore.commands.guard import SessionGuard
from imapcore.protocol import codes, events
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.connection import Connection
from imapcore.protocol.responses import ContinuationRequest, Response, Status, StatusResponse
from imapcore.protocol.states import State
from imapcore.syntax import commands as c
from imapcore.syntax.tokens import Limits as FramingLimits

from . import autologout

log = logging.getLogger(__name__)

#: Largest single read; the tokenizer enforces the real limits while framing.
RECEIVE_SIZE = 65536
#: Buffered output above this is written at once instead of waiting for the next read.
FLUSH_BYTES = 256 * 1024

#: A literal marker at the end of a line: ``{n}``, ``{n+}`` (and ``~{n}``), RFC 9051 §4.3, RFC 7888.
_LITERAL_MARKER = re.compile(rb"\{(\d{1,24})\+?\}\r\n")

# RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH (the UID variants may have them).
_NO_EXPUNGE_COMMANDS = (c.Fetch, c.Store, c.Search, c.Sort, c.Thread)


def framing_limits(config) -> FramingLimits:
    limits = config.limits
    return FramingLimits(
        max_line_bytes=limits.max_line_bytes,
        max_literal_bytes=limits.max_literal_bytes,
        max_command_bytes=limits.max_command_bytes,
        max_literals_per_command=limits.max_literals_per_command,
    )


class Session(SessionChannel):
    """One client connection. ``await Session(...).run()`` returns when the connection is over."""

    def __init__(
        self,
        services: ServerServices,
        stream: trio.abc.Stream,
        *,
        remote_address: tuple[str, int] | None,
        tls: bool,
        ssl_context: ssl.SSLContext | None,
        guard: SessionGuard | None = None,
    ) -> None:
        self.services = services
        self.guard = guard
        self.stream = stream
        self.ssl_context = ssl_context
        self.conn = Connection(framing_limits(services.config))
        self.ctx = SessionContext(services, self, remote_address=remote_address, tls=tls)
        self._out: list[bytes] = []
        self._out_size = 0
        self._sending = False  # a write is in progress (IDLE's forwarder and the main task share the stream)
        self._send_done: trio.Event | None = None  # made by a writer that has to wait for ``_sending``
        self._raw_fd = stream.socket.fileno() if type(stream) is trio.SocketStream else None
        self._closed = False  # the stream is no longer usable for writing
        self._wait_expired = False  # the autologout timer ended the current wait (``expire``)
        self.bye_text = "Server shutting down"  # said in ``_finish`` if the session is interrupted
        self._login_deadline = trio.current_time() + services.config.timeouts.login_deadline_s
        self._marker_tail = b""  # the end of the previous read, for literal markers split across reads

    # --- the main loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        # Seen by Authenticator.verify (throttling per address); this task's context only.
        REMOTE_ADDRESS.set(self.ctx.remote_address[0] if self.ctx.remote_address else None)
        try:
            await self._serve()
        except (ClientGone, trio.BrokenResourceError, trio.ClosedResourceError):
            self._closed = True
        except ssl.SSLError as error:
            log.info("TLS error from %s: %s", self.ctx.remote_address, error)
            self._closed = True
        except Exception:
            log.exception("session with %s failed", self.ctx.remote_address)
            self.bye_text = "Internal server error"
        finally:
            await self._finish()

    async def _serve(self) -> None:
        conn = self.conn
        greeting = StatusResponse(Status.OK, "imapcore ready", codes.capability(self.ctx.capabilities()))
        self._queue(conn.send(greeting))
        while True:
            event = conn.next_event()
            if event.output:
                self._queue(event.output)
            if event is events.NEED_DATA:
                await self._receive()
            elif isinstance(event, events.CommandReceived):
                await self._run_command(event.command)
                if self._out_size >= FLUSH_BYTES:
                    await self._flush()
            elif isinstance(event, events.SendContinuation):
                await self._flush()  # the client waits for "+" before sending the literal
            elif isinstance(event, (events.ConnectionClosed, events.ConnectionTerminated)):
                await self._flush()
                self._closed = True  # LOGOUT done, the client hung up, or BYE already said
                return
            # CommandRejected: its output (tag BAD ...) is queued above; nothing else to do.

    async def _run_command(self, command) -> None:
        ctx = self.ctx
        ctx.after_completion = AfterCompletion.NOTHING
        tagged = await run_command(ctx, command, self.guard)
        untagged = ctx.take_untagged()
        if ctx.selected is not None and not isinstance(command, c.Logout):
            allow_expunge = not (isinstance(command, _NO_EXPUNGE_COMMANDS) and not getattr(command, "uid", False))
            try:
                selected = ctx.selected
                await selected.poll()
                # A keyword new to the mailbox is announced before the FETCH responses that show it.
                untagged[:0] = selected.keyword_updates()
                untagged.extend(selected.pending_updates(allow_expunge))
            except Exception:  # a bug here must not end the session (STYLE.md §3); the next boundary retries
                log.exception("reporting mailbox changes failed")
        data = self.conn.send_many(untagged)
        if tagged is not None:
            data += self.conn.send(tagged)
        self._queue(data)
        await self._sync_selection()
        if ctx.after_completion is AfterCompletion.START_TLS and tagged is not None and tagged.status is Status.OK:
            await self._flush()
            await self._start_tls()
        if self.guard is not None and self.guard.close_requested:
            await self._say_bye("Too many sessions for this user", Code.LIMIT)

    async def _sync_selection(self) -> None:
        """Keep the context's selection in step with the connection state (a failed SELECT leaves
        authenticated state, RFC 9051 §6.3.2)."""
        if self.ctx.selected is not None:
            self.ctx.selected.opening = False
            if self.conn.state is not State.SELECTED:
                await self.ctx.unselect()

    # --- reading ----------------------------------------------------------------------------------

    async def _receive(self, in_idle: bool = False) -> None:
        answered = bool(self._out)
        await self._flush()
        timeouts = self.services.config.timeouts
        logged_in = self.ctx.user is not None
        fd = self._raw_fd
        data = None
        if logged_in and fd is not None and not answered:
            # The client's next command is often there already when a busy server gets to read: take
            # it without a wait. Not right after answering: a client that waits for the answer (most)
            # cannot have sent more yet, and the read would only fail (half the reads of the issue's
            # mix did); one that pipelines finds its socket readable at once. Before login the timer
            # always runs: it also enforces the login deadline.
            data = self._read_now(fd)
            if data is not None:
                await trio.lowlevel.cancel_shielded_checkpoint()  # yield, and never drop what was read
        if data is None:
            if not logged_in:
                timeout = min(timeouts.pre_login_s, self._login_deadline - trio.current_time())
            else:
                timeout = timeouts.idle_rearm_s if in_idle else timeouts.idle_timeout_s
            if logged_in and fd is not None:
                data = await self._wait_with_timer(fd, timeout)
            else:
                with trio.move_on_after(max(timeout, 0.0)):
                    if fd is not None:
                        data = await self._wait_and_read(fd, tried=logged_in)
                    else:
                        data = await self.stream.receive_some(RECEIVE_SIZE)
        self.ctx.inline_calls = 0  # this session just yielded (see ``SessionContext.run_store``)
        if data is None:
            if not logged_in and trio.current_time() >= self._login_deadline:
                await self._say_bye("Too slow to log in", Code.UNAVAILABLE)
            # RFC 9051 §5.4: the autologout timer expired.
            await self._say_bye("Autologout; idle for too long")
        if not logged_in and data and self._literal_too_big_before_login(data):
            limit = self.services.config.limits.max_literal_bytes_before_login
            await self._say_bye(f"Literals before login are limited to {limit} bytes", Code.TOOBIG)
        self.conn.receive_data(data)

    # Reading a plain socket directly, without the layers of Trio's socket wrapper (whose
    # ``receive_some`` is a try, a wait and a second try, each behind a few context managers).

    @staticmethod
    def _read_now(fd: int) -> bytes | None:
        """What the client sent, if anything is waiting (None otherwise); ``b""`` once it closed its side."""
        try:
            return os.read(fd, RECEIVE_SIZE)
        except BlockingIOError:
            return None
        except OSError as error:  # ECONNRESET and the like: what Trio's stream reports as broken
            raise trio.BrokenResourceError(str(error)) from error

    async def _wait_and_read(self, fd: int, *, tried: bool) -> bytes:
        """Like ``receive_some``: try a read (unless ``tried`` just found nothing), else wait until the
        socket is readable and read."""
        await trio.lowlevel.checkpoint_if_cancelled()
        if not tried:
            data = self._read_now(fd)
            if data is not None:
                await trio.lowlevel.cancel_shielded_checkpoint()
                return data
        while True:
            await trio.lowlevel.wait_readable(fd)
            data = self._read_now(fd)
            if data is not None:  # None: a spurious wake-up
                return data

    async def _wait_with_timer(self, fd: int, timeout: float) -> bytes | None:
        """``_wait_and_read`` (after a read that found nothing) under the autologout timer of
        ``autologout.py`` instead of a cancel scope; None when the timer ended the wait."""
        timers = autologout.timers()
        self._wait_expired = False
        timers.wait_started(self, trio.current_time() + timeout)
        try:
            return await self._wait_and_read(fd, tried=True)
        except trio.ClosedResourceError:
            if self._wait_expired:
                return None
            raise
        finally:
            timers.wait_ended(self)

    def expire(self) -> None:
        """The autologout timer of the current wait ran out (``autologout.Waiter``)."""
        self._wait_expired = True
        trio.lowlevel.notify_closing(self._raw_fd)

    def _literal_too_big_before_login(self, data: bytes) -> bool:
        """Before login only small literals (RFC 9051 §7.1 TOOBIG): see the module docstring."""
        limit = self.services.config.limits.max_literal_bytes_before_login
        window = self._marker_tail + data
        self._marker_tail = window[-32:]
        return any(len(m.group(1)) > 18 or int(m.group(1)) > limit for m in _LITERAL_MARKER.finditer(window))

    async def _say_bye(self, text: str, code: Code | None = None) -> None:
        """``* BYE [code] text``, then end the session."""
        self._queue(self.conn.send(StatusResponse(Status.BYE, text, ResponseCode(code) if code else None)))
        await self._flush()
        raise ClientGone(text)

    # --- SessionChannel: what IDLE and AUTHENTICATE use --------------------------------------------

    async def send(self, responses: list[Response], atomic: bool = True) -> None:
        self._queue(self.conn.send_many(responses))
        if not atomic:
            await self._flush()
            return
        # Shielded so that cancelling the IDLE forwarder (DONE arrived) never cuts a response in half;
        # bounded by the shutdown grace period, so a client that does not read cannot hold up shutdown.
        with trio.CancelScope(shield=True):
            await self._flush(self.services.config.timeouts.shutdown_grace_s)

    async def send_continuation(self, request: ContinuationRequest) -> None:
        self._queue(self.conn.send(request))
        await self._flush()

    async def next_line_event(self) -> events.Event:
        while True:
            event = self.conn.next_event()
            if event.output:
                self._queue(event.output)
                await self._flush()
            if event is events.NEED_DATA:
                await self._receive(in_idle=self.ctx.user is not None)
            elif isinstance(event, (events.IdleDone, events.IdleAborted,
                                    events.AuthenticateResponse, events.AuthenticateCancelled)):
                return event
            elif isinstance(event, (events.ConnectionClosed, events.ConnectionTerminated)):
                raise ClientGone("connection closed during a command")

    # --- writing ---------------------------------------------------------------------------------------

    def _queue(self, data: bytes) -> None:
        if data:
            self._out.append(data)
            self._out_size += len(data)

    async def _flush(self, stall_s: float | None = None) -> None:
        """Write the buffered output. On a plain socket, first hand the kernel what it takes right now
        (a non-blocking write, no trip through the scheduler: with 10,000 idlers told of one new message
        this halves the fan-out time); whatever remains goes through ``send_all`` under the stall timer."""
        while self._sending:
            if self._send_done is None:
                self._send_done = trio.Event()
            await self._send_done.wait()
        if not self._out or self._closed:
            return
        data = b"".join(self._out)
        self._out.clear()
        self._out_size = 0
        if self._raw_fd is not None:
            # No await before the write is done or handed to ``send_all``: nobody can see it half done.
            try:
                sent = os.write(self._raw_fd, data)
            except BlockingIOError:
                sent = 0
            except OSError as error:  # EPIPE, ECONNRESET: the client is gone
                self._closed = True
                raise ClientGone(str(error)) from None
            if sent == len(data):
                return
            data = data[sent:]
        self._sending = True
        try:
            stall_s = self.services.config.timeouts.send_stall_s if stall_s is None else stall_s
            with trio.move_on_after(stall_s) as scope:
                await self.stream.send_all(data)
            if scope.cancelled_caught:
                self._closed = True
                raise ClientGone("the client stopped reading")
        finally:
            self._sending = False
            if self._send_done is not None:
                self._send_done.set()
                self._send_done = None

    # --- STARTTLS -------------------------------------------------------------------------------------

    async def _start_tls(self) -> None:
        """RFC 9051 §6.2.1: negotiate TLS right after the OK; the connection already dropped any
        plaintext that followed STARTTLS in its buffer."""
        assert self.ssl_context is not None
        tls_stream = trio.SSLStream(self.stream, self.ssl_context, server_side=True)
        with trio.move_on_after(self.services.config.timeouts.tls_handshake_s) as scope:
            await tls_stream.do_handshake()
        if scope.cancelled_caught:
            self._closed = True
            raise ClientGone("TLS handshake timed out")
        self.stream = tls_stream
        self._raw_fd = None  # everything goes through TLS from now on
        self.ctx.tls = True

    # --- the end -----------------------------------------------------------------------------------

    async def _finish(self) -> None:
        """Close everything, saying BYE first if the client can still hear it (shielded, bounded)."""
        if self.guard is not None:
            self.guard.logged_out()  # the user's session slot
        with trio.CancelScope(shield=True):
            grace = self.services.config.timeouts.shutdown_grace_s
            with trio.move_on_after(grace):
                try:
                    await self.ctx.unselect()
                except Exception:  # closing a subscription must not stop the stream from closing
                    log.exception("closing the selection failed")
                if not self._closed and self.conn.state is not State.LOGOUT:
                    try:
                        self._queue(self.conn.send(StatusResponse(
                            Status.BYE, self.bye_text, ResponseCode(Code.UNAVAILABLE))))
                        await self._flush()
                    except (ClientGone, trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError):
                        pass
                    except Exception:
                        log.exception("saying BYE failed")
            with trio.move_on_after(1):
                try:
                    await self.stream.aclose()
                except (trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError, OSError):
                    pass
