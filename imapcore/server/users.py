"""User administration for ``imapcore user ...``: add, change password, delete, list.

These run against the store directly, with or without a server running: the store is SQLite in WAL
mode with a busy timeout, so the CLI's short write transactions interleave safely with the server's.
A password change takes effect at the next login (the server reads the hash at each verification; its
cache is keyed by the stored hash, so an old cached success no longer matches).

``delete_user`` removes the user with all mail in one store transaction; the blobs no longer referenced
are collected by the store right after the commit.
"""

from __future__ import annotations

from imapcore.auth.passwords import hash_password
from imapcore.store import Store


def add_user(store: Store, name: str, password: str) -> None:
    store.create_user(name, hash_password(password))


def set_password(store: Store, name: str, password: str) -> None:
    store.user(name)  # UserNotFound for an unknown name
    store.set_password_hash(name, hash_password(password))


def delete_user(store: Store, name: str) -> None:
    store.delete_user(name)


def list_users(store: Store) -> list[str]:
    return store.users()
