"""APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), BINARY literal8 (RFC 3516 §4.4), UTF8 (RFC 6855
§4) and CATENATE (RFC 4469) messages; UIDPLUS's APPENDUID answer (RFC 4315 §3).

Every message of one command goes to the store in one ``append_many`` call: all are added or none
(RFC 3502 §3: MULTIAPPEND is atomic), and their UIDs come back in order for
``OK [APPENDUID uidvalidity uid-set]``. Refusals:

* a target that does not exist: ``NO [TRYCREATE]`` (the store raises ``MailboxNotFound(target=True)``);
* a message larger than APPENDLIMIT (the literal limit the capability advertises, RFC 7889): ``NO
  [TOOBIG]`` (the tokenizer already refuses a bigger literal; a CATENATE result is checked here);
* storage or message quota: ``NO [OVERQUOTA]`` from the store;
* an empty message: ``NO`` (RFC 9051 §6.3.12 leaves it to the server; Dovecot refuses it too);
* ``\\Recent`` in the flag list: ``BAD`` (RFC 3501 §2.3.2: the client cannot set it);
* ``UTF8 (...)`` before ``ENABLE UTF8=ACCEPT`` (or IMAP4rev2): ``BAD`` (RFC 6855 §4).

CATENATE URL parts (RFC 4469 §5, IMAP URLs of RFC 5092 relative to this server) may only name this
user's own messages: ``/mailbox[;UIDVALIDITY=v]/;UID=u[/;SECTION=s][/;PARTIAL=o[.l]]``. Anything else
(another server, URLAUTH, a wrong UIDVALIDITY, a missing message) is ``NO [BADURL url]``.

If the target is the selected mailbox, the new messages reach this session through the change feed and
the session reports ``* n EXISTS`` before the tagged OK, as RFC 9051 §6.3.12 asks; an IMAP4rev1 session
with it open read-write gets them as \\Recent (claimed by the store in the same transaction).
"""

from __future__ import annotations

import re
import urllib.parse

from imapcore.mail.sections import apply_partial, extract_section
from imapcore.protocol import codes
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import BadCommand, CommandFailed
from imapcore.store import InvalidMailboxName, MailboxNotFound, NewMessage
from imapcore.syntax import commands as c
from imapcore.syntax.model import Partial, Section

from . import mutf7
from .context import SessionContext
from .mailboxes import store_name
from .registry import Completion, handles

_URL = re.compile(
    r"/(?P<mailbox>[^;/]+(?:/[^;/]+)*)(?:;UIDVALIDITY=(?P<uidvalidity>\d+))?"
    r"/;UID=(?P<uid>\d+)(?:/;SECTION=(?P<section>[^/]+))?(?:/;PARTIAL=(?P<offset>\d+)(?:\.(?P<length>\d+))?)?\Z",
    re.IGNORECASE,
)
_SECTION_TEXTS = ("HEADER.FIELDS.NOT", "HEADER.FIELDS", "HEADER", "TEXT", "MIME")


@handles(c.Append)
async def append(ctx: SessionContext, cmd: c.Append) -> Completion:
    name = store_name(ctx, cmd.mailbox)
    limit = ctx.config.limits.max_literal_bytes
    messages: list[NewMessage] = []
    for message in cmd.messages:
        if message.kind is c.AppendKind.UTF8 and not ctx.utf8:
            raise BadCommand("UTF8 APPEND needs ENABLE UTF8=ACCEPT")  # RFC 6855 §4
        flags = message.flags or ()
        if any(flag.upper() == "\\RECENT" for flag in flags):
            raise BadCommand("\\Recent cannot be set by APPEND")
        if message.kind is c.AppendKind.CATENATE:
            data = await _catenate(ctx, message.parts, limit)
        else:
            data = message.data
        if len(data) > limit:
            raise CommandFailed(ResponseCode(Code.TOOBIG), f"Message larger than APPENDLIMIT {limit}")
        if not data:
            raise CommandFailed(None, "Cannot append an empty message")
        messages.append(NewMessage(data, frozenset(flags), message.internal_date))
    selected = ctx.selected
    # RFC 3501 §2.3.2: an IMAP4rev1 session appending to the mailbox it has open read-write is the first
    # told of the new messages (EXISTS before this OK), so they are \Recent for it: claimed in the
    # APPEND's own transaction instead of by a second write at the command boundary.
    claim_in = None
    if selected is not None and not selected.read_only and not ctx.rev2:
        claim_in = selected.mailbox_id
    result = await ctx.run_append(name, messages, claim_in)
    if result.recent and ctx.selected is selected and selected is not None:
        selected.note_recent_claimed(result.recent)
    return Completion(codes.appenduid(result.uid_validity, result.uids), "APPEND completed")


async def _catenate(ctx: SessionContext, parts: tuple[c.CatenatePart, ...], limit: int) -> bytes:
    """RFC 4469 §5: the message is the concatenation of the parts, in order."""
    pieces: list[bytes] = []
    total = 0
    for part in parts:
        piece = part.text if part.url is None else await _resolve_url(ctx, part.url)
        total += len(piece or b"")
        if total > limit:
            raise CommandFailed(ResponseCode(Code.TOOBIG), f"Message larger than APPENDLIMIT {limit}")
        pieces.append(piece or b"")
    return b"".join(pieces)


async def _resolve_url(ctx: SessionContext, url: str) -> bytes:
    bad = CommandFailed(ResponseCode(Code.BADURL, _code_safe(url)), "Bad URL in CATENATE")
    match = _URL.match(url)
    if match is None:
        raise bad
    try:
        mailbox = urllib.parse.unquote(match["mailbox"], errors="strict")
        # RFC 5092 §9: the mailbox is UTF-8 in the URL, %-encoded; a rev1 client may still send mUTF-7.
        name = mailbox if ctx.utf8 or "&" not in mailbox else mutf7.decode(mailbox)
        info = await ctx.run_store(ctx.store.mailbox, ctx.user, name)
    except (UnicodeDecodeError, mutf7.InvalidModifiedUtf7, MailboxNotFound, InvalidMailboxName):
        raise bad from None
    if match["uidvalidity"] is not None and int(match["uidvalidity"]) != info.uid_validity:
        raise bad
    uid = int(match["uid"])
    try:
        blob_id = await ctx.run_store(ctx.store.blob_id, info.id, uid)
    except KeyError:
        raise bad from None
    raw = await ctx.run_store(ctx.store.read_blob, blob_id)
    if match["section"] is not None:
        section = _parse_section(urllib.parse.unquote(match["section"]))
        if section is None:
            raise bad
        raw = extract_section(raw, section)
    if match["offset"] is not None:
        length = int(match["length"]) if match["length"] is not None else None
        raw = apply_partial(raw, Partial(int(match["offset"]), length))
    return raw


def _parse_section(text: str) -> Section | None:
    """RFC 5092 ``enc-section``: the BODY[...] section-spec, e.g. ``1.2``, ``HEADER``, ``2.TEXT``,
    ``HEADER.FIELDS (FROM TO)``."""
    spec, _, fields_text = text.strip().partition(" ")
    part: list[int] = []
    rest = spec
    while rest:
        head, dot, tail = rest.partition(".")
        if not head.isdigit():
            break
        part.append(int(head))
        rest = tail if dot else ""
    kind = rest.upper() or None
    if kind is not None and kind not in _SECTION_TEXTS:
        return None
    fields: tuple[str, ...] = ()
    if kind in ("HEADER.FIELDS", "HEADER.FIELDS.NOT"):
        fields_text = fields_text.strip()
        if not (fields_text.startswith("(") and fields_text.endswith(")")):
            return None
        fields = tuple(fields_text[1:-1].split())
        if not fields:
            return None
    elif fields_text:
        return None
    return Section(tuple(part), kind, fields)


def _code_safe(url: str) -> str:
    """The URL as a response code argument (no ``]``, CR, LF or NUL; bounded)."""
    return re.sub(r"[\]\r\n\x00]", "", url)[:200]
