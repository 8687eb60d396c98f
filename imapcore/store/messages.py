"""Message operations of ``Store``: COPY, MOVE, STORE, EXPUNGE, and reading for FETCH and CONDSTORE.

All take a mailbox id and a UID set (``uidsets.py``). Copies keep flags and INTERNALDATE and get new
UIDs and MODSEQs in the target; MOVE is the copy and the expunge in one transaction (RFC 6851). STORE
gives each changed message its own new MODSEQ and honours UNCHANGEDSINCE (RFC 7162 §3.1.3). EXPUNGE gets
one new MODSEQ recorded with every expunged UID for VANISHED (RFC 7162 §3.2.10). ``fetch_rows`` reads
only the columns asked for and returns the ENVELOPE/BODY/BODYSTRUCTURE serialized at delivery.
"""

from __future__ import annotations

import datetime as _dt
import functools
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from imapcore.syntax.model import SequenceSet

from . import flags as flagcodec
from . import names, uidranges
from .errors import MailboxNotFound
from .feed import Change, ChangeKind
from .flags import FlagMode
from .records import CopyResult, ExpungeResult, FetchRow, FlagChange, MailboxInfo, StoreResult
from .uidsets import UidSet, chunks

#: Every FETCH field ``fetch_rows`` knows, and the SQL column (m: messages, b: blobs) behind it.
FETCH_FIELDS = {
    "flags": "m.flags, m.keywords",
    "modseq": "m.modseq",
    "size": "m.size",
    "internal_date": "m.internal_date, m.internal_tz",
    "save_date": "m.save_date",
    "blob_id": "b.id",
    "envelope": "b.envelope",
    "body": "b.body",
    "bodystructure": "b.bodystructure",
    "preview": "b.preview",
    "email_id": "b.email_id",
    "thread_id": "b.thread_id",
}
_TWO_COLUMNS = frozenset({"flags", "internal_date"})
_BLOB_FIELDS = frozenset({"blob_id", "envelope", "body", "bodystructure", "preview", "email_id", "thread_id"})

# Above this many ranges a UID set is filtered in Python rather than as OR'ed BETWEENs.
_MAX_SQL_RANGES = 32
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()

UidSet = SequenceSet | Iterable[int]



if TYPE_CHECKING:  # annotations only
    from .store import _Transaction


class MessageOperations:
    """Mixin of ``Store`` (uses its connections, transactions and UID set resolution)."""

    # --- copy, move ---------------------------------------------------------------------------------

    def copy(self, mailbox_id: int, uids: UidSet, user: str, target_name: str) -> CopyResult:
        """RFC 9051 §6.4.7 COPY: flags and INTERNALDATE kept, new UIDs; the mapping for COPYUID."""
        return self._copy(mailbox_id, uids, user, target_name, move=False)

    def move(self, mailbox_id: int, uids: UidSet, user: str, target_name: str) -> CopyResult:
        """RFC 6851 MOVE: copy and expunge the source messages in one transaction."""
        return self._copy(mailbox_id, uids, user, target_name, move=True)

    def _copy(self, mailbox_id: int, uids: UidSet, user: str, target_name: str, *, move: bool) -> CopyResult:
        target_name = names.normalize(target_name)
        with self._transaction() as tx:
            conn = tx.conn
            source = self.mailbox_by_id_in_checked(conn, mailbox_id)
            target = self._mailbox_info_of(conn, user, target_name, target=True)
            source_uids = self._resolve_uids(conn, mailbox_id, uids)
            return self._copy_locked(tx, source, source_uids, user, target, move=move)

    def mailbox_by_id_in_checked(self, conn, mailbox_id: int) -> MailboxInfo:
        row = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.id = ?", (mailbox_id,)
        ).fetchone()
        if row is None:
            raise MailboxNotFound(f"#{mailbox_id}")
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def _copy_locked(
        self, tx: _Transaction, source: MailboxInfo, source_uids: list[int], user: str, target: MailboxInfo,
        *, move: bool,
    ) -> CopyResult:
        conn = tx.conn
        if not source_uids:
            return CopyResult(target.id, target.uid_validity, (), ())
        rows = self._message_rows(conn, source.id, source_uids)
        if not (move and source.user_id == target.user_id):
            self._check_quota(conn, target.user_id, user, sum(row[2] for row in rows), len(rows))
        now = int(time.time())
        uid = target.uid_next
        modseq = target.highest_modseq
        inserted = []
        spellings: dict[str, str] = {}
        for _uid, blob, size, internal_date, internal_tz, internal_day, bits, keywords in rows:
            modseq += 1
            if keywords:
                if keywords not in spellings:
                    canonical = self._canonical_keywords(conn, target.id, flagcodec.parse_keywords(keywords))
                    self._add_keywords(conn, target.id, canonical)
                    spellings[keywords] = flagcodec.keywords_text(canonical)
                keywords = spellings[keywords]
            inserted.append(
                (target.id, uid, blob, size, internal_date, internal_tz, internal_day, now, bits, keywords, modseq)
            )
            uid += 1
        conn.executemany(
            "INSERT INTO messages (mailbox_id, uid, blob, size, internal_date, internal_tz, internal_day, "
            "save_date, flags, keywords, modseq, recent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            inserted,
        )
        conn.execute("UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?", (uid, modseq, target.id))
        self._extend_uid_ranges(conn, target.id, target.uid_next, uid - 1)
        copied = tuple(row[0] for row in rows)
        new_uids = tuple(row[1] for row in inserted)
        tx.changes.append(
            Change(
                0, ChangeKind.MESSAGES_ADDED, user, target.id, target.name, new_uids,
                tuple(flagcodec.decode(row[8], row[9]) for row in inserted), tuple(row[10] for row in inserted),
                highest_modseq=modseq, uid_next=uid,
            )
        )
        expunged_modseq = None
        if move:
            # Re-read: the target may be the source itself, whose highest_modseq just moved.
            current = conn.execute("SELECT highest_modseq FROM mailboxes WHERE id = ?", (source.id,)).fetchone()[0]
            expunged_modseq = self._expunge_locked(tx, source, list(copied), current, user)
        return CopyResult(target.id, target.uid_validity, copied, new_uids, expunged_modseq)

    def _message_rows(self, conn, mailbox_id: int, uids: list[int]) -> list[tuple]:
        rows = []
        for chunk in chunks(uids, 500):
            rows.extend(
                conn.execute(
                    "SELECT uid, blob, size, internal_date, internal_tz, internal_day, flags, keywords FROM messages "
                    f"WHERE mailbox_id = ? AND uid IN ({','.join('?' * len(chunk))}) ORDER BY uid",
                    (mailbox_id, *chunk),
                ).fetchall()
            )
        return rows

    # --- flags --------------------------------------------------------------------------------------

    def store_flags(
        self,
        mailbox_id: int,
        uids: UidSet,
        mode: FlagMode,
        flags: Iterable[str],
        *,
        unchanged_since: int | None = None,
        user: str | None = None,
    ) -> StoreResult:
        """RFC 9051 §6.4.6 STORE; RFC 7162 §3.1.3 UNCHANGEDSINCE (refused UIDs in ``modified``).

        Each message whose flags change gets its own new MODSEQ.
        """
        bits, keywords = flagcodec.encode(flags)
        with self._transaction(durable=False) as tx:  # a flag change: see store.py "Durability"
            conn = tx.conn
            info = self.mailbox_by_id_in_checked(conn, mailbox_id)
            user = user or self._user_name(conn, info.user_id)
            keywords = self._canonical_keywords(conn, mailbox_id, keywords)
            # UIDs given one by one (what a session sends) need no look-up first: the SELECT below finds
            # those that exist. A sequence set (``*``, ranges) is resolved against the table.
            wanted = self._resolve_uids(conn, mailbox_id, uids) if isinstance(uids, SequenceSet) else sorted(set(uids))
            modseq = info.highest_modseq
            changed, unchanged, modified, updates = [], [], [], []
            for chunk in chunks(wanted, 500):
                rows = conn.execute(
                    f"SELECT uid, flags, keywords, modseq FROM messages WHERE mailbox_id = ? "
                    f"AND uid IN ({','.join('?' * len(chunk))}) ORDER BY uid",
                    (mailbox_id, *chunk),
                ).fetchall()
                for uid, old_bits, old_keywords_text, old_modseq in rows:
                    if unchanged_since is not None and old_modseq > unchanged_since:
                        modified.append(uid)
                        continue
                    old_keywords = flagcodec.parse_keywords(old_keywords_text)
                    if mode is FlagMode.REPLACE:
                        new_bits, new_keywords = bits, keywords
                    elif mode is FlagMode.ADD:
                        new_bits, new_keywords = old_bits | bits, old_keywords | keywords
                    else:
                        new_bits, new_keywords = old_bits & ~bits, old_keywords - keywords
                    new_text = flagcodec.keywords_text(new_keywords)
                    if new_bits == old_bits and new_text == old_keywords_text:
                        unchanged.append(FlagChange(uid, flagcodec.decode(old_bits, old_keywords_text), old_modseq))
                        continue
                    modseq += 1
                    updates.append((new_bits, new_text, modseq, mailbox_id, uid))
                    changed.append(FlagChange(uid, flagcodec.decode(new_bits, new_text), modseq))
            if updates:
                conn.executemany(
                    "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?", updates
                )
                conn.execute("UPDATE mailboxes SET highest_modseq = ? WHERE id = ?", (modseq, mailbox_id))
                if mode is not FlagMode.REMOVE and keywords:
                    self._add_keywords(conn, mailbox_id, keywords)
                tx.changes.append(
                    Change(
                        0, ChangeKind.FLAGS_CHANGED, user, mailbox_id, info.name,
                        tuple(c.uid for c in changed), tuple(c.flags for c in changed),
                        tuple(c.modseq for c in changed), highest_modseq=modseq,
                    )
                )
        return StoreResult(tuple(changed), tuple(modified), modseq, tuple(unchanged))

    def first_unseen(self, mailbox_id: int) -> int | None:
        """The smallest UID without ``\\Seen`` (RFC 3501 §7.1 ``[UNSEEN n]`` of a rev1 SELECT), or None:
        one statement (the primary key walked in UID order), where a SEARCH UNSEEN took a snapshot and
        three."""
        row = self._reader().execute(
            "SELECT uid FROM messages WHERE mailbox_id = ? AND (flags & 1) = 0 ORDER BY uid LIMIT 1", (mailbox_id,)
        ).fetchone()
        return None if row is None else row[0]

    def store_flags_if_unchanged(self, mailbox_id: int, uids: list[int], mode: FlagMode,
                                 flags: Iterable[str]) -> StoreResult | None:
        """``store_flags`` answered by a read when it would change nothing (``+FLAGS (\\Seen)`` on seen
        messages): the same result, without a write transaction (nor the writer lock, which another
        worker process may hold). None when something would change, or when the request has keywords
        or more UIDs than one read covers: then ``store_flags`` does it. A concurrent change is ordered
        after this STORE, as if it had come a moment later."""
        bits, keywords = flagcodec.encode(flags)
        if keywords or len(uids) > 500:
            return None
        with self._snapshot() as conn:
            info = self.mailbox_by_id_in_checked(conn, mailbox_id)
            rows = conn.execute(
                f"SELECT uid, flags, keywords, modseq FROM messages WHERE mailbox_id = ? "
                f"AND uid IN ({','.join('?' * len(uids))}) ORDER BY uid",
                (mailbox_id, *uids),
            ).fetchall()
        unchanged = []
        for uid, old_bits, old_keywords_text, old_modseq in rows:
            if mode is FlagMode.REPLACE:
                same = old_bits == bits and not old_keywords_text
            elif mode is FlagMode.ADD:
                same = old_bits | bits == old_bits
            else:
                same = old_bits & ~bits == old_bits
            if not same:
                return None
            unchanged.append(FlagChange(uid, flagcodec.decode(old_bits, old_keywords_text), old_modseq))
        return StoreResult((), (), info.highest_modseq, tuple(unchanged))

    def _user_name(self, conn, user_id: int) -> str:
        return conn.execute("SELECT name FROM users WHERE id = ?", (user_id,)).fetchone()[0]

    # --- expunge --------------------------------------------------------------------------------------

    def expunge(self, mailbox_id: int, uids: UidSet | None = None, *, user: str | None = None) -> ExpungeResult:
        """RFC 9051 §6.4.3 EXPUNGE (all ``\\Deleted``), or RFC 4315 UID EXPUNGE (``\\Deleted`` within ``uids``)."""
        with self._transaction(durable=False) as tx:  # see store.py "Durability"
            conn = tx.conn
            info = self.mailbox_by_id_in_checked(conn, mailbox_id)
            user = user or self._user_name(conn, info.user_id)
            if uids is None:
                doomed = [
                    uid for (uid,) in conn.execute(
                        "SELECT uid FROM messages WHERE mailbox_id = ? AND flags & 8 ORDER BY uid", (mailbox_id,)
                    )
                ]
            else:
                clause, params = self._uid_clause(conn, mailbox_id, uids)
                doomed = [
                    uid for (uid,) in conn.execute(
                        f"SELECT m.uid FROM messages m WHERE m.mailbox_id = ? AND m.flags & 8 AND {clause} "
                        "ORDER BY m.uid",
                        (mailbox_id, *params),
                    )
                ]
            if not doomed:
                return ExpungeResult((), info.highest_modseq)
            modseq = self._expunge_locked(tx, info, doomed, info.highest_modseq, user)
        return ExpungeResult(tuple(doomed), modseq)

    def _expunge_locked(self, tx: _Transaction, info: MailboxInfo, uids: list[int], highest_modseq: int, user: str) -> int:
        conn = tx.conn
        modseq = highest_modseq + 1
        conn.executemany(
            "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?", [(info.id, uid) for uid in uids]
        )
        conn.executemany(
            "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)",
            [(info.id, uid, modseq) for uid in uids],
        )
        runs_text, records = conn.execute(
            "SELECT uid_ranges, expunge_records + ? FROM mailboxes WHERE id = ?", (len(uids), info.id)
        ).fetchone()
        conn.execute(
            "UPDATE mailboxes SET highest_modseq = ?, uid_ranges = ?, expunge_records = ? WHERE id = ?",
            (modseq, uidranges.encode(uidranges.remove(uidranges.decode(runs_text), sorted(uids))), records, info.id),
        )
        if records > self.expunge_history + self.expunge_history // 4:
            self._prune_expunge_history(conn, info.id)
        tx.changes.append(
            Change(0, ChangeKind.EXPUNGED, user, info.id, info.name, tuple(uids), highest_modseq=modseq)
        )
        tx.dropped_references = True
        return modseq

    def _prune_expunge_history(self, conn, mailbox_id: int) -> None:
        """Keep at most ``expunge_history`` expunge records of a mailbox (the newest), raising its floor.

        Records go by whole MODSEQs (one EXPUNGE shares one MODSEQ), so the floor is exact: every expunge
        with a MODSEQ above it is still recorded. Runs only when the running count passed the limit by a
        quarter, so its cost (an index walk over the kept records) is spread over many expunges.
        """
        row = conn.execute(
            "SELECT modseq FROM expunged WHERE mailbox_id = ? ORDER BY modseq DESC LIMIT 1 OFFSET ?",
            (mailbox_id, self.expunge_history),
        ).fetchone()
        if row is not None:
            floor = row[0]
            conn.execute("DELETE FROM expunged WHERE mailbox_id = ? AND modseq <= ?", (mailbox_id, floor))
            conn.execute(
                "UPDATE mailboxes SET expunge_floor = max(expunge_floor, ?) WHERE id = ?", (floor, mailbox_id)
            )
        conn.execute(
            "UPDATE mailboxes SET expunge_records = (SELECT count(*) FROM expunged WHERE mailbox_id = ?) WHERE id = ?",
            (mailbox_id, mailbox_id),
        )

    def expunge_history_floor(self, mailbox_id: int) -> int:
        """The MODSEQ at or below which expunges may have been forgotten (0: the history is complete).

        ``vanished_since`` with a MODSEQ below it cannot be exact and answers with every UID of the set that
        is no longer in the mailbox (RFC 7162 §3.2.6); a caller that wants to know can compare.
        """
        row = self._reader().execute("SELECT expunge_floor FROM mailboxes WHERE id = ?", (mailbox_id,)).fetchone()
        if row is None:
            raise MailboxNotFound(f"#{mailbox_id}")
        return row[0]

    # --- reading messages -----------------------------------------------------------------------------

    def fetch_rows(self, mailbox_id: int, uids: UidSet, fields: Iterable[str] = ("flags",)) -> list[FetchRow]:
        """Metadata for FETCH, ascending by UID, straight from the database (no reparsing).

        ``fields`` names entries of ``FETCH_FIELDS``; the rest of each ``FetchRow`` is ``None``.
        """
        query, wanted, layout = _fetch_query(tuple(fields))
        conn = self._reader()
        clause, params = self._uid_clause(conn, mailbox_id, uids)
        cursor = conn.execute(query % clause, (mailbox_id, *params))
        if wanted == ("flags",):  # the most frequent FETCH by far: a fast path
            decode = flagcodec.decode
            return [FetchRow(uid, decode(bits, kw)) for uid, bits, kw in cursor]
        result = []
        for row in cursor:
            values = {name: build(*row[start:stop]) for name, build, start, stop in layout}
            result.append(FetchRow(row[0], **values))
        return result

    def changed_since(self, mailbox_id: int, modseq: int, uids: UidSet | None = None) -> list[FlagChange]:
        """RFC 7162 CHANGEDSINCE: messages whose MODSEQ is greater than ``modseq``, ascending by UID."""
        conn = self._reader()
        clause, params = ("1", []) if uids is None else self._uid_clause(conn, mailbox_id, uids)
        return [
            FlagChange(uid, flagcodec.decode(bits, kw), message_modseq)
            for uid, bits, kw, message_modseq in conn.execute(
                f"SELECT m.uid, m.flags, m.keywords, m.modseq FROM messages m WHERE m.mailbox_id = ? "
                f"AND m.modseq > ? AND {clause} ORDER BY m.uid",
                (mailbox_id, modseq, *params),
            )
        ]

    def vanished_since(self, mailbox_id: int, modseq: int, uids: UidSet | None = None) -> list[int]:
        """RFC 7162 §3.2.5 QRESYNC / §3.2.6 VANISHED: UIDs expunged after ``modseq``, ascending, limited to
        ``uids`` when given.

        Exact while ``modseq`` is at or above ``expunge_history_floor``. Below it the records that would
        answer may have been pruned, and §3.2.6 says what to do then: "behave as if it was requested to
        report all expunged messages from the provided UID set", i.e. every UID below UIDNEXT that is not in
        the mailbox any more (a superset the client tolerates: those messages are gone in any case).
        """
        with self._snapshot() as conn:
            row = conn.execute(
                "SELECT expunge_floor, uid_next, uid_ranges FROM mailboxes WHERE id = ?", (mailbox_id,)
            ).fetchone()
            if row is None:
                raise MailboxNotFound(f"#{mailbox_id}")
            floor, uid_next, runs_text = row
            if modseq < floor:
                result = _gaps(uidranges.decode(runs_text), uid_next)
            else:
                result = [
                    uid
                    for (uid,) in conn.execute(
                        "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid", (mailbox_id, modseq)
                    )
                ]
        if uids is not None and result:
            if isinstance(uids, SequenceSet):
                largest = max(result[-1], uid_next - 1)
                result = [uid for uid in result if uids.contains(uid, largest)]
            else:
                keep = set(uids)
                result = [uid for uid in result if uid in keep]
        return result

    def blob_id(self, mailbox_id: int, uid: int) -> str:
        row = self._reader().execute(
            "SELECT b.id FROM messages m JOIN blobs b ON b.num = m.blob WHERE m.mailbox_id = ? AND m.uid = ?",
            (mailbox_id, uid),
        ).fetchone()
        if row is None:
            raise KeyError((mailbox_id, uid))
        return row[0]

    def read_blob(self, blob_id: str, *, verify: bool = False) -> bytes:
        """The exact bytes of a message (BODY[]); ``verify`` checks them against the SHA-256 name."""
        return self.blobs.read(blob_id, verify=verify)

    def open_blob(self, blob_id: str):
        return self.blobs.open(blob_id)


def _gaps(runs, uid_next: int) -> list[int]:
    """The UIDs below ``uid_next`` outside the sorted runs ``[(low, high), ...]``: every UID ever given
    in the mailbox that is not there any more (UIDs are given consecutively from 1)."""
    gaps: list[int] = []
    expected = 1
    for low, high in runs:
        gaps.extend(range(expected, low))
        expected = high + 1
    gaps.extend(range(expected, uid_next))
    return gaps


def _timestamp(seconds: int | None, tz_minutes: int = 0) -> _dt.datetime | None:
    if seconds is None:
        return None
    return _dt.datetime.fromtimestamp(seconds, _zone(tz_minutes))


_ZONES: dict[int, _dt.timezone] = {}


def _zone(minutes: int) -> _dt.timezone:
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES[minutes] = _dt.timezone(_dt.timedelta(minutes=minutes))
    return zone


@functools.lru_cache(maxsize=64)
def _fetch_query(fields: tuple[str, ...]) -> tuple[str, tuple[str, ...], tuple]:
    """``fetch_rows``' SELECT for these fields (``%s`` for the UID clause), the fields in column order,
    and where each one's columns are in a row: ``(name, builder, start, stop)``. Made once per set of
    fields (a client asks for the same few again and again)."""
    asked = set(fields)
    wanted = tuple(name for name in FETCH_FIELDS if name in asked)
    columns = ", ".join(["m.uid"] + [FETCH_FIELDS[name] for name in wanted])
    join = " JOIN blobs b ON b.num = m.blob" if _BLOB_FIELDS.intersection(wanted) else ""
    layout = []
    position = 1
    for name in wanted:
        width = 2 if name in _TWO_COLUMNS else 1
        layout.append((name, _FIELD_BUILDERS[name], position, position + width))
        position += width
    query = f"SELECT {columns} FROM messages m{join} WHERE m.mailbox_id = ? AND %s ORDER BY m.uid"
    return query, wanted, tuple(layout)


_FIELD_BUILDERS = {
    "flags": flagcodec.decode,
    "modseq": lambda value: value,
    "size": lambda value: value,
    "internal_date": _timestamp,
    "save_date": lambda value: _timestamp(value),
    "blob_id": lambda value: value,
    "envelope": lambda value: value,
    "body": lambda value: value,
    "bodystructure": lambda value: value,
    "preview": lambda value: value,
    "email_id": lambda value: value,
    "thread_id": lambda value: value,
}
