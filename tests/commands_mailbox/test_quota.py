"""GETQUOTA / GETQUOTAROOT / SETQUOTA (RFC 9208) over the store's per-user quota."""

from __future__ import annotations

MESSAGE = b"Subject: q\r\n\r\n" + b"x" * 3000 + b"\r\n"


async def test_quota_root_and_usage(session, server):
    s = await session()
    # No limit set: the root is named, but no QUOTA response (a quota-list needs a resource, §6).
    assert await s.ok("GETQUOTAROOT inbox") == ['* QUOTAROOT INBOX ""']
    assert await s.ok('GETQUOTA ""') == []
    server.store.set_quota("alice", storage_bytes=10 * 1024 * 1024, messages=100)
    server.store.append("alice", "Sent", MESSAGE)
    server.store.append("alice", "INBOX", MESSAGE)
    kib = -(-2 * len(MESSAGE) // 1024)  # RFC 9208 §5.1: units of 1024 octets, rounded up
    expected = f'* QUOTA "" (STORAGE {kib} 10240 MESSAGE 2 100)'
    assert await s.ok("GETQUOTAROOT Sent") == ['* QUOTAROOT Sent ""', expected]
    assert await s.ok('GETQUOTA ""') == [expected]
    assert (await s.run('GETQUOTA "other"'))[1].startswith("NO [NONEXISTENT]")
    # RFC 9208 §4.1.2: "the mailbox name parameter doesn't have to reference an existing mailbox".
    assert await s.ok("GETQUOTAROOT Future/Box") == ['* QUOTAROOT Future/Box ""', expected]


async def test_setquota_is_for_the_administrator(session, server):
    s = await session()
    untagged, tagged = await s.run('SETQUOTA "" (STORAGE 1)')
    assert tagged.startswith("NO [NOPERM]")
    assert server.store.quota("alice").quota_storage_bytes is None
