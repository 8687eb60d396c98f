"""Mailbox operations of ``Store``: list, create, delete, rename, subscriptions, STATUS and SELECT.

Names are validated and normalised by ``names.normalize`` before any SQL runs. Creating a name creates
its missing superiors (RFC 9051 §6.3.4); DELETE refuses INBOX and names with inferiors (§6.3.5,
HASCHILDREN); RENAME carries inferiors along (not subscriptions, §6.3.6) and treats INBOX specially.
Every mailbox gets a UIDVALIDITY larger than any given before, so a re-created name never revives old
UIDs. Counters come from the mailbox row, kept by triggers (schema.py); SELECT reads counters, UID runs
and keywords in one snapshot.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from . import names, uidranges
from .errors import (
    CannotDeleteInbox,
    HasChildren,
    InvalidMailboxName,
    InvalidSpecialUse,
    MailboxExists,
    MailboxNotFound,
)
from .feed import Change, ChangeKind
from .records import MailboxInfo, MailboxName, MailboxSnapshot, MailboxStatus

if TYPE_CHECKING:  # annotations only
    from .store import _Transaction


#: RFC 6154 §2 special-use attributes, and \\Important (RFC 8457), by lower-case spelling.
SPECIAL_USE_ATTRIBUTES = {
    name.lower(): name
    for name in ("\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash", "\\Important")
}


class MailboxOperations:
    """Mixin of ``Store`` (uses its connections and transactions)."""

    _MAILBOX_COLUMNS = (
        "mb.id, mb.user_id, mb.name, mb.uid_validity, mb.uid_next, mb.highest_modseq, mb.special_use, "
        "mb.mailbox_uuid, s.name IS NOT NULL"
    )
    _MAILBOX_FROM = "mailboxes mb LEFT JOIN subscriptions s ON s.user_id = mb.user_id AND s.name = mb.name"

    #: The user's id inside the query that needs it: one statement instead of a lookup and a query (the
    #: hot LIST/STATUS/SELECT/APPEND path made three ``SELECT id FROM users`` per mail check), and never
    #: stale, unlike a cache of ids (the command line may delete a user, and SQLite may give the id to
    #: the next one created). A user with no row matches nothing; ``_user_id`` then says UserNotFound.
    _USER_ID = "(SELECT id FROM users WHERE name = ?)"

    def list_mailboxes(self, user: str) -> list[MailboxInfo]:
        conn = self._reader()
        rows = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.user_id = {self._USER_ID} "
            "ORDER BY mb.name",
            (user,),
        ).fetchall()
        if not rows:
            self._user_id(conn, user)  # UserNotFound, as before (every user has an INBOX)
        return [MailboxInfo(*row[:-1], bool(row[-1])) for row in rows]

    def mailbox_names(self, user: str) -> list[MailboxName]:
        """The user's mailboxes by name, with their special use: all a LIST without STATUS needs
        (``listing.list_entries``), in one indexed read of two columns."""
        conn = self._reader()
        rows = conn.execute(
            f"SELECT name, special_use FROM mailboxes WHERE user_id = {self._USER_ID} ORDER BY name", (user,)
        ).fetchall()
        if not rows:
            self._user_id(conn, user)  # UserNotFound (every user has an INBOX)
        return [MailboxName(*row) for row in rows]

    def mailbox(self, user: str, name: str) -> MailboxInfo:
        return self._mailbox_info_of(self._reader(), user, names.normalize(name))

    def _mailbox_info_of(self, conn, user: str, name: str, *, target: bool = False) -> MailboxInfo:
        """``_mailbox_info`` by user name, in one statement (``_USER_ID``)."""
        row = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.user_id = {self._USER_ID} "
            "AND mb.name = ?",
            (user, name),
        ).fetchone()
        if row is None:
            self._user_id(conn, user)  # UserNotFound before MailboxNotFound, as before
            raise MailboxNotFound(name, target=target)
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def mailbox_by_id(self, mailbox_id: int) -> MailboxInfo:
        row = self._reader().execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.id = ?", (mailbox_id,)
        ).fetchone()
        if row is None:
            raise MailboxNotFound(f"#{mailbox_id}")
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def _mailbox_info(self, conn, user_id: int, name: str, *, target: bool = False) -> MailboxInfo:
        row = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.user_id = ? AND mb.name = ?",
            (user_id, name),
        ).fetchone()
        if row is None:
            raise MailboxNotFound(name, target=target)
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def _next_uid_validity(self, conn) -> int:
        # RFC 9051 §2.3.1.1: a re-created mailbox must get a new UIDVALIDITY; time-based and strictly
        # increasing across all mailboxes, also across restarts and clock steps backwards.
        row = conn.execute("SELECT value FROM meta WHERE key = 'last_uid_validity'").fetchone()
        value = max(int(time.time()), (row[0] if row else 0) + 1)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_uid_validity', ?)", (value,))
        return value

    def _insert_mailbox(self, tx: _Transaction, user_id: int, user: str, name: str, special_use: str | None) -> int:
        mailbox_id = tx.conn.execute(
            "INSERT INTO mailboxes (user_id, name, uid_validity, special_use, mailbox_uuid) VALUES (?, ?, ?, ?, ?)",
            (user_id, name, self._next_uid_validity(tx.conn), special_use, "F" + uuid.uuid4().hex),
        ).lastrowid
        tx.changes.append(Change(0, ChangeKind.MAILBOX_CREATED, user, mailbox_id, name))
        return mailbox_id

    def create_mailbox(self, user: str, name: str, *, special_use: str | None = None) -> MailboxInfo:
        """RFC 9051 §6.3.4: create ``name`` and any missing superior names.

        ``special_use`` is one RFC 6154 attribute (RFC 6154 §3 CREATE-SPECIAL-USE), e.g. ``\\Sent``.
        """
        name = names.normalize(name)
        if special_use is not None:
            canonical = SPECIAL_USE_ATTRIBUTES.get(special_use.lower())
            if canonical is None:
                raise InvalidSpecialUse(special_use)
            special_use = canonical
        with self._transaction() as tx:
            conn = tx.conn
            user_id = self._user_id(conn, user)
            if conn.execute("SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, name)).fetchone():
                raise MailboxExists(name)
            for parent in names.parents(name):
                if not conn.execute(
                    "SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, parent)
                ).fetchone():
                    self._insert_mailbox(tx, user_id, user, parent, None)
            self._insert_mailbox(tx, user_id, user, name, special_use)
        return self.mailbox(user, name)

    def delete_mailbox(self, user: str, name: str) -> None:
        """RFC 9051 §6.3.5: INBOX cannot be deleted; a name with inferiors is refused (HASCHILDREN).

        Subscriptions are kept (RFC 3501 §6.3.6: a server must not remove a subscription by itself).
        """
        name = names.normalize(name)
        if names.is_inbox(name):
            raise CannotDeleteInbox()
        with self._transaction() as tx:
            conn = tx.conn
            user_id = self._user_id(conn, user)
            info = self._mailbox_info(conn, user_id, name)
            if conn.execute(
                "SELECT 1 FROM mailboxes WHERE user_id = ? AND substr(name, 1, ?) = ? LIMIT 1",
                (user_id, len(name) + 1, name + names.DELIMITER),
            ).fetchone():
                raise HasChildren(name)
            conn.execute("DELETE FROM messages WHERE mailbox_id = ?", (info.id,))
            conn.execute("DELETE FROM expunged WHERE mailbox_id = ?", (info.id,))
            conn.execute("DELETE FROM mailbox_keywords WHERE mailbox_id = ?", (info.id,))
            conn.execute("DELETE FROM mailboxes WHERE id = ?", (info.id,))
            tx.changes.append(Change(0, ChangeKind.MAILBOX_DELETED, user, info.id, name))
            tx.dropped_references = True

    def rename_mailbox(self, user: str, old_name: str, new_name: str) -> MailboxInfo:
        """RFC 9051 §6.3.6: inferiors follow; missing superiors of the new name are created.

        Renaming INBOX moves its messages to a new mailbox and leaves INBOX empty (its inferiors stay).

        Subscriptions do not follow: §6.3.6 says "renaming a mailbox doesn't update subscription
        information on the original name" and shows the client doing SUBSCRIBE new / UNSUBSCRIBE old
        itself, and §6.3.7 says a server "SHOULD NOT unilaterally remove an existing mailbox name from
        the subscription list". So the old names stay subscribed and the new ones are not subscribed
        automatically (Dovecot behaves the same).
        """
        old_name = names.normalize(old_name)
        new_name = names.normalize(new_name)
        if new_name == old_name or new_name.startswith(old_name + names.DELIMITER):
            raise InvalidMailboxName(new_name, f"cannot rename {old_name!r} to itself or below itself")
        if names.is_inbox(new_name):
            raise MailboxExists(new_name)
        with self._transaction() as tx:
            conn = tx.conn
            user_id = self._user_id(conn, user)
            info = self._mailbox_info(conn, user_id, old_name)
            if conn.execute("SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, new_name)).fetchone():
                raise MailboxExists(new_name)
            for parent in names.parents(new_name):
                if not conn.execute(
                    "SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, parent)
                ).fetchone():
                    self._insert_mailbox(tx, user_id, user, parent, None)
            if names.is_inbox(old_name):
                target_id = self._insert_mailbox(tx, user_id, user, new_name, None)
                uids = [row[0] for row in conn.execute("SELECT uid FROM messages WHERE mailbox_id = ?", (info.id,))]
                if uids:
                    self._copy_locked(tx, info, uids, user, self._mailbox_info(conn, user_id, new_name), move=True)
                return self.mailbox_by_id_in(conn, target_id)
            prefix = old_name + names.DELIMITER
            renamed = conn.execute(
                "SELECT id, name FROM mailboxes WHERE user_id = ? AND (name = ? OR substr(name, 1, ?) = ?) "
                "ORDER BY name",
                (user_id, old_name, len(prefix), prefix),
            ).fetchall()
            for mailbox_id, current in renamed:
                replacement = new_name + current[len(old_name):]
                names.normalize(replacement)  # the new name may make a child too long or too deep
                if replacement != new_name and conn.execute(
                    "SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", (user_id, replacement)
                ).fetchone():
                    raise MailboxExists(replacement)
                conn.execute("UPDATE mailboxes SET name = ? WHERE id = ?", (replacement, mailbox_id))
                tx.changes.append(
                    Change(0, ChangeKind.MAILBOX_RENAMED, user, mailbox_id, replacement, old_name=current)
                )
            return self.mailbox_by_id_in(conn, info.id)

    def mailbox_by_id_in(self, conn, mailbox_id: int) -> MailboxInfo:
        row = conn.execute(
            f"SELECT {self._MAILBOX_COLUMNS} FROM {self._MAILBOX_FROM} WHERE mb.id = ?", (mailbox_id,)
        ).fetchone()
        return MailboxInfo(*row[:-1], bool(row[-1]))

    def subscribe(self, user: str, name: str) -> None:
        """RFC 9051 §6.3.7. A name that does not exist (yet) may be subscribed."""
        name = names.normalize(name)
        with self._transaction() as tx:
            user_id = self._user_id(tx.conn, user)
            if tx.conn.execute(
                "INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)", (user_id, name)
            ).rowcount:
                tx.changes.append(Change(0, ChangeKind.SUBSCRIBED, user, None, name))

    def unsubscribe(self, user: str, name: str) -> None:
        name = names.normalize(name)
        with self._transaction() as tx:
            user_id = self._user_id(tx.conn, user)
            if tx.conn.execute(
                "DELETE FROM subscriptions WHERE user_id = ? AND name = ?", (user_id, name)
            ).rowcount:
                tx.changes.append(Change(0, ChangeKind.UNSUBSCRIBED, user, None, name))

    def subscriptions(self, user: str) -> list[str]:
        conn = self._reader()
        user_id = self._user_id(conn, user)
        return [row[0] for row in conn.execute("SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name", (user_id,))]

    # --- status and selection -----------------------------------------------------------------------

    _STATUS_COLUMNS = (
        "id, name, messages, uid_next, uid_validity, unseen, deleted, size, highest_modseq, recent, mailbox_uuid"
    )

    def status(self, user: str, name: str) -> MailboxStatus:
        conn = self._reader()
        row = conn.execute(
            f"SELECT {self._STATUS_COLUMNS} FROM mailboxes WHERE user_id = {self._USER_ID} AND name = ?",
            (user, names.normalize(name)),
        ).fetchone()
        if row is None:
            self._user_id(conn, user)
            raise MailboxNotFound(name)
        return MailboxStatus(*row)

    def statuses(self, user: str) -> dict[str, MailboxStatus]:
        """STATUS of every mailbox of a user in one query (LIST-STATUS, RFC 5819; NOTIFY)."""
        conn = self._reader()
        return {
            row[1]: MailboxStatus(*row)
            for row in conn.execute(
                f"SELECT {self._STATUS_COLUMNS} FROM mailboxes WHERE user_id = ? ORDER BY name",
                (self._user_id(conn, user),),
            )
        }

    def status_by_id(self, mailbox_id: int) -> MailboxStatus:
        row = self._reader().execute(
            f"SELECT {self._STATUS_COLUMNS} FROM mailboxes WHERE id = ?", (mailbox_id,)
        ).fetchone()
        if row is None:
            raise MailboxNotFound(f"#{mailbox_id}")
        return MailboxStatus(*row)

    def select(self, user: str, name: str) -> MailboxSnapshot:
        """Counters, sorted UIDs and keywords of a mailbox, read in one consistent snapshot."""
        name = names.normalize(name)
        with self._snapshot() as conn:
            row = conn.execute(
                f"SELECT {self._STATUS_COLUMNS}, special_use, uid_ranges FROM mailboxes "
                f"WHERE user_id = {self._USER_ID} AND name = ?",
                (user, name),
            ).fetchone()
            if row is None:
                self._user_id(conn, user)
                raise MailboxNotFound(name)
            status = MailboxStatus(*row[:-2])
            keywords = frozenset(
                kw for (kw,) in conn.execute("SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?", (status.id,))
            )
        return MailboxSnapshot(status, tuple(uidranges.decode(row[-1])), keywords, row[-2])

    def uids(self, mailbox_id: int) -> list[int]:
        return [
            uid
            for (uid,) in self._reader().execute(
                "SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid", (mailbox_id,)
            )
        ]

    def keywords(self, mailbox_id: int) -> frozenset[str]:
        return frozenset(
            kw
            for (kw,) in self._reader().execute(
                "SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?", (mailbox_id,)
            )
        )

    def claim_recent(self, mailbox_id: int) -> tuple[int, ...]:
        """RFC 3501 §2.3.2 \\Recent: the first session to select gets the recent UIDs; they stop being recent."""
        with self._transaction(durable=False) as tx:  # see store.py "Durability"
            uids = tuple(
                uid
                for (uid,) in tx.conn.execute(
                    "SELECT uid FROM messages WHERE mailbox_id = ? AND recent = 1 ORDER BY uid", (mailbox_id,)
                )
            )
            if uids:
                tx.conn.execute("UPDATE messages SET recent = 0 WHERE mailbox_id = ? AND recent = 1", (mailbox_id,))
        return uids
