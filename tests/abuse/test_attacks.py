"""The abuse suite: attacks against the real server (a subprocess on loopback, small limits, short timers).

For each attack: the limit holds (the refusal is a clear IMAP answer with its code, or a clean close on
time), the server's memory (VmRSS) stays bounded, and a well-behaved client running at the same time
from another address keeps getting answers. Every case is bounded in time (``trio.fail_after``).
"""

from __future__ import annotations

import re
import time

import pytest
import trio

from support.abuse_kit import (
    BIG_COUNT,
    PASSWORD,
    WellBehaved,
    abuse_server,
    client_from,
    login,
    open_from,
    rss_kib,
)

#: Memory a single attack may add to the server (Python's allocator keeps some of what it freed).
MAX_GROWTH_KIB = 40 * 1024


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with abuse_server(tmp_path_factory.mktemp("abuse")) as server:
        yield server


async def _with_polite_client(srv, attack, *, min_commands: int = 5, max_latency_s: float = 1.0):
    """Run ``attack()`` while a ``WellBehaved`` client works; check it and the memory afterwards."""
    before = rss_kib(srv.pid)
    polite = WellBehaved(srv.port)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(polite.run, stop)
        try:
            result = await attack()
            with trio.move_on_after(5):  # a short attack: let the polite client show a few answers
                while len(polite.latencies) < min_commands and not polite.failures:
                    await trio.sleep(0.05)
        finally:
            stop.set()
    polite.check(min_commands=min_commands, max_latency_s=max_latency_s)
    growth = rss_kib(srv.pid) - before
    assert growth < MAX_GROWTH_KIB, f"server memory grew by {growth} KiB"
    return result


async def _closed_within(client, seconds: float) -> bytes:
    """Everything the server still sends, until it closes the connection (fails after ``seconds``)."""
    data = bytearray(client._buffer)
    client._buffer.clear()
    with trio.fail_after(seconds):
        while True:
            try:
                chunk = await client.stream.receive_some(65536)
            except trio.BrokenResourceError:
                break
            if not chunk:
                break
            data += chunk
    return bytes(data)


# --- connection flood from one address ----------------------------------------------------------------


async def test_connection_flood_from_one_address(srv):
    async def attack():
        greetings: list[bytes] = []
        held = []

        async def one():
            try:
                client = await client_from("127.0.0.10", srv.port, timeout=5)
            except (OSError, EOFError, trio.BrokenResourceError):
                greetings.append(b"<connect failed>")
                return
            greetings.append(client.greeting)
            held.append(client)

        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                for _ in range(60):
                    nursery.start_soon(one)
            # Another address is still admitted while 127.0.0.10 is full (per-address limits first).
            other = await client_from("127.0.0.11", srv.port, timeout=5)
            assert other.greeting.startswith(b"* OK")
            await other.aclose()
        for client in held:
            await client.aclose()
        return greetings

    greetings = await _with_polite_client(srv, attack)
    admitted = [g for g in greetings if g.startswith(b"* OK")]
    refused = [g for g in greetings if g.startswith(b"* BYE [UNAVAILABLE]")]
    assert len(admitted) == 20  # max_connections_per_ip
    assert len(refused) == 40, set(greetings)


# --- password guessing --------------------------------------------------------------------------------


async def test_password_guessing_is_slowed_then_refused(srv):
    async def attack():
        timings = []
        answers = []
        client = None
        with trio.fail_after(25):
            for n in range(9):
                if n < 8:  # a fresh connection per guess (login_deadline_s is 4 s); the 9th reuses the 8th's
                    if client is not None:
                        await client.aclose()
                    client = await client_from("127.0.0.20", srv.port, timeout=10)
                user = "victim" if n % 2 else f"nobody{n}"  # known and unknown users alternate
                start = time.monotonic()
                lines = await client.command(f"G{n}", f'LOGIN {user} "wrong{n}"')
                timings.append(time.monotonic() - start)
                answers.append(lines[-1].split(b" ", 1)[1])
            banned = await client_from("127.0.0.20", srv.port, timeout=5)
        await client.aclose()
        return timings, answers, banned.greeting

    timings, answers, greeting = await _with_polite_client(srv, attack)
    # Known and unknown users get the same answer.
    assert set(answers[:8]) == {b"NO [AUTHENTICATIONFAILED] Authentication failed\r\n"}
    # Two free failures, then 0.4 s doubling to the 1.0 s cap.
    assert max(timings[:2]) < 0.4, timings
    assert 0.25 < timings[2] < 0.9 and timings[3] > 0.65 and min(timings[4:8]) > 0.85, timings
    # The 8th failure banned the address: no verification any more, and no new connections.
    assert answers[8].startswith(b"NO [UNAVAILABLE]")
    assert greeting.startswith(b"* BYE [UNAVAILABLE]")
    log = srv.log_text()
    assert "authentication failed: user=<victim> rip=127.0.0.20" in log
    assert "authentication failed: user=<nobody0> rip=127.0.0.20" in log


async def test_parallel_guessing_from_one_address_shares_one_schedule(srv):
    """Many connections guessing at once get no more answers than one connection would."""

    async def attack():
        done: list[float] = []
        start = time.monotonic()

        async def guesser(i: int):
            client = await client_from("127.0.0.21", srv.port, timeout=15)
            for n in range(2):
                await client.command(f"G{n}", f'LOGIN crowd "bad{i}-{n}"')
                done.append(time.monotonic() - start)
            await client.aclose()

        with trio.fail_after(25):
            async with trio.open_nursery() as nursery:
                for i in range(6):
                    nursery.start_soon(guesser, i)
        return sorted(done)

    done = await _with_polite_client(srv, attack)
    # 12 attempts: the first six at once (the address had no failure yet), then the address's turns
    # come 1.0 s (the cap) apart, while unthrottled all would be answered within a second.
    assert len(done) == 12
    assert done[-1] - done[-6] > 4.0 and done[-1] > 5.0, done


async def test_guessing_does_not_lock_out_the_user_from_elsewhere(srv):
    client = await client_from("127.0.0.22", srv.port)
    for n in range(4):
        await client.command(f"G{n}", f'LOGIN flooded "bad{n}"')
    await client.aclose()
    start = time.monotonic()
    other = await client_from("127.0.0.23", srv.port)
    assert b"OK" in await login(other, "flooded")
    assert time.monotonic() - start < 3.0  # at most the capped per-user delay, never a lockout
    await other.aclose()


# --- slowloris ----------------------------------------------------------------------------------------------


async def test_slowloris_is_cut_at_the_login_deadline(srv):
    async def attack():
        ends = []

        async def slow(i: int):
            client = await client_from("127.0.0.30", srv.port)
            start = time.monotonic()
            try:
                for byte in b'a LOGIN slow "correct horse"':
                    await client.send(bytes([byte]))
                    await trio.sleep(1.0)  # under pre_login_s (2 s): only the deadline stops it
            except (trio.BrokenResourceError, OSError):
                pass
            tail = await _closed_within(client, 8)
            ends.append((time.monotonic() - start, tail))
            await client.aclose()

        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                for i in range(8):
                    nursery.start_soon(slow, i)
        return ends

    ends = await _with_polite_client(srv, attack)
    assert len(ends) == 8
    for elapsed, tail in ends:
        assert elapsed < 7.0  # login_deadline_s = 4
        assert b"* BYE [UNAVAILABLE] Too slow to log in" in tail


async def test_silent_client_is_cut_at_the_pre_login_timer(srv):
    client = await client_from("127.0.0.31", srv.port)
    start = time.monotonic()
    tail = await _closed_within(client, 6)
    assert 1.5 < time.monotonic() - start < 5.0
    assert b"* BYE" in tail
    await client.aclose()


# --- literals ------------------------------------------------------------------------------------------------


async def test_unterminated_literal_is_dropped_and_changes_nothing(srv):
    async def attack():
        client = await client_from("127.0.0.40", srv.port)
        assert b"OK" in await login(client, "literal")
        await client.send(b"a APPEND INBOX {500000}\r\n")
        assert (await client.read_line()).startswith(b"+")
        await client.send(b"Subject: never finished\r\n\r\n" + b"z" * 100_000)
        # Never finished: the autologout timer (idle_timeout_s = 4 here) ends it.
        tail = await _closed_within(client, 8)
        await client.aclose()
        check = await client_from("127.0.0.40", srv.port)
        await login(check, "literal")
        status = await check.command("s", "STATUS INBOX (MESSAGES)")
        await check.aclose()
        return tail, status

    tail, status = await _with_polite_client(srv, attack)
    assert b"* BYE" in tail
    assert status[0] == b"* STATUS INBOX (MESSAGES 0)\r\n"


async def test_literal_over_the_limit_is_refused_before_its_data(srv):
    async def attack():
        client = await client_from("127.0.0.41", srv.port)
        assert b"OK" in await login(client, "literal")
        # Synchronizing: NO [TOOBIG] instead of "+"; the client never sends the 2 MB.
        too_big = await client.command("a", "APPEND INBOX {2000000}")
        # Non-synchronizing: refused, its bytes discarded as they arrive, then the session goes on.
        await client.send(b"b APPEND INBOX {1500000+}\r\n" + b"x" * 1_500_000 + b"\r\n")
        non_sync = await client.read_until_tagged("b")
        status = await client.command("s", "STATUS INBOX (MESSAGES)")
        await client.aclose()
        # Before login, 1024 bytes is the limit: BYE [TOOBIG] at the marker, then close.
        early = await client_from("127.0.0.41", srv.port)
        await early.send(b"c LOGIN {5000}\r\n")
        early_tail = await _closed_within(early, 5)
        await early.aclose()
        return too_big, non_sync, status, early_tail

    too_big, non_sync, status, early_tail = await _with_polite_client(srv, attack)
    assert too_big[-1].startswith(b"a NO [TOOBIG]")
    assert non_sync[-1].startswith(b"b NO [TOOBIG]")
    assert status[0] == b"* STATUS INBOX (MESSAGES 0)\r\n"
    assert early_tail.startswith(b"* BYE [TOOBIG]") and b"+ " not in early_tail


# --- deeply nested SEARCH ------------------------------------------------------------------------------------


async def test_deeply_nested_search(srv):
    async def attack():
        client = await client_from("127.0.0.50", srv.port)
        assert b"OK" in await login(client, "shape")
        await client.command("s", "SELECT INBOX")
        answers = {}
        for depth in (6, 9, 60, 20_000):
            program = "(" * depth + "ALL" + ")" * depth
            start = time.monotonic()
            answers[depth] = ((await client.command(f"d{depth}", f"SEARCH {program}"))[-1], time.monotonic() - start)
        nots = await client.command("n", "SEARCH " + "NOT " * 12 + "ALL")
        await client.aclose()
        return answers, nots

    answers, nots = await _with_polite_client(srv, attack)
    assert answers[6][0].startswith(b"d6 OK")
    assert answers[9][0].startswith(b"d9 NO [LIMIT]")  # over max_search_depth (8)
    assert answers[60][0].startswith(b"d60 NO [LIMIT]")
    assert answers[20_000][0].startswith(b"d20000 BAD")  # over the line limit or the grammar's ceiling
    assert all(elapsed < 2.0 for _, elapsed in answers.values())
    assert nots[-1].startswith(b"n NO [LIMIT]")


# --- a client that never reads --------------------------------------------------------------------------------


async def test_client_that_never_reads_is_disconnected(srv):
    async def attack():
        client = await client_from("127.0.0.60", srv.port, rcvbuf=4096)
        assert b"OK" in await login(client, "reader")
        await client.command("s", "SELECT INBOX")
        # 20 pipelined FETCHes of 12 x 256 KiB bodies: 60 MB of answers the client never reads.
        with trio.move_on_after(3):
            for n in range(20):
                await client.send(f"f{n} FETCH 1:{BIG_COUNT} BODY.PEEK[]\r\n".encode())
        start = time.monotonic()
        peak = rss_kib(srv.pid)
        # The server gives up when its send stalls for send_stall_s (2 s); poll its memory meanwhile.
        gone = False
        with trio.move_on_after(10):
            while not gone:
                peak = max(peak, rss_kib(srv.pid))
                await trio.sleep(0.2)
                gone = f"{client.stream.socket.getsockname()[1]}" not in _established(srv.port)
        await client.aclose()
        return gone, time.monotonic() - start, peak

    before = rss_kib(srv.pid)
    gone, elapsed, peak = await _with_polite_client(srv, attack)
    assert gone and elapsed < 8.0
    assert peak - before < MAX_GROWTH_KIB, f"peak {peak} KiB from {before} KiB"


def _established(server_port: int) -> str:
    """Local ports of the established loopback connections to ``server_port`` that the server still has
    open (its side, as /proc/net/tcp lists it), as one string."""
    ports = []
    target = f"{server_port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if local.endswith(":" + target) and state == "01":
                ports.append(str(int(remote.split(":")[1], 16)))
    return " ".join(ports)


# --- half-open TLS ----------------------------------------------------------------------------------------------


async def test_half_open_tls_is_dropped_at_the_handshake_timer(srv):
    async def attack():
        streams = []
        for _ in range(10):
            stream = await open_from("127.0.0.70", srv.tls_port)
            await stream.send_all(b"\x16\x03\x01\x00\xc8\x01")  # the start of a ClientHello, then nothing
            streams.append(stream)
        start = time.monotonic()
        closed = 0
        with trio.fail_after(8):
            for stream in streams:
                try:
                    while await stream.receive_some(4096):
                        pass
                except trio.BrokenResourceError:
                    pass
                closed += 1
        elapsed = time.monotonic() - start
        # A real TLS client from the same address still gets its session.
        tls = trio.SSLStream(await open_from("127.0.0.70", srv.tls_port), srv.client_ssl_context(),
                             server_hostname="localhost")
        with trio.fail_after(5):
            await tls.do_handshake()
            greeting = await tls.receive_some(4096)
        await tls.aclose()
        for stream in streams:
            await stream.aclose()
        return closed, elapsed, greeting

    closed, elapsed, greeting = await _with_polite_client(srv, attack)
    assert closed == 10 and elapsed < 5.0  # tls_handshake_s = 2
    assert greeting.startswith(b"* OK")


# --- command rate, sessions per user, shape limits ----------------------------------------------------------


async def test_command_rate_budget(srv):
    client = await client_from("127.0.0.80", srv.port)
    assert b"OK" in await login(client, "rate")
    await client.send(b"".join(b"n%d NOOP\r\n" % i for i in range(100)))
    answers = [(await client.read_until_tagged(f"n{i}"))[-1] for i in range(100)]
    ok = [a for a in answers if b" OK " in a]
    limited = [a for a in answers if b"NO [LIMIT]" in a]
    assert len(ok) + len(limited) == 100
    assert 55 <= len(ok) <= 75 and limited  # a burst of 60 (+ the refill during the burst)
    await trio.sleep(1.0)  # the bucket refills at 30 commands/s
    assert (await client.command("x", "NOOP"))[-1].startswith(b"x OK")
    await client.aclose()


async def test_sessions_per_user(srv):
    clients = []
    for i in range(4):
        client = await client_from("127.0.0.81", srv.port)
        assert b"OK" in await login(client, "slow")
        clients.append(client)
    extra = await client_from("127.0.0.81", srv.port)
    refused = await extra.command("L", f'LOGIN slow "{PASSWORD}"')
    tail = await _closed_within(extra, 5)
    assert refused[-1].startswith(b"L NO [LIMIT]")
    assert tail.startswith(b"* BYE")
    await clients.pop().command("z", "LOGOUT")  # a slot frees up
    again = await client_from("127.0.0.81", srv.port)
    assert b"OK" in await login(again, "slow")
    for client in [*clients, extra, again]:
        await client.aclose()


async def test_shape_limits(srv):
    client = await client_from("127.0.0.82", srv.port)
    assert b"OK" in await login(client, "shape")
    assert (await client.command("c1", "CREATE a/b/c/d/e"))[-1].startswith(b"c1 NO [LIMIT]")
    assert (await client.command("c2", "CREATE " + "n" * 101))[-1].startswith(b"c2 NO [LIMIT]")
    assert (await client.command("c3", "CREATE a/b/c/d"))[-1].startswith(b"c3 OK")
    existing = len(await client.command("l", 'LIST "" "*"')) - 1
    created = []
    for i in range(20):
        tagged = (await client.command(f"m{i}", f"CREATE box{i}"))[-1]
        created.append(tagged.split(b" ")[1])
    room = 12 - existing  # max_mailboxes_per_user
    assert room > 0 and created.count(b"OK") == room and set(created[room:]) == {b"NO"}
    await client.command("s", "SELECT INBOX")
    await client.command("a", "APPEND INBOX {10}\r\nSubject: k")  # one message to flag
    too_many = " ".join(f"kw{i}" for i in range(9))
    assert (await client.command("k1", f"STORE 1 +FLAGS ({too_many})"))[-1].startswith(b"k1 NO [LIMIT]")
    assert (await client.command("k2", "STORE 1 +FLAGS (kw1 kw2)"))[-1].startswith(b"k2 OK")
    flags = await client.command("f", "FETCH 1 FLAGS")
    assert b"kw1 kw2" in flags[0] and b"kw8" not in flags[0]
    await client.aclose()


async def test_rename_over_the_depth_limit(srv):
    client = await client_from("127.0.0.83", srv.port)
    assert b"OK" in await login(client, "quota")
    assert (await client.command("c", "CREATE flat"))[-1].startswith(b"c OK")
    assert (await client.command("r", "RENAME flat x/y/z/w/v"))[-1].startswith(b"r NO [LIMIT]")
    listing = b"".join(await client.command("l", 'LIST "" "*"'))
    assert b'"flat"' in listing or b" flat\r\n" in listing
    await client.aclose()


def test_limits_are_advertised(srv):
    import imaplib

    imap = imaplib.IMAP4("127.0.0.1", srv.port, timeout=10)
    imap.login("admin", PASSWORD)
    typ, data = imap.capability()
    caps = data[0].decode().split()
    imap.logout()
    assert "APPENDLIMIT=1048576" in caps and "QUOTASET" in caps and "QUOTA=RES-STORAGE" in caps
    assert re.search(r"connection refused: .* rip=127\.0\.0\.10", srv.log_text())


# --- IDLE re-arm ------------------------------------------------------------------------------------------------


async def test_idle_rearm_keeps_the_session_and_silence_ends_it(srv):
    client = await client_from("127.0.0.84", srv.port)
    assert b"OK" in await login(client, "admin")
    await client.command("s", "SELECT INBOX")
    start = time.monotonic()
    for n in range(2):  # re-armed every 2.5 s: 5 s in IDLE in all, longer than idle_rearm_s (4 s)
        await client.send(f"i{n} IDLE\r\n")
        assert (await client.read_line()).startswith(b"+ ")
        await trio.sleep(2.5)
        await client.send(b"DONE\r\n")
        assert (await client.read_until_tagged(f"i{n}"))[-1].startswith(f"i{n} OK".encode())
    assert time.monotonic() - start > 4.5
    await client.send(b"i9 IDLE\r\n")
    assert (await client.read_line()).startswith(b"+ ")
    silent = time.monotonic()
    tail = await _closed_within(client, 8)
    assert b"* BYE" in tail and 3.5 < time.monotonic() - silent < 7
    await client.aclose()
