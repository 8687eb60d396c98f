"""IMAP semantics: one module per command family, registered in one table.

Handler contract
----------------
A handler is ``async def handler(ctx: SessionContext, cmd) -> Completion``, registered with
``@handles(CommandClass, ...)`` (``imapcore.commands.registry``). ``cmd`` is the parsed command
dataclass (``imapcore.syntax.commands``), already checked against the state table
(``imapcore.protocol.states``): handlers never re-check the connection state.

* Success: queue untagged responses with ``ctx.untagged(response)`` (written, batched, before the tagged
  completion) and return ``Completion(code=None, text="...")``, the tagged ``OK``.
* Refusal: raise ``imapcore.protocol.errors.CommandFailed(code, text)`` (``tag NO [CODE] text``) or
  ``BadCommand(text)`` (``tag BAD text``: arguments that make no sense, e.g. an invalid message set).
* Store errors (``imapcore.store.errors.StoreError`` subclasses, each with ``.code``) may simply
  propagate: the dispatcher (``imapcore.commands.dispatch``) maps them to ``NO [CODE]`` in one place.
* Anything else is a server bug: the dispatcher logs it with its traceback and answers
  ``NO [SERVERBUG]``; the session goes on. ``trio.Cancelled`` always propagates.
* Blocking store calls go through ``await ctx.run_store(fn, *args)`` (a worker thread, bounded).
* Changes this command made to the selected mailbox are told to the client by the handler and recorded
  with ``ctx.selected.note_flags(...)`` / ``ctx.selected.note_expunged(...)`` so they are not reported a
  second time when they come back on the change feed. Other sessions' changes are reported by the
  session at the command boundary (``SelectedMailbox.pending_updates``); handlers do nothing for them.

Adding a module
---------------
Write ``imapcore/commands/<family>.py`` using ``@handles`` and add its name to ``COMMAND_MODULES`` below
(one line per module, keep the list sorted within each owner's block). Importing this package imports
every listed module, which fills ``HANDLERS``; a test checks every advertised capability and every command
of the state table against it.
"""

from __future__ import annotations

import importlib

from .registry import ALREADY_SENT, HANDLERS, Completion, handles

#: Every command module. A missing module is an import error on purpose: the list is the truth.
COMMAND_MODULES = (
    # server core: any-state commands, authentication, ENABLE, IDLE
    "any_state",
    "auth",
    "enable",
    "idle",
    # mailbox commands (CREATE ... STATUS, SELECT/EXAMINE/CLOSE/UNSELECT/CHECK, APPEND, QUOTA)
    "append",
    "mailboxes",
    "quota",
    "select",
    # message commands (FETCH, STORE, SEARCH, COPY/MOVE, EXPUNGE)
    "copy_move",
    "expunge",
    "fetch",
    "search",
    "store",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")

__all__ = ["ALREADY_SENT", "COMMAND_MODULES", "Completion", "HANDLERS", "handles"]
