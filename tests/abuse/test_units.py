"""The pieces of the defence on their own: the authentication throttle (with a fake clock), the
connection limits, the command guard (rate budget, heavy-work limiter, search depth), the CLI's sizes."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from imapcore.auth.throttle import AddressBanned, AuthThrottle, ThrottlePolicy, address_key
from imapcore.commands.guard import CommandGuard, search_depth
from imapcore.server.cli import NO_LIMIT, parse_size
from imapcore.server.config import ConfigError, Limits, load
from imapcore.server.limits import ConnectionLimits
from imapcore.server.sharedstate import SharedRecords, SharedState
from imapcore.syntax.model import SearchAnd, SearchKey, SearchNot, SearchOr


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "shared"])
def make_throttle(request, tmp_path):
    """A throttle with a fake clock, its records in this process or in the database several worker
    processes share (``imapcore.server.sharedstate``): the same behaviour either way."""
    states = []

    def make(**policy) -> tuple[AuthThrottle, Clock]:
        clock = Clock()
        policy = ThrottlePolicy(**policy)
        records = None
        if request.param == "shared":
            state = SharedState(tmp_path, worker=0)
            states.append(state)
            records = SharedRecords(state, policy.max_keys)
        return AuthThrottle(policy, clock=clock, records=records), clock

    yield make
    for state in states:
        state.close()


# --- addresses ---------------------------------------------------------------------------------------------


def test_address_keys():
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("fe80::1%eth0") == "fe80::/64"


# --- the throttle -----------------------------------------------------------------------------------------------


def test_delays_double_up_to_the_cap():
    policy = ThrottlePolicy(free_failures=3, delay_s=2.0, delay_max_s=15.0)
    assert [policy.delay(n) for n in range(9)] == [0, 0, 0, 2, 4, 8, 15, 15, 15]
    assert policy.delay(10_000) == 15


def test_sequential_failures_wait_after_each_answer(make_throttle):
    throttle, clock = make_throttle(free_failures=2, delay_s=1.0, delay_max_s=4.0, ban_failures=100)
    waits = []
    for _ in range(6):
        wait = throttle.reserve("192.0.2.1", "alice")
        waits.append(wait)
        clock.now += wait + 0.1  # the verification
        throttle.record_failure("192.0.2.1", "alice")
    # Counted from each failure's answer: 1 s, doubling, capped at 4 s.
    assert waits == [0, 0, 1.0, 2.0, 4.0, 4.0]


def test_parallel_attempts_after_a_failure_queue_one_behind_the_other(make_throttle):
    throttle, clock = make_throttle(free_failures=0, delay_s=1.0, delay_max_s=2.0, ban_failures=100)
    throttle.reserve("192.0.2.1", "x")
    throttle.record_failure("192.0.2.1", "x")
    clock.now += 5
    waits = [throttle.reserve("192.0.2.1", f"u{i}") for i in range(5)]
    assert waits == [0, 2, 4, 6, 8]  # 2 s (the cap) apart: five connections guess no faster than one
    # Another address is not affected, nor is a user with no failures from elsewhere.
    assert throttle.reserve("192.0.2.2", "u9") == 0


def test_no_failure_no_delay_even_for_parallel_logins(make_throttle):
    throttle, _ = make_throttle(free_failures=0)
    assert [throttle.reserve("192.0.2.1", "alice") for _ in range(5)] == [0] * 5


def test_ban_after_n_failures_then_expiry(make_throttle):
    throttle, clock = make_throttle(free_failures=100, ban_failures=3, ban_s=60)
    for _ in range(3):
        throttle.reserve("192.0.2.1", "bob")
        throttle.record_failure("192.0.2.1", "bob")
    assert throttle.banned("192.0.2.1") and not throttle.banned("192.0.2.2")
    with pytest.raises(AddressBanned):
        throttle.reserve("192.0.2.1", "bob")
    clock.now += 61
    assert not throttle.banned("192.0.2.1")
    throttle.reserve("192.0.2.1", "bob")
    throttle.record_failure("192.0.2.1", "bob")
    assert throttle.banned("192.0.2.1")  # still over the count: one more failure bans again


def test_same_delays_for_existing_and_unknown_users(make_throttle):
    throttle, clock = make_throttle(free_failures=1, delay_s=1.0)
    for user in ("alice", "no-such-user"):
        for _ in range(3):
            throttle.reserve(None, user)
            throttle.record_failure(None, user)
        assert throttle.reserve(None, user) == 4.0  # keyed by the name tried, never by existence


def test_user_delay_is_capped_not_a_lockout(make_throttle):
    throttle, _ = make_throttle(free_failures=0, delay_s=1.0, delay_max_s=3.0, ban_failures=1000)
    for i in range(50):  # an attack on alice from 50 addresses
        throttle.reserve(f"198.51.100.{i}", "alice")
        throttle.record_failure(f"198.51.100.{i}", "alice")
    assert throttle.reserve("192.0.2.1", "alice") == 3.0


def test_success_forgets_failures(make_throttle):
    throttle, clock = make_throttle(free_failures=0, delay_s=1.0)
    throttle.reserve("192.0.2.1", "alice")
    throttle.record_failure("192.0.2.1", "alice")
    clock.now += 10
    throttle.reserve("192.0.2.1", "alice")
    throttle.record_success("192.0.2.1", "alice")
    assert throttle.failures(address="192.0.2.1") == 0 and throttle.failures(user="alice") == 0


def _user_keys(throttle: AuthThrottle) -> list[str]:
    records = throttle._records
    if isinstance(records, SharedRecords):
        return [key for (key,) in records._state._conn.execute("SELECT key FROM records WHERE tbl = 'user'")]
    return list(records._tables["user"])


def test_tables_are_bounded_and_forget(make_throttle):
    throttle, clock = make_throttle(max_keys=100, memory_s=60)
    for i in range(1000):
        throttle.record_failure(f"10.0.{i // 256}.{i % 256}", f"random-name-{i}")
    assert throttle.tracked() <= 200
    long_name = "x" * 100_000
    throttle.record_failure(None, long_name)
    assert throttle.failures(user=long_name) == 1
    assert max(len(key) for key in _user_keys(throttle)) < 300  # a digest, not the 100 KB name
    clock.now += 61 + 15
    assert throttle.failures(user=long_name) == 0


def test_abandoned_reservation_does_not_count(make_throttle):
    throttle, clock = make_throttle(free_failures=0, delay_s=1.0, delay_max_s=8.0)
    throttle.reserve("192.0.2.1", "x")
    throttle.record_failure("192.0.2.1", "x")
    clock.now += 100
    throttle.reserve("192.0.2.1", "x")
    throttle.abandon("192.0.2.1")  # the session went away while waiting
    clock.now += 100
    assert throttle.reserve("192.0.2.1", "x") == 0  # one failure, nothing in flight: no queue


# --- connection limits -----------------------------------------------------------------------------------------


async def test_per_address_limit_is_reached_before_the_global_one():
    limits = ConnectionLimits(max_connections=10, max_per_address=3, max_per_user=2)
    flood = [object() for _ in range(20)]
    slots = [limits.admit("192.0.2.1", b) for b in flood]
    assert sum(s is not None for s in slots) == 3
    others = [object() for _ in range(7)]
    assert all(limits.admit(f"192.0.2.{10 + i}", b) is not None for i, b in enumerate(others))
    assert limits.connections == 10
    late = object()
    assert limits.admit("192.0.2.99", late) is None  # now the global limit
    for slot, borrower in zip(slots, flood):
        if slot is not None:
            limits.release(slot, borrower)
    assert limits.connections == 7 and limits.connections_from("192.0.2.1") == 0
    assert limits.admit("192.0.2.99", late) is not None
    assert "192.0.2.1" not in limits._addresses.limiters  # idle keys are dropped


async def test_ipv6_addresses_of_one_64_share_a_limit():
    limits = ConnectionLimits(100, 2, 2)
    assert limits.admit("2001:db8::1", object()) and limits.admit("2001:db8::2", object())
    assert limits.admit("2001:db8::3", object()) is None
    assert limits.admit("2001:db8:0:1::1", object()) is not None


async def test_sessions_per_user():
    limits = ConnectionLimits(100, 100, 2)
    a, b, c = object(), object(), object()
    assert limits.admit_user("alice", a) and limits.admit_user("alice", b)
    assert not limits.admit_user("alice", c)
    assert limits.admit_user("bob", c)
    limits.release_user("alice", a)
    assert limits.admit_user("alice", a) and limits.sessions_of("alice") == 2


# --- the command guard -------------------------------------------------------------------------------------------


def test_search_depth():
    assert search_depth(SearchAnd((SearchKey("ALL"),))) == 2
    deep = SearchKey("ALL")
    for _ in range(10_000):  # iterative: no RecursionError
        deep = SearchNot(deep)
    assert search_depth(deep) == 10_001
    assert search_depth(SearchOr(SearchKey("A"), SearchAnd((SearchNot(SearchKey("B")),)))) == 4


async def test_rate_budget_refills():
    clock = trio.testing.MockClock()
    limits = Limits(command_burst=5, commands_per_s=2.0)

    class Cmd:
        tag = "t"

    guard = CommandGuard(limits, clock=lambda: clock.current_time()).session()
    results = [await guard.refuse(None, Cmd()) for _ in range(7)]
    assert [r is None for r in results] == [True] * 5 + [False] * 2
    assert results[-1].to_bytes() == b"t NO [LIMIT] Too many commands; slow down\r\n"
    clock.jump(1.0)  # two more
    assert [await guard.refuse(None, Cmd()) is None for _ in range(3)] == [True, True, False]


async def test_heavy_limiter_bounds_concurrency():
    guard = CommandGuard(Limits(max_heavy_commands=2, max_heavy_per_user=1))
    running = []
    peak = {"all": 0, "alice": 0}

    async def work(user):
        async with guard.heavy_slot(user):
            running.append(user)
            peak["all"] = max(peak["all"], len(running))
            peak["alice"] = max(peak["alice"], running.count("alice"))
            await trio.sleep(0.01)
            running.remove(user)

    async with trio.open_nursery() as nursery:
        for user in ["alice"] * 4 + ["bob", "carol", "dave"]:
            nursery.start_soon(work, user)
    assert peak == {"all": 2, "alice": 1}
    assert guard._user_heavy == {}  # per-user limiters dropped when idle


# --- configuration and CLI ---------------------------------------------------------------------------------------


def test_sizes():
    assert parse_size("1G") == 1 << 30 and parse_size("512k") == 512 * 1024 and parse_size("10MiB") == 10 << 20
    assert parse_size("none") == NO_LIMIT and parse_size("1234") == 1234
    with pytest.raises(ValueError):
        parse_size("lots")


def test_config_reads_abuse_settings(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('admin_users = ["root"]\n[limits]\nmax_connections_per_ip = 5\nauth_delay_s = 1\n'
                    "[timeouts]\nlogin_deadline_s = 30\n")
    config = load(path)
    assert config.admin_users == ("root",) and config.limits.max_connections_per_ip == 5
    assert config.limits.auth_delay_s == 1.0 and config.timeouts.login_deadline_s == 30.0
    path.write_text("[limits]\nmax_conections_per_ip = 5\n")
    with pytest.raises(ConfigError):
        load(path)


def test_heavy_commands_are_recognised():
    from imapcore.syntax import commands as c
    from imapcore.syntax.model import Section, SequenceSet

    class Selected:
        exists = 5000
        uid_next = 9000
        saved_result = None

    class Ctx:
        selected = Selected()
        user = "alice"

    guard = CommandGuard(Limits(heavy_mailbox_messages=1000, heavy_fetch_bodies=100, heavy_append_bytes=1000))
    everything = SequenceSet(((1, 0),))  # 1:*
    few = SequenceSet(((1, 50),))
    body = c.FetchItem("BODY", section=Section())
    text_search = c.Search("t", criteria=SearchAnd((SearchKey("BODY", ("x",)),)))
    flag_search = c.Search("t", criteria=SearchAnd((SearchKey("SEEN"),)))
    assert guard.is_heavy(Ctx(), text_search) and not guard.is_heavy(Ctx(), flag_search)
    assert guard.is_heavy(Ctx(), c.Sort("t")) and guard.is_heavy(Ctx(), c.Thread("t"))
    assert guard.is_heavy(Ctx(), c.Fetch("t", sequence_set=everything, items=(body,)))
    assert not guard.is_heavy(Ctx(), c.Fetch("t", sequence_set=few, items=(body,)))
    assert not guard.is_heavy(Ctx(), c.Fetch("t", sequence_set=everything, items=(c.FetchItem("FLAGS"),)))
    assert guard.is_heavy(Ctx(), c.Append("t", "INBOX", (c.AppendMessage(data=b"x" * 2000),)))
    assert not guard.is_heavy(Ctx(), c.Append("t", "INBOX", (c.AppendMessage(data=b"x" * 200),)))
    Selected.exists = 10  # a small mailbox: nothing there is heavy
    assert not guard.is_heavy(Ctx(), text_search) and not guard.is_heavy(Ctx(), c.Sort("t"))
