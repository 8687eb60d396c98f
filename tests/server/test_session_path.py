"""The shortcuts of the per-command path keep the answers: a re-SELECT that reuses its feed
subscription and the mailbox id it found before, the shared blob collector, and repeated commands
parsed from the cache."""

from __future__ import annotations

import threading

import trio
import trio.testing

from imapcore.commands.context import BlobCollector
from imapcore.store import FlagMode
from imapcore.syntax import parser
from imapcore.syntax.tokenizer import Tokenizer
from imapcore.syntax.tokens import COMMAND
from support.sessions import open_sessions, updates

MESSAGE = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"





async def test_reselect_keeps_reporting_other_sessions_changes(tmp_path):
    store, (a, b) = await open_sessions(tmp_path)
    store.append("alice", "INBOX", MESSAGE)
    first = await a.select("INBOX", read_only=False)
    second = await a.select("INBOX", read_only=False)  # the same mailbox again: subscription reused
    assert second is not first and second.uids == [1]
    await b.select("INBOX", read_only=False)
    await b.run_store(store.append, "alice", "INBOX", MESSAGE)
    await b.run_store(store.store_flags, b.selected.mailbox_id, [1], FlagMode.ADD, ["\\Flagged"])
    # (This harness skips the SELECT handler, so nothing was claimed yet: the poll claims \Recent.)
    assert await updates(a) == [
        b"* 2 EXISTS\r\n", b"* 2 RECENT\r\n", b"* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))\r\n",
    ]
    # Selecting another mailbox and back closes and reopens subscriptions; changes still arrive.
    await a.select("Trash", read_only=False)
    await a.select("INBOX", read_only=True)
    await b.run_store(store.append, "alice", "INBOX", MESSAGE)
    assert await updates(a) == [b"* 3 EXISTS\r\n"]  # EXAMINE claims no \Recent
    await a.unselect()
    await b.unselect()
    store.close()


async def test_reselect_after_the_name_moved_to_another_mailbox(tmp_path):
    store, (a, b) = await open_sessions(tmp_path)
    store.create_mailbox("alice", "Work")
    store.append("alice", "Work", MESSAGE)
    old = await a.select("Work", read_only=False)
    old_id, old_validity = old.mailbox_id, old.uid_validity
    await a.select("INBOX", read_only=False)
    # Another session replaces "Work": the id this session remembers for the name is stale.
    store.delete_mailbox("alice", "Work")
    store.create_mailbox("alice", "Work")
    new = await a.select("Work", read_only=False)
    assert new.mailbox_id != old_id and new.uid_validity != old_validity
    assert new.uids == []
    await b.select("Work", read_only=False)
    await b.run_store(store.append, "alice", "Work", MESSAGE)
    assert await updates(a) == [b"* 1 EXISTS\r\n", b"* 1 RECENT\r\n"]
    await a.unselect()
    await b.unselect()
    store.close()


class _Store:
    """Just what ``BlobCollector`` uses: a pending flag, and a collection that waits for ``release``."""

    closed = False

    def __init__(self) -> None:
        self.collection_pending = False
        self.rounds = 0
        self.in_thread = 0
        self.most_at_once = 0
        self.started = threading.Event()
        self.release = threading.Event()

    def collect_unreferenced(self) -> list[str]:
        self.in_thread += 1
        self.most_at_once = max(self.most_at_once, self.in_thread)
        self.collection_pending = False  # as the store does, before collecting
        self.started.set()
        self.release.wait(timeout=10)
        self.rounds += 1
        self.in_thread -= 1
        return []


async def _until_idle(collector):
    with trio.fail_after(10):
        while collector.running:
            await trio.sleep(0.005)


async def test_blob_collector_runs_one_collection_at_a_time_and_again_while_pending():
    store = _Store()
    collector = BlobCollector()
    limiter = trio.CapacityLimiter(4)
    store.collection_pending = True
    collector.request(store, limiter)
    with trio.fail_after(10):
        while not store.started.is_set():
            await trio.sleep(0.005)
    # Another expunge while the first collection runs: it returns at once...
    store.collection_pending = True
    collector.request(store, limiter)
    assert collector.running and store.rounds == 0
    store.release.set()
    await _until_idle(collector)
    # ...and the running collector made a second round for it, never two at once.
    assert store.rounds == 2 and store.most_at_once == 1
    assert not store.collection_pending and not collector.running
    collector.request(store, limiter)  # nothing pending: no round
    await _until_idle(collector)
    assert store.rounds == 2


def _tokens(line: bytes):
    tokenizer = Tokenizer(None)
    tokenizer.feed(line)
    event = tokenizer.next_event()
    assert event[0] == COMMAND
    return event[1]


def test_repeated_commands_parse_like_the_reference_parser_with_their_own_tag():
    lines = [
        b'%s LIST "" "*"\r\n',
        b"%s STATUS INBOX (MESSAGES UNSEEN UIDNEXT)\r\n",
        b"%s FETCH 1:* (UID FLAGS)\r\n",
        b"%s FETCH 3 (BODY.PEEK[HEADER.FIELDS (FROM)]<0.10>)\r\n",
        b"%s UID STORE 7 +FLAGS.SILENT (\\Seen $Work)\r\n",
        b"%s SELECT INBOX (CONDSTORE)\r\n",
    ]
    for line in lines:
        for tag in (b"a1", b"b22", b"a1"):
            tokens = _tokens(line % tag)
            command = parser.parse_command(tokens)
            assert command.tag == tag.decode()
            assert command == parser.parse_command_reference(_tokens(line % tag))


async def test_a_requested_collection_runs_in_the_background_and_gathers_later_expunges():
    store = _Store()
    store.release.set()
    collector = BlobCollector()
    limiter = trio.CapacityLimiter(4)
    store.collection_pending = True
    collector.request(store, limiter)  # returns at once: the EXPUNGE does not wait
    assert collector.running and store.rounds == 0
    collector.request(store, limiter)  # a second expunge meanwhile: no second collection
    await _until_idle(collector)
    assert store.rounds == 1 and store.most_at_once == 1 and not store.collection_pending


async def test_a_server_store_leaves_freed_blobs_to_the_background_collector(tmp_path):
    from imapcore.store import Store

    with Store.open(tmp_path / "s", durable=False) as store:
        store.background_collection = True  # as the server opens it
        store.create_user("alice")
        store.append("alice", "INBOX", b"Subject: keep\r\n\r\nkept\r\n")
        store.append("alice", "INBOX", b"Subject: gone\r\n\r\nexpunged\r\n", flags={"\\Deleted"})
        box = store.mailbox("alice", "INBOX").id
        files = lambda: sum(1 for _ in store.blobs.iter_ids())  # noqa: E731
        assert files() == 2
        await trio.to_thread.run_sync(store.expunge, box)  # the thread path of a busy writer
        assert store.collection_pending and files() == 2  # nothing deleted in the EXPUNGE's own time
        collector = BlobCollector()
        collector.request(store, trio.CapacityLimiter(1))
        await _until_idle(collector)
        assert files() == 1 and not store.collection_pending
        assert store.fsck().clean
