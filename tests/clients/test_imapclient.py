"""IMAPClient against the real server on 127.0.0.1 (and Dovecot): IDLE, MOVE, ENABLE CONDSTORE, MODSEQ,
CHANGEDSINCE, folder operations and flags, through the library's own parsing of the responses."""

from __future__ import annotations

import datetime
import time

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from support.rawimap import make_message

WHEN = datetime.datetime(2024, 3, 5, 12, 30, tzinfo=datetime.timezone.utc)


@pytest.fixture
def client(account):
    server, user, password = account
    c = IMAPClient(server.host, port=server.port, ssl=False, timeout=20)
    c.login(user, password)
    yield c
    try:
        c.logout()
    except (IMAPClientError, OSError):
        pass


def flagset(flags) -> set[bytes]:
    """Flags without \\Recent, which a rev1 session legitimately sees on new messages (RFC 3501 §2.3.2)."""
    return {f for f in flags if f.upper() != b"\\RECENT"}


def connect(account) -> IMAPClient:
    server, user, password = account
    c = IMAPClient(server.host, port=server.port, ssl=False, timeout=20)
    c.login(user, password)
    return c


def test_folders_and_flags(client):
    assert client.folder_exists("INBOX")
    client.create_folder("Lists")
    client.create_folder("Lists/Python")
    names = {name for _, _, name in client.list_folders()}
    assert {"INBOX", "Lists", "Lists/Python", "Sent", "Trash"} <= names
    assert client.find_special_folder(b"\\Sent") == "Sent"
    client.rename_folder("Lists/Python", "Lists/Rust")
    assert client.folder_exists("Lists/Rust") and not client.folder_exists("Lists/Python")
    client.subscribe_folder("Lists/Rust")
    assert "Lists/Rust" in {name for _, _, name in client.list_sub_folders()}
    client.unsubscribe_folder("Lists/Rust")
    assert "Lists/Rust" not in {name for _, _, name in client.list_sub_folders()}

    uid = None
    response = client.append("Lists", make_message(subject="flagged"), flags=[b"\\Seen"], msg_time=WHEN)
    assert b"APPENDUID" in response
    status = client.folder_status("Lists", ["MESSAGES", "UIDNEXT", "UNSEEN"])
    assert status[b"MESSAGES"] == 1 and status[b"UIDNEXT"] == 2 and status[b"UNSEEN"] == 0
    selected = client.select_folder("Lists")
    assert selected[b"EXISTS"] == 1
    uid = client.search(["ALL"])[0]
    assert uid == 1
    assert flagset(client.get_flags([uid])[uid]) == {b"\\Seen"}
    client.add_flags([uid], [b"\\Flagged", b"$Work"])
    assert flagset(client.get_flags([uid])[uid]) == {b"\\Seen", b"\\Flagged", b"$Work"}
    client.remove_flags([uid], [b"\\Seen"])
    client.set_flags([uid], [b"\\Answered", b"$Work"])
    assert flagset(client.get_flags([uid])[uid]) == {b"\\Answered", b"$Work"}
    data = client.fetch([uid], ["INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    entry = data[uid]
    assert entry[b"INTERNALDATE"].replace(tzinfo=None) == WHEN.astimezone().replace(tzinfo=None)
    assert entry[b"ENVELOPE"].subject == b"flagged"
    assert entry[b"RFC822.SIZE"] == len(make_message(subject="flagged"))
    assert entry[b"BODY[HEADER.FIELDS (SUBJECT)]"].strip() == b"Subject: flagged"
    client.close_folder()
    client.delete_folder("Lists/Rust")
    assert not client.folder_exists("Lists/Rust")


def test_move_copy_expunge(client):
    assert client.has_capability("MOVE") and client.has_capability("UIDPLUS")
    client.create_folder("Archive2")
    for i in range(4):
        client.append("INBOX", make_message(subject=f"m{i}"))
    client.select_folder("INBOX")
    client.move([1, 2], "Archive2")
    assert client.search() == [3, 4]
    client.copy([3], "Archive2")
    client.delete_messages([4])
    client.uid_expunge([4])
    assert client.search() == [3]
    assert client.folder_status("Archive2", ["MESSAGES"])[b"MESSAGES"] == 3
    client.select_folder("Archive2", readonly=True)
    subjects = [env[b"ENVELOPE"].subject for env in client.fetch(client.search(), ["ENVELOPE"]).values()]
    assert sorted(subjects) == [b"m0", b"m1", b"m2"]


def test_condstore_modseq_and_changedsince(client):
    assert client.has_capability("CONDSTORE")
    enabled = client.enable("CONDSTORE")
    assert enabled == [b"CONDSTORE"]
    for i in range(3):
        client.append("INBOX", make_message(subject=f"c{i}"))
    selected = client.select_folder("INBOX")
    start = selected[b"HIGHESTMODSEQ"]
    assert isinstance(start, int) and start > 0
    client.add_flags([2], [b"\\Seen"])
    changed = client.fetch([1, 2, 3], ["FLAGS"], modifiers=[f"CHANGEDSINCE {start}"])
    assert list(changed) == [2]
    assert changed[2][b"MODSEQ"][0] > start
    all_modseq = client.fetch([1, 2, 3], ["MODSEQ"])
    assert all(all_modseq[uid][b"MODSEQ"][0] <= changed[2][b"MODSEQ"][0] for uid in all_modseq)
    status = client.folder_status("INBOX", ["HIGHESTMODSEQ"])
    assert status[b"HIGHESTMODSEQ"] >= changed[2][b"MODSEQ"][0]
    # UNCHANGEDSINCE below message 2's MODSEQ: message 2 is not changed and reported in MODIFIED.
    client._imap.untagged_responses.pop("MODIFIED", None)
    typ, data = client._imap.uid("STORE", "1:3", f"(UNCHANGEDSINCE {start})", "+FLAGS", "(\\Flagged)")
    # imaplib files the tagged response's code under its name (RFC 7162 §3.1.3: "OK [MODIFIED 2]").
    assert typ == "OK" and client._imap.untagged_responses.get("MODIFIED") == [b"2"]
    flags = client.get_flags([1, 2, 3])
    assert b"\\Flagged" in flags[1] and b"\\Flagged" not in flags[2] and b"\\Flagged" in flags[3]


def test_idle_push_from_other_session(account):
    watcher = connect(account)
    writer = connect(account)
    try:
        watcher.select_folder("INBOX")
        watcher.idle()
        writer.append("INBOX", make_message(subject="pushed"))
        deadline = time.monotonic() + 10
        events = []
        while time.monotonic() < deadline and not any(e[1:] == (b"EXISTS",) for e in events):
            events += watcher.idle_check(timeout=1)
        watcher.idle_done()
        assert (1, b"EXISTS") in events
        writer.select_folder("INBOX")
        watcher.idle()
        writer.add_flags([1], [b"\\Flagged"])
        deadline = time.monotonic() + 10
        events = []
        while time.monotonic() < deadline and not any(len(e) > 1 and e[1] == b"FETCH" for e in events):
            events += watcher.idle_check(timeout=1)
        watcher.idle_done()
        fetches = [e for e in events if len(e) > 1 and e[1] == b"FETCH"]
        assert fetches and fetches[0][0] == 1
        items = fetches[0][2]  # (name, value, name, value...): UID may come along with FLAGS
        data = dict(zip(items[::2], items[1::2]))
        assert b"\\Flagged" in data[b"FLAGS"]
    finally:
        watcher.logout()
        writer.logout()


def test_namespace_id_and_capabilities(client):
    namespace = client.namespace()
    assert namespace.personal[0][0] == "" and namespace.personal[0][1] == "/"
    if client.has_capability("ID"):
        info = client.id_({"name": "imapclient-test"})
        assert info is None or isinstance(info, (tuple, list, dict))
    assert client.has_capability("IDLE")
    assert client.noop()[0] is not None
