"""Events handed out by ``Connection.next_event`` (what the client did).

Every event has an ``output`` attribute: bytes the connection has already decided to say on its own
(a literal's ``+`` continuation, the ``BAD`` for a syntax error, the ``* BYE`` before closing). The I/O
layer writes ``event.output`` (when non-empty) before it does anything else with the event. That is the
whole contract between the sans-IO core and the transport: nothing is buffered on the output side.

=========================  ======================================================================
event                      the I/O layer...
=========================  ======================================================================
``NEED_DATA``              reads more bytes and calls ``receive_data``
``PAUSED``                 runs the command in progress; nothing more is read out until its tagged
                           completion is sent (pipelined commands wait, so each is checked against
                           the state the previous one left, RFC 9051 §5.5)
``SendContinuation``       writes ``output`` (``+ Ready for literal data``), then reads more
``CommandReceived``        runs ``command`` (already checked against the state table)
``CommandRejected``        writes ``output`` (``tag BAD ...``, ``tag NO [TOOBIG] ...`` or ``* BAD``)
``IdleDone``               the client sent DONE: stop idling, send the IDLE's tagged OK
``IdleAborted``            writes ``output`` (the IDLE's ``tag BAD``); IDLE is over
``AuthenticateResponse``   hands ``data`` (base64-decoded) to the SASL mechanism
``AuthenticateCancelled``  writes ``output`` (``tag BAD``); AUTHENTICATE is over
``ConnectionTerminated``   writes ``output`` (``* BYE ...``) and closes: the stream cannot be resynced
``ConnectionClosed``       closes: the client hung up, or LOGOUT completed
=========================  ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class NeedData:
    output: ClassVar[bytes] = b""


@dataclass(frozen=True, slots=True)
class Paused:
    output: ClassVar[bytes] = b""


NEED_DATA = NeedData()
PAUSED = Paused()


@dataclass(frozen=True, slots=True)
class SendContinuation:
    """A synchronizing literal was announced within limits (RFC 9051 §7.5)."""

    output: bytes


@dataclass(frozen=True, slots=True)
class CommandReceived:
    """A parsed command (an ``imapcore.syntax.commands`` dataclass), allowed in the current state."""

    command: object
    output: ClassVar[bytes] = b""


@dataclass(frozen=True, slots=True)
class CommandRejected:
    """The connection answered a command itself: syntax error, wrong state, or a framing limit."""

    tag: str | None
    reason: str
    output: bytes


@dataclass(frozen=True, slots=True)
class IdleDone:
    tag: str
    output: ClassVar[bytes] = b""


@dataclass(frozen=True, slots=True)
class IdleAborted:
    tag: str
    output: bytes


@dataclass(frozen=True, slots=True)
class AuthenticateResponse:
    """One client response line of an AUTHENTICATE exchange, base64-decoded (RFC 9051 §6.2.2)."""

    tag: str
    data: bytes
    output: ClassVar[bytes] = b""


@dataclass(frozen=True, slots=True)
class AuthenticateCancelled:
    """``*`` or invalid base64: the connection answered the AUTHENTICATE with ``tag BAD``."""

    tag: str
    reason: str
    output: bytes


@dataclass(frozen=True, slots=True)
class ConnectionTerminated:
    reason: str
    output: bytes


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    by_peer: bool
    output: ClassVar[bytes] = b""


Event = (
    NeedData
    | Paused
    | SendContinuation
    | CommandReceived
    | CommandRejected
    | IdleDone
    | IdleAborted
    | AuthenticateResponse
    | AuthenticateCancelled
    | ConnectionTerminated
    | ConnectionClosed
)
