"""STORE and UID STORE (RFC 9051 §6.4.6, §6.4.9) with UNCHANGEDSINCE (RFC 7162 §3.1.3).

The flags are checked here (the parts of RFC 9051 §2.3.2 a client can get wrong): ``\\Recent`` cannot be
stored, a backslash name other than the five system flags is not a flag, and one command may not name
more than ``MAX_KEYWORDS`` keywords. Then one store transaction changes every message, each change with
its own MODSEQ, and answers which messages changed, which already had the requested flags, and which
failed the UNCHANGEDSINCE test.

What the client is told (RFC 9051 §6.4.6, RFC 7162 §3.1.3, in ascending message order):

* without ``.SILENT``: ``* n FETCH (FLAGS (...))`` for every message the set names, with ``UID`` for
  UID STORE or once QRESYNC is enabled (RFC 7162 §3.2.4) and ``MODSEQ`` once CONDSTORE is on;
* with ``.SILENT``: nothing, except that with CONDSTORE on the messages that changed still get
  ``* n FETCH ([UID u] MODSEQ (m))`` so the client's cache has the new mod-sequence;
* messages that failed UNCHANGEDSINCE go into the tagged ``OK [MODIFIED set]`` (sequence numbers for
  STORE, UIDs for UID STORE).

The changes are recorded with ``SelectedMailbox.note_flags`` so their echo from the change feed is not
reported a second time; every other session with the mailbox selected gets them from the feed.
"""

from __future__ import annotations

from imapcore.protocol import codes
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import BadCommand, CommandFailed
from imapcore.protocol.responses import Atom, FetchResponse
from imapcore.store import FlagMode
from imapcore.syntax import commands as c

from .context import SessionContext
from .fetch import ordered_flags
from .registry import Completion, handles
from .selected import SYSTEM_FLAGS

#: Most keywords one STORE may name (a guard against a client inflating the keyword table).
MAX_KEYWORDS = 64

_MODES = {c.StoreMode.REPLACE: FlagMode.REPLACE, c.StoreMode.ADD: FlagMode.ADD, c.StoreMode.REMOVE: FlagMode.REMOVE}
_SYSTEM_BY_LOWER = {flag.lower(): flag for flag in SYSTEM_FLAGS}


def checked_flags(flags: tuple[str, ...]) -> tuple[str, ...]:
    """The flags of a STORE (or APPEND) in canonical spelling; ``BAD`` for names that are not flags."""
    out: list[str] = []
    keywords = 0
    for flag in flags:
        if flag.startswith("\\"):
            if flag.lower() == "\\recent":
                # RFC 3501 §2.3.2: \Recent is set by the server only.
                raise BadCommand("\\Recent flag cannot be changed")
            canonical = _SYSTEM_BY_LOWER.get(flag.lower())
            if canonical is None:
                raise BadCommand(f"Invalid system flag {flag}")
            out.append(canonical)
        else:
            keywords += 1
            out.append(flag)
    if keywords > MAX_KEYWORDS:
        raise CommandFailed(ResponseCode(Code.LIMIT), f"Too many keywords (at most {MAX_KEYWORDS})")
    return tuple(out)


@handles(c.Store)
async def store(ctx: SessionContext, cmd: c.Store) -> Completion:
    selected = ctx.selected
    assert selected is not None
    if selected.read_only:
        raise CommandFailed(None, "Mailbox is read-only")  # Dovecot's answer to STORE after EXAMINE
    flags = checked_flags(cmd.action.flags)
    if cmd.unchanged_since is not None:
        ctx.use_condstore()  # RFC 7162 §3.1: STORE UNCHANGEDSINCE enables CONDSTORE
    uids = selected.resolve(cmd.sequence_set, cmd.uid)
    if not uids:
        return Completion(text="Store completed")
    mode = _MODES[cmd.action.mode]
    result = None
    if cmd.unchanged_since is None:
        # A STORE that changes nothing is answered by a read (no write transaction, no writer lock).
        result = await ctx.run_read(
            ctx.store.store_flags_if_unchanged, selected.mailbox_id, uids, mode, flags, size=len(uids)
        )
    if result is None:
        result = await ctx.run_store(
            ctx.store.store_flags, selected.mailbox_id, uids, mode, flags,
            unchanged_since=cmd.unchanged_since, user=ctx.user,
        )
    selected.note_flags(result.changed)

    condstore = ctx.condstore
    recent = selected.recent if not ctx.rev2 else ()
    reports = sorted(result.changed if cmd.action.silent else result.changed + result.unchanged)
    if not cmd.action.silent or condstore:
        for change in reports:
            seq = selected.seq_of(change.uid)
            if seq is None:
                continue
            # UID with UID STORE, and always once QRESYNC is on (RFC 7162 §3.2.4; Dovecot: not with
            # CONDSTORE alone).
            items: tuple = (("UID", change.uid),) if cmd.uid or ctx.qresync else ()
            if not cmd.action.silent:
                items += (("FLAGS", tuple(map(Atom, ordered_flags(change.flags, change.uid in recent)))),)
            if condstore:
                items += (("MODSEQ", (change.modseq,)),)
            ctx.untagged(FetchResponse(seq, items))

    if result.modified:
        # RFC 7162 §3.1.3: the messages that failed UNCHANGEDSINCE, as UIDs or sequence numbers.
        if cmd.uid:
            numbers = list(result.modified)
        else:
            numbers = sorted(seq for seq in map(selected.seq_of, result.modified) if seq is not None)
        if numbers:
            return Completion(codes.modified(numbers), "Conditional store failed")
    return Completion(text="Store completed")
