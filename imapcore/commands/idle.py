"""IDLE (RFC 9051 §6.3.13, RFC 2177): push the selected mailbox's changes until the client says DONE.

The handler runs a child nursery with two tasks (ARCHITECTURE.md, concurrency model): the main task
waits for the client's line (``DONE`` ends the IDLE; anything else makes the connection answer ``BAD``),
the other forwards changes from the feed at once: EXISTS, FETCH flags and EXPUNGE/VANISHED (expunges are
allowed while idling: no command numbers are in flight). Writes are shielded inside the session's
channel, so cancelling the forwarder never cuts a response in half. The autologout timer of the session
keeps running: a client must re-issue IDLE before it expires (RFC 9051 §5.4; clients do every ~29 min).
"""

from __future__ import annotations

import trio

from imapcore.protocol import events
from imapcore.protocol.responses import ContinuationRequest
from imapcore.syntax import commands as c

from .context import ClientGone, SessionContext
from .registry import ALREADY_SENT, Completion, handles


@handles(c.Idle)
async def idle(ctx: SessionContext, cmd: c.Idle) -> Completion:
    await ctx.channel.send_continuation(ContinuationRequest("idling"))
    selected = ctx.selected
    # The client leaving (or not reading) is noted here and raised after the nursery, so the session
    # sees a plain ClientGone rather than an exception group.
    gone: list[BaseException] = []

    async def forward_changes() -> None:
        if selected is None:
            return  # authenticated state: nothing to push (NOTIFY is not implemented)
        try:
            while True:
                updates = selected.pending_updates(allow_expunge=True)
                if updates:
                    await ctx.channel.send(updates)
                if selected.deleted:  # the updates ended with BYE: the connection is over
                    raise ClientGone("the selected mailbox was deleted")
                await selected.wait()
        except (ClientGone, trio.BrokenResourceError, trio.ClosedResourceError) as error:
            gone.append(error)
            nursery.cancel_scope.cancel()

    event = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(forward_changes)
        try:
            event = await ctx.channel.next_line_event()
        except (ClientGone, trio.BrokenResourceError, trio.ClosedResourceError) as error:
            gone.append(error)
        nursery.cancel_scope.cancel()
    if gone or event is None:
        raise ClientGone("the client went away during IDLE")
    if isinstance(event, events.IdleAborted):
        return ALREADY_SENT  # the connection answered "tag BAD" itself
    return Completion(text="IDLE terminated")
