"""Connection and session accounting with ``trio.CapacityLimiter``s: total, per client address, per user.

A connection is admitted when its address key (``imapcore.auth.throttle.address_key``: the IPv4 address
or the IPv6 /64) has a free slot in its own limiter *and then* the global limiter has one. The per-address
limiter is tried first, so a flood from one address is stopped by its own, much smaller limit and never
takes the global slots that other addresses need. A login is admitted when the user's limiter has a slot.

Per-key limiters are created on first use and dropped when their last slot is released, so the tables
hold only keys with live connections (memory bounded by the connection limit itself). Borrowers are
explicit tokens (``acquire_on_behalf_of_nowait``), not tasks, so one task may hold a connection slot and
a user slot, and a session that logs out and in again releases and re-acquires cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from imapcore.auth.throttle import address_key


@dataclass(frozen=True, slots=True)
class Slot:
    """One admitted connection: release it exactly once with ``ConnectionLimits.release``."""

    key: str


class _KeyedLimiters:
    """One ``CapacityLimiter`` of ``capacity`` per key, alive while some borrower holds it."""

    __slots__ = ("capacity", "limiters")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.limiters: dict[str, trio.CapacityLimiter] = {}

    def acquire(self, key: str, borrower: object) -> bool:
        limiter = self.limiters.get(key)
        if limiter is None:
            limiter = self.limiters[key] = trio.CapacityLimiter(self.capacity)
        try:
            limiter.acquire_on_behalf_of_nowait(borrower)
        except trio.WouldBlock:
            return False
        return True

    def release(self, key: str, borrower: object) -> None:
        limiter = self.limiters[key]
        limiter.release_on_behalf_of(borrower)
        if limiter.borrowed_tokens == 0:
            del self.limiters[key]

    def in_use(self, key: str) -> int:
        limiter = self.limiters.get(key)
        return 0 if limiter is None else limiter.borrowed_tokens


class ConnectionLimits:
    def __init__(self, max_connections: int, max_per_address: int, max_per_user: int) -> None:
        self.total = trio.CapacityLimiter(max(1, max_connections))
        self._addresses = _KeyedLimiters(max(1, max_per_address))
        self._users = _KeyedLimiters(max(1, max_per_user))

    # --- connections ---------------------------------------------------------------------------------

    def admit(self, host: str, borrower: object) -> Slot | None:
        """A slot for a new connection from ``host``, or None if its address or the server is full."""
        key = address_key(host)
        if not self._addresses.acquire(key, borrower):
            return None
        try:
            self.total.acquire_on_behalf_of_nowait(borrower)
        except trio.WouldBlock:
            self._addresses.release(key, borrower)
            return None
        return Slot(key)

    def release(self, slot: Slot, borrower: object) -> None:
        self.total.release_on_behalf_of(borrower)
        self._addresses.release(slot.key, borrower)

    def connections_from(self, host: str) -> int:
        return self._addresses.in_use(address_key(host))

    @property
    def connections(self) -> int:
        return self.total.borrowed_tokens

    # --- users -----------------------------------------------------------------------------------------

    def admit_user(self, user: str, borrower: object) -> bool:
        return self._users.acquire(user, borrower)

    def release_user(self, user: str, borrower: object) -> None:
        self._users.release(user, borrower)

    def sessions_of(self, user: str) -> int:
        return self._users.in_use(user)

    def server_full(self) -> bool:
        """Whether a refusal is for the whole server (not for one address)."""
        return self.connections >= self.total.total_tokens


class SharedConnectionLimits(ConnectionLimits):
    """The same limits for every worker process of one server together (``sharedstate.py``): the
    counts live in the admission database, each worker's share in its own rows."""

    def __init__(self, max_connections: int, max_per_address: int, max_per_user: int, shared) -> None:
        # No in-process limiters: every method below counts in the shared database instead.
        self.shared = shared
        self.max_connections = max(1, max_connections)
        self.max_per_address = max(1, max_per_address)
        self.max_per_user = max(1, max_per_user)

    def admit(self, host: str, borrower: object) -> Slot | None:
        key = address_key(host)
        shared = self.shared
        with shared.transaction():
            if not shared.acquire("address", key, self.max_per_address):
                return None
            if not shared.acquire("total", "", self.max_connections):
                shared.release("address", key)
                return None
        return Slot(key)

    def release(self, slot: Slot, borrower: object) -> None:
        with self.shared.transaction():
            self.shared.release("address", slot.key)
            self.shared.release("total", "")

    def connections_from(self, host: str) -> int:
        return self.shared.in_use("address", address_key(host))

    @property
    def connections(self) -> int:
        return self.shared.in_use("total", "")

    def server_full(self) -> bool:
        return self.connections >= self.max_connections

    def admit_user(self, user: str, borrower: object) -> bool:
        return self.shared.acquire("user", user, self.max_per_user)

    def release_user(self, user: str, borrower: object) -> None:
        self.shared.release("user", user)

    def sessions_of(self, user: str) -> int:
        return self.shared.in_use("user", user)
