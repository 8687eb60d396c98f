"""Child process of test_crash.py: appends, copies, stores and expunges until it is killed.

Usage: python crash_worker.py DATA_DIR SEED SYNCHRONOUS [THREADS]
Prints ``ack <uid> <blob_id>`` (flushed) after each APPEND has committed, and nothing else on stdout.
INBOX messages are never expunged, so every acknowledged message must still be there after a crash;
copies go to Archive, where flags are stored and messages expunged. With THREADS > 1, that many threads
deliver at once (group commit: shared blob sync and commit), the first one also copying and expunging.
"""

import random
import sys
import threading

from imapcore.store import FlagMode, Store, UserExists
from imapcore.syntax.model import STAR, SequenceSet


def main() -> None:
    data_dir, seed, synchronous = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    store = Store.open(data_dir, synchronous=synchronous)
    try:
        store.create_user("crash")
    except UserExists:
        pass
    inbox = store.mailbox("crash", "INBOX").id
    archive = store.mailbox("crash", "Archive").id
    out = sys.stdout
    out_lock = threading.Lock()

    def deliver(number: int) -> None:
        rng = random.Random(seed * 100 + number)
        counter = 0
        while True:
            counter += 1
            body = f"seed {seed} thread {number} message {counter} ".encode() * rng.randint(1, 400)
            raw = b"Subject: crash test\r\nFrom: a@example.org\r\n\r\n" + body + b"\r\n"
            result = store.append("crash", "INBOX", raw, ["\\Seen"] if counter % 3 else [])
            line = f"ack {result.uids[0]} {store.blob_id(inbox, result.uids[0])}\n"
            with out_lock:
                out.write(line)
                out.flush()
            if number:
                continue
            action = rng.random()
            if action < 0.3:
                store.copy(inbox, SequenceSet(((max(1, result.uids[0] - 3), STAR),)), "crash", "Archive")
            elif action < 0.5:
                store.store_flags(inbox, [result.uids[0]], FlagMode.ADD, ["\\Flagged", "$crash"])
            elif action < 0.7:
                store.store_flags(archive, SequenceSet(((1, STAR),)), FlagMode.ADD, ["\\Deleted"])
                store.expunge(archive)

    for number in range(1, threads):
        threading.Thread(target=deliver, args=(number,), daemon=True).start()
    deliver(0)


if __name__ == "__main__":
    main()
