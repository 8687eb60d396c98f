"""Verifying credentials against the user directory, off the event loop.

The argon2 verification (~100 ms, 64 MiB) runs in a worker thread via ``trio.to_thread.run_sync`` under a
``trio.CapacityLimiter`` sized to the cores, so a burst of logins neither blocks other sessions nor makes
the process allocate 64 MiB per concurrent guess. Successful verifications are remembered in a
``VerificationCache``. An unknown user is verified against ``DUMMY_HASH`` so that the answer and its
timing do not reveal whether the user exists (abuse resistance: no user enumeration).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import trio

from .cache import VerificationCache
from .passwords import DUMMY_HASH, verify_password


class Authenticator:
    def __init__(
        self,
        lookup_hash: Callable[[str], str | None],
        cache: VerificationCache | None = None,
        max_concurrent_hashes: int | None = None,
    ) -> None:
        """``lookup_hash(user)`` returns the stored argon2 hash, or None for an unknown user."""
        self._lookup_hash = lookup_hash
        self.cache = cache if cache is not None else VerificationCache()
        self._hash_limiter = trio.CapacityLimiter(max_concurrent_hashes or os.cpu_count() or 2)

    async def verify(self, user: str, password: str) -> bool:
        stored = self._lookup_hash(user)
        if stored is not None and self.cache.hit(user, password, stored):
            return True
        ok = await trio.to_thread.run_sync(
            verify_password, stored if stored is not None else DUMMY_HASH, password,
            limiter=self._hash_limiter,
        )
        if ok and stored is not None:
            self.cache.remember(user, password, stored)
            return True
        return False
