"""User administration for ``imapcore user ...``: add, change password, delete, list.

These run against the store directly, with or without a server running: the store is SQLite in WAL
mode with a busy timeout, so the CLI's short write transactions interleave safely with the server's.
A password change takes effect at the next login (the server reads the hash at each verification; its
cache is keyed by the stored hash, so an old cached success no longer matches).

``delete_user`` removes the user's rows in one write transaction through the store's transaction
helper (the store has no public user deletion yet); the blobs no longer referenced are collected by the
store right after the commit, as for any expunge.
"""

from __future__ import annotations

from imapcore.auth.passwords import hash_password
from imapcore.store import Store, UserNotFound


def add_user(store: Store, name: str, password: str) -> None:
    store.create_user(name, hash_password(password))


def set_password(store: Store, name: str, password: str) -> None:
    store.user(name)  # UserNotFound for an unknown name
    store.set_password_hash(name, hash_password(password))


def delete_user(store: Store, name: str) -> None:
    with store._transaction() as tx:
        conn = tx.conn
        row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise UserNotFound(name)
        user_id = row[0]
        mailboxes = "SELECT id FROM mailboxes WHERE user_id = ?"
        for table in ("messages", "mailbox_keywords", "expunged"):
            conn.execute(f"DELETE FROM {table} WHERE mailbox_id IN ({mailboxes})", (user_id,))
        conn.execute("DELETE FROM mailboxes WHERE user_id = ?", (user_id,))
        conn.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))
        conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
        tx.dropped_references = True


def list_users(store: Store) -> list[str]:
    return store.users()
