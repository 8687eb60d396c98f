"""The admission state several worker processes share (``imapcore.server.sharedstate``), on its own:
two handles on one directory stand for two workers."""

from __future__ import annotations

from imapcore.server.sharedstate import SharedState, SharedVerificationCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counts_are_shared_and_a_dead_worker_is_forgotten(tmp_path):
    SharedState.reset(tmp_path)
    one, two = SharedState(tmp_path, 0), SharedState(tmp_path, 1)
    try:
        assert one.acquire("address", "192.0.2.1", 3) and two.acquire("address", "192.0.2.1", 3)
        assert one.acquire("address", "192.0.2.1", 3)
        assert not two.acquire("address", "192.0.2.1", 3)  # 3 in all, whichever worker asks
        assert one.in_use("address", "192.0.2.1") == two.in_use("address", "192.0.2.1") == 3
        two.release("address", "192.0.2.1")
        assert two.acquire("address", "192.0.2.1", 3)
        one.forget_worker(1)  # worker 1 died: its share is gone, worker 0's stays
        assert one.in_use("address", "192.0.2.1") == 2
    finally:
        one.close()
        two.close()


def test_verification_cache_is_shared_under_one_secret(tmp_path):
    SharedState.reset(tmp_path)
    one, two = SharedState(tmp_path, 0), SharedState(tmp_path, 1)
    clock = Clock()
    secret = b"s" * 32
    try:
        first = SharedVerificationCache(one, secret, ttl_s=60, clock=clock)
        second = SharedVerificationCache(two, secret, ttl_s=60, clock=clock)
        stranger = SharedVerificationCache(two, b"t" * 32, ttl_s=60, clock=clock)
        first.remember("alice", "pw", "$argon2id$h1")
        assert second.hit("alice", "pw", "$argon2id$h1")
        assert not second.hit("alice", "wrong", "$argon2id$h1")
        assert not second.hit("alice", "pw", "$argon2id$h2")  # a new password hash: verify again
        assert not stranger.hit("alice", "pw", "$argon2id$h1")  # another secret: nothing to reuse
        clock.now += 61
        assert not second.hit("alice", "pw", "$argon2id$h1")  # expired
    finally:
        one.close()
        two.close()
