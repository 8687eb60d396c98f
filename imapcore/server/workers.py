"""Several worker processes on one data directory: ``imapcore serve --workers N`` (config ``workers``).

Why: a Trio server is one Python process, so its sessions share one core (the GIL) however many the
machine has. N workers each run the whole server (``app.serve``) for the connections they accept, the
way Dovecot's imap processes or nginx's workers share a machine. What they share, and how:

* **listening sockets**: the supervisor binds them once, before forking, so every worker accepts from
  the same queue (no SO_REUSEPORT hashing, which pins a connection to a worker by its address). A worker
  that carries more sessions than the least loaded one waits ``BALANCE_DEFER_S`` before accepting, so
  the other takes the connection first; it takes it itself if nobody did (a stalled worker does not
  stall accepting). The session counts are in a small shared file (``SessionCounts``);
* **the store**: SQLite in WAL mode is made for several processes; the store's writer lock becomes an
  flock as well (``imapcore.store.locking``), and the change feed goes through the database
  (``imapcore.store.sharedfeed``): a change committed in one worker reaches the sessions of all;
* **the wake-up pipes** of that feed, one per worker, made here before the fork;
* **admission**: the connection limits (total, per address, sessions per user) and the authentication
  throttle's records are in one small database every worker uses (``sharedstate.py``), so they hold for
  the server as a whole, as with one process; a dead worker's connections are taken out of the counts
  when it is replaced. The command-rate budget and the heavy-work limiter stay per session and per
  worker.

The supervisor (this process) does the one-time work before forking (data directory, self-signed
certificate, schema migration), prints the addresses, then only waits: SIGTERM/SIGINT is passed to the
workers, which say BYE to their sessions and exit; a worker that dies otherwise is started again (at
most ``MAX_RESTARTS`` within ``RESTART_WINDOW_S``, after which the whole server stops with an error
rather than crash-looping). Workers ask the kernel for SIGTERM if the supervisor dies (Linux
``PR_SET_PDEATHSIG``), so none outlives it.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
import secrets
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import Config, parse_address
from .sharedstate import SharedState

log = logging.getLogger(__name__)

SESSIONS_FILE_NAME = "workers.sessions"
#: How long a worker with more sessions than another lets the other accept first.
BALANCE_DEFER_S = 0.01
#: Crash-loop guard: more restarts than this within the window stop the server.
MAX_RESTARTS = 10
RESTART_WINDOW_S = 60.0
#: After SIGTERM, how long the supervisor waits for its workers before killing them.
STOP_TIMEOUT_S = 30.0

_COUNT = struct.Struct("<q")


class SessionCounts:
    """How many sessions each worker carries, in a file every worker maps (one signed 64-bit slot each;
    each slot is written only by its own worker)."""

    def __init__(self, path: Path | str, workers: int, index: int) -> None:
        self.workers = workers
        self.index = index
        size = _COUNT.size * workers
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if os.fstat(fd).st_size != size:
                os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)

    @classmethod
    def reset(cls, path: Path | str, workers: int) -> None:
        counts = cls(path, workers, 0)
        for slot in range(workers):
            _COUNT.pack_into(counts._map, slot * _COUNT.size, 0)
        counts.close()

    def get(self, slot: int) -> int:
        return _COUNT.unpack_from(self._map, slot * _COUNT.size)[0]

    def add(self, delta: int) -> None:
        offset = self.index * _COUNT.size
        _COUNT.pack_into(self._map, offset, _COUNT.unpack_from(self._map, offset)[0] + delta)

    def set_own(self, value: int) -> None:
        _COUNT.pack_into(self._map, self.index * _COUNT.size, value)

    def overloaded(self) -> bool:
        """Whether another worker carries fewer sessions than this one."""
        own = self.get(self.index)
        return any(self.get(slot) < own for slot in range(self.workers) if slot != self.index)

    def close(self) -> None:
        self._map.close()


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process gets from its supervisor."""

    index: int
    workers: int
    sockets: tuple[tuple[socket.socket, bool], ...]  # bound listening sockets, True for implicit TLS
    wake_fd: int  # read end of this worker's wake-up pipe
    peer_fds: tuple[int, ...]  # write ends of the other workers' pipes
    sessions_path: Path
    cache_secret: bytes  # the verification cache's HMAC secret, the same in every worker (sharedstate.py)


def bind_listeners(config: Config) -> list[tuple[socket.socket, bool]]:
    """Bind every configured listener (both address families where a name has both), like
    ``trio.open_tcp_listeners``: SO_REUSEADDR, IPV6_V6ONLY, backlog as large as the system allows."""
    bound: list[tuple[socket.socket, bool]] = []
    try:
        for addresses, implicit in ((config.listen, False), (config.listen_tls, True)):
            for address in addresses:
                host, port = parse_address(address)
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
                for family, kind, proto, _, sockaddr in dict.fromkeys(infos):
                    sock = socket.socket(family, kind, proto)
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        if family == socket.AF_INET6:
                            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                        sock.bind(sockaddr)
                        sock.listen(socket.SOMAXCONN)
                        sock.setblocking(False)
                    except BaseException:
                        sock.close()
                        raise
                    bound.append((sock, implicit))
    except BaseException:
        for sock, _ in bound:
            sock.close()
        raise
    return bound


def _die_with_parent(parent: int) -> None:
    """Linux: SIGTERM this process when the supervisor dies (prctl PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the supervisor died before the prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _run_worker(config: Config, setup: WorkerSetup) -> int:
    import trio

    from .app import serve

    async def main() -> None:
        await serve(config, worker=setup)

    try:
        trio.run(main)
    except KeyboardInterrupt:
        return 130
    except BaseException:  # logged, and the supervisor restarts the worker
        log.exception("worker %d failed", setup.index)
        return 1
    return 0


def supervise(config: Config, workers: int, announce: Callable[[list[tuple[str, int, bool]]], None]) -> int:
    """Run ``workers`` worker processes until SIGTERM/SIGINT; returns the exit status."""
    from imapcore.store import Store
    from imapcore.store.sharedfeed import reset_counter

    from .app import tls_context

    config.data_path.mkdir(parents=True, exist_ok=True)
    tls_context(config)  # validates a configured certificate, or generates the self-signed one once
    Store.open(config.data_dir).close()  # the schema migration runs once, here
    reset_counter(config.data_path)
    SharedState.reset(config.data_path)
    sessions_path = config.data_path / SESSIONS_FILE_NAME
    SessionCounts.reset(sessions_path, workers)
    sockets = bind_listeners(config)
    pipes = [os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC) for _ in range(workers)]
    cache_secret = secrets.token_bytes(32)
    parent = os.getpid()
    children: dict[int, int] = {}  # pid -> worker index
    sys.stdout.flush()
    sys.stderr.flush()

    def start(index: int) -> None:
        setup = WorkerSetup(
            index, workers, tuple(sockets), pipes[index][0],
            tuple(pipes[j][1] for j in range(workers) if j != index), sessions_path, cache_secret,
        )
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                _die_with_parent(parent)
                code = _run_worker(config, setup)
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = index

    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        if not stopping:
            log.info("received %s: stopping %d workers", signal.Signals(signum).name, len(children))
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    restarts: list[float] = []
    status = 0
    try:
        for index in range(workers):
            start(index)
        log.info("started %d workers: %s", workers, " ".join(map(str, children)))
        # After the forks: whoever reads these lines finds every worker there.
        announce([(sock.getsockname()[0], sock.getsockname()[1], implicit) for sock, implicit in sockets])
        deadline = None
        while children:
            if stopping and deadline is None:
                deadline = time.monotonic() + STOP_TIMEOUT_S
            if deadline is not None:
                pid, code = _wait_bounded(deadline)
                if pid == 0:  # the grace period is over
                    for child in children:
                        os.kill(child, signal.SIGKILL)
                    deadline = time.monotonic() + STOP_TIMEOUT_S
                    continue
            else:
                pid, code = os.waitpid(-1, 0)
            index = children.pop(pid, None)
            if index is None or stopping:
                continue
            log.error("worker %d (pid %d) ended unexpectedly (%s); starting it again", index, pid, _describe(code))
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < RESTART_WINDOW_S] + [now]
            if len(restarts) > MAX_RESTARTS:
                log.critical("workers keep failing (%d restarts in %.0f s): stopping", len(restarts), RESTART_WINDOW_S)
                status = 1
                stop(signal.SIGTERM, None)
                continue
            _reset_slot(sessions_path, workers, index)
            state = SharedState(config.data_path, index)
            try:
                state.forget_worker(index)
            finally:
                state.close()
            start(index)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for sock, _ in sockets:
            sock.close()
        for read_end, write_end in pipes:
            os.close(read_end)
            os.close(write_end)
    return status


def _wait_bounded(deadline: float) -> tuple[int, int]:
    """waitpid for any child until ``deadline``: (0, 0) when it passes first."""
    while True:
        pid, code = os.waitpid(-1, os.WNOHANG)
        if pid:
            return pid, code
        if time.monotonic() >= deadline:
            return 0, 0
        time.sleep(0.05)


def _reset_slot(path: Path, workers: int, index: int) -> None:
    """A dead worker's sessions are gone: its slot starts from zero again."""
    counts = SessionCounts(path, workers, index)
    counts.set_own(0)
    counts.close()


def _describe(code: int) -> str:
    if os.WIFSIGNALED(code):
        return f"signal {signal.Signals(os.WTERMSIG(code)).name}"
    return f"exit status {os.WEXITSTATUS(code)}"
