"""Verifying credentials against the user directory, off the event loop, throttled after failures.

The argon2 verification (~100 ms, 64 MiB) runs in a worker thread via ``trio.to_thread.run_sync`` under a
``trio.CapacityLimiter`` sized to the cores, so a burst of logins neither blocks other sessions nor makes
the process allocate 64 MiB per concurrent guess; and at most one verification per client address
(IPv4 address or IPv6 /64) runs at a time, so one address can neither take every hashing thread from
the others nor make the server hold more than one argon2 working set for it. Successful verifications are remembered in a
``VerificationCache``. An unknown user is verified against ``DUMMY_HASH`` so that the answer and its
timing do not reveal whether the user exists (abuse resistance: no user enumeration).

With a ``throttle`` (``imapcore.auth.throttle.AuthThrottle``), every attempt first waits its turn:
nothing after a few failures, then a doubling delay per address and per user name (the address comes
from the ``REMOTE_ADDRESS`` context variable of the calling session). An address refused after too many
failures gets ``NO [UNAVAILABLE]`` without any verification. Each failure is logged on the
``imapcore.auth`` logger in one line that fail2ban can match::

    authentication failed: user=<alice> rip=192.0.2.7

(filter: ``failregex = authentication failed: user=<[^>]*> rip=<HOST>$``). The user name is shown with
control characters, ``<`` and ``>`` replaced by ``?`` and cut to 100 characters, so a client cannot
forge log lines.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import trio

from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import CommandFailed

from .cache import VerificationCache
from .passwords import DUMMY_HASH, verify_password
from .throttle import REMOTE_ADDRESS, AddressBanned, AuthThrottle, address_key

auth_log = logging.getLogger("imapcore.auth")


def loggable_name(user: str) -> str:
    """A user name made safe for one log line (no control characters, no ``<``/``>``; 100 chars)."""
    cleaned = "".join("?" if (ch < " " or ch in "<>\x7f" or not ch.isprintable()) else ch for ch in user[:100])
    return cleaned + ("..." if len(user) > 100 else "")


class Authenticator:
    def __init__(
        self,
        lookup_hash: Callable[[str], str | None],
        cache: VerificationCache | None = None,
        max_concurrent_hashes: int | None = None,
        throttle: AuthThrottle | None = None,
    ) -> None:
        """``lookup_hash(user)`` returns the stored argon2 hash, or None for an unknown user."""
        self._lookup_hash = lookup_hash
        self.cache = cache if cache is not None else VerificationCache()
        self._hash_limiter = trio.CapacityLimiter(max_concurrent_hashes or os.cpu_count() or 2)
        self._address_limiters: dict[str, trio.CapacityLimiter] = {}
        self.throttle = throttle

    async def verify(self, user: str, password: str) -> bool:
        """True if ``password`` is ``user``'s. Raises ``CommandFailed`` (``NO [UNAVAILABLE]``) when the
        caller's address is refused for too many failures."""
        address = REMOTE_ADDRESS.get()
        throttle = self.throttle
        if throttle is None:
            ok = await self._check(user, password, address)
        else:
            try:
                wait = throttle.reserve(address, user)
            except AddressBanned:
                self._refuse(user, address)
            finished = False
            try:
                if wait > 0:
                    await trio.sleep(wait)
                if throttle.banned(address):  # banned while this attempt waited its turn
                    throttle.abandon(address)
                    finished = True
                    self._refuse(user, address)
                ok = await self._check(user, password, address)
                finished = True
                if ok:
                    throttle.record_success(address, user)
                else:
                    throttle.record_failure(address, user)
            finally:
                if not finished:
                    throttle.abandon(address)
        if not ok:
            auth_log.warning("authentication failed: user=<%s> rip=%s", loggable_name(user), address)
        return ok

    @staticmethod
    def _refuse(user: str, address: str | None):
        auth_log.warning("authentication refused (address banned): user=<%s> rip=%s", loggable_name(user), address)
        raise CommandFailed(ResponseCode(Code.UNAVAILABLE),
                            "Too many authentication failures from your address; try again later") from None

    async def _check(self, user: str, password: str, address: str | None = None) -> bool:
        stored = self._lookup_hash(user)
        if stored is not None and self.cache.hit(user, password, stored):
            return True
        key = "" if address is None else address_key(address)
        per_address = self._address_limiters.get(key)
        if per_address is None:
            per_address = self._address_limiters[key] = trio.CapacityLimiter(1)
        try:
            async with per_address:
                ok = await trio.to_thread.run_sync(
                    verify_password, stored if stored is not None else DUMMY_HASH, password,
                    limiter=self._hash_limiter,
                )
        finally:
            if per_address.borrowed_tokens == 0 and per_address.statistics().tasks_waiting == 0:
                self._address_limiters.pop(key, None)
        if ok and stored is not None:
            self.cache.remember(user, password, stored)
            return True
        return False
