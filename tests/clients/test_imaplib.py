"""Python's imaplib against the real server on 127.0.0.1: every command imaplib has.

Each test runs against imapcore and against Dovecot (the ``server`` fixture), with a user nobody used
before. Commands of extensions imapcore does not claim (ACL, QUOTA, ANNOTATEMORE, SORT/THREAD) run
only when the server advertises them, and then must work; IDLE, which imaplib 3.11 lacks, is sent raw.
"""

from __future__ import annotations

import base64
import imaplib
import re
import threading
import time

import pytest

from support.rawimap import RawSession, make_message

DATE = imaplib.Time2Internaldate(time.mktime((2024, 3, 5, 12, 30, 0, 0, 0, -1)))


class IMAP4FromAnotherLoopback(imaplib.IMAP4):
    """Connects from 127.0.0.2: Dovecot's anvil delays every later login from an address that failed
    one (penalty grows to seconds), so the failing-login tests use their own loopback source address."""

    def _create_socket(self, timeout):
        import socket

        return socket.create_connection((self.host, self.port), timeout, source_address=("127.0.0.2", 0))


@pytest.fixture
def imap(account):
    server, user, password = account
    client = imaplib.IMAP4(server.host, server.port, timeout=20)
    client.login(user, password)
    yield client
    try:
        client.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def ok(result):
    typ, data = result
    assert typ == "OK", data
    return data


def caps(client) -> set[str]:
    """The capabilities advertised now (they change at login: ask again)."""
    if client.state == "NONAUTH":
        return {c.upper() for c in client.capabilities}
    return {c.upper() for c in ok(client.capability())[0].decode().split()}


def names_of(list_data) -> list[str]:
    names = []
    for line in list_data:
        if isinstance(line, tuple):  # a literal mailbox name
            names.append(line[1].decode())
            continue
        match = re.match(rb'\((.*?)\) (NIL|"[^"]*") (.*)$', line)
        assert match, line
        name = match.group(3)
        names.append(name.strip(b'"').decode())
    return names


def test_capability_noop_logout(account):
    server, user, password = account
    client = imaplib.IMAP4(server.host, server.port, timeout=20)
    before = caps(client)
    assert "IMAP4REV1" in before
    if server.kind == "imapcore":
        # RFC 9051 §7.2.2 / issue: imapcore advertises both revisions.
        assert "IMAP4REV2" in before
    # Cleartext LOGIN is allowed on loopback (RFC 9051 §11.1 leaves the policy to the server).
    assert "LOGINDISABLED" not in before
    typ, data = client.login(user, password)
    assert typ == "OK"
    after = {c.upper() for c in ok(client.capability())[0].decode().split()}
    assert "IMAP4REV1" in after
    assert {"IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "CONDSTORE", "ENABLE"} <= after
    assert ok(client.noop()) is not None
    typ, data = client.logout()
    assert typ == "BYE"


def test_wrong_password_is_refused_and_session_stays_usable(account):
    server, user, password = account
    client = IMAP4FromAnotherLoopback(server.host, server.port, timeout=20)
    with pytest.raises(imaplib.IMAP4.error) as info:
        client.login(user, password + "-wrong")
    assert "AUTHENTICATIONFAILED" in str(info.value)
    typ, _ = client.login(user, password)
    assert typ == "OK"
    client.logout()


def test_authenticate_plain(account):
    server, user, password = account
    client = imaplib.IMAP4(server.host, server.port, timeout=20)
    assert "AUTH=PLAIN" in caps(client)
    typ, _ = client.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
    assert typ == "OK"
    assert client.state == "AUTH"
    ok(client.select("INBOX"))
    client.logout()


def test_authenticate_plain_wrong_password(account):
    server, user, password = account
    client = IMAP4FromAnotherLoopback(server.host, server.port, timeout=20)
    with pytest.raises(imaplib.IMAP4.error) as info:
        client.authenticate("PLAIN", lambda _: f"\0{user}\0nope".encode())
    assert "AUTHENTICATIONFAILED" in str(info.value)
    client.logout()


def test_mailbox_commands(imap):
    default = names_of(ok(imap.list()))
    assert "INBOX" in default
    ok(imap.create("Projects"))
    ok(imap.create("Projects/Alpha"))
    typ, data = imap.create("Projects")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    listed = names_of(ok(imap.list('""', "Projects*")))
    assert sorted(listed) == ["Projects", "Projects/Alpha"]
    assert names_of(ok(imap.list('""', "Projects/%"))) == ["Projects/Alpha"]
    ok(imap.subscribe("Projects/Alpha"))
    assert "Projects/Alpha" in names_of(ok(imap.lsub('""', "*")))
    ok(imap.unsubscribe("Projects/Alpha"))
    assert "Projects/Alpha" not in names_of([line for line in ok(imap.lsub('""', "*")) if line])
    ok(imap.rename("Projects", "Work"))
    assert sorted(names_of(ok(imap.list('""', "Work*")))) == ["Work", "Work/Alpha"]
    assert names_of([line for line in ok(imap.list('""', "Projects*")) if line]) == []
    ok(imap.delete("Work/Alpha"))
    ok(imap.delete("Work"))
    typ, data = imap.delete("Work")
    assert typ == "NO" and b"NONEXISTENT" in data[0]
    typ, data = imap.select("Missing")
    assert typ == "NO"  # Dovecot sends no code here; [NONEXISTENT] would be as good (RFC 5530)


def test_append_status_fetch_search_store_copy_expunge(imap):
    ok(imap.create("Box"))
    for i in range(1, 6):
        flags = r"(\Seen)" if i % 2 else ""
        ok(imap.append("Box", flags, DATE, make_message(subject=f"Message {i}", body=f"Body number {i}\r\n")))
    status = ok(imap.status("Box", "(MESSAGES UIDNEXT UNSEEN RECENT)"))[0].decode()
    assert re.search(r"MESSAGES 5\b", status) and re.search(r"UNSEEN 2\b", status)
    assert re.search(r"UIDNEXT 6\b", status)

    data = ok(imap.select("Box"))
    assert data == [b"5"]
    assert imap.untagged_responses.get("RECENT") == [b"5"]
    flags = ok(imap.fetch("1:5", "(UID FLAGS)"))
    assert [re.search(rb"UID (\d+)", line).group(1) for line in flags] == [b"1", b"2", b"3", b"4", b"5"]
    assert b"\\Seen" in flags[0] and b"\\Seen" not in flags[1]

    fetched = ok(imap.fetch("2", "(RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[TEXT])"))
    header = next(item for item in fetched if isinstance(item, tuple) and b"HEADER.FIELDS" in item[0])
    assert header[1].strip() == b"Subject: Message 2"
    text = next(item for item in fetched if isinstance(item, tuple) and b"BODY[TEXT]" in item[0])
    assert text[1] == b"Body number 2\r\n"
    raw_size = len(make_message(subject="Message 2", body="Body number 2\r\n"))
    joined = b" ".join(item[0] if isinstance(item, tuple) else item for item in fetched)
    assert re.search(rb"RFC822.SIZE %d\b" % raw_size, joined)
    # date-day-fixed is SP DIGIT or 2DIGIT (RFC 9051 §9): " 5-Mar" and "05-Mar" are both right.
    assert re.search(rb'INTERNALDATE "( 5|05)-Mar-2024 12:30:00', joined)
    # BODY[TEXT] (not PEEK) set \Seen on message 2 (RFC 9051 §6.4.5).
    assert b"\\Seen" in ok(imap.fetch("2", "(FLAGS)"))[0]

    partial = ok(imap.fetch("1", "(BODY.PEEK[TEXT]<0.4>)"))
    assert partial[0][1] == b"Body"

    assert ok(imap.search(None, "UNSEEN")) == [b"4"]
    assert ok(imap.search(None, "SUBJECT", '"Message 3"')) == [b"3"]
    assert ok(imap.search(None, "OR", "SUBJECT", "1", "SUBJECT", "5")) == [b"1 5"]
    assert ok(imap.search(None, "BODY", "number", "NOT", "SEEN")) == [b"4"]
    assert ok(imap.uid("SEARCH", None, "UID", "2:4")) == [b"2 3 4"]

    stored = ok(imap.store("1:2", "+FLAGS", r"(\Flagged)"))
    assert all(b"\\Flagged" in line for line in stored)
    ok(imap.store("1", "-FLAGS.SILENT", r"(\Seen)"))
    assert b"\\Seen" not in ok(imap.fetch("1", "(FLAGS)"))[0]
    ok(imap.store("3", "FLAGS", r"(\Answered $Label1)"))
    flags3 = ok(imap.fetch("3", "(FLAGS)"))[0]
    assert b"\\Answered" in flags3 and b"$Label1" in flags3 and b"\\Seen" not in flags3
    assert ok(imap.search(None, "FLAGGED")) == [b"1 2"]
    assert ok(imap.search(None, "KEYWORD", "$Label1")) == [b"3"]

    ok(imap.create("Copies"))
    typ, data = imap.copy("1:2", "Copies")
    assert typ == "OK"
    assert b"COPYUID" in data[0] and re.search(rb"COPYUID \d+ 1:2 1:2", data[0])
    typ, data = imap.copy("1", "NoSuchBox")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    status = ok(imap.status("Copies", "(MESSAGES)"))[0]
    assert re.search(rb"MESSAGES 2\b", status)

    ok(imap.uid("STORE", "4", "+FLAGS", r"(\Deleted)"))
    ok(imap.store("5", "+FLAGS.SILENT", r"(\Deleted)"))
    expunged = ok(imap.expunge())
    # Either order is right: 4 then the former 5 (now 4), or 5 then 4 (Dovecot) (RFC 9051 §7.5.1).
    assert expunged in ([b"4", b"4"], [b"5", b"4"])
    assert ok(imap.uid("FETCH", "1:*", "(FLAGS)")) and len(ok(imap.fetch("1:*", "(UID)"))) == 3
    imap.untagged_responses.pop("COPYUID", None)
    ok(imap.uid("COPY", "3", "Copies"))
    # imaplib files the tagged response's code under its name: "<uidvalidity> <source> <target>".
    copyuid = imap.untagged_responses.get("COPYUID", [b""])[0]
    assert re.fullmatch(rb"\d+ 3 3", copyuid), copyuid
    ok(imap.check())
    ok(imap.close())
    assert imap.state == "AUTH"
    status = ok(imap.status("Box", "(MESSAGES)"))[0]
    assert re.search(rb"MESSAGES 3\b", status)


def test_close_expunges_but_unselect_does_not(imap):
    ok(imap.create("Tmp"))
    ok(imap.append("Tmp", r"(\Deleted)", DATE, make_message(subject="gone")))
    ok(imap.append("Tmp", r"(\Deleted)", DATE, make_message(subject="kept")))
    ok(imap.select("Tmp"))
    ok(imap.unselect())
    assert re.search(rb"MESSAGES 2\b", ok(imap.status("Tmp", "(MESSAGES)"))[0])
    ok(imap.select("Tmp"))
    ok(imap.close())
    assert re.search(rb"MESSAGES 0\b", ok(imap.status("Tmp", "(MESSAGES)"))[0])


def test_examine_is_read_only(imap):
    ok(imap.append("INBOX", "", DATE, make_message()))
    ok(imap.select("INBOX", readonly=True))
    # RFC 9051 §6.3.3: no change to the mailbox is permitted. Dovecot answers OK and changes nothing;
    # NO [READ-ONLY]... is as good: what matters is that the flag did not change.
    imap.store("1", "+FLAGS", r"(\Flagged)")
    assert b"\\Flagged" not in ok(imap.fetch("1", "(FLAGS)"))[0]
    # FETCH BODY[] in a read-only mailbox does not set \Seen (RFC 9051 §6.3.3).
    ok(imap.fetch("1", "(BODY[])"))
    assert b"\\Seen" not in ok(imap.fetch("1", "(FLAGS)"))[0]


def test_move_and_uid_move(imap):
    assert "MOVE" in caps(imap)
    ok(imap.create("Target"))
    for i in range(3):
        ok(imap.append("INBOX", "", DATE, make_message(subject=f"m{i}")))
    ok(imap.select("INBOX"))
    typ, data = imap._simple_command("MOVE", "1", "Target")
    assert typ == "OK"
    assert imap.untagged_responses.get("EXPUNGE") == [b"1"]
    imap.untagged_responses.clear()
    ok(imap.uid("MOVE", "3", "Target"))
    assert re.search(rb"MESSAGES 1\b", ok(imap.status("INBOX", "(MESSAGES)"))[0])
    assert re.search(rb"MESSAGES 2\b", ok(imap.status("Target", "(MESSAGES)"))[0])


def test_namespace_enable_and_partial_capabilities(imap):
    data = ok(imap.namespace())[0]
    assert data.startswith(b'(("" "/")) NIL NIL')
    typ, data = imap.enable("CONDSTORE")
    assert typ == "OK"
    assert imap.untagged_responses.get("ENABLED") == [b"CONDSTORE"]
    ok(imap.append("INBOX", "", DATE, make_message()))
    ok(imap.select("INBOX"))
    assert re.search(rb"MODSEQ \(\d+\)", ok(imap.fetch("1", "(FLAGS MODSEQ)"))[0])
    stored = ok(imap.store("1", "+FLAGS", r"(\Seen)"))
    # RFC 7162 §3.2: once CONDSTORE is enabled, FETCH responses caused by STORE carry MODSEQ.
    assert re.search(rb"MODSEQ \(\d+\)", stored[0])


def test_optional_extensions_when_advertised(imap):
    advertised = caps(imap)
    ok(imap.append("INBOX", "", DATE, make_message(subject="b")))
    ok(imap.append("INBOX", "", DATE, make_message(subject="a")))
    ok(imap.select("INBOX"))
    if "SORT" in advertised:
        assert ok(imap.sort("(SUBJECT)", "UTF-8", "ALL")) == [b"2 1"]
    if any(c.startswith("THREAD=") for c in advertised):
        algorithm = "REFERENCES" if "THREAD=REFERENCES" in advertised else "ORDEREDSUBJECT"
        assert ok(imap.thread(algorithm, "UTF-8", "ALL"))[0] in (b"(1)(2)", b"(2)(1)")
    if "QUOTA" in advertised:
        ok(imap.getquotaroot("INBOX"))
    if "ACL" in advertised:
        ok(imap.myrights("INBOX"))
    # imaplib's xatom sends a command as is; an unknown command is BAD and the session goes on.
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        imap.xatom("XNOSUCHCOMMAND")
    ok(imap.noop())


def test_idle_sees_another_sessions_append(account):
    server, user, password = account
    watcher = RawSession(server.host, server.port, timeout=15)
    try:
        watcher.command(f'LOGIN "{user}" "{password}"')
        untagged, tagged = watcher.command("SELECT INBOX")
        assert b"OK" in tagged and any(line == b"* 0 EXISTS" for line in untagged)
        tag = watcher.send_command(b"IDLE")
        assert watcher.read_response().startswith(b"+")
        writer = imaplib.IMAP4(server.host, server.port, timeout=20)
        writer.login(user, password)
        ok(writer.append("INBOX", "", DATE, make_message(subject="pushed")))
        started = time.monotonic()
        seen = watcher.wait_for(rb"^\* 1 EXISTS", timeout=10)
        assert time.monotonic() - started < 10
        watcher.send(b"DONE\r\n")
        rest, tagged = watcher.collect(tag)
        assert tagged.startswith(tag.encode() + b" OK")
        writer.logout()
        assert any(line == b"* 1 EXISTS" for line in seen)
    finally:
        watcher.close()


def test_literal_mailbox_name_and_noop_updates(account):
    server, user, password = account
    a = imaplib.IMAP4(server.host, server.port, timeout=20)
    b = imaplib.IMAP4(server.host, server.port, timeout=20)
    a.login(user, password)
    b.login(user, password)
    ok(a.select("INBOX"))
    a.untagged_responses.clear()
    ok(b.append("INBOX", r"(\Flagged)", DATE, make_message(subject="from b")))
    ok(a.noop())
    assert a.untagged_responses.get("EXISTS") == [b"1"]
    a.untagged_responses.clear()
    ok(b.select("INBOX"))
    ok(b.store("1", "+FLAGS", r"(\Deleted)"))
    ok(b.expunge())
    ok(a.noop())
    assert a.untagged_responses.get("EXPUNGE") == [b"1"]
    a.logout()
    b.logout()


def test_concurrent_clients_do_not_block_each_other(account):
    server, user, password = account
    errors = []

    def worker(n: int) -> None:
        try:
            c = imaplib.IMAP4(server.host, server.port, timeout=20)
            c.login(user, password)
            for i in range(5):
                ok(c.append("INBOX", "", DATE, make_message(subject=f"w{n}-{i}")))
            c.logout()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    c = imaplib.IMAP4(server.host, server.port, timeout=20)
    c.login(user, password)
    assert re.search(rb"MESSAGES 20\b", ok(c.status("INBOX", "(MESSAGES)"))[0])
    assert ok(c.select("INBOX")) == [b"20"]
    uids = ok(c.uid("SEARCH", None, "ALL"))[0].split()
    assert uids == [str(i).encode() for i in range(1, 21)]
    c.logout()


def test_authenticate_with_sasl_ir_raw(account):
    server, user, password = account
    with RawSession(server.host, server.port) as s:
        initial = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        _, tagged = s.command(f"AUTHENTICATE PLAIN {initial}")
        assert b" OK" in tagged
        _, tagged = s.command("SELECT INBOX")
        assert b" OK" in tagged


def test_recent_is_seen_by_exactly_one_session(account):
    """RFC 3501 §2.3.2: \\Recent is set in only one session, the first notified of the new message."""
    server, user, password = account
    a = RawSession(server.host, server.port, timeout=15)
    b = RawSession(server.host, server.port, timeout=15)
    try:
        for session in (a, b):
            session.command(f'LOGIN "{user}" "{password}"')
            session.command("SELECT INBOX")
        tag = b.send_command(b"IDLE")
        assert b.read_response().startswith(b"+")
        a.command("APPEND INBOX {}", (make_message(subject="recent"),))
        b.wait_for(rb"^\* 1 EXISTS", timeout=10)
        b.send(b"DONE\r\n")
        b.collect(tag)
        a.command("NOOP")
        flags = [s.command("FETCH 1 (FLAGS)")[0][0] for s in (a, b)]
        assert sum(b"\\Recent" in f for f in flags) == 1, flags
    finally:
        a.close()
        b.close()
