"""Session contexts on a real store and in-process change feed, without sockets: for tests of what a
session tells its client (``SelectedMailbox`` numbering, other sessions' changes)."""

from __future__ import annotations

import trio
import trio.testing

from imapcore.commands.context import ServerServices, SessionContext
from imapcore.server.config import Config
from imapcore.store import InProcessFeed, Store


async def open_sessions(tmp_path, count=2, buffer_size=1024):
    """A store with user ``alice`` and ``count`` logged-in session contexts sharing its feed."""
    store = Store.open(tmp_path / "data", feed=InProcessFeed(buffer_size=buffer_size))
    store.create_user("alice")
    services = ServerServices(store, store.feed, Config(data_dir=str(tmp_path / "data")), None,
                              trio.CapacityLimiter(4))
    contexts = []
    for _ in range(count):
        ctx = SessionContext(services, channel=None, remote_address=("127.0.0.1", 1), tls=False)
        ctx.user = "alice"
        contexts.append(ctx)
    return store, contexts


async def updates(ctx, allow_expunge=True):
    """What the session would send at a command boundary now (once every task has settled)."""
    await trio.testing.wait_all_tasks_blocked()
    await ctx.selected.poll()
    return [r.to_bytes(False) for r in ctx.selected.pending_updates(allow_expunge)]
