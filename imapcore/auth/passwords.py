"""Password hashing with argon2id (RFC 9106), through argon2-cffi.

The parameters are OWASP's first argon2id recommendation (m=46 MiB, t=1, p=1; the OWASP Password
Storage Cheat Sheet lists it as equivalent in strength to its other settings). RFC 9106's second option
(m=64 MiB, t=3, p=4, argon2-cffi's default) was measured too: about four times the CPU per verification
on the 2-core reference machine and a 64 MiB working set per guess, which during a password-guessing
flood was the whole of the server's extra memory (issue "Abuse resistance" asks for at most 2x the idle
memory). A verification still costs tens of milliseconds and 46 MiB, which is why
``cache.VerificationCache`` exists and why verification runs in a worker thread, one at a time per
client address. Hashes made with other parameters still verify (the parameters are in the hash), and
``needs_rehash`` tells when to re-hash them at the next successful login.

To keep the answer for an unknown user indistinguishable from a wrong password (no user enumeration),
callers verify against ``DUMMY_HASH`` when the user does not exist: same work, same result (False).
"""

from __future__ import annotations

import argon2

_hasher = argon2.PasswordHasher(time_cost=1, memory_cost=46 * 1024, parallelism=1)


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
