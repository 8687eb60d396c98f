"""Password hashing with argon2id (RFC 9106), through argon2-cffi.

The parameters are argon2-cffi's defaults, which are RFC 9106's second recommended option (t=3,
m=64 MiB, p=4): about 100 ms per verification on the reference 2-core machine. That cost is why
``cache.VerificationCache`` exists and why verification runs in a worker thread.

To keep the answer for an unknown user indistinguishable from a wrong password (no user enumeration),
callers verify against ``DUMMY_HASH`` when the user does not exist: same work, same result (False).
"""

from __future__ import annotations

import argon2

_hasher = argon2.PasswordHasher()


def hash_password(password: str) -> str:
    """Return an encoded argon2id hash (``$argon2id$v=19$m=...``) of ``password``."""
    return _hasher.hash(password)


def verify_password(encoded_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or an unreadable hash. Blocking (~100 ms)."""
    try:
        return _hasher.verify(encoded_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def needs_rehash(encoded_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(encoded_hash)
    except argon2.exceptions.InvalidHashError:
        return True


#: A real hash of a random password, verified against when the user does not exist (equal timing).
DUMMY_HASH = hash_password("imapcore-no-such-user-" + __import__("secrets").token_hex(16))
