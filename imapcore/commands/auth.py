"""Not-authenticated state: STARTTLS, LOGIN, AUTHENTICATE (RFC 9051 §6.2), and UNAUTHENTICATE (RFC 8437).

Passwords are verified by ``imapcore.auth.authenticator.Authenticator`` (argon2id in a worker thread,
with a cache of recent successes). Cleartext authentication is refused with ``NO [PRIVACYREQUIRED]`` on a
connection that is neither TLS-protected nor from a loopback address, where ``LOGINDISABLED`` is
advertised instead of the ``AUTH=`` mechanisms (RFC 9051 §6.2.3, §11.1).

A successful login answers with the post-login capabilities in the tagged OK, as Dovecot does (RFC 9051
§6.2.3 allows it), which saves clients a CAPABILITY round trip.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

import trio

from imapcore.auth import sasl
from imapcore.protocol import codes, events
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import BadCommand, CommandFailed
from imapcore.protocol.responses import ContinuationRequest
from imapcore.syntax import commands as c

from .context import AfterCompletion, SessionContext
from .registry import ALREADY_SENT, Completion, handles

# A SASL exchange of PLAIN or LOGIN takes at most two client messages; more is a confused client.
_MAX_SASL_STEPS = 4


class _InFlight:
    __slots__ = ("done", "ok")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.ok = False


# Concurrent logins with the same credentials (a phone's parallel connections, a reconnect storm after a
# restart) share one argon2 verification instead of queueing for the hash limiter one after the other.
# Keyed by an HMAC under a per-process secret, so no password is kept. Only a success is shared: a
# waiter whose leader failed verifies on its own, so wrong guesses always pay the full cost.
_SECRET = secrets.token_bytes(32)
_IN_FLIGHT: dict[bytes, _InFlight] = {}


async def _verify(ctx: SessionContext, user: str, password: str) -> bool:
    key = hmac.new(_SECRET, b"\0".join(s.encode("utf-8", "surrogatepass") for s in (user, password)),
                   hashlib.sha256).digest()
    pending = _IN_FLIGHT.get(key)
    if pending is not None:
        await pending.done.wait()
        if pending.ok:
            return True
        return await ctx.authenticator.verify(user, password)
    pending = _IN_FLIGHT[key] = _InFlight()
    try:
        pending.ok = await ctx.authenticator.verify(user, password)
    finally:
        del _IN_FLIGHT[key]
        pending.done.set()
    return pending.ok


def _require_privacy(ctx: SessionContext) -> None:
    if not ctx.cleartext_auth_allowed:
        raise CommandFailed(
            ResponseCode(Code.PRIVACYREQUIRED),
            "Plaintext authentication is disallowed on non-secure connections; use STARTTLS",
        )


async def _log_in(ctx: SessionContext, user: str, password: str) -> Completion:
    if not await _verify(ctx, user, password):
        raise CommandFailed(ResponseCode(Code.AUTHENTICATIONFAILED), "Authentication failed")
    ctx.user = user
    return Completion(codes.capability(ctx.capabilities()), "Logged in")


@handles(c.StartTls)
async def starttls(ctx: SessionContext, cmd: c.StartTls) -> Completion:
    """RFC 9051 §6.2.1: after the OK the session negotiates TLS; buffered plaintext is discarded."""
    if ctx.tls:
        raise BadCommand("TLS is already active")
    if ctx.after_completion is not AfterCompletion.NOTHING:
        raise BadCommand("STARTTLS is not possible now")
    ctx.after_completion = AfterCompletion.START_TLS
    return Completion(text="Begin TLS negotiation now")


@handles(c.Login)
async def login(ctx: SessionContext, cmd: c.Login) -> Completion:
    """RFC 9051 §6.2.3."""
    _require_privacy(ctx)
    return await _log_in(ctx, cmd.username, cmd.password)


def _decode_initial_response(text: str) -> bytes:
    # RFC 4959 §3: "=" is an empty initial response; otherwise strict base64.
    if text == "=":
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadCommand("Invalid base64 in the initial response") from None


@handles(c.Authenticate)
async def authenticate(ctx: SessionContext, cmd: c.Authenticate) -> Completion:
    """RFC 9051 §6.2.2 with SASL-IR (RFC 4959): PLAIN (RFC 4616) and LOGIN."""
    mechanism = sasl.start(cmd.mechanism)
    if mechanism is None:
        raise CommandFailed(None, f"Unsupported authentication mechanism {cmd.mechanism}")
    _require_privacy(ctx)
    response = None if cmd.initial_response is None else _decode_initial_response(cmd.initial_response)
    for _ in range(_MAX_SASL_STEPS):
        try:
            step = mechanism.step(response)
        except sasl.SaslError as error:
            raise CommandFailed(ResponseCode(Code.AUTHENTICATIONFAILED), f"Authentication failed: {error}") from None
        if isinstance(step, sasl.Credentials):
            if step.authzid and step.authzid != step.authcid:
                # No proxy authorization: a user may only act as themselves (RFC 4616 §2).
                raise CommandFailed(ResponseCode(Code.AUTHORIZATIONFAILED), "Authorization as another user is not allowed")
            return await _log_in(ctx, step.authcid, step.password)
        await ctx.channel.send_continuation(ContinuationRequest(challenge=step.data))
        event = await ctx.channel.next_line_event()
        if isinstance(event, events.AuthenticateCancelled):
            return ALREADY_SENT  # the connection answered "tag BAD" (cancelled or invalid base64)
        response = event.data
    raise CommandFailed(ResponseCode(Code.AUTHENTICATIONFAILED), "Authentication exchange too long")


@handles(c.Unauthenticate)
async def unauthenticate(ctx: SessionContext, cmd: c.Unauthenticate) -> Completion:
    """RFC 8437 §2-3: back to not authenticated state; the mailbox is closed without expunge and every
    enabled extension is off again."""
    await ctx.unselect()
    ctx.user = None
    ctx.reset_enabled()
    return Completion(text="Unauthenticated")
