"""Store writes the server runs inline on its event loop (``Store.call_if_writer_free``): what they leave
for a worker thread, and only when there is something to do."""

from __future__ import annotations

from imapcore.store import FlagMode, Store

MESSAGE = b"Subject: twice\r\nFrom: a@example.org\r\n\r\nthe same bytes\r\n"


def test_an_inline_expunge_leaves_a_collection_only_for_a_blob_without_references(tmp_path):
    with Store.open(tmp_path / "data", durable=False) as store:
        store.create_user("alice")
        inbox = store.mailbox("alice", "INBOX").id
        store.append("alice", "INBOX", MESSAGE)
        store.append("alice", "Sent", MESSAGE)  # the same bytes: one blob, two references
        store.store_flags(inbox, [1], FlagMode.ADD, ["\\Deleted"])
        done, result = store.call_if_writer_free(store.expunge, inbox, None)
        assert done and result.uids == (1,)
        assert not store.collection_pending  # the Sent copy still holds the blob: no thread hop for nothing
        sent = store.mailbox("alice", "Sent").id
        store.store_flags(sent, [1], FlagMode.ADD, ["\\Deleted"])
        done, result = store.call_if_writer_free(store.expunge, sent, None)
        assert done and result.uids == (1,)
        assert store.collection_pending  # the last reference went: the blob is collected in a thread
        assert len(store.collect_unreferenced()) == 1
        assert not store.collection_pending
