"""Commands valid in any state: CAPABILITY, NOOP, LOGOUT (RFC 9051 §6.1) and ID (RFC 2971)."""

from __future__ import annotations

from imapcore import __version__
from imapcore.protocol import responses
from imapcore.protocol.responses import Atom, DataResponse, Status, StatusResponse
from imapcore.syntax import commands as c

from .context import SessionContext
from .registry import Completion, handles

#: RFC 2971 §3.3: what the server says about itself (no host details: abuse resistance).
SERVER_ID = (("name", "imapcore"), ("version", __version__), ("vendor", "imapcore"))

# RFC 2971 §3.3: at most 30 field-value pairs, fields at most 30 octets, values at most 1024.
_MAX_ID_PAIRS = 30


@handles(c.Capability)
async def capability(ctx: SessionContext, cmd: c.Capability) -> Completion:
    """RFC 9051 §6.1.1."""
    ctx.untagged(responses.capability(ctx.capabilities()))
    return Completion(text="Capability completed")


@handles(c.Noop)
async def noop(ctx: SessionContext, cmd: c.Noop) -> Completion:
    """RFC 9051 §6.1.2: nothing to do; the session reports pending mailbox changes at every command end."""
    return Completion(text="NOOP completed")


@handles(c.Logout)
async def logout(ctx: SessionContext, cmd: c.Logout) -> Completion:
    """RFC 9051 §6.1.3: ``* BYE`` then the tagged OK; the session closes the connection after it."""
    ctx.untagged(StatusResponse(Status.BYE, "Logging out"))
    return Completion(text="Logout completed")


@handles(c.Id)
async def id_(ctx: SessionContext, cmd: c.Id) -> Completion:
    """RFC 2971 §3.1: remember the client's identification (for logs), say who we are."""
    if cmd.parameters is not None:
        ctx.client_id = tuple((field[:30], None if value is None else value[:1024])
                              for field, value in cmd.parameters[:_MAX_ID_PAIRS])
    fields: list = []
    for field, value in SERVER_ID:
        fields += [field, value]
    ctx.untagged(DataResponse((Atom("ID"), tuple(fields))))
    return Completion(text="ID completed")
