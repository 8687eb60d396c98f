"""The store's writer lock held by another thread (a group commit, another session's write)."""

from __future__ import annotations

import contextlib
import threading


@contextlib.contextmanager
def writer_held(store):
    """Hold ``store``'s writer lock in another thread for the duration of the ``with`` block."""
    held, release = threading.Event(), threading.Event()

    def holder():
        with store._lock:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)
