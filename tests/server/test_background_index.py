"""The server drains the deferred full-text index when deliveries leave a few messages pending."""

from __future__ import annotations

import trio

from imapcore.server import app
from support.server import ImapTestClient, running_server


async def test_pending_messages_are_indexed_in_the_background_and_found_meanwhile(tmp_path, monkeypatch):
    monkeypatch.setattr(app, "INDEX_INTERVAL_S", 0.2)
    async with running_server(tmp_path, users={"alice": "pw"}) as srv:
        for n in range(3):  # fewer than a delivering thread's batch: they stay pending
            srv.store.append("alice", "INBOX", f"Subject: n{n}\r\n\r\nzebrafish number {n}\r\n".encode())
        assert srv.store.pending_index_count() == 3
        client = await ImapTestClient.connect(srv.port)
        await client.send(b"a LOGIN alice pw\r\nb SELECT INBOX\r\nc UID SEARCH BODY zebrafish\r\n")
        lines = await client.read_until_tagged("c")
        assert b"* SEARCH 1 2 3\r\n" in lines  # exact while pending
        with trio.fail_after(10):
            while srv.store.pending_index_count():
                await trio.sleep(0.05)
        await client.send(b"d UID SEARCH BODY zebrafish\r\n")
        assert b"* SEARCH 1 2 3\r\n" in await client.read_until_tagged("d")
