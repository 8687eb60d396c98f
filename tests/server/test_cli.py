"""The command-line contract: ``imapcore user add|passwd|del|list`` (with and without a running server)
and ``imapcore serve`` printing its ports, serving, and saying BYE to every session on SIGTERM."""

from __future__ import annotations

import imaplib
import signal
import socket
import subprocess
import sys

import pytest

from support.server import server_process


def imapcore(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imapcore", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_user_add_list_passwd_del(tmp_path):
    data = str(tmp_path / "data")
    added = imapcore("user", "add", "alice", "--data-dir", data, stdin="first password\n")
    assert added.returncode == 0, added.stderr
    assert imapcore("user", "add", "bob", "--password", "b0b", "--data-dir", data).returncode == 0
    again = imapcore("user", "add", "bob", "--password", "x", "--data-dir", data)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert imapcore("user", "list", "--data-dir", data).stdout.split() == ["alice", "bob"]
    # The configuration file gives the data directory just as well.
    config = tmp_path / "imapcore.toml"
    config.write_text(f'data_dir = "{data}"\n')
    assert imapcore("user", "list", "--config", str(config)).stdout.split() == ["alice", "bob"]
    assert imapcore("user", "passwd", "alice", "--password", "second", "--config", str(config)).returncode == 0
    assert imapcore("user", "del", "bob", "--data-dir", data).returncode == 0
    assert imapcore("user", "list", "--data-dir", data).stdout.split() == ["alice"]
    missing = imapcore("user", "del", "bob", "--data-dir", data)
    assert missing.returncode == 1 and "no such user" in missing.stderr

    from imapcore.auth.passwords import verify_password
    from imapcore.store import Store

    with Store.open(data) as store:
        assert verify_password(store.user("alice").password_hash, "second")
        assert not verify_password(store.user("alice").password_hash, "first password")


def test_serve_prints_ports_users_added_while_running_and_sigterm_says_bye(tmp_path):
    with server_process(tmp_path, users={"alice": "secret"}) as srv:
        # A user added by the CLI while the server runs can log in at once.
        added = imapcore("user", "add", "carol", "--password", "c4rol", "--data-dir", str(srv.data_dir))
        assert added.returncode == 0, added.stderr
        imap = imaplib.IMAP4("127.0.0.1", srv.port, timeout=10)
        assert imap.login("carol", "c4rol")[0] == "OK"
        idle = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        idle_file = idle.makefile("rb")
        assert idle_file.readline().startswith(b"* OK [CAPABILITY ")
        srv.process.send_signal(signal.SIGTERM)
        # Both sessions are told, then closed; the process exits by itself. (With one worker process
        # per CPU the two sessions may be in different workers, each saying BYE as it gets the signal,
        # so the second is read to its end rather than sent a command at an arbitrary moment.)
        assert idle_file.readline() == b"* BYE [UNAVAILABLE] Server shutting down\r\n"
        assert idle_file.readline() == b""
        imap.sock.settimeout(10)
        rest = b""
        while chunk := imap.sock.recv(4096):
            rest += chunk
        assert rest == b"* BYE [UNAVAILABLE] Server shutting down\r\n"
        output = srv.read_stdout_until_exit()
        assert srv.process.returncode == 0
        assert f"listening on 127.0.0.1:{srv.port} (STARTTLS)" in output
        assert f"listening on 127.0.0.1:{srv.tls_port} (TLS)" in output
        assert "add a user with: imapcore user add NAME" in output
        idle.close()


def test_serve_reports_an_address_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = imapcore("serve", "--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}",
                          "--listen-tls", "127.0.0.1:0")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("imapcore: cannot start: [Errno 98] Address already in use")
