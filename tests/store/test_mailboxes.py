import pytest

from imapcore.store import (
    CannotDeleteInbox,
    HasChildren,
    InvalidMailboxName,
    MailboxExists,
    FlagMode,
    MailboxNotFound,
    Store,
    UserExists,
)


def names(store, user="alice"):
    return [m.name for m in store.list_mailboxes(user)]


def test_new_user_gets_special_use_mailboxes(store):
    boxes = {m.name: m for m in store.list_mailboxes("alice")}
    assert {name: m.special_use for name, m in boxes.items()} == {
        "INBOX": None, "Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk",
        "Archive": "\\Archive",
    }
    assert all(m.subscribed for m in boxes.values())
    assert len({m.mailbox_id for m in boxes.values()}) == 6
    with pytest.raises(UserExists):
        store.create_user("alice")


def test_create_makes_missing_parents_and_refuses_duplicates(store):
    store.create_mailbox("alice", "a/b/c")
    assert {"a", "a/b", "a/b/c"} <= set(names(store))
    with pytest.raises(MailboxExists) as info:
        store.create_mailbox("alice", "a/b")
    assert info.value.code == "ALREADYEXISTS"
    with pytest.raises(InvalidMailboxName):
        store.create_mailbox("alice", "a//b")
    assert "a//b" not in names(store)


def test_delete_rules(store):
    with pytest.raises(CannotDeleteInbox):
        store.delete_mailbox("alice", "inbox")
    store.create_mailbox("alice", "p/q")
    with pytest.raises(HasChildren) as info:
        store.delete_mailbox("alice", "p")
    assert info.value.code == "HASCHILDREN"
    store.delete_mailbox("alice", "p/q")
    store.delete_mailbox("alice", "p")
    assert "p" not in names(store)
    with pytest.raises(MailboxNotFound) as missing:
        store.delete_mailbox("alice", "p")
    assert missing.value.code == "NONEXISTENT"


def test_recreated_mailbox_gets_new_uidvalidity_and_keeps_no_uids(store):
    store.create_mailbox("alice", "box")
    store.append("alice", "box", b"Subject: x\r\n\r\n1\r\n")
    first = store.mailbox("alice", "box")
    store.delete_mailbox("alice", "box")
    store.create_mailbox("alice", "box")
    second = store.mailbox("alice", "box")
    assert second.uid_validity > first.uid_validity
    assert store.status("alice", "box").messages == 0


def test_rename_moves_children_but_not_subscriptions(store):
    store.create_mailbox("alice", "a/b/c")
    store.subscribe("alice", "a/b")
    ids = {m.name: m.id for m in store.list_mailboxes("alice")}
    validity = store.mailbox("alice", "a/b").uid_validity
    store.rename_mailbox("alice", "a", "x/y")
    current = {m.name: m.id for m in store.list_mailboxes("alice")}
    assert current["x/y"] == ids["a"] and current["x/y/b"] == ids["a/b"] and current["x/y/b/c"] == ids["a/b/c"]
    assert "x" in current and "a" not in current
    assert store.mailbox("alice", "x/y/b").uid_validity == validity
    # RFC 9051 §6.3.6: "renaming a mailbox doesn't update subscription information on the original
    # name"; §6.3.7: the server SHOULD NOT remove a subscription by itself.
    subscribed = store.subscriptions("alice")
    assert "a/b" in subscribed and "x/y/b" not in subscribed and "x/y" not in subscribed
    assert store.mailbox("alice", "x/y/b").subscribed is False
    with pytest.raises(MailboxExists):
        store.rename_mailbox("alice", "Sent", "Trash")
    with pytest.raises(InvalidMailboxName):
        store.rename_mailbox("alice", "x", "x/y/z")
    with pytest.raises(MailboxNotFound):
        store.rename_mailbox("alice", "nope", "other")


def test_rename_inbox_moves_messages_and_leaves_inbox_empty(store):
    store.create_mailbox("alice", "INBOX/child")
    for i in range(3):
        store.append("alice", "INBOX", f"Subject: {i}\r\n\r\nbody {i}\r\n".encode(), ["\\Flagged"])
    store.rename_mailbox("alice", "INBOX", "Old Mail")
    assert store.status("alice", "INBOX").messages == 0
    assert store.status("alice", "INBOX").uid_next == 4  # UIDs of INBOX are never reused
    old = store.mailbox("alice", "Old Mail")
    rows = store.fetch_rows(old.id, [1, 2, 3], ["flags"])
    assert [r.flags for r in rows] == [frozenset({"\\Flagged"})] * 3
    assert "INBOX/child" in names(store)  # inferiors of INBOX are not renamed


def test_subscriptions_survive_delete(store):
    store.create_mailbox("alice", "lists")
    store.subscribe("alice", "lists")
    store.subscribe("alice", "not-yet")
    store.delete_mailbox("alice", "lists")
    assert {"lists", "not-yet"} <= set(store.subscriptions("alice"))
    store.unsubscribe("alice", "lists")
    assert "lists" not in store.subscriptions("alice")


def test_statuses_of_all_mailboxes_in_one_call(store):
    store.append("alice", "Sent", b"Subject: s\r\n\r\nsent\r\n", ["\\Seen"])
    statuses = store.statuses("alice")
    assert set(statuses) == {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"}
    assert (statuses["Sent"].messages, statuses["Sent"].unseen, statuses["INBOX"].messages) == (1, 0, 0)
    assert statuses["Sent"] == store.status("alice", "Sent")


def test_delete_user_removes_everything_and_the_name_can_return(store):
    store.create_user("bob")
    raw = b"Subject: only bob\r\n\r\nx\r\n"
    store.append("bob", "INBOX", raw)
    store.append("alice", "INBOX", b"Subject: alice\r\n\r\ny\r\n")
    store.delete_user("bob")
    assert "bob" not in store.users()
    assert len(list(store.blobs.iter_ids())) == 1  # bob's blob went, alice's stayed
    store.create_user("bob")
    assert store.status("bob", "INBOX").messages == 0
    assert store.fsck().clean


def test_delete_user_is_one_public_call_that_leaves_nothing_behind(tmp_path):
    """``Store.delete_user`` is all ``imapcore user del`` needs: rows of every table go, the feed hears
    of every mailbox, an unknown name is refused, and nothing of the user survives a reopen."""
    from imapcore.store import ChangeKind, MailboxNotFound, UserNotFound

    class Recorder:
        def __init__(self):
            self.changes = []

        def publish(self, changes):
            self.changes.extend(changes)

    recorder = Recorder()
    with Store.open(tmp_path / "d", durable=False, feed=recorder) as store:
        store.create_user("carol")
        store.create_mailbox("carol", "Lists/Rust")
        store.subscribe("carol", "Lists/Rust")
        result = store.append("carol", "INBOX", b"Subject: a\r\n\r\nb\r\n", ["$Label"])
        inbox = result.mailbox_id
        store.store_flags(inbox, [1], FlagMode.ADD, ["\\Deleted"])
        store.expunge(inbox)
        ids = {m.name: m.id for m in store.list_mailboxes("carol")}
        recorder.changes.clear()
        store.delete_user("carol")
        deleted = {(c.mailbox_id, c.mailbox_name) for c in recorder.changes if c.kind is ChangeKind.MAILBOX_DELETED}
        assert deleted == {(mailbox_id, name) for name, mailbox_id in ids.items()}
        with pytest.raises(UserNotFound):
            store.delete_user("carol")
        with pytest.raises(MailboxNotFound):
            store.status_by_id(inbox)
    with Store.open(tmp_path / "d", durable=False) as store:
        conn = store._writer
        for table in ("mailboxes", "subscriptions", "messages", "expunged", "mailbox_keywords", "blobs", "users"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert list(store.blobs.iter_ids()) == []


def test_create_with_special_use(store):
    from imapcore.store import InvalidSpecialUse

    created = store.create_mailbox("alice", "Everything", special_use="\\all")
    assert created.special_use == "\\All"
    with pytest.raises(InvalidSpecialUse) as info:
        store.create_mailbox("alice", "Odd", special_use="\\Bogus")
    assert info.value.code == "USEATTR"
    assert "Odd" not in names(store)
