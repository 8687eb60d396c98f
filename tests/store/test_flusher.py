"""The group flush (store/syncing.py): ``FlusherGroupSync`` (the C thread of native/flusher.c) and its
Python twin ``GroupSync`` keep one contract, and the event loop awaits the C one without a worker thread
(commands/flushwait.py).

The contract: a ticket taken after a write is served by a flush that started after it; waiters that
arrive during a flush share the next one; a failed flush fails its tickets for good, even if a later
flush succeeds (Linux may report that one successful although the earlier data never reached the disk).
"""

import os
import threading
import time

import pytest
import trio

from imapcore.commands.context import _in_thread_to_the_end
from imapcore.commands.flushwait import wait_flushed
from imapcore.store import FlagMode, NewMessage, Store, syncing
from support.sessions import open_sessions
from support.store_corpus import make_message

needs_c = pytest.mark.skipif(syncing._lib is None, reason="native/flusher.c is not built")


def make(kind: str, path: str, native: bool, flush=None):
    if native:
        return syncing.FlusherGroupSync(kind, path)
    return syncing.GroupSync(flush or (lambda: os.fsync(os.open(path, os.O_RDONLY))))


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "wal"
    path.write_bytes(b"frames")
    return path


@pytest.mark.parametrize("native", [pytest.param(True, marks=needs_c), False], ids=["c", "python"])
def test_a_ticket_is_covered_by_a_flush_after_it(target, native):
    group = make(syncing.FSYNC_FILE, str(target), native)
    assert not group.pending
    first = group.note()
    assert group.pending
    group.wait(first)
    assert not group.pending and group.flushes == 1
    group.wait(first)  # already covered: no second flush
    assert group.flushes == 1
    group.wait(group.note())
    assert group.flushes == 2
    group.close()


@needs_c
def test_waiters_arriving_during_a_flush_share_the_next_one(tmp_path, target):
    # The flusher opens its path at each flush. Through a symbolic link to a FIFO, the first flush is
    # held inside open() until a writer comes; meanwhile eight more writes are noted and waited for, and
    # the link is pointed at a real file. That first flush then fails (fsync of a FIFO: EINVAL) for the
    # one ticket it covered, and a single second flush serves the eight.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    group = syncing.FlusherGroupSync(syncing.FSYNC_FILE, str(link))
    outcomes: dict[int, str] = {}

    def wait(ticket):
        try:
            group.wait(ticket)
            outcomes[ticket] = "durable"
        except OSError:
            outcomes[ticket] = "failed"

    tickets = [group.note()]
    threads = [threading.Thread(target=wait, args=(tickets[0],))]
    threads[0].start()
    time.sleep(0.2)  # the flusher is inside open(): the first flush has started
    tickets += [group.note() for _ in range(8)]
    threads += [threading.Thread(target=wait, args=(ticket,)) for ticket in tickets[1:]]
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.2)
    link.unlink()
    link.symlink_to(target)
    os.close(os.open(fifo, os.O_WRONLY))  # the first flush goes on, and fails
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    assert outcomes == {tickets[0]: "failed", **{ticket: "durable" for ticket in tickets[1:]}}
    assert group.flushes == 1  # one successful flush for the eight
    group.close()


@needs_c
def test_a_failed_flush_fails_its_tickets_for_good(tmp_path, target):
    # The flusher opens its path at each flush: a symbolic link switched from a file whose fsync fails
    # (procfs: EINVAL) to a real one makes one flush fail and the next succeed.
    link = tmp_path / "link"
    link.symlink_to("/proc/self/stat")
    group = syncing.FlusherGroupSync(syncing.FSYNC_FILE, str(link))
    failed = group.note()
    with pytest.raises(OSError) as error:
        group.wait(failed)
    assert "flush failed" in str(error.value)
    link.unlink()
    link.symlink_to(target)
    later = group.note()
    group.wait(later)  # a later write gets a flush of its own, and succeeds
    assert group.done(later)
    with pytest.raises(OSError):
        group.done(failed)  # ... which does not acknowledge the failed one
    group.close()


@needs_c
def test_a_missing_file_has_nothing_to_flush(tmp_path):
    group = syncing.FlusherGroupSync(syncing.FSYNC_FILE, str(tmp_path / "no-wal"))
    group.wait(group.note())  # SQLite removed its WAL after a checkpoint: nothing is unsynced
    group.close()


@needs_c
def test_syncfs_of_a_directory(tmp_path):
    group = syncing.FlusherGroupSync(syncing.SYNCFS, str(tmp_path))
    group.wait(group.note())
    assert group.flushes == 1
    group.close()


@needs_c
def test_a_forked_child_flushes_with_a_thread_of_its_own(target):
    group = syncing.FlusherGroupSync(syncing.FSYNC_FILE, str(target))
    group.wait(group.note())  # the parent's thread runs
    pid = os.fork()
    if pid == 0:  # the child has the memory, not the thread (how server workers start)
        code = 1
        try:
            group.wait(group.note())
            code = 0 if group.flushes == 2 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    group.wait(group.note())
    assert group.flushes == 2
    group.close()


@pytest.mark.parametrize("native", [pytest.param(True, marks=needs_c), False], ids=["c", "python"])
async def test_the_event_loop_awaits_flushes_while_other_tasks_run(target, native):
    group = make(syncing.FSYNC_FILE, str(target), native)
    ticks = 0
    done = []

    async def ticker():
        nonlocal ticks
        while len(done) < 20:
            ticks += 1
            await trio.sleep(0)

    async def waiter(ticket):
        await wait_flushed(group, ticket, _in_thread_to_the_end)
        done.append(ticket)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker)
            for _ in range(20):
                nursery.start_soon(waiter, group.note())
    assert sorted(done) == list(range(1, 21)) and ticks > 0
    assert not group.pending
    assert 1 <= group.flushes <= 20
    group.close()


@needs_c
async def test_an_awaited_flush_that_fails_raises_and_a_cancelled_wait_leaves_no_watcher(tmp_path, target):
    link = tmp_path / "link"
    link.symlink_to("/proc/self/stat")
    group = syncing.FlusherGroupSync(syncing.FSYNC_FILE, str(link))
    with trio.fail_after(10):
        with pytest.raises(OSError):
            await wait_flushed(group, group.note(), _in_thread_to_the_end)
    # A FIFO holds the next flush; a cancelled wait lets another task watch the descriptor afterwards.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link.unlink()
    link.symlink_to(fifo)
    with trio.move_on_after(0.2) as scope:
        await wait_flushed(group, group.note(), _in_thread_to_the_end)
    assert scope.cancelled_caught
    os.close(os.open(fifo, os.O_WRONLY))  # that flush ends (and fails: a FIFO)
    link.unlink()
    link.symlink_to(target)
    with trio.fail_after(10):
        await wait_flushed(group, group.note(), _in_thread_to_the_end)
    group.close()


@needs_c
def test_the_store_uses_the_c_flusher_and_a_durable_append_flushes_the_wal_once(tmp_path):
    with Store.open(tmp_path / "data") as store:  # synchronous=FULL
        assert isinstance(store.wal_flush, syncing.FlusherGroupSync)
        store.create_user("alice")
        box = store.mailbox("alice", "INBOX").id
        before = store.wal_flush.flushes
        store.append("alice", "INBOX", make_message(1))
        assert store.wal_flush.flushes == before + 1 and not store.wal_flush.pending
        store.store_flags(box, [1], FlagMode.ADD, ["\\Seen"])  # relaxed: no fsync of its own
        assert store.wal_flush.flushes == before + 1 and store.wal_flush.pending


@needs_c
async def test_an_append_on_the_event_loop_awaits_both_flushes(tmp_path):
    store, (a, _) = await open_sessions(tmp_path)
    blob_flushes, wal_flushes = store.blobs._syncfs_group.flushes, store.wal_flush.flushes
    raw = make_message(5)
    with trio.fail_after(10):
        result = await a.run_append("INBOX", [NewMessage(raw, frozenset(), None)], None)
    assert result.uids == (1,)
    assert store.blobs._syncfs_group.flushes == blob_flushes + 1  # the file before the commit
    assert store.wal_flush.flushes == wal_flushes + 1  # the commit before the OK
    assert not store.blobs._syncfs_group.pending and not store.wal_flush.pending
    store.close()
