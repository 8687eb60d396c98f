"""``Wakeup`` (store/wakeup.py): Event semantics, whether backed by the C semaphore or threading.Event."""

import os
import threading
import time

from imapcore.store import wakeup
from imapcore.store.wakeup import Wakeup


def test_set_before_wait_returns_at_once_and_stays_set():
    event = Wakeup()
    assert not event.is_set()
    event.set()
    event.set()  # idempotent
    assert event.is_set()
    assert event.wait() is True
    assert event.wait(0) is True


def test_wait_times_out_when_never_set():
    event = Wakeup()
    start = time.monotonic()
    assert event.wait(0.05) is False
    assert time.monotonic() - start >= 0.04


def test_another_thread_wakes_the_waiter():
    event = Wakeup()
    woken = []

    def waiter():
        woken.append(event.wait(5))

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.02)
    assert woken == []
    event.set()
    thread.join(5)
    assert woken == [True]
    assert event.wait(0) is True  # still set for a second waiter


def test_implementation_follows_the_environment():
    if os.environ.get("IMAPCORE_PURE_PYTHON") == "1" or wakeup._lib is None:
        assert Wakeup is threading.Event
    else:
        assert Wakeup is wakeup.SemaphoreWakeup
