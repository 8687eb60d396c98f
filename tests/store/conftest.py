import pytest

from imapcore.store import Store


@pytest.fixture
def store(tmp_path):
    # Unit tests skip fsync (durable=False) for speed; durability has its own crash test.
    with Store.open(tmp_path / "data", durable=False, synchronous="NORMAL") as opened:
        opened.create_user("alice")
        yield opened
