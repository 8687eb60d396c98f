"""A bounded, expiring cache of successful password verifications.

Keys are an HMAC-SHA256, under a random per-process secret, of the user name, the password and the
stored hash. So the cache never holds a password or anything an attacker could test passwords against
offline, a password change (new stored hash) invalidates old entries at once, and a wrong password can
never hit. Only successes are cached: failures must always pay the full cost (and the throttling).

Bounded in entries (least recently used evicted first) and in time (``ttl_s``); the clock is a parameter
so tests do not sleep.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable


class VerificationCache:
    def __init__(
        self,
        max_entries: int = 10_000,
        ttl_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._secret = secrets.token_bytes(32)
        self._expiry: OrderedDict[bytes, float] = OrderedDict()

    def _key(self, user: str, password: str, stored_hash: str) -> bytes:
        message = b"\0".join(s.encode("utf-8", "surrogatepass") for s in (user, password, stored_hash))
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def hit(self, user: str, password: str, stored_hash: str) -> bool:
        """True when this exact (user, password, hash) verified successfully within ``ttl_s``."""
        key = self._key(user, password, stored_hash)
        expires = self._expiry.get(key)
        if expires is None:
            return False
        if expires <= self._clock():
            del self._expiry[key]
            return False
        self._expiry.move_to_end(key)
        return True

    def remember(self, user: str, password: str, stored_hash: str) -> None:
        key = self._key(user, password, stored_hash)
        self._expiry[key] = self._clock() + self.ttl_s
        self._expiry.move_to_end(key)
        while len(self._expiry) > self.max_entries:
            self._expiry.popitem(last=False)

    def __len__(self) -> int:
        return len(self._expiry)
