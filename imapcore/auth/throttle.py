"""Authentication throttling: failures slow down further attempts per address and per user name.

The idea is Dovecot's auth penalty. Each failed verification is counted against the client's address
key (an IPv4 address or an IPv6 /64, see ``address_key``) and against the user name that was tried,
whether or not such a user exists, so the delays never reveal which names are real. After
``free_failures`` failures, an attempt waits ``delay_s`` before it is verified, doubling with each
further failure up to ``delay_max_s``:

* per address the waits are *serialized*: attempts from one address take turns on one schedule, so a
  guesser opening many connections gets no more answers per minute than one connection would (with
  the defaults, at most 4 a minute once the delay reached 15 s). Attempts still in flight count as
  failures on that schedule once the address has failed, and beyond ``parallel_free`` at once before;
  so a flood's first wave gets ``parallel_free + free_failures`` quick answers, not one per connection;
* per user name the wait counts from the name's last failure and is not serialized (a guesser
  attacking alice from elsewhere can slow alice down by at most ``delay_max_s``, never lock her out);
* after ``ban_failures`` failures an address is refused outright for ``ban_s`` (``* BYE
  [UNAVAILABLE]`` at the greeting, ``NO [UNAVAILABLE]`` to a login attempt).

The wait is a ``trio.sleep`` in the session's own task: it never blocks another session. A success
forgets the failures of its address and of its user. Records are forgotten ``memory_s`` after their last
failure, and at most ``max_keys`` are kept (the oldest go first), so a flood of random user names
cannot grow the table without bound.

The address of the client whose attempt is being verified reaches ``Authenticator.verify`` through the
``REMOTE_ADDRESS`` context variable, set by the server's session task for its own context.
"""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

#: The remote address (host string) of the session running in this task, or None (tests, local tools).
REMOTE_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("imapcore_remote_address", default=None)


def address_key(host: str) -> str:
    """The unit of per-address accounting: the IPv4 address itself, or the /64 of an IPv6 address (one
    customer's network); an IPv4-mapped IPv6 address counts as its IPv4 address."""
    host = host.split("%", 1)[0]  # a link-local zone
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


#: User names longer than this are tracked by a digest (a 64 KiB name must not cost 64 KiB per record).
_MAX_NAME_KEY = 256


def _user_key(user: str) -> str:
    if len(user) <= _MAX_NAME_KEY:
        return user
    return "sha256:" + hashlib.sha256(user.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int = 3
    delay_s: float = 2.0
    delay_max_s: float = 15.0
    ban_failures: int = 30
    ban_s: float = 600.0
    memory_s: float = 3600.0
    max_keys: int = 100_000
    parallel_free: int = 4

    def delay(self, failures: int) -> float:
        """The wait before the next attempt after ``failures`` failures (doubling, capped)."""
        extra = failures - self.free_failures
        if extra < 0:
            return 0.0
        if extra > 32:  # 2**32 * delay is far above any cap; avoid huge floats
            return self.delay_max_s
        return min(self.delay_max_s, self.delay_s * 2.0**extra)


class Record:
    __slots__ = ("failures", "in_flight", "last_failure", "not_before", "banned_until")

    def __init__(self) -> None:
        self.failures = 0
        self.in_flight = 0  # attempts reserved and not yet finished
        self.last_failure = -math.inf
        self.not_before = -math.inf  # when the address's latest attempt took (or takes) its turn
        self.banned_until = -math.inf


#: The two tables of records.
ADDRESSES = "address"
USERS = "user"


class MemoryRecords:
    """The records of one process: two ordered dicts, oldest first, at most ``max_keys`` each.

    The interface ``AuthThrottle`` uses, so that several worker processes can share their records
    instead (``imapcore.server.sharedstate.SharedRecords``): ``session()`` brackets one operation (here
    nothing: the records are live objects), ``get``, ``put`` (``recent``: it counts as used now, for the
    oldest-first bound), ``delete`` and ``count``."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self._tables: dict[str, OrderedDict[str, Record]] = {ADDRESSES: OrderedDict(), USERS: OrderedDict()}

    @contextmanager
    def session(self):
        yield self

    def get(self, table: str, key: str) -> Record | None:
        return self._tables[table].get(key)

    def put(self, table: str, key: str, record: Record, recent: bool = False) -> None:
        entries = self._tables[table]
        if key not in entries:
            entries[key] = record
            # Forget the oldest keys beyond the bound (one flood of random names cannot grow the table).
            while len(entries) > self.max_keys:
                entries.popitem(last=False)
        elif recent:
            entries.move_to_end(key)

    def delete(self, table: str, key: str) -> None:
        self._tables[table].pop(key, None)

    def count(self) -> int:
        return sum(len(entries) for entries in self._tables.values())


class AuthThrottle:
    """Failure accounting; ``clock`` is injectable for tests (``time.monotonic`` by default, the same
    clock in every process of the machine, which shared ``records`` rely on)."""

    def __init__(self, policy: ThrottlePolicy | None = None, clock: Callable[[], float] = time.monotonic,
                 records=None) -> None:
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._records = records if records is not None else MemoryRecords(self.policy.max_keys)

    # --- queries ---------------------------------------------------------------------------------------

    def banned(self, address: str | None) -> bool:
        """Is this address (a host string; its key is computed here) refused right now?"""
        if address is None:
            return False
        with self._records.session() as records:
            record = self._get(records, ADDRESSES, address_key(address))
            return record is not None and record.banned_until > self._clock()

    def failures(self, address: str | None = None, user: str | None = None) -> int:
        if address is not None:
            table, key = ADDRESSES, address_key(address)
        else:
            table, key = USERS, None if user is None else _user_key(user)
        if key is None:
            return 0
        with self._records.session() as records:
            record = self._get(records, table, key)
            return 0 if record is None else record.failures

    def tracked(self) -> int:
        with self._records.session() as records:
            return records.count()

    # --- one attempt ----------------------------------------------------------------------------------

    def reserve(self, address: str | None, user: str) -> float:
        """Seconds this attempt must wait before it is verified; takes its turn on the address's
        schedule. Raises ``AddressBanned`` if the address is refused. Every reservation must be ended by
        ``record_failure``, ``record_success`` or ``abandon`` (the session went away meanwhile).

        Once an address has failed, attempts still in flight count as failures for the schedule: many
        connections guessing at once queue one behind the other instead of sharing one delay. An
        address without failures is delayed only beyond ``parallel_free`` attempts at once (a client
        opening a few connections at once is not slowed down)."""
        now = self._clock()
        policy = self.policy
        wait = 0.0
        with self._records.session() as records:
            if address is not None:
                key = address_key(address)
                record = self._touch(records, ADDRESSES, key, now)
                if record.banned_until > now:
                    raise AddressBanned(record.banned_until - now)
                # Attempts in flight count as failures once the address has failed, and beyond
                # ``parallel_free`` before that (a client opening a few connections at once is not slowed).
                in_flight = record.in_flight if record.failures else max(0, record.in_flight - policy.parallel_free)
                counted = record.failures + in_flight
                start = now
                if counted:
                    # After the last failure's answer, and after the previous attempt's turn: whichever is later.
                    start = max(now, record.last_failure + policy.delay(record.failures),
                                record.not_before + policy.delay(counted))
                record.not_before = start
                record.in_flight += 1
                wait = start - now
            user_record = self._get(records, USERS, _user_key(user))
            if user_record is not None:
                wait = max(wait, user_record.last_failure + policy.delay(user_record.failures) - now)
        return wait

    def abandon(self, address: str | None) -> None:
        """End a reservation without a verdict (the session was cancelled while it waited)."""
        if address is None:
            return
        with self._records.session() as records:
            key = address_key(address)
            record = records.get(ADDRESSES, key)
            if record is not None and record.in_flight:
                record.in_flight -= 1
                records.put(ADDRESSES, key, record)

    def record_failure(self, address: str | None, user: str) -> None:
        now = self._clock()
        policy = self.policy
        with self._records.session() as records:
            if address is not None:
                key = address_key(address)
                record = self._touch(records, ADDRESSES, key, now)
                record.in_flight = max(0, record.in_flight - 1)
                record.failures += 1
                record.last_failure = now
                if record.failures >= policy.ban_failures:
                    record.banned_until = now + policy.ban_s
            record = self._touch(records, USERS, _user_key(user), now)
            record.failures += 1
            record.last_failure = now

    def record_success(self, address: str | None, user: str) -> None:
        """A success forgets the user's failures and the address's (Dovecot does the same)."""
        with self._records.session() as records:
            if address is not None:
                key = address_key(address)
                record = records.get(ADDRESSES, key)
                if record is not None:
                    record.in_flight = max(0, record.in_flight - 1)
                    record.failures = 0
                    record.not_before = -math.inf
                    records.put(ADDRESSES, key, record)
            key = _user_key(user)
            if records.get(USERS, key) is not None:
                records.delete(USERS, key)

    # --- the tables ------------------------------------------------------------------------------------

    def _get(self, records, table: str, key: str) -> Record | None:
        record = records.get(table, key)
        if record is None:
            return None
        if self._expired(record, self._clock()):
            records.delete(table, key)
            return None
        return record

    def _expired(self, record: Record, now: float) -> bool:
        return (
            now - record.last_failure > self.policy.memory_s
            and record.banned_until <= now
            and record.not_before + self.policy.delay_max_s <= now
            and record.in_flight == 0
        )

    def _touch(self, records, table: str, key: str, now: float) -> Record:
        """The live record of ``key`` (a new one if none or expired), marked used now; changes made to
        it before the session ends are kept (``put`` is needed only for records from ``get``)."""
        record = records.get(table, key)
        if record is not None and self._expired(record, now):
            records.delete(table, key)
            record = None
        if record is None:
            record = Record()
        records.put(table, key, record, recent=True)
        return record


class AddressBanned(Exception):
    """The client's address failed too often; it is refused for ``retry_after`` more seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"address refused for {retry_after:.0f} more seconds")
        self.retry_after = retry_after
