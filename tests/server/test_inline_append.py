"""APPEND of new bytes on the event loop (``SessionContext.run_append``): parsed and written there, its
file flushed and its commit made durable in worker threads, committed inline; refused or cancelled
before its commit, it leaves no file behind; full-text indexing follows in the background."""

from __future__ import annotations

import threading

import trio
import trio.testing

from imapcore.commands import context as context_module
from imapcore.store import MailboxNotFound, NewMessage
from imapcore.store.blobs import blob_id_of
from imapcore.store.sortdata import sort_rows
from imapcore.syntax.model import SearchKey
from support.locks import writer_held
from support.sessions import open_sessions, updates


def _message(n: int) -> bytes:
    return f"From: a@example.org\r\nSubject: draft {n}\r\n\r\nwalrus text number {n}\r\n".encode()


async def test_new_bytes_are_committed_on_the_event_loop_and_reach_another_session(tmp_path, monkeypatch):
    store, (a, b) = await open_sessions(tmp_path)
    threaded = []
    monkeypatch.setattr(store, "append_many", lambda *args, **kw: threaded.append(args))
    await b.select("INBOX", read_only=False)
    raw = _message(1)
    result = await a.run_append("INBOX", [NewMessage(raw, frozenset({"\\Seen"}), None)], None)
    assert result.uids == (1,) and threaded == []  # no delivery thread
    assert store.blobs.exists(blob_id_of(raw)) and store.read_blob(blob_id_of(raw)) == raw
    assert await updates(b) == [b"* 1 EXISTS\r\n", b"* 1 RECENT\r\n"]
    rows = store.fetch_rows(b.selected.mailbox_id, [1], ("flags", "size"))
    assert rows[0].flags == frozenset({"\\Seen"}) and rows[0].size == len(raw)
    await b.unselect()
    store.close()


async def test_a_refused_append_removes_the_file_it_wrote(tmp_path):
    store, (a, _) = await open_sessions(tmp_path)
    raw = _message(2)
    try:
        await a.run_append("Nowhere", [NewMessage(raw, frozenset(), None)], None)
    except MailboxNotFound as refused:
        assert refused.target  # NO [TRYCREATE]
    else:
        raise AssertionError("APPEND to a missing mailbox was accepted")
    await trio.testing.wait_all_tasks_blocked()
    assert not store.blobs.exists(blob_id_of(raw))
    assert store.status("alice", "INBOX").messages == 0
    store.close()


async def test_an_append_cancelled_while_the_writer_is_busy_removes_its_file(tmp_path, monkeypatch):
    store, (a, _) = await open_sessions(tmp_path)
    raw = _message(3)
    scope = trio.CancelScope()
    flushed = threading.Event()
    append_synced = store.append_synced

    def observed_append_synced(request):  # to cancel once the file is durable and the commit waits
        append_synced(request)
        flushed.set()

    monkeypatch.setattr(store, "append_synced", observed_append_synced)

    async def append():
        with scope:
            await a.run_append("INBOX", [NewMessage(raw, frozenset(), None)], None)

    async with trio.open_nursery() as nursery:
        with writer_held(store):  # the commit cannot happen: the APPEND waits for the writer
            nursery.start_soon(append)
            with trio.fail_after(10):
                while not flushed.is_set():
                    await trio.sleep(0.001)  # parsed and written on the event loop, then flushed
            await trio.testing.wait_all_tasks_blocked()  # ... and now trying the writer
            assert store.blobs.exists(blob_id_of(raw))
            scope.cancel()  # the client went away
        # The writer is free again: the cancelled APPEND takes it to remove its file.
    assert scope.cancelled_caught
    assert not store.blobs.exists(blob_id_of(raw))
    assert store.status("alice", "INBOX").messages == 0
    store.close()


async def test_an_append_that_waited_for_the_writer_is_committed_by_the_group_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(context_module, "INLINE_WRITE_PATIENCE_S", 0.01)
    store, (a, _) = await open_sessions(tmp_path)
    raw = _message(4)
    async with trio.open_nursery() as nursery:
        results = []

        async def append():
            results.append(await a.run_append("INBOX", [NewMessage(raw, frozenset(), None)], None))

        with writer_held(store):
            nursery.start_soon(append)
            await trio.sleep(0.1)  # longer than the patience: now waiting in a thread
            assert results == []
    assert results[0].uids == (1,)
    assert store.read_blob(blob_id_of(raw)) == raw
    store.close()


async def test_parsing_and_indexing_follow_in_the_background(tmp_path, monkeypatch):
    monkeypatch.setattr(context_module.BackgroundIndexer, "DELAY_S", 0.2)
    store, (a, _) = await open_sessions(tmp_path)
    store.background_indexing = True  # as the server sets it: no delivery indexes in its own time
    for n in range(2):
        await a.run_append("INBOX", [NewMessage(_message(10 + n), frozenset(), None)], None)
    indexer = a.services.indexer
    # Stored without their summary, which is not made in the APPEND's time.
    assert indexer.running and store.pending_parse_count() == 2 and store.pending_index_count() == 0
    # Delivered during the delay (not through an APPEND that asks for a round): a round after the
    # first one, asked for by the second APPEND, takes it too.
    store.append("alice", "INBOX", _message(12))
    assert store.pending_index_count() == 1
    with trio.fail_after(10):
        while indexer.running:
            await trio.sleep(0.01)
    assert store.pending_parse_count() == store.pending_index_count() == 0
    inbox = store.mailbox("alice", "INBOX").id
    assert store.search(inbox, SearchKey("BODY", ("walrus",))) == [1, 2, 3]
    store.close()


async def test_search_summarizes_what_it_needs_first(tmp_path):
    store, (a, _) = await open_sessions(tmp_path)
    await a.run_append("INBOX", [NewMessage(_message(20), frozenset(), None)], None)
    await a.run_append("Drafts", [NewMessage(_message(21), frozenset(), None)], None)
    assert store.pending_parse_count() == 2
    inbox = store.mailbox("alice", "INBOX").id
    assert store.search(inbox, SearchKey("SUBJECT", ("draft 20",))) == [1]
    assert store.search(inbox, SearchKey("HEADER", ("FROM", "a@example.org"))) == [1]
    assert store.pending_parse_count() == 1  # only the searched mailbox's: Drafts still waits
    await a.run_append("Drafts", [NewMessage(_message(22), frozenset(), None)], None)
    newest = store.newest_pending_index()
    await a.run_append("Drafts", [NewMessage(_message(23), frozenset(), None)], None)
    assert store.parse_deferred(up_to=newest) == 2  # the two up to it; the later one waits
    assert store.pending_parse_count() == 1
    store.close()


async def test_answers_are_the_same_before_and_after_the_deferred_summary(tmp_path, monkeypatch):
    """FETCH, SORT and THREAD of messages whose summary is not made yet parse their bytes themselves
    and answer exactly what they answer once it is made; SEARCH makes it first."""
    from support.corpus import generated, sample_mbox
    from support.server import ImapTestClient, running_server

    monkeypatch.setattr(context_module.BackgroundIndexer, "DELAY_S", 3600)  # no background round here
    # Distinct and small enough for the event loop (context.INLINE_APPEND_BYTES): all deferred.
    messages = list(dict.fromkeys(raw for _name, raw in sample_mbox(limit=60) + generated(10)
                                  if raw and len(raw) <= context_module.INLINE_APPEND_BYTES))
    assert len(messages) >= 50  # the sample mbox is there (a test that compares nothing would pass)
    async with running_server(tmp_path, users={"alice": "pw"}) as srv:
        client = await ImapTestClient.connect(srv.port)
        await client.command("a", "LOGIN alice pw")
        for n, raw in enumerate(messages):
            await client.send(b"p%d APPEND INBOX {%d+}\r\n" % (n, len(raw)) + raw + b"\r\n")
            assert (await client.read_until_tagged(f"p{n}"))[-1].startswith(b"p%d OK" % n)
        assert srv.store.pending_parse_count() == len(messages)
        await client.command("b", "SELECT INBOX")
        fetch = "FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY PREVIEW EMAILID THREADID RFC822.SIZE)"
        before = await client.command("c", fetch)
        # Each item alone too: PREVIEW without anything else that reads the blob failed once.
        alone = {item: await client.command("e", f"FETCH 1:* ({item})") for item in ("PREVIEW", "ENVELOPE", "BODY")}
        inbox = srv.store.mailbox("alice", "INBOX").id
        uids = srv.store.uids(inbox)
        sorting_before = sort_rows(srv.store, inbox, uids)  # SORT's and THREAD's keys
        assert srv.store.pending_parse_count() == len(messages)  # nothing above needed the summaries
        searched = await client.command("d", "SEARCH SUBJECT e")  # makes them first
        assert srv.store.pending_parse_count() == 0
        assert searched[-1].startswith(b"d OK") and len(searched[0].split()) > 10
        assert await client.command("c", fetch) == before and len(before) == len(messages) + 1
        for item, answer in alone.items():
            assert answer[-1].startswith(b"e OK") and await client.command("e", f"FETCH 1:* ({item})") == answer
        assert sort_rows(srv.store, inbox, uids) == sorting_before
        await client.aclose()


def test_thread_ids_of_a_deferred_blob_are_those_of_its_summary():
    from imapcore.store.delivery import default_summarize, deferred_blob, prepare_blob
    from support.corpus import generated, sample_mbox

    messages = [raw for _name, raw in sample_mbox() + generated(60)]
    assert len(messages) > 500
    for raw in messages:
        blob_id = blob_id_of(raw)
        full, deferred = prepare_blob(raw, blob_id, default_summarize), deferred_blob(raw, blob_id)
        assert (deferred.email_id, deferred.thread_id) == (full.email_id, full.thread_id), raw[:200]
