"""The one place where a handler's outcome becomes the tagged completion (STYLE.md §3).

``run_command(ctx, command)`` looks the handler up in ``HANDLERS``, runs it and maps what happens:

==============================  ==================================================================
outcome                         tagged response
==============================  ==================================================================
returns ``Completion``          ``tag OK [code] text``
raises ``BadCommand``           ``tag BAD [code] text``
raises ``CommandFailed``        ``tag NO [code] text``
raises a ``StoreError``         ``tag NO [error.code] text`` (RFC 5530 codes named by the store)
raises ``ClientGone``           propagates: the session ends quietly
raises ``trio.Cancelled``       propagates (it is a ``BaseException``; never caught here)
raises anything else            logged with its traceback, ``tag NO [SERVERBUG] ...``; session goes on
==============================  ==================================================================

With a ``guard`` (``imapcore.commands.guard.SessionGuard``, given by the server's session), a command
first passes the session's rate budget and the shape limits (``tag NO [LIMIT]`` otherwise, and the
handler never runs), a heavy command waits for a heavy-work slot, and a successful LOGIN/AUTHENTICATE
takes one of the user's session slots (``tag NO [LIMIT]`` and ``guard.close_requested`` when the user has
none left; the session then closes). UNAUTHENTICATE gives the slot back.
"""

from __future__ import annotations

import logging

from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import BadCommand, CommandFailed, completion_for, server_bug_completion
from imapcore.protocol.responses import Status, TaggedResponse
from imapcore.store.errors import MailboxNotFound, StoreError

from . import HANDLERS
from .context import ClientGone, SessionContext
from .guard import NO_SLOT, SessionGuard, limit_refusal
from .registry import Completion

log = logging.getLogger(__name__)


def store_error_completion(tag: str, error: StoreError) -> TaggedResponse:
    """``tag NO [CODE] text`` for a refusal by the store."""
    code = ResponseCode(error.code) if error.code else None
    text = str(error)
    if isinstance(error, MailboxNotFound) and not error.target:
        text = f"Mailbox doesn't exist: {error.name}"
    return TaggedResponse(tag, Status.NO, text[:1].upper() + text[1:], code)


async def run_command(ctx: SessionContext, command, guard: SessionGuard | None = None) -> TaggedResponse | None:
    """Run ``command``'s handler; the tagged completion, or None if the connection already sent it."""
    if guard is None:
        return await _run_handler(ctx, command)
    refusal = await guard.refuse(ctx, command)
    if refusal is not None:
        return refusal
    user_before = ctx.user
    slot = guard.heavy(ctx, command)
    if slot is NO_SLOT:  # most commands: no context manager to enter and leave
        tagged = await _run_handler(ctx, command)
    else:
        async with slot:
            tagged = await _run_handler(ctx, command)
    if ctx.user != user_before:
        if user_before is not None:
            guard.logged_out()
        if ctx.user is not None and not guard.logged_in(ctx.user):
            # The handler only set ``ctx.user`` (LOGIN/AUTHENTICATE change nothing else): undo it.
            ctx.user = None
            guard.close_requested = True
            return limit_refusal(command.tag, "Too many sessions for this user")
    return tagged


async def _run_handler(ctx: SessionContext, command) -> TaggedResponse | None:
    tag = command.tag
    handler = HANDLERS.get(type(command))
    if handler is None:
        # Parsed by the grammar but not implemented here (and so not advertised).
        return TaggedResponse(tag, Status.BAD, f"Command not supported: {type(command).name}")
    try:
        completion: Completion = await handler(ctx, command)
    except (BadCommand, CommandFailed) as error:
        return completion_for(tag, error)
    except StoreError as error:
        return store_error_completion(tag, error)
    except ClientGone:
        raise
    except Exception:
        log.exception("command %s (tag %s) failed", type(command).name, tag)
        return server_bug_completion(tag, "Internal error, the command was not completed")
    if completion.sent:
        return None
    return TaggedResponse(tag, Status.OK, completion.text, completion.code)


__all__ = ["Code", "run_command", "store_error_completion"]
