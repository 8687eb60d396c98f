"""``Wakeup``: a one-shot event for one waiting thread, set and awaited without holding the GIL.

The group commit (``appending.py``) wakes each delivery of a batch once its commit is durable. With
``threading.Event`` the waker makes the futex call that wakes the sleeping thread while holding the GIL,
and on a virtual machine that call carries an inter-processor interrupt: with 16 delivering threads it
was about a tenth of the time the GIL was held. ``native/wakeup.c`` does the same with a POSIX semaphore
through cffi, which releases the GIL around each call. Without the C extension (or with
``IMAPCORE_PURE_PYTHON=1``) ``Wakeup`` is ``threading.Event``, whose ``set``/``wait``/``is_set``
semantics it keeps.
"""

from __future__ import annotations

import os
import threading

from imapcore._native import use_c

try:
    from imapcore._cwakeup import ffi as _ffi, lib as _lib
except ImportError:  # not built (no compiler at install time)
    _ffi = _lib = None


class SemaphoreWakeup:
    """``threading.Event``'s set/wait/is_set on a C semaphore (see the module docstring)."""

    __slots__ = ("_cell", "_set")

    def __init__(self) -> None:
        self._cell = _ffi.new("imc_wakeup *")
        error = _lib.imc_wakeup_init(self._cell)
        if error:
            raise OSError(error, os.strerror(error))
        self._set = False

    def set(self) -> None:
        if not self._set:
            self._set = True
            _lib.imc_wakeup_set(self._cell)

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        if self._set:
            return True
        return _lib.imc_wakeup_wait(self._cell, -1.0 if timeout is None else max(0.0, timeout)) == 0


def _semaphores_work() -> bool:
    """Unnamed POSIX semaphores exist here (macOS, for one, refuses sem_init)."""
    try:
        SemaphoreWakeup().set()
    except OSError:
        return False
    return True


if use_c(_lib) and _semaphores_work():
    Wakeup = SemaphoreWakeup
else:
    Wakeup = threading.Event
