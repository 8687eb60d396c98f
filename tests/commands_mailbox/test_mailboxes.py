"""Transcripts of CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, NAMESPACE and STATUS against
the real server on a random loopback port (RFC 9051 §6.3, RFC 5258, RFC 5819, RFC 6154, RFC 8438)."""

from __future__ import annotations

import re

DEFAULT_LIST = [
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* LIST (\\HasNoChildren \\Archive) "/" Archive',
    '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
    '* LIST (\\HasNoChildren \\Junk) "/" Junk',
    '* LIST (\\HasNoChildren \\Sent) "/" Sent',
    '* LIST (\\HasNoChildren \\Trash) "/" Trash',
]


async def test_list_defaults_and_delimiter_probe(session):
    s = await session()
    assert await s.ok('LIST "" "*"') == DEFAULT_LIST
    assert await s.ok('LIST "" ""') == ['* LIST (\\Noselect) "/" ""']
    assert await s.ok('LIST "" "inbox"') == ['* LIST (\\HasNoChildren) "/" INBOX']
    assert await s.ok("NAMESPACE") == ['* NAMESPACE (("" "/")) NIL NIL']


async def test_create_with_superiors_and_trailing_delimiter(session):
    s = await session()
    untagged, tagged = await s.run('CREATE "Projects/2024/"')
    assert untagged == []
    assert re.fullmatch(r"OK \[MAILBOXID \(F[0-9a-f]+\)\] CREATE completed", tagged)
    assert await s.ok('LIST "" "Projects*"') == [
        '* LIST (\\HasChildren) "/" Projects',
        '* LIST (\\HasNoChildren) "/" Projects/2024',
    ]
    assert await s.ok('LIST "Projects/" "%"') == ['* LIST (\\HasNoChildren) "/" Projects/2024']


async def test_create_refusals(session):
    s = await session()
    assert (await s.run("CREATE inbox"))[1].startswith("NO [ALREADYEXISTS]")
    assert (await s.run("CREATE Sent"))[1].startswith("NO [ALREADYEXISTS]")
    assert (await s.run('CREATE "a%b"'))[1].startswith("NO [CANNOT]")  # wildcards can never be listed
    assert (await s.run('CREATE "a//b"'))[1].startswith("NO [CANNOT]")
    # 8-bit names are not modified UTF-7: BAD from the tokenizer when quoted, NO [CANNOT] as a literal.
    assert (await s.run('CREATE "Café"'.encode()))[1].startswith("BAD")
    assert (await s.run("CREATE {5+}\r\nCafé".encode()))[1].startswith("NO [CANNOT]")
    assert await s.ok('LIST "" "*"') == DEFAULT_LIST


async def test_create_special_use(session):
    s = await session()
    await s.ok("CREATE Outbox (USE (\\Sent))")
    assert await s.ok('LIST "" Outbox RETURN (SPECIAL-USE)') == ['* LIST (\\Sent) "/" Outbox']
    # An extended LIST without CHILDREN leaves \\HasChildren/\\HasNoChildren out, as Dovecot does.
    assert await s.ok('LIST (SPECIAL-USE) "" "*"') == [
        '* LIST (\\Archive) "/" Archive',
        '* LIST (\\Drafts) "/" Drafts',
        '* LIST (\\Junk) "/" Junk',
        '* LIST (\\Sent) "/" Outbox',
        '* LIST (\\Sent) "/" Sent',
        '* LIST (\\Trash) "/" Trash',
    ]
    assert await s.ok('LIST (SPECIAL-USE) "" "Out*" RETURN (CHILDREN)') == ['* LIST (\\HasNoChildren \\Sent) "/" Outbox']
    untagged, tagged = await s.run("CREATE Important (USE (\\Flagged))")
    assert tagged.startswith("NO [USEATTR]")  # RFC 6154 §3: a virtual mailbox cannot be created
    untagged, tagged = await s.run("CREATE Other (USE (\\Whatever))")
    assert tagged.startswith("NO [USEATTR]")
    assert (await s.run("STATUS Important (MESSAGES)"))[1].startswith("NO [NONEXISTENT]")


async def test_delete(session):
    s = await session()
    await s.ok("CREATE Parent/Child")
    untagged, tagged = await s.run("DELETE Parent")
    assert tagged.startswith("NO [HASCHILDREN]")
    await s.ok("DELETE Parent/Child")
    await s.ok("DELETE Parent")
    assert (await s.run("DELETE Parent"))[1].startswith("NO [NONEXISTENT]")
    assert (await s.run("DELETE inbox"))[1].startswith("NO [CANNOT]")
    assert await s.ok('LIST "" "*"') == DEFAULT_LIST


async def test_delete_removes_messages_and_recreate_gets_new_uidvalidity(session, server):
    s = await session()
    await s.ok("CREATE Temp")
    server.store.append("alice", "Temp", b"Subject: x\r\n\r\nbody\r\n")
    before = (await s.ok("STATUS Temp (MESSAGES UIDVALIDITY)"))[0]
    await s.ok("DELETE Temp")
    await s.ok("CREATE Temp")
    after = (await s.ok("STATUS Temp (MESSAGES UIDVALIDITY)"))[0]
    old_validity = int(re.search(r"UIDVALIDITY (\d+)", before).group(1))
    new_validity = int(re.search(r"UIDVALIDITY (\d+)", after).group(1))
    assert "MESSAGES 1" in before and "MESSAGES 0" in after
    assert new_validity > old_validity  # RFC 9051 §2.3.1.1


async def test_rename_moves_inferiors_but_not_subscriptions(session):
    # RFC 9051 §6.3.6: "renaming a mailbox doesn't update subscription information on the original name"
    # (Dovecot agrees): the old names stay subscribed, the new ones are not.
    s = await session()
    await s.ok("CREATE Old/Kid")
    await s.ok("SUBSCRIBE Old/Kid")
    untagged, tagged = await s.run("RENAME Old New/Place")
    assert tagged.startswith("OK [MAILBOXID")
    assert await s.ok('LIST "" "*" RETURN (SUBSCRIBED CHILDREN)') == [
        '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
        '* LIST (\\HasNoChildren \\Subscribed \\Archive) "/" Archive',
        '* LIST (\\HasNoChildren \\Subscribed \\Drafts) "/" Drafts',
        '* LIST (\\HasNoChildren \\Subscribed \\Junk) "/" Junk',
        '* LIST (\\HasChildren) "/" New',
        '* LIST (\\HasChildren) "/" New/Place',
        '* LIST (\\HasNoChildren) "/" New/Place/Kid',
        '* LIST (\\HasNoChildren \\Subscribed \\Sent) "/" Sent',
        '* LIST (\\HasNoChildren \\Subscribed \\Trash) "/" Trash',
    ]
    subscribed = await s.ok('LIST (SUBSCRIBED) "" "Old*"')
    assert subscribed == ['* LIST (\\NonExistent \\Subscribed) "/" Old/Kid']
    assert (await s.run("RENAME Missing Other"))[1].startswith("NO [NONEXISTENT]")
    assert (await s.run("RENAME Sent Drafts"))[1].startswith("NO [ALREADYEXISTS]")
    assert (await s.run("RENAME Sent Sent/Below"))[1].startswith("NO [CANNOT]")


async def test_rename_inbox_moves_messages_and_leaves_it_empty(session, server):
    s = await session()
    for number in range(3):
        server.store.append("alice", "INBOX", f"Subject: {number}\r\n\r\nbody\r\n".encode())
    await s.ok("RENAME INBOX Saved")  # RFC 9051 §6.3.6
    assert await s.ok("STATUS INBOX (MESSAGES)") == ["* STATUS INBOX (MESSAGES 0)"]
    assert await s.ok("STATUS Saved (MESSAGES UIDNEXT)") == ["* STATUS Saved (MESSAGES 3 UIDNEXT 4)"]


async def test_subscribe_unsubscribe_and_lsub(session):
    s = await session()
    await s.ok("CREATE Lists/Python")
    await s.ok("SUBSCRIBE Lists/Python")
    assert (await s.run("SUBSCRIBE Nowhere"))[1].startswith("NO [NONEXISTENT]")
    assert await s.ok('LSUB "" "*"') == [
        '* LSUB () "/" INBOX',
        '* LSUB (\\Archive) "/" Archive',
        '* LSUB (\\Drafts) "/" Drafts',
        '* LSUB (\\Junk) "/" Junk',
        '* LSUB () "/" Lists/Python',
        '* LSUB (\\Sent) "/" Sent',
        '* LSUB (\\Trash) "/" Trash',
    ]
    # RFC 3501 §6.3.9: "%" shows the unsubscribed superior of a subscribed name as \Noselect.
    assert '* LSUB (\\Noselect) "/" Lists' in await s.ok('LSUB "" "%"')
    await s.ok("UNSUBSCRIBE Lists/Python")
    await s.ok("UNSUBSCRIBE Lists/Python")  # RFC 9051 §6.3.8: not subscribed is still OK
    assert await s.ok('LSUB "" "Lists*"') == []
    # A subscription outlives its mailbox (RFC 9051 §6.3.7) and shows as \NonExistent.
    await s.ok("CREATE Gone")
    await s.ok("SUBSCRIBE Gone")
    await s.ok("DELETE Gone")
    assert await s.ok('LIST (SUBSCRIBED) "" "G*"') == ['* LIST (\\NonExistent \\Subscribed) "/" Gone']


async def test_list_extended_options(session):
    s = await session()
    await s.ok("CREATE Work/Deep/Er")
    await s.ok("SUBSCRIBE Work/Deep/Er")
    untagged = await s.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    assert '* LIST () "/" Work ("CHILDINFO" ("SUBSCRIBED"))' in untagged
    assert '* LIST (\\Subscribed) "/" INBOX' in untagged
    assert await s.ok('LIST "" ("Work" "Work/%") RETURN (CHILDREN)') == [
        '* LIST (\\HasChildren) "/" Work',
        '* LIST (\\HasChildren) "/" Work/Deep',
    ]
    untagged, tagged = await s.run('LIST (RECURSIVEMATCH) "" "%"')
    assert tagged.startswith("BAD")  # RFC 5258 §3.2: not alone
    untagged, tagged = await s.run('LIST (UNKNOWN) "" "%"')
    assert tagged.startswith("BAD")


async def test_list_status(session, server):
    s = await session()
    draft = b"Subject: draft\r\n\r\nhello\r\n"
    server.store.append("alice", "Drafts", draft, flags=("\\Seen",))
    untagged = await s.ok('LIST "" "D*" RETURN (STATUS (MESSAGES UNSEEN SIZE))')
    assert untagged == [
        '* LIST (\\Drafts) "/" Drafts',
        f"* STATUS Drafts (MESSAGES 1 UNSEEN 0 SIZE {len(draft)})",
    ]


async def test_status_items(session, server):
    s = await session()
    first, second = b"Subject: a\r\n\r\nfirst\r\n", b"Subject: b\r\n\r\nsecond!\r\n"
    server.store.append("alice", "INBOX", first, flags=("\\Deleted",))
    server.store.append("alice", "INBOX", second)
    (line,) = await s.ok("STATUS inbox (MESSAGES RECENT UIDNEXT UNSEEN DELETED SIZE APPENDLIMIT)")
    size = len(first) + len(second)
    assert line == f"* STATUS INBOX (MESSAGES 2 RECENT 2 UIDNEXT 3 UNSEEN 2 DELETED 1 SIZE {size} APPENDLIMIT 67108864)"
    (line,) = await s.ok("STATUS INBOX (UIDVALIDITY HIGHESTMODSEQ MAILBOXID)")
    assert re.fullmatch(r"\* STATUS INBOX \(UIDVALIDITY \d+ HIGHESTMODSEQ \d+ MAILBOXID \(F[0-9a-f]+\)\)", line)
    # RFC 9208 §4.1.4: what an EXPUNGE would reclaim, as the sum of RFC822.SIZE of \Deleted messages.
    assert await s.ok("STATUS INBOX (DELETED DELETED-STORAGE)") == [
        f"* STATUS INBOX (DELETED 1 DELETED-STORAGE {len(first)})"
    ]
    assert await s.ok("STATUS Drafts (DELETED-STORAGE)") == ["* STATUS Drafts (DELETED-STORAGE 0)"]
    assert (await s.run("STATUS Missing (MESSAGES)"))[1].startswith("NO [NONEXISTENT]")
    # STATUS of the selected mailbox is allowed.
    await s.ok("SELECT INBOX")
    assert await s.ok("STATUS INBOX (MESSAGES)") == ["* STATUS INBOX (MESSAGES 2)"]


async def test_rev1_sees_modified_utf7_and_rev2_sees_utf8(session):
    rev1 = await session()
    await rev1.ok('CREATE "Entw&APw-rfe/&ZeVnLIqe-"')
    assert await rev1.ok('LIST "" "Entw*"') == [
        '* LIST (\\HasChildren) "/" Entw&APw-rfe',
        '* LIST (\\HasNoChildren) "/" Entw&APw-rfe/&ZeVnLIqe-',
    ]
    assert (await rev1.run('CREATE "&Jjo"'))[1].startswith("NO [CANNOT]")  # broken mUTF-7
    rev2 = await session()
    await rev2.ok("ENABLE IMAP4rev2")
    untagged = await rev2.ok('LIST "" "Entw*"')
    assert untagged == ['* LIST (\\HasChildren) "/" "Entwürfe"', '* LIST (\\HasNoChildren) "/" "Entwürfe/日本語"']
    await rev2.ok('CREATE "Tom & Jerry"'.encode())
    assert await rev1.ok('LIST "" "Tom*"') == ['* LIST (\\HasNoChildren) "/" "Tom &- Jerry"']
    assert await rev2.ok('STATUS "Entwürfe/日本語" (MESSAGES)'.encode()) == ['* STATUS "Entwürfe/日本語" (MESSAGES 0)']


async def test_authenticated_state_required(server):
    from support.server import ImapTestClient

    client = await ImapTestClient.connect(server.port)
    lines = await client.command("x1", 'LIST "" "*"')
    assert lines[-1].startswith(b"x1 BAD")
    await client.aclose()
