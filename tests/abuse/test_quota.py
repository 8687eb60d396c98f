"""Quotas (RFC 9208) as a defence: over-quota APPEND/COPY change nothing; SETQUOTA only for
administrators (``admin_users``); ``imapcore user quota`` on the command line."""

from __future__ import annotations

import subprocess
import sys

from support.server import ImapTestClient, running_server

USERS = {"alice": "pw-alice", "root": "pw-root"}
MESSAGE = b"Subject: q\r\n\r\n" + b"x" * 3000 + b"\r\n"


async def _login(srv, user):
    client = await ImapTestClient.connect(srv.port)
    assert (await client.command("L", f"LOGIN {user} {USERS[user]}"))[-1].startswith(b"L OK")
    return client


async def _append(client, tag, mailbox="INBOX", message=MESSAGE):
    await client.send(f"{tag} APPEND {mailbox} {{{len(message)}+}}\r\n".encode() + message + b"\r\n")
    return (await client.read_until_tagged(tag))[-1]


async def test_append_copy_over_quota_change_nothing(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        srv.store.set_quota("alice", storage_bytes=2 * len(MESSAGE) + 100, messages=None)
        client = await _login(srv, "alice")
        assert (await _append(client, "a1")).startswith(b"a1 OK")
        assert (await _append(client, "a2")).startswith(b"a2 OK")
        assert (await _append(client, "a3")).startswith(b"a3 NO [OVERQUOTA]")
        await client.command("s", "SELECT INBOX")
        assert (await client.command("c", "COPY 1:2 Sent"))[-1].startswith(b"c NO [OVERQUOTA]")
        # MOVE between two mailboxes of the account does not change the usage: allowed.
        assert (await client.command("m", "MOVE 2 Trash"))[-1].startswith(b"m OK")
        usage = srv.store.quota("alice")
        assert (usage.used_messages, usage.used_storage_bytes) == (2, 2 * len(MESSAGE))
        statuses = [await client.command(f"t{n}", f"STATUS {box} (MESSAGES)") for n, box in
                    enumerate(("INBOX", "Sent", "Trash"))]
        assert [s[0] for s in statuses] == [b"* STATUS INBOX (MESSAGES 1)\r\n", b"* STATUS Sent (MESSAGES 0)\r\n",
                                            b"* STATUS Trash (MESSAGES 1)\r\n"]
        # The message limit too (RFC 9208 §5.2).
        srv.store.set_quota("alice", storage_bytes=None, messages=2)
        assert (await _append(client, "a4", "Sent")).startswith(b"a4 NO [OVERQUOTA]")
        assert srv.store.quota("alice").used_messages == 2
        await client.aclose()


async def test_setquota_for_administrators_only(tmp_path):
    async with running_server(tmp_path, users=USERS, admin_users=("root",)) as srv:
        alice = await _login(srv, "alice")
        caps = (await alice.command("c", "CAPABILITY"))[0]
        assert b" QUOTA " in caps and b"QUOTA=RES-STORAGE" in caps and b"QUOTA=RES-MESSAGE" in caps
        assert b"QUOTASET" not in caps
        assert (await alice.command("s", 'SETQUOTA "" (STORAGE 10)'))[-1].startswith(b"s NO [NOPERM]")
        assert (await alice.command("g", 'GETQUOTA "#user/root"'))[-1].startswith(b"g NO [NONEXISTENT]")

        root = await _login(srv, "root")
        assert b"QUOTASET" in (await root.command("c", "CAPABILITY"))[0]
        lines = await root.command("s", 'SETQUOTA "#user/alice" (STORAGE 512 MESSAGE 1000)')
        assert lines == [b'* QUOTA #user/alice (STORAGE 0 512 MESSAGE 0 1000)\r\n', b"s OK SETQUOTA completed\r\n"]
        usage = srv.store.quota("alice")
        assert (usage.quota_storage_bytes, usage.quota_messages) == (512 * 1024, 1000)
        # RFC 9208 §4.1.3: limits not listed are removed.
        assert (await root.command("t", 'SETQUOTA "#user/alice" (MESSAGE 5)'))[0] == \
            b'* QUOTA #user/alice (MESSAGE 0 5)\r\n'
        assert srv.store.quota("alice").quota_storage_bytes is None
        assert (await root.command("u", 'SETQUOTA "#user/alice" (FOO 1)'))[-1].startswith(b"u NO")
        assert srv.store.quota("alice").quota_messages == 5  # unchanged by the refused command
        assert (await root.command("v", 'SETQUOTA "#user/nobody" (MESSAGE 1)'))[-1].startswith(b"v NO [NONEXISTENT]")
        # The user sees the new limit on their own root.
        assert (await alice.command("g", 'GETQUOTA ""'))[0] == b'* QUOTA "" (MESSAGE 0 5)\r\n'
        await alice.aclose()
        await root.aclose()


def test_user_quota_command_line(tmp_path):
    data = tmp_path / "data"

    def cli(*args, stdin=None):
        return subprocess.run([sys.executable, "-m", "imapcore", "user", *args, "--data-dir", str(data)],
                              input=stdin, capture_output=True, text=True, timeout=60)

    assert cli("add", "carol", stdin="secret\n").returncode == 0
    done = cli("quota", "carol", "--storage", "1G", "--messages", "100000")
    assert done.returncode == 0
    assert done.stdout.strip() == "user carol: storage 0 of 1073741824 bytes, messages 0 of 100000"
    assert cli("quota", "carol", "--storage", "none").stdout.strip() == \
        "user carol: storage 0 of none bytes, messages 0 of 100000"
    bad = cli("quota", "carol", "--storage", "lots")
    assert bad.returncode == 2 and "invalid size" in bad.stderr
    missing = cli("quota", "nobody", "--messages", "1")
    assert missing.returncode == 1
