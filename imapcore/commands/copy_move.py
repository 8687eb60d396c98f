"""COPY / UID COPY (RFC 9051 §6.4.7) and MOVE / UID MOVE (RFC 6851), with COPYUID (RFC 4315 §3).

Both are one store transaction: the copies get new UIDs in the target (flags and INTERNALDATE kept),
and for MOVE the sources are expunged in the same transaction, so no other session ever sees a message
in both mailboxes or in neither.

Responses:

* COPY: ``tag OK [COPYUID uidvalidity source-uids target-uids] ...`` (source UIDs ascending and the
  target UID each one got, in the same order).
* MOVE (RFC 6851 §4.3): ``* OK [COPYUID ...]`` first, then the expunges of the moved messages
  (``* n EXPUNGE`` or ``* VANISHED``), then the tagged OK, which carries ``[HIGHESTMODSEQ]`` when
  CONDSTORE is on (RFC 6851 §4.4).
* a missing target: ``NO [TRYCREATE]`` (RFC 9051 §6.4.7), raised by the store; a full quota:
  ``NO [OVERQUOTA]`` (RFC 5530 §3). Nothing matched: ``OK`` with nothing copied, as Dovecot answers.

A copy into the mailbox another session has selected reaches it through the change feed as EXISTS.
"""

from __future__ import annotations

from imapcore.protocol import codes
from imapcore.protocol.errors import CommandFailed
from imapcore.protocol.responses import Status, StatusResponse
from imapcore.store import MailboxNotFound
from imapcore.syntax import commands as c

from .context import SessionContext
from .expunge import report_expunged
from .mutf7 import from_client
from .registry import Completion, handles


async def _require_target(ctx: SessionContext, target: str) -> None:
    """A COPY/MOVE that names no message still tells the client when the target is missing."""
    try:
        await ctx.run_store(ctx.store.mailbox, ctx.user, target)
    except MailboxNotFound:
        raise MailboxNotFound(target, target=True) from None


@handles(c.Copy)
async def copy(ctx: SessionContext, cmd: c.Copy) -> Completion:
    selected = ctx.selected
    assert selected is not None
    target = from_client(cmd.mailbox, ctx.utf8)
    uids = selected.resolve(cmd.sequence_set, cmd.uid)
    if not uids:
        # Still refuse a target that does not exist (the client learns it must CREATE it).
        await _require_target(ctx, target)
        return Completion(text="Copy completed")
    result = await ctx.run_store(ctx.store.copy, selected.mailbox_id, uids, ctx.user, target)
    if not result.source_uids:
        return Completion(text="Copy completed")
    return Completion(codes.copyuid(result.uid_validity, result.source_uids, result.target_uids), "Copy completed")


@handles(c.Move)
async def move(ctx: SessionContext, cmd: c.Move) -> Completion:
    selected = ctx.selected
    assert selected is not None
    if selected.read_only:
        # RFC 6851 §3.3: MOVE needs the right to expunge from the source.
        raise CommandFailed(None, "Mailbox is read-only")
    target = from_client(cmd.mailbox, ctx.utf8)
    uids = selected.resolve(cmd.sequence_set, cmd.uid)
    if not uids:
        await _require_target(ctx, target)
        return Completion(text="Move completed")
    result = await ctx.run_store(ctx.store.move, selected.mailbox_id, uids, ctx.user, target)
    if not result.source_uids:
        return Completion(text="Move completed")
    ctx.untagged(
        StatusResponse(Status.OK, "Moved UIDs", codes.copyuid(result.uid_validity, result.source_uids, result.target_uids))
    )
    report_expunged(ctx, result.source_uids, result.expunged_modseq)
    if ctx.condstore and result.expunged_modseq is not None:
        return Completion(codes.highestmodseq(result.expunged_modseq), "Move completed")
    return Completion(text="Move completed")
