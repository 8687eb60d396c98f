"""Two sessions of one user: what one does to mailboxes, the other sees (issue: multi-device sync).

Mailbox-list changes are seen by the other session's next LIST/LSUB/STATUS (IMAP has no unsolicited LIST
without NOTIFY); message changes to its selected mailbox arrive as untagged responses at its next command
boundary (RFC 9051 §7.4.1, §5.2)."""

from __future__ import annotations

MESSAGE = b"Subject: sync\r\n\r\nbody\r\n"


async def test_create_rename_delete_seen_by_list(session):
    a, b = await session(), await session()
    await a.ok("CREATE Shared/Plans")
    assert await b.ok('LIST "" "Shared*"') == [
        '* LIST (\\HasChildren) "/" Shared',
        '* LIST (\\HasNoChildren) "/" Shared/Plans',
    ]
    await a.ok("RENAME Shared Common")
    assert await b.ok('LIST "" "Shared*"') == []
    assert await b.ok('LIST "" "Common*"') == [
        '* LIST (\\HasChildren) "/" Common',
        '* LIST (\\HasNoChildren) "/" Common/Plans',
    ]
    await a.ok("DELETE Common/Plans")
    assert await b.ok('LIST "" "Common*"') == ['* LIST (\\HasNoChildren) "/" Common']
    await a.ok("SUBSCRIBE Common")
    assert '* LSUB () "/" Common' in await b.ok('LSUB "" "*"')


async def test_append_in_one_session_is_exists_at_noop_in_the_other(session):
    a, b = await session(), await session()
    await b.ok("SELECT INBOX")
    untagged, tagged = await a.run(b"APPEND INBOX (\\Flagged) {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert tagged.startswith("OK [APPENDUID")
    assert untagged == []  # a has nothing selected
    assert await b.ok("NOOP") == ["* 1 EXISTS", "* 1 RECENT"]
    assert await b.ok("FETCH 1 (UID FLAGS)") == ["* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))"]
    # A MULTIAPPEND of two: one EXISTS for both.
    await a.ok(b"APPEND INBOX {%d+}\r\n%s {%d+}\r\n%s" % (len(MESSAGE), MESSAGE, len(MESSAGE), MESSAGE))
    assert (await b.ok("NOOP"))[0] == "* 3 EXISTS"


async def test_status_sees_the_other_sessions_appends(session):
    a, b = await session(), await session()
    await a.ok("SELECT Sent")
    await b.ok(b"APPEND Sent {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert await a.ok("STATUS Sent (MESSAGES UIDNEXT)") == ["* STATUS Sent (MESSAGES 1 UIDNEXT 2)", "* 1 EXISTS", "* 1 RECENT"]


async def test_close_in_one_session_is_expunge_in_the_other(session, server):
    server.store.append("alice", "INBOX", MESSAGE, flags=("\\Deleted",))
    server.store.append("alice", "INBOX", MESSAGE)
    a, b = await session(), await session()
    await a.ok("SELECT INBOX")
    await b.ok("SELECT INBOX")
    assert await a.ok("CLOSE") == []
    assert await b.ok("NOOP") == ["* 1 EXPUNGE"]


async def test_qresync_session_sees_vanished_for_the_other_close(session, server):
    server.store.append("alice", "INBOX", MESSAGE, flags=("\\Deleted",))
    a, b = await session(), await session()
    await b.ok("ENABLE QRESYNC")
    await a.ok("SELECT INBOX")
    await b.ok("SELECT INBOX")
    await a.ok("CLOSE")
    assert await b.ok("NOOP") == ["* VANISHED 1"]  # RFC 7162 §3.2.10


async def test_other_users_are_not_affected(session):
    alice, bob = await session("alice"), await session("bob")
    await bob.ok("SELECT INBOX")
    await alice.ok("CREATE Private")
    await alice.ok(b"APPEND INBOX {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert await bob.ok("NOOP") == []
    assert await bob.ok('LIST "" "Private"') == []
    assert (await bob.run("STATUS Private (MESSAGES)"))[1].startswith("NO [NONEXISTENT]")


async def test_append_to_the_selected_mailbox_is_recent_there_only(session):
    """RFC 3501 §2.3.2: the appending session is the first told of its message (EXISTS before its OK),
    so the message is \\Recent there and nowhere else; appended elsewhere, or by a session that has the
    mailbox open read-only, it stays recent for the next session to select it."""
    a, b, c = await session(), await session(), await session()
    await a.ok("SELECT INBOX")
    await b.ok("SELECT INBOX")
    untagged, tagged = await a.run(b"APPEND INBOX {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert tagged.startswith("OK [APPENDUID")
    assert untagged == ["* 1 EXISTS", "* 1 RECENT"]
    assert await a.ok("FETCH 1 (FLAGS)") == ["* 1 FETCH (FLAGS (\\Recent))"]
    assert await b.ok("NOOP") == ["* 1 EXISTS"]
    assert await b.ok("FETCH 1 (FLAGS)") == ["* 1 FETCH (FLAGS ())"]
    assert await c.ok("STATUS INBOX (MESSAGES RECENT)") == ["* STATUS INBOX (MESSAGES 1 RECENT 0)"]
    # Into another mailbox than the selected one: nothing claimed.
    await a.ok(b"APPEND Sent {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert await c.ok("STATUS Sent (RECENT)") == ["* STATUS Sent (RECENT 1)"]
    # From a read-only view (EXAMINE): nothing claimed either; the next SELECT gets it.
    await b.ok("EXAMINE Drafts")
    untagged, tagged = await b.run(b"APPEND Drafts {%d+}\r\n" % len(MESSAGE) + MESSAGE)
    assert tagged.startswith("OK [APPENDUID") and untagged == ["* 1 EXISTS"]
    assert "* 1 RECENT" in await c.ok("SELECT Drafts")


async def test_the_same_list_again_sees_every_change_of_the_other_session(session):
    """A repeated LIST answers from what it last sent when nothing changed (``mailboxes.list_``): each
    change of the mailbox tree, of a special use or of a subscription shows in the next identical LIST,
    and so does the switch to UTF-8 names."""
    a, b = await session(), await session()
    plain = 'LIST "" "Pro*"'
    subscribed = 'LIST (SUBSCRIBED) "" "Pro*"'
    assert await b.ok(plain) == []
    await a.ok("CREATE Projekt")
    assert await b.ok(plain) == ['* LIST (\\HasNoChildren) "/" Projekt']
    assert await b.ok(plain) == ['* LIST (\\HasNoChildren) "/" Projekt']  # unchanged: the same bytes
    await a.ok("CREATE Projekt/Q3")
    assert await b.ok(plain) == ['* LIST (\\HasChildren) "/" Projekt', '* LIST (\\HasNoChildren) "/" Projekt/Q3']
    assert await b.ok(subscribed) == []
    await a.ok("SUBSCRIBE Projekt/Q3")
    assert await b.ok(subscribed) == ['* LIST (\\Subscribed) "/" Projekt/Q3']
    await a.ok("UNSUBSCRIBE Projekt/Q3")
    assert await b.ok(subscribed) == []
    await a.ok("DELETE Projekt/Q3")
    await a.ok("CREATE Proben (USE (\\Archive))")
    assert await b.ok(plain) == ['* LIST (\\HasNoChildren \\Archive) "/" Proben', '* LIST (\\HasNoChildren) "/" Projekt']
    await a.ok("CREATE Pr&APw-fung")  # "Prüfung" in modified UTF-7
    assert '* LIST (\\HasNoChildren) "/" Pr&APw-fung' in await b.ok('LIST "" "Pr*"')
    await b.ok("ENABLE UTF8=ACCEPT")
    assert '* LIST (\\HasNoChildren) "/" "Prüfung"' in await b.ok('LIST "" "Pr*"')
