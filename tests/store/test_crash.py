"""kill -9 at random moments: acknowledged APPENDs survive, no dangling blob, fsck clean.

A child process (crash_worker.py) appends, copies, stores flags and expunges in a loop and prints an
``ack`` line after each committed APPEND; the parent reads acks for a random short time and sends
SIGKILL. After each kill the store is reopened (a restart) and checked: every acknowledged message is in
INBOX with the acknowledged blob, no message refers to a missing blob, and ``imapcore fsck`` (the CLI
entry point) reports the store clean. Run with the default ``synchronous=FULL`` and, as the measurement
behind that choice, with ``NORMAL`` (both must pass: a process crash does not lose WAL commits).
"""

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imapcore.cli import main as imapcore_main
from imapcore.store import Store
from imapcore.syntax.model import STAR, SequenceSet

WORKER = Path(__file__).with_name("crash_worker.py")


def run_until_killed(data_dir, seed, synchronous, run_s, threads=1):
    child = subprocess.Popen(
        [sys.executable, str(WORKER), str(data_dir), str(seed), synchronous, str(threads)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    acks = []
    buffer = b""
    deadline = time.monotonic() + run_s
    started = None
    try:
        while True:
            timeout = deadline - time.monotonic() if started else 10.0
            if timeout <= 0:
                break
            ready, _, _ = select.select([child.stdout], [], [], timeout)
            if not ready:
                break
            chunk = os.read(child.stdout.fileno(), 65536)
            if not chunk:
                break
            if started is None:
                started = time.monotonic()
                deadline = started + run_s
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                _, uid, blob_id = line.decode().split()
                acks.append((int(uid), blob_id))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        stderr = child.stderr.read().decode()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL, stderr
    return acks


def check_after_restart(data_dir, acked, capsys):
    with Store.open(data_dir) as store:
        inbox = store.mailbox("crash", "INBOX").id
        present = {row.uid: row.blob_id for row in store.fetch_rows(inbox, SequenceSet(((1, STAR),)), ["blob_id"])}
        for uid, blob_id in acked:
            assert present.get(uid) == blob_id, f"acknowledged UID {uid} lost"
        for mailbox in store.list_mailboxes("crash"):
            for row in store.fetch_rows(mailbox.id, SequenceSet(((1, STAR),)), ["blob_id"]):
                assert store.blobs.exists(row.blob_id)
        status = store.status("crash", "INBOX")
        assert status.uid_next > max((uid for uid, _ in acked), default=0)
    capsys.readouterr()
    code = imapcore_main(["fsck", "--data-dir", str(data_dir)])
    output = capsys.readouterr().out
    assert code == 0 and "clean" in output.splitlines()[-1], output


@pytest.mark.slow
@pytest.mark.parametrize("synchronous, kills, threads", [("FULL", 50, 1), ("NORMAL", 12, 1), ("FULL", 12, 4)])
def test_kill_9_loses_no_acknowledged_append(tmp_path, capsys, synchronous, kills, threads):
    """With 4 threads the deliveries go through group commit (one blob sync and one commit per batch):
    an ack still means the message survives."""
    rng = random.Random(synchronous + str(threads))
    data_dir = tmp_path / "data"
    acked = []
    for round_number in range(kills):
        acks = run_until_killed(data_dir, round_number, synchronous, rng.uniform(0.02, 0.25), threads)
        acked.extend(acks)
        check_after_restart(data_dir, acked, capsys)
    assert len(acked) > kills  # the worker did real work between kills
    # The real command line once at the end, as an operator would run it.
    result = subprocess.run(
        [sys.executable, "-m", "imapcore.cli", "fsck", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
