"""Which worker process of ``imapcore serve --workers N`` serves a connection (Linux ``/proc``).

Tests of the multi-process server must know that two sessions really are in different processes,
otherwise a change reaching the second proves nothing about the cross-process feed. The server side of
a loopback connection is the TCP socket whose remote port is the client's local port; its inode is in
``/proc/net/tcp``, and the process holding it has a ``socket:[inode]`` link in ``/proc/PID/fd``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time


def worker_pids(supervisor_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(supervisor_pid)], capture_output=True, text=True).stdout
    return sorted(int(pid) for pid in out.split())


def tree_rss_kib(pid: int) -> int:
    """Resident memory (VmRSS, KiB) of a server: the process and its workers together (``imapcore
    serve`` runs one worker per CPU by default; the supervisor alone holds almost nothing)."""
    total = 0
    for member in (pid, *worker_pids(pid)):
        try:
            with open(f"/proc/{member}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        except FileNotFoundError:
            if member == pid:
                raise
    return total


def _server_inode(client: socket.socket) -> int | None:
    port = client.getsockname()[1]
    server_port = client.getpeername()[1]
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], int(fields[9])
            if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == port and inode:
                return inode
    return None


def worker_of(supervisor_pid: int, client: socket.socket, timeout: float = 5.0) -> int:
    """The pid of the worker holding the server side of ``client``'s connection (after the greeting,
    the connection has been accepted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inode = _server_inode(client)
        if inode is not None:
            link = f"socket:[{inode}]"
            for pid in worker_pids(supervisor_pid):
                try:
                    fds = os.listdir(f"/proc/{pid}/fd")
                except FileNotFoundError:
                    continue
                for fd in fds:
                    try:
                        if os.readlink(f"/proc/{pid}/fd/{fd}") == link:
                            return pid
                    except OSError:
                        continue
        time.sleep(0.02)
    raise AssertionError(f"no worker of {supervisor_pid} holds the connection from port {client.getsockname()[1]}")
