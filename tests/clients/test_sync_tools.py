"""mbsync (isync) and offlineimap3 doing a full two-way sync of a folder tree with flags.

Round 1: a folder tree with flagged messages is seeded on the server over IMAP; the tool syncs it into
an empty Maildir; the Maildir must equal the server (folders, subjects, flags).
Round 2: changes on both sides — locally a flag change, a deletion and a new message; on the server a
new message, a flag change and an expunge — then a second sync; both sides must again be equal and
contain exactly the expected result. Each tool run is bounded by a subprocess timeout; configs and
Maildirs live in pytest's tmp_path. The tools talk plain IMAP on 127.0.0.1 with LOGIN (cleartext is
allowed on loopback).
"""

from __future__ import annotations

import shutil

import pytest

from support.live_servers import UserPool, live_server, pool_users
from support.sync_kit import (
    add_local_message,
    find_local,
    maildir_state,
    run_tool,
    seed_server,
    server_change,
    server_state,
    set_local_flags,
)

pytestmark = pytest.mark.slow

EXPECTED_AFTER_ROUND_2 = {
    "INBOX": [("inbox one", ("\\Flagged", "\\Seen")), ("inbox three", ("\\Answered",))],
    "Work": [
        ("work draft", ("\\Draft",)),
        ("work local", ("\\Seen",)),
        ("work new on server", ("\\Flagged",)),
        ("work plan", ("\\Answered", "\\Seen")),
    ],
    "Work/Reports": [],
    "Personal": [("holiday", ())],
}


def _local_changes(root, work_dir):
    # A flag change (inbox one gets \Flagged), a deletion (report q1), a new message in Work.
    path = find_local(root, "inbox one")
    set_local_flags(path, "FS")
    find_local(root, "report q1").unlink()
    add_local_message(work_dir, "work local", flags="S")


def _check_round_2(server, user, password, local):
    remote = server_state(server, user, password)
    assert remote == local
    for folder, messages in EXPECTED_AFTER_ROUND_2.items():
        assert remote[folder] == messages, folder


# -- mbsync --------------------------------------------------------------------------------------------

MBSYNC_CONFIG = """\
IMAPAccount test
Host 127.0.0.1
Port {port}
User {user}
Pass {password}
SSLType None
AuthMechs LOGIN
Timeout 20

IMAPStore remote
Account test

MaildirStore local
Path {root}/
Inbox {root}/INBOX
SubFolders Verbatim

Channel everything
Far :remote:
Near :local:
Patterns *
Create Both
Remove None
Expunge Both
SyncState *
Sync All
"""


@pytest.mark.skipif(shutil.which("mbsync") is None, reason="mbsync (Debian isync) is not installed")
def test_mbsync_two_way_sync(account, tmp_path):
    server, user, password = account
    root = tmp_path / "Mail"
    root.mkdir()
    config = tmp_path / "mbsyncrc"
    config.write_text(MBSYNC_CONFIG.format(port=server.port, user=user, password=password, root=root))
    seed_server(server, user, password)
    argv = ["mbsync", "-c", str(config), "-a"]

    run_tool(argv)
    remote = server_state(server, user, password)
    local = maildir_state(root, lambda rel: str(rel))
    assert remote["Work/Reports"] == [("report q1", ("\\Flagged", "\\Seen"))]
    assert local == remote

    _local_changes(root, root / "Work")
    server_change(server, user, password)
    run_tool(argv)
    run_tool(argv)  # a second pass settles expunges mbsync propagates as \Deleted first
    _check_round_2(server, user, password, maildir_state(root, lambda rel: str(rel)))


# -- offlineimap ---------------------------------------------------------------------------------------

OFFLINEIMAP_CONFIG = """\
[general]
accounts = test
metadata = {meta}
maxsyncaccounts = 1
ui = quiet

[Account test]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = {root}
sep = /

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = {port}
remoteuser = {user}
remotepass = {password}
ssl = no
starttls = no
maxconnections = 1
holdconnectionopen = no
"""


@pytest.mark.skipif(shutil.which("offlineimap") is None, reason="offlineimap3 is not installed")
def test_offlineimap_two_way_sync(account, tmp_path):
    server, user, password = account
    root = tmp_path / "Mail"
    root.mkdir()
    config = tmp_path / "offlineimaprc"
    config.write_text(
        OFFLINEIMAP_CONFIG.format(meta=tmp_path / "meta", root=root, port=server.port, user=user, password=password)
    )
    seed_server(server, user, password)
    argv = ["offlineimap", "-c", str(config), "-o", "-u", "quiet"]

    run_tool(argv, timeout=90)
    remote = server_state(server, user, password)
    local = maildir_state(root, lambda rel: str(rel))
    assert remote["Work/Reports"] == [("report q1", ("\\Flagged", "\\Seen"))]
    assert local == remote

    _local_changes(root, root / "Work")
    server_change(server, user, password)
    run_tool(argv, timeout=90)
    _check_round_2(server, user, password, maildir_state(root, lambda rel: str(rel)))


@pytest.fixture(scope="module")
def imapcore_only():
    """An imapcore server for the TLS cases (the Dovecot reference runs without TLS)."""
    with live_server("imapcore", pool_users(4, prefix="synctls", password="sync-tls-pw")) as live:
        live.pool = UserPool(live)
        yield live


@pytest.mark.skipif(shutil.which("mbsync") is None, reason="mbsync (Debian isync) is not installed")
@pytest.mark.parametrize("security", ["STARTTLS", "IMAPS"])
def test_mbsync_over_tls_with_the_generated_certificate(imapcore_only, tmp_path, security):
    """mbsync trusting imapcore's self-signed certificate."""
    server = imapcore_only
    user, password = server.pool.take()
    root = tmp_path / "Mail"
    root.mkdir()
    port = server.port if security == "STARTTLS" else server.tls_port
    text = MBSYNC_CONFIG.format(port=port, user=user, password=password, root=root).replace(
        "SSLType None\n",
        f"SSLType {security}\nSSLVersions TLSv1.2 TLSv1.3\nSystemCertificates no\nCertificateFile {server.cert_file}\n",
    )
    config = tmp_path / "mbsyncrc"
    config.write_text(text)
    seed_server(server, user, password)
    run_tool(["mbsync", "-c", str(config), "-a"])
    remote = server_state(server, user, password)
    assert remote["Work"] == [("work draft", ("\\Draft",)), ("work plan", ("\\Answered", "\\Seen"))]
    assert maildir_state(root, lambda rel: str(rel)) == remote
