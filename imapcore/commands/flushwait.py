"""Awaiting a store's group flush (a WAL fsync, a blob syncfs) on the event loop, without a worker thread.

With the C flusher (``FlusherGroupSync``, ``native/flusher.c``) a session asks for a flush covering its
ticket (one call, the GIL released inside) and sleeps; the flusher thread makes the flush and writes its
eventfd, which the event loop watches like a socket. One waiting task at a time watches the descriptor
for everyone waiting on that flush (Trio lets only one task wait on a descriptor); each flush that ends
wakes them all to look at their own ticket. The eventfd is level-triggered: a flush that ends between a
task's look and its wait still wakes it. Nobody waiting: the descriptor is not even in the epoll set.

With the Python twin (``GroupSync``, no descriptor), the wait runs in a worker thread, as before.

Measured with the issue's 10-client mix (new bytes in every APPEND, 2 workers): the two flushes of an
APPEND went through worker threads at ~40 context switches and futex calls per APPEND+EXPUNGE; see the
commit for the figures with this instead.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

import trio

from imapcore.store.syncing import FlusherGroupSync, GroupSync


class _Watch:
    """The waiters of one group flush in one Trio run."""

    __slots__ = ("watching", "ended")

    def __init__(self) -> None:
        self.watching = False  # a task waits on the eventfd
        self.ended = trio.Event()  # set when that task saw a flush end (then replaced)


_WATCHES: trio.lowlevel.RunVar = trio.lowlevel.RunVar("imapcore_flush_watches")


def _watch(group: FlusherGroupSync) -> _Watch:
    try:
        watches = _WATCHES.get()
    except LookupError:
        watches = weakref.WeakKeyDictionary()
        _WATCHES.set(watches)
    watch = watches.get(group)
    if watch is None:
        watch = watches[group] = _Watch()
    return watch


async def wait_flushed(group: GroupSync | FlusherGroupSync, ticket: int, in_thread: Any) -> None:
    """Return once a flush of ``group`` covering ``ticket`` has ended; ``OSError`` if it failed.

    ``in_thread(fn, *args)``: how to run a blocking wait for the Python twin. Cancellable: the flush
    goes on in the flusher thread, and only this wait ends (what was written is durable or not the
    same either way)."""
    notify_fd = group.notify_fd
    if notify_fd is None:
        await in_thread(group.wait, ticket)
        return
    if group.request(ticket):
        return
    watch = _watch(group)
    while True:
        ended = watch.ended
        if group.done(ticket):
            return
        if watch.watching:
            await ended.wait()
            continue
        watch.watching = True
        try:
            await trio.lowlevel.wait_readable(notify_fd)
            try:
                os.read(notify_fd, 8)  # the eventfd's counter back to 0: readable again at the next flush
            except BlockingIOError:
                pass
        finally:
            watch.watching = False
            watch.ended = trio.Event()
            ended.set()  # the others look at their tickets; one of those still waiting watches next
