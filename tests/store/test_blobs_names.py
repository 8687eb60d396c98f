import hashlib
import os

import pytest

from imapcore.store import BlobCorrupt, BlobMissing, InvalidBlobId, InvalidMailboxName
from imapcore.store.blobs import BlobStore
from imapcore.store.names import normalize, parents


def test_put_names_by_sha256_fanned_out_and_is_idempotent(tmp_path):
    blobs = BlobStore(tmp_path / "blobs")
    data = b"Subject: hi\r\n\r\nbody\r\n"
    blob_id = blobs.put(data)
    assert blob_id == hashlib.sha256(data).hexdigest()
    path = tmp_path / "blobs" / blob_id[:2] / blob_id
    assert path.read_bytes() == data
    before = path.stat().st_mtime_ns
    assert blobs.put(data) == blob_id
    assert path.stat().st_mtime_ns == before  # second put is a no-op
    assert list(blobs.iter_ids()) == [blob_id]
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


@pytest.mark.parametrize("bad", ["../etc/passwd", "AB" * 32, "a" * 63, "g" * 64, "", None, "0" * 64 + "/"])
def test_invalid_ids_are_refused_before_any_path(tmp_path, bad):
    blobs = BlobStore(tmp_path / "blobs")
    with pytest.raises(InvalidBlobId):
        blobs.read(bad)
    with pytest.raises(InvalidBlobId):
        blobs.delete(bad)


def test_verify_detects_corruption_and_missing(tmp_path):
    blobs = BlobStore(tmp_path / "blobs")
    blob_id = blobs.put(b"original")
    path = blobs.path_of(blob_id)
    path.write_bytes(b"tampered")
    assert blobs.read(blob_id) == b"tampered"  # unverified read returns what is there
    with pytest.raises(BlobCorrupt):
        blobs.read(blob_id, verify=True)
    path.unlink()
    with pytest.raises(BlobMissing):
        blobs.read(blob_id)


@pytest.mark.parametrize(
    "name",
    ["", "a//b", "/a", "a/", "a/../b", "..", "a/./b", "tab\there", "nul\x00", "del\x7f", "star*", "per%cent",
     "x" * 1001, "/".join(["l"] * 51)],
)
def test_invalid_mailbox_names_are_refused_with_cannot(name):
    with pytest.raises(InvalidMailboxName) as info:
        normalize(name)
    assert info.value.code == "CANNOT"


def test_name_normalisation_and_limits():
    assert normalize("inbox") == "INBOX"
    assert normalize("InBoX/Sub") == "INBOX/Sub"
    assert normalize("Inboxes") == "Inboxes"
    assert normalize("é" * 500) == "é" * 500  # 1000 bytes exactly
    with pytest.raises(InvalidMailboxName):
        normalize("é" * 501)
    assert normalize("/".join(["l"] * 50)).count("/") == 49
    assert parents("a/b/c") == ["a", "a/b"]


def test_write_then_sync_leaves_exactly_the_file(tmp_path):
    # BlobStore.write is one C call where imapcore._cblobio is built (native/blobio.c): same result.
    store = BlobStore(tmp_path / "blobs")
    data = b"Subject: one call\r\n\r\n" + bytes(range(256)) * 100
    blob_id = hashlib.sha256(data).hexdigest()
    store.write(data, blob_id)
    store.sync([blob_id])
    path = store.path_of(blob_id)
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o777 == 0o600
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_failed_write_raises_and_leaves_no_temporary(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    data = b"x" * 5000
    blob_id = hashlib.sha256(data).hexdigest()
    (tmp_path / "blobs" / blob_id[:2]).rmdir()  # the rename target's directory is gone
    with pytest.raises(FileNotFoundError):
        store.write(data, blob_id)
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    assert not store.exists(blob_id)


def test_write_new_trusts_only_a_leftover_that_hashes_right(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    data = b"Subject: left over\r\n\r\nbody\r\n"
    blob_id = hashlib.sha256(data).hexdigest()
    assert store.write_new(data, blob_id) is True  # nothing there: written
    assert store.read(blob_id, verify=True) == data
    assert store.write_new(data, blob_id) is False  # a good file is already there: kept
    store.path_of(blob_id).write_bytes(b"torn by a power loss")
    assert store.write_new(data, blob_id) is True  # a wrong one is replaced
    assert store.read(blob_id, verify=True) == data
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_missing_names_the_blobs_without_a_file(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    datas = [b"message %d" % i for i in range(6)]
    ids = [hashlib.sha256(data).hexdigest() for data in datas]
    for data, blob_id in list(zip(datas, ids))[::2]:
        store.put(data, blob_id)
    assert store.missing(ids + ids[:1]) == {ids[1], ids[3], ids[5]}
    assert store.missing([]) == set()
    with pytest.raises(InvalidBlobId):
        store.missing(["../../etc/passwd"])


@pytest.fixture(params=["c", "os"])
def file_calls(request, monkeypatch):
    """Both ways ``BlobStore`` retires and rewrites files: the C calls (native/blobio.c), when built,
    and their ``os`` twins, which are their specification (each test runs with both)."""
    from imapcore.store import blobs as blobs_module

    if request.param == "c" and blobs_module._retire_files is None:
        pytest.skip("imapcore._cblobio not built or IMAPCORE_PURE_PYTHON=1")  # CI's full run builds it
    if request.param == "os":
        for name in ("_write_file", "_write_new_file", "_missing_files", "_retire_files", "_write_pooled_file"):
            monkeypatch.setattr(blobs_module, name, None)
    return request.param


def test_delete_many_removes_the_files_there_and_names_them(tmp_path, file_calls):
    store = BlobStore(tmp_path / "blobs")
    datas = [b"expunged %d" % i for i in range(5)]
    ids = [hashlib.sha256(data).hexdigest() for data in datas]
    for data, blob_id in list(zip(datas, ids))[:3]:
        store.put(data, blob_id)
    assert store.delete_many(ids) == ids[:3]  # the last two had no file
    assert store.missing(ids) == set(ids)
    assert store.delete_many([]) == []
    with pytest.raises(InvalidBlobId):
        store.delete_many(["../../etc/passwd"])
    # An unlink failing otherwise than "not there" is raised, not taken for a removal: here a
    # directory stands where the file would be (EISDIR).
    store.path_of(ids[4]).mkdir()
    with pytest.raises(IsADirectoryError):
        store.delete_many(ids[3:])


def test_collected_small_files_are_written_into_again_instead_of_created(tmp_path, file_calls):
    import os

    from imapcore.store import blobs as blobs_module

    store = BlobStore(tmp_path / "blobs")
    old = [b"expunged draft %d " % i * 100 for i in range(3)]
    big = b"x" * (blobs_module.POOL_MAX_BYTES + 1)
    ids = [hashlib.sha256(data).hexdigest() for data in old + [big]]
    for data, blob_id in zip(old + [big], ids):
        store.put(data, blob_id)
    assert sorted(store.delete_many(ids, [len(d) for d in old + [big]])) == sorted(ids)
    assert store.missing(ids) == set(ids)
    free = tmp_path / "blobs" / "free"
    assert sorted(p.name for p in free.iterdir()) == sorted(ids[:3])  # the big one was unlinked
    new = [b"new message %d" % i for i in range(4)]
    new_ids = [hashlib.sha256(data).hexdigest() for data in new]
    # Another process took one retired file meanwhile: the next one is used instead.
    os.unlink(free / ids[0])
    for data, blob_id in zip(new, new_ids):
        assert store.write_new(data, blob_id) is True
        assert store.read(blob_id, verify=True) == data  # truncated, nothing of the old bytes left
    # The two retired files left were taken (renamed out of free/), then new files were created.
    assert list(free.iterdir()) == [] and list((tmp_path / "blobs" / "tmp").iterdir()) == []
    # A blob already there: the retired file stays in the pool for the next one.
    store.delete_many([new_ids[0]], [len(new[0])])
    assert store.write_new(new[1], new_ids[1]) is False
    assert [p.name for p in free.iterdir()] == [new_ids[0]]
    # A new store (a restart) finds the retired files again.
    again = BlobStore(tmp_path / "blobs")
    assert again.write_new(b"after a restart", hashlib.sha256(b"after a restart").hexdigest()) is True
    assert list(free.iterdir()) == []
    # What gc calls: the kept files go, their space comes back.
    store.delete_many([new_ids[2]], [len(new[2])])
    assert store.drain_pool() == 1 and list(free.iterdir()) == []
    assert store.write_new(new[2], new_ids[2]) is True  # and writing still works, with a new file


@pytest.mark.parametrize("old_size, new_size", [(20_000, 9_000), (1_800, 10_000), (8_192, 8_192), (12_288, 5)])
def test_a_reused_file_holds_exactly_the_new_bytes(tmp_path, file_calls, old_size, new_size):
    """Written over in place (no O_TRUNC, see imc_write_pooled_file): longer or shorter than the retired
    file, on page boundaries or not, the new blob is exactly its bytes."""
    store = BlobStore(tmp_path / "blobs")
    old = bytes(range(256)) * (old_size // 256) + b"o" * (old_size % 256)
    old_id = hashlib.sha256(old).hexdigest()
    store.put(old, old_id)
    store.delete_many([old_id], [old_size])
    assert len(list((tmp_path / "blobs" / "free").iterdir())) == 1
    new = b"n" * new_size
    new_id = hashlib.sha256(new).hexdigest()
    assert store.write_new(new, new_id) is True
    assert list((tmp_path / "blobs" / "free").iterdir()) == []  # the retired file was the one used
    assert store.read(new_id, verify=True) == new
    assert os.path.getsize(store.path_of(new_id)) == new_size


def test_the_pool_hands_out_the_largest_file_no_longer_than_the_new_blob(tmp_path, file_calls):
    """Writing then only grows the file (shrinking one frees blocks: imc_write_pooled_file); with none
    short enough, the shortest there is."""
    store = BlobStore(tmp_path / "blobs")
    olds = [bytes([n]) * size for n, size in enumerate((100, 5_000, 20_000))]
    ids = [hashlib.sha256(data).hexdigest() for data in olds]
    for data, blob_id in zip(olds, ids):
        store.put(data, blob_id)
    store.delete_many(ids[::-1], [len(data) for data in olds[::-1]])  # any order: sizes go with their ids
    free = tmp_path / "blobs" / "free"

    def left() -> set[str]:
        return {p.name for p in free.iterdir()}

    assert left() == set(ids)
    for data, expected_taken in ((b"a" * 6_000, ids[1]), (b"b" * 50, ids[0]), (b"c" * 30_000, ids[2])):
        before = left()
        assert store.write_new(data, hashlib.sha256(data).hexdigest()) is True
        assert before - left() == {expected_taken}
        assert store.read(hashlib.sha256(data).hexdigest(), verify=True) == data
    # A new store (a restart) reads the sizes of the files it finds.
    store.delete_many([hashlib.sha256(b"a" * 6_000).hexdigest()], [6_000])
    assert BlobStore(tmp_path / "blobs")._pool == [(6_000, str(free / hashlib.sha256(b"a" * 6_000).hexdigest()))]
