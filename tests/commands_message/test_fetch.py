"""FETCH / UID FETCH transcripts against the running server (RFC 9051 §6.4.5)."""

from __future__ import annotations

import re


async def test_fetch_flags_uid_and_size(mailbox, login):
    client = await login(mailbox)
    lines = await client.command("f1", "FETCH 1:* (FLAGS)")
    assert lines == [
        b"* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n",
        b"* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\n",
        b"* 3 FETCH (FLAGS (\\Recent))\r\n",
        b"* 4 FETCH (FLAGS (\\Seen \\Recent $Label1))\r\n",
        b"* 5 FETCH (FLAGS (\\Recent))\r\n",
        b"f1 OK Fetch completed\r\n",
    ]
    await client.aclose()
