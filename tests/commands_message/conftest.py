"""Fixtures for the message-command transcripts: a running server with one user and a few messages.

``mailbox`` yields the in-process server (``support.server.running_server``) whose user ``alice`` has
the messages of ``MESSAGES`` in INBOX (UIDs 1..n, in order), delivered through the store as a delivery
agent would. The ``login`` fixture is ``await login(srv, select=..., enable=...)``: a logged-in client,
optionally with a mailbox selected and extensions enabled.
"""

from __future__ import annotations

import datetime as dt

import pytest

from support.server import ImapTestClient, running_server

USERS = {"alice": "secret"}

MULTIPART = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: Report with attachment\r\n"
    b"Date: Tue, 02 Jan 2024 09:00:00 +0100\r\n"
    b"Message-ID: <report@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="XX"\r\n'
    b"\r\n"
    b"--XX\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"See the attachment.\r\n"
    b"--XX\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECAwQ=\r\n"
    b"--XX\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Transfer-Encoding: x-unknown\r\n"
    b"\r\n"
    b"strange\r\n"
    b"--XX--\r\n"
)


def simple_message(number: int, subject: str | None = None, sender: str = "Alice <alice@example.org>") -> bytes:
    subject = subject or f"Message {number}"
    return (
        f"From: {sender}\r\n"
        f"To: Bob <bob@example.org>\r\n"
        f"Subject: {subject}\r\n"
        f"Date: Mon, 0{number % 9 + 1} Jan 2024 10:00:00 +0000\r\n"
        f"Message-ID: <m{number}@example.org>\r\n"
        f"\r\n"
        f"Body of message {number}.\r\n"
    ).encode()


MESSAGES = [
    (simple_message(1, "Lunch plans"), ("\\Seen",)),
    (simple_message(2, "Quarterly report", sender="Carol <carol@example.com>"), ("\\Flagged",)),
    (simple_message(3, "Re: Lunch plans"), ()),
    (MULTIPART, ("\\Seen", "$Label1")),
    (simple_message(5, "Holidays", sender="Dave <dave@example.net>"), ()),
]

INTERNAL_DATE = dt.datetime(2024, 1, 5, 12, 30, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def deliver(store, user: str, mailbox: str, raw: bytes, flags=(), internal_date=INTERNAL_DATE) -> int:
    result = store.append(user, mailbox, raw, flags=flags, internal_date=internal_date)
    return result.uids[0]


@pytest.fixture
async def mailbox(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        for raw, flags in MESSAGES:
            deliver(srv.store, "alice", "INBOX", raw, flags)
        yield srv


async def open_session(srv, select: str | None = "INBOX", enable: str | None = None) -> ImapTestClient:
    client = await ImapTestClient.connect(srv.port)
    assert (await client.command("l1", "LOGIN alice secret"))[-1].startswith(b"l1 OK")
    if enable:
        assert (await client.command("l2", f"ENABLE {enable}"))[-1].startswith(b"l2 OK")
    if select:
        assert (await client.command("l3", f"SELECT {select}"))[-1].startswith(b"l3 OK")
    return client


@pytest.fixture
def login():
    """``await login(srv, select="INBOX", enable=None)``: a logged-in client (see ``open_session``)."""
    return open_session
