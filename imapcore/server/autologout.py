"""Autologout timers (RFC 9051 §5.4) of the sessions waiting for their client, kept by one task.

Between two commands a session waits for its socket to become readable. With a Trio cancel scope per
wait (``move_on_after``) every command paid for making and dropping one: 4.6 us measured, more than a
NOOP's handler. Instead a waiting session notes its deadline here and waits on its socket alone, and one
task per Trio run (a system task, running while anybody waits) wakes every ``CHECK_S`` and ends the wait
of each session past its deadline: ``Waiter.expire`` marks the session and wakes its wait with
``trio.lowlevel.notify_closing`` on the socket, and the session says BYE.

A timer fires up to ``CHECK_S`` late, nothing next to the 30 minutes RFC 9051 asks for at least. A
session woken by its client in the same instant as its timer fired still gets its command: a session
consults its mark only when its wait ended that way (``Session._wait_with_timer``).

Used for logged-in sessions on a plain socket (where the wait is ``wait_readable`` on a file
descriptor); before login and over TLS the session keeps a cancel scope per read.
"""

from __future__ import annotations

import logging
from typing import Protocol

import trio

log = logging.getLogger(__name__)

#: How often the timers are looked at (the most a timer fires late).
CHECK_S = 0.5


class Waiter(Protocol):
    def expire(self) -> None:
        """Its deadline passed: end its wait (called on the Trio thread)."""


class AutologoutTimers:
    """The deadlines of the waiting sessions of one Trio run (``timers()``)."""

    __slots__ = ("_waiting", "_running")

    def __init__(self) -> None:
        self._waiting: dict[Waiter, float] = {}
        self._running = False

    def wait_started(self, waiter: Waiter, deadline: float) -> None:
        self._waiting[waiter] = deadline
        if not self._running:
            self._running = True
            trio.lowlevel.spawn_system_task(self._run, name="autologout timers")

    def wait_ended(self, waiter: Waiter) -> None:
        self._waiting.pop(waiter, None)

    async def _run(self) -> None:
        try:
            while self._waiting:
                await trio.sleep(CHECK_S)
                now = trio.current_time()
                expired = [waiter for waiter, deadline in self._waiting.items() if deadline <= now]
                for waiter in expired:
                    del self._waiting[waiter]
                    try:
                        waiter.expire()
                    except Exception:  # a system task must not raise; that session keeps waiting
                        log.exception("ending an expired wait failed")
        finally:
            self._running = False


_TIMERS: trio.lowlevel.RunVar = trio.lowlevel.RunVar("autologout_timers")


def timers() -> AutologoutTimers:
    """This Trio run's timers."""
    try:
        return _TIMERS.get()
    except LookupError:
        value = AutologoutTimers()
        _TIMERS.set(value)
        return value
