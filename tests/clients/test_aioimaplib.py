"""aioimaplib (asyncio) against the real server on 127.0.0.1 (and Dovecot): login, select, append, fetch,
search, store, copy, move, and an IDLE push of another session's APPEND.

The tests are plain functions that run their own asyncio loop (``asyncio.run``), bounded by
``asyncio.wait_for``; pytest-trio leaves synchronous tests alone.
"""

from __future__ import annotations

import asyncio
import re

import aioimaplib

from support.rawimap import make_message

BOUND_S = 30.0


async def _connect(server, user, password) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=10)
    await client.wait_hello_from_server()
    response = await client.login(user, password)
    assert response.result == "OK", response.lines
    return client


def _text(response) -> bytes:
    return b"\n".join(line if isinstance(line, (bytes, bytearray)) else str(line).encode() for line in response.lines)


def test_append_select_fetch_search_store(account):
    server, user, password = account

    async def scenario():
        client = await _connect(server, user, password)
        for i in range(3):
            response = await client.append(make_message(subject=f"aio {i}"), mailbox="INBOX", flags=r"(\Seen)" if i == 0 else None)
            assert response.result == "OK", response.lines
        response = await client.select("INBOX")
        assert response.result == "OK"
        assert re.search(rb"\b3 EXISTS", _text(response))
        response = await client.fetch("1:3", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert response.result == "OK"
        text = _text(response)
        assert text.count(b"FETCH") == 3 and b"Subject: aio 2" in text and b"\\Seen" in text
        response = await client.search("UNSEEN")
        assert response.result == "OK" and response.lines[0] == b"2 3"
        response = await client.store("2", "+FLAGS", r"(\Flagged)")
        assert response.result == "OK" and b"\\Flagged" in _text(response)
        response = await client.uid("fetch", "3", "(RFC822.SIZE)")
        assert response.result == "OK"
        assert re.search(rb"RFC822.SIZE %d" % len(make_message(subject="aio 2")), _text(response))
        response = await client.create("Kept")
        assert response.result == "OK"
        response = await client.copy("1", "Kept")
        assert response.result == "OK"
        if client.has_capability("MOVE"):
            response = await client.move("2", "Kept")
            assert response.result == "OK"
        response = await client.status("Kept", "(MESSAGES)")
        assert response.result == "OK" and re.search(rb"MESSAGES 2\b", _text(response))
        await client.logout()

    asyncio.run(asyncio.wait_for(scenario(), BOUND_S))


def test_idle_push_of_another_sessions_append(account):
    server, user, password = account

    async def scenario():
        watcher = await _connect(server, user, password)
        writer = await _connect(server, user, password)
        await watcher.select("INBOX")
        idle = await watcher.idle_start(timeout=20)
        # Wait for the "+ idling" continuation before the other session writes.
        for _ in range(50):
            if watcher.has_pending_idle():
                break
            await asyncio.sleep(0.02)
        assert watcher.has_pending_idle()
        response = await writer.append(make_message(subject="pushed"), mailbox="INBOX")
        assert response.result == "OK"
        pushed = []
        for _ in range(5):  # a few pushes at most before the EXISTS (bounded)
            lines = await watcher.wait_server_push(timeout=10)
            pushed += [line if isinstance(line, bytes) else str(line).encode() for line in lines]
            if any(re.search(rb"\b1 EXISTS", line) for line in pushed):
                break
        watcher.idle_done()
        await asyncio.wait_for(idle, 10)
        assert any(re.search(rb"\b1 EXISTS", line) for line in pushed), pushed
        response = await watcher.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert b"Subject: pushed" in _text(response)
        await writer.logout()
        await watcher.logout()

    asyncio.run(asyncio.wait_for(scenario(), BOUND_S))
