"""Password hashing, the verification cache, SASL PLAIN/LOGIN and the authenticator."""

import time

import pytest
import trio

from imapcore.auth import sasl
from imapcore.auth.authenticator import Authenticator
from imapcore.auth.cache import VerificationCache
from imapcore.auth.passwords import hash_password, needs_rehash, verify_password


def test_hash_is_argon2id_and_verifies():
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "correct horsf")
    assert not verify_password("not a hash", "x")
    assert not needs_rehash(h)
    assert hash_password("correct horse") != h  # salted


def test_cache_hits_only_exact_triple_and_expires():
    now = [1000.0]
    cache = VerificationCache(max_entries=2, ttl_s=10, clock=lambda: now[0])
    cache.remember("alice", "pw", "H1")
    assert cache.hit("alice", "pw", "H1")
    assert not cache.hit("alice", "wrong", "H1")
    assert not cache.hit("alice", "pw", "H2")  # password changed: new stored hash
    assert not cache.hit("bob", "pw", "H1")
    now[0] += 11
    assert not cache.hit("alice", "pw", "H1")
    assert len(cache) == 0


def test_cache_is_bounded_lru():
    cache = VerificationCache(max_entries=2, ttl_s=100)
    cache.remember("a", "1", "h")
    cache.remember("b", "1", "h")
    assert cache.hit("a", "1", "h")  # a is now most recent
    cache.remember("c", "1", "h")
    assert len(cache) == 2
    assert cache.hit("a", "1", "h") and cache.hit("c", "1", "h")
    assert not cache.hit("b", "1", "h")


def test_plain_with_and_without_authzid():
    assert sasl.start("plain").step(b"\0alice\0secret") == sasl.Credentials("alice", "secret", "")
    assert sasl.start("PLAIN").step(b"admin\0alice\0secret") == sasl.Credentials("alice", "secret", "admin")
    assert sasl.start("PLAIN").step(None) == sasl.Challenge(b"")


@pytest.mark.parametrize("bad", [b"alice\0secret", b"\0\0secret", b"\0alice\0", b"\0al\xffice\0pw", b"a\0b\0c\0d"])
def test_plain_rejects_malformed(bad):
    with pytest.raises(sasl.SaslError):
        sasl.start("PLAIN").step(bad)


def test_login_mechanism_prompts():
    mech = sasl.start("LOGIN")
    assert mech.step(None) == sasl.Challenge(b"Username:")
    assert mech.step(b"alice") == sasl.Challenge(b"Password:")
    assert mech.step(b"secret") == sasl.Credentials("alice", "secret")
    # SASL-IR: the user name as initial response.
    mech = sasl.start("LOGIN")
    assert mech.step(b"alice") == sasl.Challenge(b"Password:")


def test_unknown_mechanism():
    assert sasl.start("CRAM-MD5") is None


def test_saslprep_rfc4013_examples():
    # RFC 4013 §3 examples.
    assert sasl.saslprep("I\u00adX") == "IX"
    assert sasl.saslprep("user") == "user"
    assert sasl.saslprep("\u00aa") == "a"
    assert sasl.saslprep("\u2168") == "IX"
    with pytest.raises(sasl.SaslError):
        sasl.saslprep("\u0007")
    with pytest.raises(sasl.SaslError):
        sasl.saslprep("\u0627\u0031")


async def test_authenticator_accepts_caches_and_hides_unknown_users():
    stored = {"alice": hash_password("secret")}
    auth = Authenticator(stored.get)
    assert await auth.verify("alice", "secret")
    assert len(auth.cache) == 1
    t0 = time.perf_counter()
    assert await auth.verify("alice", "secret")  # cached: no argon2
    assert time.perf_counter() - t0 < 0.02
    assert not await auth.verify("alice", "wrong")
    assert not await auth.verify("mallory", "secret")
    assert len(auth.cache) == 1


async def test_hash_runs_off_the_event_loop():
    stored = {"alice": hash_password("secret")}
    auth = Authenticator(stored.get)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await trio.sleep(0.005)
            ticks += 1

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        assert not await auth.verify("alice", "nope")
        nursery.cancel_scope.cancel()
    assert ticks >= 5  # the loop kept running during the ~100 ms hash
