"""SEARCH (RFC 9051 §6.4.4) as one SQL query over the metadata, the header index and the full-text index.

A search program (``imapcore.syntax.model``: SearchKey leaves under SearchAnd/SearchOr/SearchNot) is
compiled into one boolean SQL expression over ``messages m`` (joined with ``blobs b`` when a key needs
per-blob data), so AND/OR/NOT cost nothing extra and SQLite picks the plan:

* flags, keywords, UID and sequence sets, sizes, dates, MODSEQ, EMAILID/THREADID: columns of ``m``/``b``.
  Sequence numbers are the session's: the caller passes its sorted UID list (``uids``), and ``SEQ n``
  becomes the UID at position n − 1. ``RECENT``/``NEW``/``OLD`` use the session's ``recent_uids``.
* FROM, TO, CC, BCC, SUBJECT, HEADER: the header index ``blob_headers`` (decoded values, folded at
  delivery; the needle is folded the same way, and ``instr`` gives IMAP's substring semantics).
* BODY and TEXT: ``fulltext.py``, FTS5 with the **trigram** tokenizer over the distinct words of the
  folded text. IMAP asks for substring matching ("foo" finds "food"); a word tokenizer can only find
  whole words or prefixes, so it would still miss infixes. A trigram phrase query is an exact substring
  match inside one indexed word, so a one-word needle is answered by the index alone; a needle with
  spaces is narrowed by the index (each of its words) and checked with ``instr`` against the stored
  folded text; needles shorter than three characters are answered by ``instr`` over the stored text (a
  scan of one column, still without opening blobs). BODY searches the decoded text parts, TEXT the
  decoded header lines and that text.

Case-insensitivity is ``imapcore.mail.search.search_fold`` everywhere (casefold + NFKD, the RFC 5051
shape Dovecot uses): indexed text and header values are folded at delivery, the needle at search time,
so the answer is the one ``imapcore.mail.search.matches`` gives scanning message by message (the tests
compare them on a generated corpus). Keywords compare case-insensitively, as there.

Every key the parser produces is answered in SQL, so no per-message fallback to ``matches`` is needed;
a key this module does not know raises ``UnsupportedSearchKey``.
"""

from __future__ import annotations

import datetime as _dt
import json

from imapcore.syntax.model import STAR, SearchAnd, SearchKey, SearchNot, SearchOr, SequenceSet

from imapcore.mail.search import search_fold

from . import fulltext
from .errors import StoreError
from .flags import SystemFlag

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()

_FLAG_KEYS = {
    "ANSWERED": (SystemFlag.ANSWERED, True),
    "DELETED": (SystemFlag.DELETED, True),
    "DRAFT": (SystemFlag.DRAFT, True),
    "FLAGGED": (SystemFlag.FLAGGED, True),
    "SEEN": (SystemFlag.SEEN, True),
    "UNANSWERED": (SystemFlag.ANSWERED, False),
    "UNDELETED": (SystemFlag.DELETED, False),
    "UNDRAFT": (SystemFlag.DRAFT, False),
    "UNFLAGGED": (SystemFlag.FLAGGED, False),
    "UNSEEN": (SystemFlag.SEEN, False),
}
_ADDRESS_HEADERS = {"FROM": "from", "TO": "to", "CC": "cc", "BCC": "bcc", "SUBJECT": "subject"}
_DATE_OPERATORS = {"BEFORE": "<", "ON": "=", "SINCE": ">="}
_INTERNAL_DAY = "m.internal_day"
_SENT_DAY = "coalesce(b.sent_day, m.internal_day)"  # no Date: header: the internal date stands in
_SAVE_DAY = f"(m.save_date / 86400 + {_EPOCH_ORDINAL})"


class UnsupportedSearchKey(StoreError):
    code = "CANNOT"

    def __init__(self, name: str):
        super().__init__(f"search key not supported: {name}")
        self.name = name


class _Compiler:
    def __init__(self, uids, recent_uids, now: _dt.datetime, largest_uid: int):
        self.session_uids = uids
        self.recent = sorted(set(recent_uids))
        self.now = now
        self.largest_uid = largest_uid
        self.params: list = []
        self.needs_blob = False

    def compile(self, node) -> str:
        if isinstance(node, SearchAnd):
            if not node.keys:
                return "1"
            return "(" + " AND ".join(self.compile(key) for key in node.keys) + ")"
        if isinstance(node, SearchOr):
            return f"({self.compile(node.left)} OR {self.compile(node.right)})"
        if isinstance(node, SearchNot):
            return f"(NOT {self.compile(node.key)})"
        if isinstance(node, SearchKey):
            return self.leaf(node.name.upper(), node.args)
        raise TypeError(f"not a search program node: {node!r}")

    def _param(self, value) -> str:
        self.params.append(value)
        return "?"

    def _uid_list(self, uids) -> str:
        return f"m.uid IN (SELECT value FROM json_each({self._param(json.dumps(list(uids)))}))"

    def leaf(self, name: str, args: tuple) -> str:
        if name in ("ALL", "SAVEDATESUPPORTED"):
            return "1"
        if name in _FLAG_KEYS:
            bit, present = _FLAG_KEYS[name]
            return f"(m.flags & {int(bit)}) {'!=' if present else '='} 0"
        if name == "RECENT":
            return self._uid_list(self.recent)
        if name == "OLD":
            return f"NOT {self._uid_list(self.recent)}"
        if name == "NEW":  # RFC 3501: RECENT UNSEEN
            return f"({self._uid_list(self.recent)} AND (m.flags & {int(SystemFlag.SEEN)}) = 0)"
        if name in ("KEYWORD", "UNKEYWORD"):
            # Keywords are ASCII atoms, so SQLite's ASCII lower() is the right case folding here.
            test = f"instr(lower(m.keywords), {self._param(' ' + args[0].lower() + ' ')})"
            return f"{test} {'>' if name == 'KEYWORD' else '='} 0"
        if name in _ADDRESS_HEADERS:
            return self._header(_ADDRESS_HEADERS[name], args[0])
        if name == "HEADER":
            return self._header(args[0].lower(), args[1])
        if name in ("BODY", "TEXT"):
            return self._text(args[0], body_only=name == "BODY")
        if name in _DATE_OPERATORS:
            return f"{_INTERNAL_DAY} {_DATE_OPERATORS[name]} {self._param(args[0].toordinal())}"
        if name.startswith("SENT") and name[4:] in _DATE_OPERATORS:
            self.needs_blob = True
            return f"{_SENT_DAY} {_DATE_OPERATORS[name[4:]]} {self._param(args[0].toordinal())}"
        if name.startswith("SAVED") and name[5:] in _DATE_OPERATORS:
            return f"{_SAVE_DAY} {_DATE_OPERATORS[name[5:]]} {self._param(args[0].toordinal())}"
        if name == "LARGER":
            return f"m.size > {self._param(int(args[0]))}"
        if name == "SMALLER":
            return f"m.size < {self._param(int(args[0]))}"
        if name in ("OLDER", "YOUNGER"):  # RFC 5032: with time and zone, relative to now
            limit = int(self.now.timestamp()) - int(args[0])
            return f"m.internal_date {'<=' if name == 'OLDER' else '>='} {self._param(limit)}"
        if name == "UID":
            return self._uid_set(args[0])
        if name == "SEQ":
            return self._sequence_set(args[0])
        if name == "MODSEQ":  # RFC 7162 §3.1.5: equal to or greater than
            return f"m.modseq >= {self._param(int(args[0]))}"
        if name in ("EMAILID", "THREADID"):
            self.needs_blob = True
            column = "b.email_id" if name == "EMAILID" else "b.thread_id"
            return f"{column} = {self._param(args[0])}"
        raise UnsupportedSearchKey(name)

    def _header(self, header: str, needle: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM blob_headers h WHERE h.blob = m.blob AND h.name = "
            f"{self._param(header)} AND instr(h.value_folded, {self._param(search_fold(needle))}) > 0)"
        )

    def _text(self, needle: str, *, body_only: bool) -> str:
        return fulltext.condition(search_fold(needle), body_only=body_only, param=self._param)

    def _uid_set(self, uid_set: SequenceSet) -> str:
        if uid_set.saved:
            raise UnsupportedSearchKey("$ (the session resolves a saved result into a UID set)")
        if self.largest_uid == 0:
            return "0"
        ranges = list(uid_set.iter_ranges(self.largest_uid))
        if not ranges:
            return "0"
        parts = []
        for low, high in ranges:
            parts.append(f"m.uid BETWEEN {self._param(low)} AND {self._param(high)}")
        return "(" + " OR ".join(parts) + ")"

    def _sequence_set(self, sequence_set: SequenceSet) -> str:
        if sequence_set.saved:
            raise UnsupportedSearchKey("$ (the session resolves a saved result into a UID set)")
        uids = self.session_uids
        if uids is None:
            raise UnsupportedSearchKey("sequence numbers without the session's UID list")
        count = len(uids)
        if count == 0:
            return "0"
        chosen = []
        for low, high in sequence_set.iter_ranges(count):
            low, high = max(low, 1), min(high, count)
            chosen.extend(uids[low - 1:high])
        return self._uid_list(sorted(set(chosen)))


def run_search(store, conn, mailbox_id: int, program, *, uids=None, recent_uids=(), now=None) -> list[int]:
    if uids is not None and len(uids) == 0:
        return []
    if uids is not None:
        largest = uids[-1]
    else:
        largest = conn.execute("SELECT max(uid) FROM messages WHERE mailbox_id = ?", (mailbox_id,)).fetchone()[0] or 0
    compiler = _Compiler(uids, recent_uids, now or _dt.datetime.now(_dt.timezone.utc), largest)
    condition = compiler.compile(program)
    join = " JOIN blobs b ON b.num = m.blob" if compiler.needs_blob else ""
    view = ""
    view_params: list = []
    if uids is not None:
        # Messages delivered after the session's last update are not visible to it yet.
        view = " AND m.uid <= ?"
        view_params = [uids[-1]]
    sql = f"SELECT m.uid FROM messages m{join} WHERE m.mailbox_id = ?{view} AND {condition} ORDER BY m.uid"
    return [uid for (uid,) in conn.execute(sql, (mailbox_id, *view_params, *compiler.params))]


__all__ = ["run_search", "UnsupportedSearchKey", "STAR"]
