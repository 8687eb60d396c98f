"""``imapcore deliver``: local delivery from an MTA, beside a running server.

The message must end up stored exactly as IMAP wants it (CRLF, no mbox separator), the exit status must
be what an MTA acts on (sysexits), and a session of the running server must be told at once: in IDLE,
within a fraction of a second, also with several worker processes.
"""

from __future__ import annotations

import imaplib
import socket
import subprocess
import sys
import time

import pytest

from imapcore.server.deliver import EX_DATAERR, EX_NOUSER, EX_OK, EX_TEMPFAIL, normalize
from support.server import server_process

USERS = {"bob": "bob-secret"}


def deliver(data_dir, *args: str, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "imapcore", "deliver", *args, "--data-dir", str(data_dir)],
        input=stdin, capture_output=True, timeout=60,
    )


def test_normalize_drops_the_mbox_line_and_makes_crlf():
    assert normalize(b"From a@b Mon Jan  1 00:00:00 2026\nSubject: x\n\nbody\n") == b"Subject: x\r\n\r\nbody\r\n"
    assert normalize(b"Subject: x\r\n\r\na\rb\r\n") == b"Subject: x\r\n\r\na\r\nb\r\n"
    assert normalize(b"From: a@b\n\nx") == b"From: a@b\r\n\r\nx"  # a header, not the separator


def _read_until(sock: socket.socket, marker: bytes, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        assert time.monotonic() < deadline, f"no {marker!r} within {timeout} s; got {data!r}"
        chunk = sock.recv(4096)
        assert chunk, f"connection closed; got {data!r}"
        data += chunk
    return data


def _idling(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    _read_until(sock, b"\r\n", 10)
    sock.sendall(b"a LOGIN bob bob-secret\r\nb SELECT INBOX\r\n")
    _read_until(sock, b"b OK", 10)
    sock.sendall(b"c IDLE\r\n")
    _read_until(sock, b"+ ", 10)
    return sock


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_delivery_reaches_idling_sessions_and_is_stored_as_imap_wants(tmp_path, workers):
    with server_process(tmp_path, USERS, extra_args=("--workers", workers)) as srv:
        idlers = [_idling(srv.port) for _ in range(3)]  # with two workers, both get some
        raw = b"From mta@example.org Mon Jan  5 10:00:00 2026\nSubject: delivered\nFrom: a@example.org\n\nhello\n"
        started = time.monotonic()
        result = deliver(srv.data_dir, "bob", stdin=raw)
        assert result.returncode == EX_OK, result.stderr
        assert result.stdout.startswith(b"delivered to bob/INBOX as UID 1")
        for sock in idlers:
            _read_until(sock, b"* 1 EXISTS\r\n", 5)
        assert time.monotonic() - started < 5.0  # a Python start included; the push itself is <= POLL_S
        for sock in idlers:
            sock.sendall(b"DONE\r\n")
            _read_until(sock, b"c OK", 10)
            sock.close()
        client = imaplib.IMAP4("127.0.0.1", srv.port, timeout=15)
        client.login("bob", "bob-secret")
        client.select("INBOX")
        typ, data = client.fetch("1", "(BODY.PEEK[])")
        assert typ == "OK"
        assert data[0][1] == b"Subject: delivered\r\nFrom: a@example.org\r\n\r\nhello\r\n"
        client.logout()


def test_exit_statuses_an_mta_acts_on(tmp_path):
    with server_process(tmp_path, USERS) as srv:
        assert deliver(srv.data_dir, "nobody", stdin=b"Subject: x\n\nx\n").returncode == EX_NOUSER
        assert deliver(srv.data_dir, "bob", stdin=b"").returncode == EX_DATAERR
        assert deliver(srv.data_dir, "bob", stdin=b"\r\n\n").returncode == EX_DATAERR

        # An unknown mailbox falls back to INBOX; --create makes it; flags are set.
        fallback = deliver(srv.data_dir, "bob", "--mailbox", "Nope", stdin=b"Subject: a\n\na\n")
        assert fallback.returncode == EX_OK and b"delivering to INBOX" in fallback.stderr
        created = deliver(srv.data_dir, "bob", "-m", "Lists/python", "--create", "--flag", "\\Flagged",
                          "--flag", "$Lists", stdin=b"Subject: b\n\nb\n")
        assert created.returncode == EX_OK, created.stderr
        client = imaplib.IMAP4("127.0.0.1", srv.port, timeout=15)
        client.login("bob", "bob-secret")
        assert client.select("INBOX")[1] == [b"1"]
        assert client.select("Lists/python")[1] == [b"1"]
        flags = client.fetch("1", "(FLAGS)")[1][0]
        assert b"\\Flagged" in flags and b"$Lists" in flags

        # Over quota: a temporary failure (the MTA keeps the message and retries), nothing stored.
        quota = subprocess.run([sys.executable, "-m", "imapcore", "user", "quota", "bob", "--messages", "2",
                                "--data-dir", str(srv.data_dir)], capture_output=True, timeout=60)
        assert quota.returncode == 0, quota.stderr
        over = deliver(srv.data_dir, "bob", stdin=b"Subject: c\n\nc\n")
        assert over.returncode == EX_TEMPFAIL and b"quota" in over.stderr.lower()
        client.select("INBOX")
        assert client.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 1)")
        client.logout()


def test_a_message_over_the_append_limit_is_refused(tmp_path):
    config = tmp_path / "small.toml"
    config.write_text("[limits]\nmax_literal_bytes = 1000\n")
    data_dir = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "imapcore", "user", "add", "bob", "--password", "pw",
                    "--data-dir", str(data_dir)], check=True, capture_output=True, timeout=60)
    result = deliver(data_dir, "bob", "--config", str(config), stdin=b"Subject: big\n\n" + b"x" * 2000)
    assert result.returncode == EX_DATAERR and b"over 1000 bytes" in result.stderr
