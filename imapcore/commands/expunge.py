"""EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1; RFC 9051 §6.4.9).

EXPUNGE removes every message of the mailbox that has ``\\Deleted``; UID EXPUNGE only those of the
given UID set that have it (so a client that expunges what it deleted never removes another device's
deletions). The store does it in one transaction under a new MODSEQ (RFC 7162 §3.2.7: remembered for
QRESYNC's VANISHED (EARLIER)).

The client is told with ``SelectedMailbox.note_expunged``: ``* n EXPUNGE`` highest number first, so no
number shifts under a later response, as Dovecot sends them; or one ``* VANISHED uid-set`` once QRESYNC
is enabled (RFC 7162 §3.2.10). An IMAP4rev1 session also gets the new ``* n RECENT`` when expunged
messages were recent (Dovecot does; RFC 3501 §7.3.2 lets it). With CONDSTORE on, the tagged OK carries
the mailbox's new ``[HIGHESTMODSEQ]`` (RFC 7162 §3.2.7). A read-only mailbox refuses with ``NO``.
"""

from __future__ import annotations

from imapcore.protocol import codes
from imapcore.protocol.errors import CommandFailed
from imapcore.protocol.responses import Atom, DataResponse, Response
from imapcore.syntax import commands as c

from .context import SessionContext
from .registry import Completion, handles


def report_expunged(ctx: SessionContext, uids, highest_modseq: int | None) -> None:
    """Drop ``uids`` from the session's view and queue what the client must be told (EXPUNGE or
    VANISHED, then RECENT for a rev1 client whose recent count went down). Shared with MOVE."""
    selected = ctx.selected
    assert selected is not None
    recent_before = len(selected.recent)
    responses: list[Response] = selected.note_expunged(uids, highest_modseq)
    for response in responses:
        ctx.untagged(response)
    if responses and not ctx.rev2 and len(selected.recent) != recent_before:
        ctx.untagged(DataResponse((len(selected.recent), Atom("RECENT"))))


@handles(c.Expunge)
async def expunge(ctx: SessionContext, cmd: c.Expunge) -> Completion:
    selected = ctx.selected
    assert selected is not None
    if selected.read_only:
        raise CommandFailed(None, "Mailbox is read-only")
    if cmd.uid:
        assert cmd.sequence_set is not None  # the grammar requires the set after UID EXPUNGE
        uids = selected.resolve(cmd.sequence_set, uid=True)
        if not uids:
            return Completion(text="Expunge completed")
        result = await ctx.run_store(ctx.store.expunge, selected.mailbox_id, uids, user=ctx.user)
    else:
        result = await ctx.run_store(ctx.store.expunge, selected.mailbox_id, None, user=ctx.user)
    if not result.uids:
        return Completion(text="Expunge completed")
    report_expunged(ctx, result.uids, result.highest_modseq)
    if ctx.condstore:
        return Completion(codes.highestmodseq(result.highest_modseq), "Expunge completed")
    return Completion(text="Expunge completed")
