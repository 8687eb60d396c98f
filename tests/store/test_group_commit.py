"""The group commit of deliveries (appending.py): a batch is written with one statement per table, the
refusals decided beforehand; a delivery whose rows cannot be stored sends the batch down the slow path
(one savepoint per delivery), where it fails alone and the others are committed."""

import dataclasses
import hashlib

import pytest

from imapcore.store import MailboxNotFound, NewMessage, OverQuota, Store
from imapcore.store.appending import _AppendRequest
from imapcore.store.delivery import default_summarize
from support.store_corpus import make_message

BAD = b"X-Poison: yes"


def poisoning_summarize(raw: bytes):
    """The real summary, except that a message carrying ``BAD`` gets a subject SQLite cannot store
    (a lone surrogate has no UTF-8 form): the stand-in for a row that fails inside the batch INSERT."""
    summary = default_summarize(raw)
    if BAD in raw:
        summary = dataclasses.replace(summary, subject="bad \udc80 subject")
    return summary


def commit_as_one_batch(store, deliveries):
    """Prepare ``deliveries`` ((user, mailbox, [raw]) each) and commit them as one batch, as the group
    commit's leader does with the requests queued meanwhile."""
    batch = [
        _AppendRequest(user, name, [store._prepare(NewMessage(raw)) for raw in raws])
        for user, name, raws in deliveries
    ]
    with store._lock:
        store._commit_append_batch(batch)
    return batch


def test_a_batch_keeps_uids_modseqs_quota_and_counters_exact(tmp_path):
    with Store.open(tmp_path / "d", durable=False) as store:
        store.create_user("a", quota_messages=4)
        store.create_user("b")
        store.append("a", "INBOX", make_message(1))
        messages = [make_message(n) for n in range(10, 20)]
        batch = commit_as_one_batch(store, [
            ("a", "INBOX", messages[0:2]),
            ("b", "INBOX", messages[2:3]),
            ("a", "Sent", messages[3:4]),
            ("a", "INBOX", messages[4:5]),  # the user's 5th message: over quota, refused alone
            ("a", "Nowhere", messages[5:6]),
            ("b", "INBOX", messages[6:8]),
            ("b", "INBOX", [messages[8], messages[8]]),  # the same new bytes twice: one blob row
        ])
        assert [request.result.uids if request.result else None for request in batch] == [
            (2, 3), (1,), (1,), None, None, (2, 3), (4, 5)]
        assert isinstance(batch[3].error, OverQuota) and isinstance(batch[4].error, MailboxNotFound)
        inbox = store.mailbox("a", "INBOX")
        assert (inbox.uid_next, inbox.highest_modseq) == (4, 4)
        assert batch[0].result.highest_modseq == 4  # created at 1, the first APPEND 2, then 3 and 4
        assert store.status("b", "INBOX").messages == 5 and store.mailbox("b", "INBOX").uid_next == 6
        assert tuple(store.select("b", "INBOX").uids) == (1, 2, 3, 4, 5)
        assert store.quota("a").used_messages == 4
        assert store.blob_id(inbox.id, 2) == hashlib.sha256(messages[0]).hexdigest()
        b_inbox = store.mailbox("b", "INBOX").id
        assert store.blob_id(b_inbox, 4) == store.blob_id(b_inbox, 5)
        assert store.fsck().clean and not store.fsck().counters_repaired


def test_a_row_that_cannot_be_stored_fails_only_its_own_delivery(tmp_path):
    with Store.open(tmp_path / "d", durable=False, summarize=poisoning_summarize) as store:
        store.create_user("u")
        good = [make_message(n) for n in range(30, 33)]
        poisoned = b"Subject: x\r\n" + BAD + b"\r\n\r\nbody\r\n"
        batch = commit_as_one_batch(store, [
            ("u", "INBOX", good[0:1]), ("u", "INBOX", [poisoned]), ("u", "INBOX", good[1:3])])
        assert batch[0].result.uids == (1,) and batch[2].result.uids == (2, 3)
        assert batch[1].result is None and isinstance(batch[1].error, UnicodeEncodeError)
        box = store.mailbox("u", "INBOX").id
        assert [row.blob_id for row in store.fetch_rows(box, [1, 2, 3], ("blob_id",))] == [
            hashlib.sha256(raw).hexdigest() for raw in good]
        report = store.fsck()
        assert report.clean and not report.counters_repaired
        # Its file, written before the batch, is referenced by nothing (``append`` itself removes it).
        assert report.unreferenced_blobs == (hashlib.sha256(poisoned).hexdigest(),)
        with pytest.raises(UnicodeEncodeError):
            store.append("u", "INBOX", poisoned + b"again\r\n")
        assert store.fsck().unreferenced_blobs == report.unreferenced_blobs
        assert store.append("u", "INBOX", make_message(40)).uids == (4,)
