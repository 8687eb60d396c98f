"""Fixtures for the mailbox-command transcripts: the real server on a random loopback port.

``server`` runs ``imapcore.server.app.serve`` in the test's Trio run (``support.server.running_server``)
with two users; ``session(user)`` opens a logged-in ``Transcript``: a client whose ``run`` sends one
command and returns the untagged lines and the tagged line, CRLF stripped, so tests read like transcripts.

Speed: each test gets a fresh copy of a data directory made once per test run, holding the users (with
argon2id hashes of deliberately low cost: the production parameters cost ~0.5 s per LOGIN here, and what
is tested is the commands, not the hash) and the self-signed certificate, so starting a server costs a
few milliseconds.
"""

from __future__ import annotations

import itertools
import shutil
from contextlib import asynccontextmanager

import argon2
import pytest

from imapcore.server.tls import ensure_self_signed
from imapcore.store import Store
from support.server import ImapTestClient, running_server

PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw"}


@pytest.fixture(scope="session")
def template_data_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("mailbox-template") / "imapcore-data"
    data_dir.mkdir()
    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    with Store.open(data_dir) as store:
        for name, password in PASSWORDS.items():
            store.create_user(name, cheap.hash(password))
    ensure_self_signed(data_dir)
    return data_dir


class Transcript:
    """A logged-in client; ``run("LIST \\"\\" *")`` -> (untagged lines, tagged line) as ``str``."""

    _tags = itertools.count(1)

    def __init__(self, client: ImapTestClient) -> None:
        self.client = client

    async def run(self, command: str | bytes) -> tuple[list[str], str]:
        tag = f"c{next(self._tags)}"
        data = command.encode() if isinstance(command, str) else command
        await self.client.send(tag.encode() + b" " + data + b"\r\n")
        lines = await self.client.read_until_tagged(tag)
        decoded = [line.decode("utf-8", "surrogateescape").removesuffix("\r\n") for line in lines]
        tagged = decoded[-1].split(" ", 1)[1]
        return decoded[:-1], tagged

    async def ok(self, command: str | bytes) -> list[str]:
        """Run a command that must succeed; its untagged lines."""
        untagged, tagged = await self.run(command)
        assert tagged.startswith("OK"), (command, untagged, tagged)
        return untagged

    async def close(self) -> None:
        await self.client.aclose()


def _copy_template(template_data_dir, tmp_path) -> None:
    target = tmp_path / "imapcore-data"
    if not target.exists():
        shutil.copytree(template_data_dir, target)


def _session_opener(server, opened: list):
    async def open_session(user: str = "alice") -> Transcript:
        client = await ImapTestClient.connect(server.port)
        transcript = Transcript(client)
        await transcript.ok(f"LOGIN {user} {PASSWORDS[user]}")
        opened.append(transcript)
        return transcript

    return open_session


@pytest.fixture
async def server(tmp_path, template_data_dir):
    _copy_template(template_data_dir, tmp_path)
    async with running_server(tmp_path) as srv:
        yield srv


@pytest.fixture
def session(server):
    """``await session()`` / ``await session("bob")``: a logged-in transcript on ``server``."""
    return _session_opener(server, [])


@pytest.fixture
def server_with(tmp_path, template_data_dir):
    """``async with server_with(limits=Limits(...)) as (srv, session)``: a server with other settings."""

    @asynccontextmanager
    async def start(**config_fields):
        _copy_template(template_data_dir, tmp_path)
        async with running_server(tmp_path, **config_fields) as srv:
            yield srv, _session_opener(srv, [])

    return start
