"""SEARCH and UID SEARCH (RFC 9051 §6.4.4; RFC 3501 §6.4.4 for IMAP4rev1 clients), with ESEARCH result
options (RFC 4731), SEARCHRES (RFC 5182) and the MODSEQ criterion (RFC 7162 §3.1.5).

The store answers a search program with one SQL query (``imapcore.store.search``) over this session's
view of the mailbox (its UIDs, so sequence numbers are the session's, and its ``\\Recent`` messages).
This module adds what belongs to the session:

* ``CHARSET``: UTF-8 and US-ASCII (the parser already decoded the strings as UTF-8); anything else is
  ``NO [BADCHARSET (UTF-8 US-ASCII)]`` (RFC 9051 §6.4.4);
* ``$`` (RFC 5182 §2.1) is the saved result, replaced by a UID set before the store sees the program;
* the answer's shape: an IMAP4rev1 client that gave no RETURN gets ``* SEARCH n...`` (RFC 3501 §7.2.5);
  with RETURN, or once IMAP4rev2 is enabled, ``* ESEARCH (TAG "t") [UID] MIN MAX ALL COUNT`` (RFC 9051
  §7.3.4; no RETURN or ``RETURN ()`` means ALL, and MIN/MAX/ALL are left out when nothing matched);
* ``RETURN (SAVE)`` stores the result as UIDs for ``$`` (only the MIN/MAX messages when SAVE comes with
  MIN and/or MAX alone, RFC 5182 §2.4), and suppresses ESEARCH when it is the only option; a failed
  SEARCH with SAVE leaves ``$`` empty (RFC 5182 §2.1);
* a MODSEQ criterion turns CONDSTORE on and adds the highest MODSEQ of the matches: ``(MODSEQ n)`` after
  ``* SEARCH`` or ``MODSEQ n`` in ESEARCH (RFC 7162 §3.1.5).

SORT (RFC 5256 §3, with DISPLAYFROM/DISPLAYTO of RFC 5957) searches the same way, then orders the matches
by keys the store parsed at delivery (``imapcore.store.sortdata``; no blob is read) in a worker thread
(``sort_uids``): ARRIVAL is INTERNALDATE, DATE the Date: header in UTC (INTERNALDATE when it is missing
or unusable, RFC 5256 §2.2), SUBJECT the RFC 5256 base subject, FROM/TO/CC the local part of the first
address of the stored ENVELOPE, DISPLAYFROM/DISPLAYTO its decoded display name or else the address;
strings compare case-insensitively (``search_fold``). REVERSE applies to its own key only, and ties keep
mailbox order (RFC 5256 §3). The result is ``* SORT n...``; ESORT return options are not implemented and
answered ``BAD``.

THREAD (RFC 5256 §3) searches the same way and threads the matches with ``imapcore.mail.thread``
(ORDEREDSUBJECT or REFERENCES) from the same stored columns; the answer is ``* THREAD`` with the
thread lists of §4, in sequence numbers or, for UID THREAD, UIDs. Two deliberate differences with
Dovecot 2.3: an empty result is ``* THREAD`` without the trailing space Dovecot writes (RFC 5256 §5
``thread-data = "THREAD" [SP 1*thread-list]``), and charsets other than UTF-8/US-ASCII get BADCHARSET
as in SEARCH (Dovecot converts many more; RFC 5256 §3 requires only those two).
"""

from __future__ import annotations

from imapcore.mail.search import search_fold
from imapcore.mail.sortkeys import display_key, envelope_first_addresses, envelope_reply_ids, mailbox_key
from imapcore.mail.thread import (
    ThreadMessage,
    ThreadNode,
    first_message_id,
    thread_lists,
    thread_ordered_subject,
    thread_references,
)
from imapcore.protocol import codes, encode
from imapcore.protocol.errors import BadCommand, CommandFailed
from imapcore.protocol.responses import Atom, DataResponse, Raw
from imapcore.store.sortdata import SortRow, sort_rows
from imapcore.syntax import commands as c
from imapcore.syntax.model import SearchAnd, SearchKey, SearchNot, SearchOr, SequenceSet

from .context import SessionContext
from .registry import Completion, handles

#: Charsets accepted by SEARCH CHARSET (RFC 9051 §6.4.4: US-ASCII and UTF-8 MUST be supported).
CHARSETS = ("UTF-8", "US-ASCII")

#: The RETURN options implemented (RFC 4731, RFC 5182).
RETURN_OPTIONS = frozenset({"MIN", "MAX", "ALL", "COUNT", "SAVE"})


def check_charset(charset: str | None) -> None:
    if charset is not None and charset.upper() not in CHARSETS:
        raise CommandFailed(codes.badcharset(CHARSETS), f"Unsupported charset {charset}")


def _ranges(uids: list[int] | tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    ranges: list[tuple[int, int]] = []
    for uid in sorted(set(uids)):
        if ranges and uid == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], uid)
        else:
            ranges.append((uid, uid))
    return tuple(ranges)


def resolve_saved(program, saved_uids: tuple[int, ...]):
    """``program`` with every ``$`` (RFC 5182) replaced by the saved UIDs, as a ``UID`` key."""
    if isinstance(program, SearchKey):
        if program.name in ("SEQ", "UID") and program.args and getattr(program.args[0], "saved", False):
            return SearchKey("UID", (SequenceSet(_ranges(saved_uids)),))
        return program
    if isinstance(program, SearchAnd):
        return SearchAnd(tuple(resolve_saved(key, saved_uids) for key in program.keys))
    if isinstance(program, SearchOr):
        return SearchOr(resolve_saved(program.left, saved_uids), resolve_saved(program.right, saved_uids))
    if isinstance(program, SearchNot):
        return SearchNot(resolve_saved(program.key, saved_uids))
    return program


def uses_modseq(program) -> bool:
    if isinstance(program, SearchKey):
        return program.name == "MODSEQ"
    if isinstance(program, SearchAnd):
        return any(uses_modseq(key) for key in program.keys)
    if isinstance(program, SearchOr):
        return uses_modseq(program.left) or uses_modseq(program.right)
    if isinstance(program, SearchNot):
        return uses_modseq(program.key)
    return False


async def run_search(ctx: SessionContext, program) -> list[int]:
    """The UIDs (ascending) of the selected mailbox's messages that match ``program``, in this session's
    view; ``$`` already resolved. Shared with SORT and THREAD."""
    selected = ctx.selected
    assert selected is not None
    program = resolve_saved(program, selected.saved_result or ())
    recent = tuple(sorted(selected.recent)) if not ctx.rev2 else ()
    return await ctx.run_store(
        ctx.store.search, selected.mailbox_id, program, uids=list(selected.uids), recent_uids=recent
    )


async def highest_modseq_of(ctx: SessionContext, uids: list[int]) -> int | None:
    selected = ctx.selected
    assert selected is not None
    if not uids:
        return None
    rows = await ctx.run_store(ctx.store.fetch_rows, selected.mailbox_id, uids, ("modseq",))
    return max((row.modseq for row in rows), default=None)


def esearch(tag: str, uid: bool, items: list[tuple[str, object]]) -> DataResponse:
    """``* ESEARCH (TAG "t") [UID] name value ...`` (RFC 9051 §7.3.4)."""
    parts: list = [Atom("ESEARCH"), Raw(b"(TAG " + encode.string(tag) + b")")]
    if uid:
        parts.append(Atom("UID"))
    for name, value in items:
        parts.append(Atom(name))
        parts.append(value)
    return DataResponse(tuple(parts))


def _number_set(numbers: list[int]) -> Raw:
    return Raw(codes.uid_set(numbers).encode("ascii"))


@handles(c.Search)
async def search(ctx: SessionContext, cmd: c.Search) -> Completion:
    selected = ctx.selected
    assert selected is not None
    options = None if cmd.return_options is None else [option.name.upper() for option in cmd.return_options]
    save = options is not None and "SAVE" in options
    try:
        check_charset(cmd.charset)
        for name in options or ():
            if name not in RETURN_OPTIONS:
                raise BadCommand(f"Unsupported search return option {name}")
        modseq_wanted = uses_modseq(cmd.criteria)
        if modseq_wanted:
            ctx.use_condstore()  # RFC 7162 §3.1: SEARCH MODSEQ enables CONDSTORE
        uids = await run_search(ctx, cmd.criteria)
    except BaseException:
        if save:
            selected.saved_result = ()  # RFC 5182 §2.1: a failed SEARCH ... SAVE empties "$"
        raise
    modseq = await highest_modseq_of(ctx, uids) if modseq_wanted else None
    if not cmd.uid:
        seqs = [selected.seq_of(uid) for uid in uids]
        numbers = [seq for seq in seqs if seq is not None]
    else:
        numbers = uids

    if options is None and not ctx.rev2:
        # RFC 3501 §7.2.5 (IMAP4rev1): * SEARCH, with (MODSEQ n) when asked (RFC 7162 §3.1.5).
        items: tuple = (Atom("SEARCH"), *numbers)
        if modseq is not None:
            items += ((Atom("MODSEQ"), modseq),)
        ctx.untagged(DataResponse(items))
        return Completion(text="Search completed")

    wanted = set(options or ()) - {"SAVE"}
    if not wanted and not save:
        wanted = {"ALL"}  # RFC 9051 §6.4.4: no options or "()" means ALL
    if save:
        if wanted and wanted <= {"MIN", "MAX"}:
            # RFC 5182 §2.4: SAVE with MIN and/or MAX only saves those messages.
            kept = set()
            if uids and "MIN" in wanted:
                kept.add(uids[0])
            if uids and "MAX" in wanted:
                kept.add(uids[-1])
            selected.saved_result = tuple(sorted(kept))
        else:
            selected.saved_result = tuple(uids)
        if not wanted:
            return Completion(text="Search completed")  # SAVE alone: no ESEARCH (RFC 5182 §2.1)
    result: list[tuple[str, object]] = []
    if "MIN" in wanted and numbers:
        result.append(("MIN", numbers[0]))
    if "MAX" in wanted and numbers:
        result.append(("MAX", numbers[-1]))
    if "ALL" in wanted and numbers:
        result.append(("ALL", _number_set(numbers)))
    if "COUNT" in wanted:
        result.append(("COUNT", len(numbers)))
    if modseq is not None:
        result.append(("MODSEQ", modseq))
    ctx.untagged(esearch(cmd.tag, cmd.uid, result))
    return Completion(text="Search completed")


# --- SORT (RFC 5256, RFC 5957) ---------------------------------------------------------------------------

#: SORT keys read from the stored ENVELOPE (the others come from the message and blob columns).
_ADDRESS_KEYS = {"FROM": "from", "TO": "to", "CC": "cc", "DISPLAYFROM": "from", "DISPLAYTO": "to"}
SORT_KEYS = frozenset({"ARRIVAL", "DATE", "SIZE", "SUBJECT", *_ADDRESS_KEYS})


def _addresses(row: SortRow, fields: tuple[str, ...]) -> dict:
    if row.envelope is None:
        return {}
    try:
        return envelope_first_addresses(row.envelope, fields)
    except ValueError:  # a stored ENVELOPE is always well formed; an odd one sorts as "no address"
        return {}


def _sort_value(key: str, row: SortRow, addresses: dict | None) -> object:
    if key == "ARRIVAL":
        return row.internal_date
    if key == "SIZE":
        return row.size
    if key == "DATE":
        return row.sent_date if row.sent_date is not None else row.internal_date  # RFC 5256 §2.2
    if key == "SUBJECT":
        return search_fold(row.base_subject)
    address = (addresses or {}).get(_ADDRESS_KEYS[key])
    return display_key(address) if key.startswith("DISPLAY") else mailbox_key(address)


def sort_uids(store, mailbox_id: int, uids: list[int], criteria: tuple[c.SortCriterion, ...]) -> list[int]:
    """``uids`` ordered by ``criteria``; ties stay in UID order, which is mailbox order. Blocking.

    The keys come from the store's parsed columns (``imapcore.store.sortdata``), not from the blobs.
    """
    rows = sort_rows(store, mailbox_id, uids)
    fields = tuple(sorted({_ADDRESS_KEYS[criterion.key] for criterion in criteria if criterion.key in _ADDRESS_KEYS}))
    keyed = []
    for row in rows:
        addresses = _addresses(row, fields) if fields else None
        keyed.append((tuple(_sort_value(criterion.key, row, addresses) for criterion in criteria), row.uid))
    # Rows come in UID order; stable sorts from the last criterion to the first (Python keeps equal
    # items in order also with reverse=True) give the RFC 5256 §3 order: REVERSE turns its own key
    # only, and full ties keep mailbox order.
    for index in range(len(criteria) - 1, -1, -1):
        keyed.sort(key=lambda item, index=index: item[0][index], reverse=criteria[index].reverse)
    return [uid for _values, uid in keyed]


@handles(c.Sort)
async def sort(ctx: SessionContext, cmd: c.Sort) -> Completion:
    """RFC 5256 §3 SORT / UID SORT; the charset is mandatory there and checked like SEARCH's."""
    selected = ctx.selected
    assert selected is not None
    if cmd.return_options is not None:
        raise BadCommand("SORT RETURN (ESORT) is not supported")
    for criterion in cmd.criteria:
        if criterion.key.upper() not in SORT_KEYS:
            raise BadCommand(f"Unsupported sort criterion {criterion.key}")
    check_charset(cmd.charset)
    criteria = tuple(c.SortCriterion(criterion.key.upper(), criterion.reverse) for criterion in cmd.criteria)
    if uses_modseq(cmd.search):
        ctx.use_condstore()
    uids = await run_search(ctx, cmd.search)
    ordered = await ctx.run_store(sort_uids, ctx.store, selected.mailbox_id, uids, criteria) if uids else []
    if cmd.uid:
        numbers = ordered
    else:
        numbers = [seq for seq in map(selected.seq_of, ordered) if seq is not None]
    ctx.untagged(DataResponse((Atom("SORT"), *numbers)))
    return Completion(text="Sort completed")


# --- THREAD (RFC 5256 §3, §4) ---------------------------------------------------------------------------

#: The threading algorithms implemented (capabilities THREAD=ORDEREDSUBJECT and THREAD=REFERENCES).
THREAD_ALGORITHMS = ("ORDEREDSUBJECT", "REFERENCES")


def thread_uids(store, mailbox_id: int, uids: list[int], algorithm: str) -> tuple[ThreadNode, ...]:
    """The threads of ``uids`` (node numbers are UIDs) by ``algorithm``. Blocking."""
    messages = []
    for row in sort_rows(store, mailbox_id, uids):
        message_id, in_reply_to = row.message_id, row.in_reply_to
        if row.envelope is not None and (
            (message_id and first_message_id(message_id) is None)
            or (in_reply_to and first_message_id(in_reply_to) is None)
        ):
            # The stored value is the header's first <...>, which is not a valid id; RFC 5256 §3 wants
            # the first valid one, so read the whole fields back from the ENVELOPE (rare).
            try:
                in_reply_to, message_id = envelope_reply_ids(row.envelope)
            except ValueError:
                pass
        messages.append(ThreadMessage(
            number=row.uid,
            sent_date=float(row.sent_date if row.sent_date is not None else row.internal_date),  # §2.2
            subject=row.subject,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=row.references,
        ))
    if algorithm == "ORDEREDSUBJECT":
        return thread_ordered_subject(messages)
    return thread_references(messages)


@handles(c.Thread)
async def thread(ctx: SessionContext, cmd: c.Thread) -> Completion:
    """RFC 5256 §3 THREAD / UID THREAD: search, then ``* THREAD (..)(..)`` (§4), numbers as SEARCH's."""
    selected = ctx.selected
    assert selected is not None
    algorithm = cmd.algorithm.upper()
    if algorithm not in THREAD_ALGORITHMS:
        raise BadCommand(f"Unknown thread algorithm {cmd.algorithm}")
    check_charset(cmd.charset)
    if uses_modseq(cmd.search):
        ctx.use_condstore()
    uids = await run_search(ctx, cmd.search)
    nodes = await ctx.run_store(thread_uids, ctx.store, selected.mailbox_id, uids, algorithm) if uids else ()
    data = thread_lists(nodes, (lambda uid: uid) if cmd.uid else selected.seq_of)
    ctx.untagged(DataResponse((Atom("THREAD"), Raw(data)) if data else (Atom("THREAD"),)))
    return Completion(text="Thread completed")
