"""Response codes: the bracketed ``[CODE args]`` of status responses.

RFC 9051 §7.1 and §9 ``resp-text-code``; RFC 5530 (the machine-readable failure codes); RFC 7162
(HIGHESTMODSEQ, NOMODSEQ, MODIFIED); RFC 7889 / RFC 9051 (TOOBIG); RFC 8474 (MAILBOXID); RFC 5182
(NOTSAVED); RFC 5255 (BADCOMPARATOR); RFC 4978 (COMPRESSIONACTIVE); RFC 5464 (METADATA); RFC 4315
(APPENDUID, COPYUID, UIDNOTSTICKY); RFC 6154 (USEATTR); RFC 4469 (BADURL); RFC 5267 (NOUPDATE).

A ``ResponseCode`` is a name plus its argument text already in wire form (the grammar is
``atom [SP 1*<any TEXT-CHAR except "]">]``). The functions below build the codes that take arguments,
so callers never format them by hand: ``copyuid(38505, [304, 319, 320], [3956, 3957, 3958])`` gives
``COPYUID 38505 304,319:320 3956:3958``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from . import encode


class Code(StrEnum):
    ALERT = "ALERT"
    ALREADYEXISTS = "ALREADYEXISTS"
    APPENDUID = "APPENDUID"
    AUTHENTICATIONFAILED = "AUTHENTICATIONFAILED"
    AUTHORIZATIONFAILED = "AUTHORIZATIONFAILED"
    BADCHARSET = "BADCHARSET"
    BADCOMPARATOR = "BADCOMPARATOR"
    BADURL = "BADURL"
    CANNOT = "CANNOT"
    CAPABILITY = "CAPABILITY"
    CLIENTBUG = "CLIENTBUG"
    CLOSED = "CLOSED"
    COMPRESSIONACTIVE = "COMPRESSIONACTIVE"
    CONTACTADMIN = "CONTACTADMIN"
    COPYUID = "COPYUID"
    CORRUPTION = "CORRUPTION"
    EXPIRED = "EXPIRED"
    EXPUNGEISSUED = "EXPUNGEISSUED"
    HASCHILDREN = "HASCHILDREN"
    HIGHESTMODSEQ = "HIGHESTMODSEQ"
    INUSE = "INUSE"
    LIMIT = "LIMIT"
    MAILBOXID = "MAILBOXID"
    METADATA = "METADATA"
    MODIFIED = "MODIFIED"
    NOMODSEQ = "NOMODSEQ"
    NONEXISTENT = "NONEXISTENT"
    NOPERM = "NOPERM"
    NOTSAVED = "NOTSAVED"
    NOUPDATE = "NOUPDATE"
    OVERQUOTA = "OVERQUOTA"
    PARSE = "PARSE"
    PERMANENTFLAGS = "PERMANENTFLAGS"
    PRIVACYREQUIRED = "PRIVACYREQUIRED"
    READ_ONLY = "READ-ONLY"
    READ_WRITE = "READ-WRITE"
    SERVERBUG = "SERVERBUG"
    TOOBIG = "TOOBIG"
    TRYCREATE = "TRYCREATE"
    UIDNEXT = "UIDNEXT"
    UIDNOTSTICKY = "UIDNOTSTICKY"
    UIDVALIDITY = "UIDVALIDITY"
    UNAVAILABLE = "UNAVAILABLE"
    UNKNOWN_CTE = "UNKNOWN-CTE"
    USEATTR = "USEATTR"


@dataclass(frozen=True, slots=True)
class ResponseCode:
    """``[name args]``; ``args`` is wire text without ``]``, CR or LF (checked here, once)."""

    name: str
    args: str = ""

    def __post_init__(self) -> None:
        if not encode.is_atom(self.name):
            raise ValueError(f"response code name is not an atom: {self.name!r}")
        if any(ch in self.args for ch in "]\r\n\x00"):
            raise ValueError(f"response code arguments may not contain ], CR, LF or NUL: {self.args!r}")

    def to_bytes(self) -> bytes:
        text = f"{self.name} {self.args}" if self.args else str(self.name)
        return text.encode("utf-8")


def uid_set(uids: Iterable[int]) -> str:
    """A ``uid-set`` keeping the given order, runs of consecutive ascending numbers as ``a:b``.

    Order matters for COPYUID (RFC 4315 §3: the n-th source UID was copied to the n-th destination UID),
    so this only merges runs, it never sorts.
    """
    pieces: list[str] = []
    run_start = run_end = None
    for uid in uids:
        if run_end is not None and uid == run_end + 1:
            run_end = uid
            continue
        if run_start is not None:
            pieces.append(str(run_start) if run_start == run_end else f"{run_start}:{run_end}")
        run_start = run_end = uid
    if run_start is not None:
        pieces.append(str(run_start) if run_start == run_end else f"{run_start}:{run_end}")
    if not pieces:
        raise ValueError("a uid-set cannot be empty")
    return ",".join(pieces)


def _set_text(uids: Iterable[int] | str | object) -> str:
    # A SequenceSet (imapcore.syntax.model) or a pre-built string is used as written.
    if isinstance(uids, str):
        return uids
    if hasattr(uids, "ranges"):
        return str(uids)
    return uid_set(uids)  # type: ignore[arg-type]


def _flag_list(flags: Iterable[str]) -> str:
    flags = tuple(flags)
    for flag in flags:
        # Flags are atoms with an optional leading backslash; "\*" is the PERMANENTFLAGS wildcard.
        if flag != "\\*" and not encode.is_atom(flag.removeprefix("\\")):
            raise ValueError(f"not a flag: {flag!r}")
    return "(" + " ".join(flags) + ")"


def simple(name: Code | str) -> ResponseCode:
    return ResponseCode(name)


def capability(capabilities: Sequence[str]) -> ResponseCode:
    """``[CAPABILITY IMAP4rev2 ...]`` (RFC 9051 §7.1, capability-data)."""
    return ResponseCode(Code.CAPABILITY, " ".join(capabilities))


def permanentflags(flags: Iterable[str]) -> ResponseCode:
    """``[PERMANENTFLAGS (\\Deleted \\Seen \\*)]`` (RFC 9051 §7.1)."""
    return ResponseCode(Code.PERMANENTFLAGS, _flag_list(flags))


def uidnext(uid_next: int) -> ResponseCode:
    return ResponseCode(Code.UIDNEXT, str(int(uid_next)))


def uidvalidity(uid_validity: int) -> ResponseCode:
    return ResponseCode(Code.UIDVALIDITY, str(int(uid_validity)))


def highestmodseq(highest_modseq: int) -> ResponseCode:
    """RFC 7162 §3.1.2.1."""
    return ResponseCode(Code.HIGHESTMODSEQ, str(int(highest_modseq)))


def appenduid(uid_validity: int, uids: Iterable[int] | str) -> ResponseCode:
    """``[APPENDUID uidvalidity uid-set]`` (RFC 4315 §3; a set for MULTIAPPEND)."""
    return ResponseCode(Code.APPENDUID, f"{int(uid_validity)} {_set_text(uids)}")


def copyuid(uid_validity: int, source_uids: Iterable[int] | str, destination_uids: Iterable[int] | str) -> ResponseCode:
    """``[COPYUID uidvalidity source-set destination-set]`` (RFC 4315 §3), order preserved."""
    return ResponseCode(
        Code.COPYUID, f"{int(uid_validity)} {_set_text(source_uids)} {_set_text(destination_uids)}"
    )


def modified(numbers: Iterable[int] | str) -> ResponseCode:
    """``[MODIFIED set]``: messages that failed UNCHANGEDSINCE (RFC 7162 §3.1.3)."""
    return ResponseCode(Code.MODIFIED, _set_text(numbers))


def badcharset(charsets: Sequence[str] = ()) -> ResponseCode:
    """``[BADCHARSET (UTF-8 US-ASCII)]`` (RFC 9051 §7.1); charsets are astrings."""
    if not charsets:
        return ResponseCode(Code.BADCHARSET)
    return ResponseCode(
        Code.BADCHARSET, "(" + " ".join(encode.astring(c).decode("utf-8") for c in charsets) + ")"
    )


def mailboxid(object_id: str) -> ResponseCode:
    """``[MAILBOXID (F2212ea87-...)]`` (RFC 8474 §4.1)."""
    if not encode.is_atom(object_id):
        raise ValueError(f"not an objectid: {object_id!r}")
    return ResponseCode(Code.MAILBOXID, f"({object_id})")


def metadata(kind: str, value: int | None = None) -> ResponseCode:
    """``[METADATA LONGENTRIES 2000]``, ``[METADATA MAXSIZE 1024]``, ``[METADATA TOOMANY]``,
    ``[METADATA NOPRIVATE]`` (RFC 5464 §4.2.1, §4.3)."""
    kind = kind.upper()
    if kind not in {"LONGENTRIES", "MAXSIZE", "TOOMANY", "NOPRIVATE"}:
        raise ValueError(f"unknown METADATA response code: {kind}")
    return ResponseCode(Code.METADATA, kind if value is None else f"{kind} {int(value)}")


def badcomparator(comparators: Sequence[str]) -> ResponseCode:
    """``[BADCOMPARATOR (i;ascii-casemap)]`` (RFC 5255 §4.8)."""
    return ResponseCode(Code.BADCOMPARATOR, "(" + " ".join(encode.astring(c).decode() for c in comparators) + ")")
