"""``imapcore serve --workers N``: several processes, one server as every client sees it.

Each test runs the real command line with two workers and checks, with ``support.workers_kit``, that the
sessions it compares really are served by different processes: a change made through one must reach the
other (at its next command, and pushed during IDLE), UIDs stay unique under concurrent APPENDs from both,
a killed worker is replaced while the other keeps serving, and SIGTERM stops everything.
"""

from __future__ import annotations

import imaplib
import os
import signal
import socket
import threading
import time

import pytest

from support.server import server_process
from support.workers_kit import worker_of, worker_pids

USERS = {"alice": "secret-a"}
WORKERS = ("--workers", "2")


def _login(port: int) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", port, timeout=15)
    client.login("alice", "secret-a")
    return client


def _pair_in_different_workers(srv) -> tuple[imaplib.IMAP4, imaplib.IMAP4]:
    """Two logged-in sessions served by two different workers (the balancing puts the second
    connection in the idle worker; a few more tries cover a busy test machine)."""
    first = _login(srv.port)
    home = worker_of(srv.process.pid, first.sock)
    spare = []
    try:
        for _ in range(8):
            other = _login(srv.port)
            if worker_of(srv.process.pid, other.sock) != home:
                return first, other
            spare.append(other)
        raise AssertionError("every connection went to one worker")
    finally:
        for client in spare:
            client.logout()


def _noop_untagged(client: imaplib.IMAP4) -> dict:
    client.untagged_responses.clear()
    typ, _ = client.noop()
    assert typ == "OK"
    return dict(client.untagged_responses)


def test_changes_in_one_worker_reach_a_session_in_the_other(tmp_path):
    with server_process(tmp_path, USERS, extra_args=WORKERS) as srv:
        assert len(worker_pids(srv.process.pid)) == 2
        a, b = _pair_in_different_workers(srv)
        assert a.select("INBOX")[1] == [b"0"] and b.select("INBOX")[1] == [b"0"]

        assert a.append("INBOX", None, None, b"Subject: one\r\n\r\nbody one\r\n")[0] == "OK"
        assert _noop_untagged(b)["EXISTS"] == [b"1"]

        assert a.store("1", "+FLAGS", "(\\Flagged $Work)")[0] == "OK"
        fetched = _noop_untagged(b)["FETCH"]
        assert len(fetched) == 1 and fetched[0].startswith(b"1 (UID 1 FLAGS (")
        assert b"\\Flagged" in fetched[0] and b"$Work" in fetched[0]

        # The other way round: b's change reaches a.
        assert b.append("INBOX", None, None, b"Subject: two\r\n\r\nbody two\r\n")[0] == "OK"
        assert _noop_untagged(a)["EXISTS"] == [b"2"]

        assert a.store("1", "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert a.expunge()[0] == "OK"
        assert _noop_untagged(b)["EXPUNGE"] == [b"1"]

        # A mailbox created in one worker is listed by the other; what both see agrees.
        assert a.create("Projects")[0] == "OK"
        assert any(b'"Projects"' in line or b" Projects" in line for line in b.list()[1])
        assert a.status("INBOX", "(MESSAGES UIDNEXT)")[1] == b.status("INBOX", "(MESSAGES UIDNEXT)")[1]
        a.logout()
        b.logout()


def _read_until(sock: socket.socket, marker: bytes, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {marker!r} within {timeout} s; got {data!r}")
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed; got {data!r}")
        data += chunk
    return data


def test_idle_in_one_worker_is_told_of_an_append_in_the_other(tmp_path):
    with server_process(tmp_path, USERS, extra_args=WORKERS) as srv:
        sender = _login(srv.port)
        home = worker_of(srv.process.pid, sender.sock)
        idlers = []
        try:
            for _ in range(8):
                sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                _read_until(sock, b"\r\n", 10)
                if worker_of(srv.process.pid, sock) != home:
                    break
                idlers.append(sock)
            else:
                raise AssertionError("every connection went to one worker")
            sock.sendall(b"a LOGIN alice secret-a\r\nb SELECT INBOX\r\n")
            _read_until(sock, b"b OK", 10)
            sock.sendall(b"c IDLE\r\n")
            _read_until(sock, b"+ ", 10)
            started = time.monotonic()
            assert sender.append("INBOX", None, None, b"Subject: pushed\r\n\r\nhi\r\n")[0] == "OK"
            pushed = _read_until(sock, b"* 1 EXISTS\r\n", 5)
            assert time.monotonic() - started < 2.0, pushed
            sock.sendall(b"DONE\r\n")
            assert b"c OK" in _read_until(sock, b"c OK", 10)
            sock.close()
        finally:
            for extra in idlers:
                extra.close()
            sender.logout()


def test_concurrent_appends_from_both_workers_get_unique_consecutive_uids(tmp_path):
    clients, per_client = 6, 15
    with server_process(tmp_path, USERS, extra_args=WORKERS) as srv:
        sessions = [_login(srv.port) for _ in range(clients)]
        assert len({worker_of(srv.process.pid, s.sock) for s in sessions}) == 2
        uids: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def deliver(client: imaplib.IMAP4, number: int) -> None:
            try:
                for i in range(per_client):
                    typ, data = client.append("INBOX", None, None, f"Subject: m{number}-{i}\r\n\r\nbody {number} {i}\r\n".encode())
                    assert typ == "OK", data
                    code = client.untagged_responses.pop("APPENDUID", None) or [data[0].split(b"APPENDUID ", 1)[1]]
                    uid = int(code[-1].split()[1].rstrip(b"]"))
                    with lock:
                        uids.append(uid)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=deliver, args=(s, n)) for n, s in enumerate(sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        total = clients * per_client
        assert sorted(uids) == list(range(1, total + 1))
        check = _login(srv.port)
        assert check.select("INBOX")[1] == [str(total).encode()]
        typ, data = check.uid("SEARCH", None, "ALL")
        assert sorted(map(int, data[0].split())) == list(range(1, total + 1))
        for client in (*sessions, check):
            client.logout()


def test_a_killed_worker_is_replaced_and_the_other_keeps_serving(tmp_path):
    with server_process(tmp_path, USERS, extra_args=WORKERS) as srv:
        a, b = _pair_in_different_workers(srv)
        assert a.select("INBOX")[0] == "OK" and b.select("INBOX")[0] == "OK"
        assert a.append("INBOX", None, None, b"Subject: kept\r\n\r\nacknowledged before the kill\r\n")[0] == "OK"
        victim = worker_of(srv.process.pid, a.sock)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while True:
            pids = worker_pids(srv.process.pid)
            if len(pids) == 2 and victim not in pids:
                break
            assert time.monotonic() < deadline, f"worker not replaced: {pids}"
            time.sleep(0.05)
        # The survivor's session goes on; the new worker serves new sessions and sees the same data.
        assert _noop_untagged(b)["EXISTS"] == [b"1"]
        assert b.append("INBOX", None, None, b"Subject: after\r\n\r\nafter the kill\r\n")[0] == "OK"
        with pytest.raises((imaplib.IMAP4.abort, OSError)):
            a.noop()
        fresh = [_login(srv.port) for _ in range(4)]
        assert {worker_of(srv.process.pid, c.sock) for c in fresh} == set(worker_pids(srv.process.pid))
        for client in fresh:
            assert client.select("INBOX")[1] == [b"2"]
            client.logout()
        b.logout()
        assert "ended unexpectedly (signal SIGKILL); starting it again" in (srv.data_dir / "server.log").read_text()


def test_connections_are_spread_over_the_workers(tmp_path):
    with server_process(tmp_path, USERS, extra_args=WORKERS) as srv:
        sessions = [_login(srv.port) for _ in range(10)]
        per_worker: dict[int, int] = {}
        for client in sessions:
            pid = worker_of(srv.process.pid, client.sock)
            per_worker[pid] = per_worker.get(pid, 0) + 1
        assert len(per_worker) == 2 and min(per_worker.values()) >= 4, per_worker
        for client in sessions:
            client.logout()


def test_sigterm_says_bye_and_stops_every_worker(tmp_path):
    with server_process(tmp_path, USERS, extra_args=WORKERS) as srv:
        a, b = _pair_in_different_workers(srv)
        pids = worker_pids(srv.process.pid)
        srv.process.send_signal(signal.SIGTERM)
        assert srv.process.wait(timeout=20) == 0
        for client in (a, b):
            client.sock.settimeout(5)
            assert b"* BYE" in client.sock.recv(4096)
        for pid in pids:
            assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
        assert "stopped" in srv.read_stdout_until_exit()


def test_limits_and_the_auth_throttle_hold_for_all_workers_together(tmp_path):
    config = tmp_path / "limits.toml"
    config.write_text("[limits]\nmax_connections_per_ip = 4\nauth_free_failures = 100\nauth_ban_failures = 3\n")
    with server_process(tmp_path, USERS, extra_args=(*WORKERS, "--config", str(config))) as srv:
        # The per-address limit: 4 connections in all, spread over both workers.
        held, greetings = [], []
        for _ in range(6):
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            greetings.append(_read_until(sock, b"\r\n", 10))
            held.append(sock)
        accepted = [sock for sock, greeting in zip(held, greetings) if greeting.startswith(b"* OK")]
        assert len(accepted) == 4, greetings
        assert all(b"* BYE [UNAVAILABLE]" in g for g in greetings if not g.startswith(b"* OK"))
        assert len({worker_of(srv.process.pid, sock) for sock in accepted}) == 2
        for sock in held:
            sock.close()
        time.sleep(0.5)  # the closed connections leave the shared counts

        # Three failures, whichever workers they hit, ban the address on every worker.
        for attempt in range(3):
            client = imaplib.IMAP4("127.0.0.1", srv.port, timeout=15)
            with pytest.raises(imaplib.IMAP4.error):
                client.login("alice", f"wrong-{attempt}")
            client.shutdown()
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            assert _read_until(sock, b"\r\n", 10).startswith(b"* BYE [UNAVAILABLE]")
            sock.close()


def test_a_password_verified_in_one_worker_is_not_hashed_again_in_the_other(tmp_path):
    import sqlite3

    with server_process(tmp_path, USERS, extra_args=WORKERS) as srv:
        a, b = _pair_in_different_workers(srv)  # both logged in: one verification each
        db = sqlite3.connect(srv.data_dir / "admission.sqlite3")
        try:
            # One entry: both workers computed the same key (one shared secret), so the second login
            # found the first one's entry (a cache hit is not remembered again) or replaced it.
            assert db.execute("SELECT count(*) FROM verified").fetchone()[0] == 1
        finally:
            db.close()
        a.logout()
        b.logout()
