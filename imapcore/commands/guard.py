"""What a command must pass before its handler runs: rate budget, shape limits, heavy-work limiter.

``CommandGuard`` is shared by every session of a server; each session holds a ``SessionGuard`` and hands
it to ``dispatch.run_command``. The dispatcher asks it, in order:

1. ``refuse(ctx, command)``: a ``NO [LIMIT]`` completion, or None. Refused are a command over the
   session's rate budget (a token bucket: ``command_burst`` commands at once, then ``commands_per_s``),
   and commands that would break a shape limit: a mailbox name longer than ``max_mailbox_name_bytes`` or
   deeper than ``max_mailbox_depth`` (CREATE, RENAME), a CREATE beyond ``max_mailboxes_per_user``, a
   STORE or APPEND bringing a mailbox over ``max_keywords_per_mailbox`` keywords, a SEARCH/SORT/THREAD
   program nested deeper than ``max_search_depth``. Nothing has been changed when they are refused.
2. ``heavy(ctx, command)``: an async context manager that, for a heavy command, waits for a slot of the
   user's heavy limiter (``max_heavy_per_user``) and then of the server's (``max_heavy_commands``), so a
   few clients cannot keep every worker thread busy. Heavy are: SEARCH with text keys, SORT and THREAD
   over more than ``heavy_mailbox_messages`` messages; FETCH of bodies of more than
   ``heavy_fetch_bodies`` messages; APPEND/REPLACE of more than ``heavy_append_bytes``.
3. ``logged_in(user)`` / ``logged_out()``: the per-user session limit (``max_sessions_per_user``),
   acquired when LOGIN/AUTHENTICATE succeeds and released by UNAUTHENTICATE or the end of the session.
   When the user has no free slot the login is answered ``NO [LIMIT]`` and ``close_requested`` tells the
   session to close the connection.

The per-user session slots live in the server layer (``imapcore.server.limits``); they reach this module
as the two callables ``admit_user`` and ``release_user``, so commands never import the server.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import trio

from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.responses import Status, TaggedResponse
from imapcore.syntax import commands as c
from imapcore.syntax.model import SearchAnd, SearchKey, SearchNot, SearchOr

from .listing import DELIMITER

if TYPE_CHECKING:
    from imapcore.server.config import Limits

    from .context import SessionContext

#: Search keys that look into message text (headers or bodies) rather than the index.
TEXT_SEARCH_KEYS = frozenset({"BODY", "TEXT", "SUBJECT", "FROM", "TO", "CC", "BCC", "HEADER", "FUZZY"})
#: FETCH items that read message bodies (BODY without a section is BODYSTRUCTURE, from the index).
_BODY_ITEMS = frozenset({"RFC822", "RFC822.TEXT", "RFC822.HEADER", "BINARY", "BINARY.SIZE", "BODY[]"})


def search_depth(program) -> int:
    """Nesting depth of a search program (iterative: a hostile program cannot exhaust the stack)."""
    deepest = 0
    pending = [(program, 1)]
    while pending:
        key, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(key, SearchAnd):
            pending.extend((k, depth + 1) for k in key.keys)
        elif isinstance(key, SearchOr):
            pending.append((key.left, depth + 1))
            pending.append((key.right, depth + 1))
        elif isinstance(key, SearchNot):
            pending.append((key.key, depth + 1))
    return deepest


def _has_text_key(program) -> bool:
    pending = [program]
    while pending:
        key = pending.pop()
        if isinstance(key, SearchKey):
            if key.name.upper() in TEXT_SEARCH_KEYS:
                return True
        elif isinstance(key, SearchAnd):
            pending.extend(key.keys)
        elif isinstance(key, SearchOr):
            pending += [key.left, key.right]
        elif isinstance(key, SearchNot):
            pending.append(key.key)
    return False


def _message_bytes(message: c.AppendMessage) -> int:
    return len(message.data) + sum(len(part.text or b"") for part in message.parts)


def _keywords(flags) -> set[str]:
    return {flag for flag in flags or () if not flag.startswith("\\")}


def limit_refusal(tag: str, text: str) -> TaggedResponse:
    return TaggedResponse(tag, Status.NO, text, ResponseCode(Code.LIMIT))


class CommandGuard:
    """Server-wide part: the limits, the heavy-work limiters, the per-user session slots."""

    def __init__(
        self,
        limits: Limits,
        admit_user: Callable[[str, object], bool] | None = None,
        release_user: Callable[[str, object], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.limits = limits
        self.admit_user = admit_user
        self.release_user = release_user
        self.clock = clock or trio.current_time
        heavy = limits.max_heavy_commands or max(2, os.cpu_count() or 2)
        self.heavy_limiter = trio.CapacityLimiter(heavy)
        self._user_heavy: dict[str, trio.CapacityLimiter] = {}

    def session(self) -> SessionGuard:
        return SessionGuard(self)

    # --- heavy work -------------------------------------------------------------------------------------

    def is_heavy(self, ctx: SessionContext, command) -> bool:
        if type(command) not in _MAYBE_HEAVY:  # most commands: one look-up instead of five isinstance
            return False
        limits = self.limits
        selected = ctx.selected
        if isinstance(command, (c.Sort, c.Thread)):
            return selected is not None and selected.exists > limits.heavy_mailbox_messages
        if isinstance(command, c.Search):
            return (selected is not None and selected.exists > limits.heavy_mailbox_messages
                    and _has_text_key(command.criteria))
        if isinstance(command, c.Fetch):
            if selected is None or not any(_reads_body(item) for item in command.items):
                return False
            return _count(command, selected) > limits.heavy_fetch_bodies
        if isinstance(command, c.Append):
            return sum(_message_bytes(m) for m in command.messages) > limits.heavy_append_bytes
        if isinstance(command, c.Replace):
            return _message_bytes(command.message) > limits.heavy_append_bytes
        return False

    @asynccontextmanager
    async def heavy_slot(self, user: str | None):
        key = user or ""
        per_user = self._user_heavy.get(key)
        if per_user is None:
            per_user = self._user_heavy[key] = trio.CapacityLimiter(max(1, self.limits.max_heavy_per_user))
        try:
            async with per_user:
                async with self.heavy_limiter:
                    yield
        finally:
            if per_user.borrowed_tokens == 0 and per_user.statistics().tasks_waiting == 0:
                self._user_heavy.pop(key, None)


#: The commands ``is_heavy`` may count as heavy, and those whose shape ``refuse`` checks (exact types:
#: the command classes have no subclasses).
_MAYBE_HEAVY = frozenset({c.Sort, c.Thread, c.Search, c.Fetch, c.Append, c.Replace})
_SHAPE_CHECKED = frozenset({c.Search, c.Sort, c.Thread, c.Create, c.Rename, c.Store, c.Append})


def _reads_body(item: c.FetchItem) -> bool:
    if item.name == "BODY":
        return item.section is not None
    return item.name in _BODY_ITEMS


def _count(command, selected) -> int:
    """How many messages a sequence set names at most (never more than the mailbox holds)."""
    exists = selected.exists
    sequence_set = command.sequence_set
    if getattr(sequence_set, "saved", False):
        return len(selected.saved_result or ())
    largest = (selected.uid_next - 1) if command.uid else exists
    total = 0
    for low, high in sequence_set.iter_ranges(max(largest, 1)):
        total += high - low + 1
        if total >= exists:
            return exists
    return min(total, exists)


class SessionGuard:
    """One session's part: its command-rate bucket and its user slot."""

    __slots__ = ("shared", "_tokens", "_last", "_user", "close_requested")

    def __init__(self, shared: CommandGuard) -> None:
        self.shared = shared
        self._tokens = float(shared.limits.command_burst)
        self._last = -math.inf
        self._user: str | None = None
        self.close_requested = False

    # --- before the handler ---------------------------------------------------------------------------

    def _spend(self) -> bool:
        limits = self.shared.limits
        now = self.shared.clock()
        if self._last != -math.inf:
            self._tokens = min(float(limits.command_burst), self._tokens + (now - self._last) * limits.commands_per_s)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    async def refuse(self, ctx: SessionContext, command) -> TaggedResponse | None:
        tag = command.tag
        if not self._spend():
            return limit_refusal(tag, "Too many commands; slow down")
        if type(command) not in _SHAPE_CHECKED:
            return None
        limits = self.shared.limits
        if isinstance(command, (c.Search, c.Sort, c.Thread)):
            program = command.criteria if isinstance(command, c.Search) else command.search
            if search_depth(program) > limits.max_search_depth:
                return limit_refusal(tag, f"Search program nested deeper than {limits.max_search_depth}")
        elif isinstance(command, (c.Create, c.Rename)):
            return await self._check_mailbox_name(ctx, command)
        elif isinstance(command, c.Store):
            new = _keywords(command.action.flags) if command.action.mode is not c.StoreMode.REMOVE else set()
            if new and ctx.selected is not None:
                known = ctx.selected.keywords
                if len(known | new) > limits.max_keywords_per_mailbox and not new <= known:
                    return limit_refusal(tag, f"A mailbox holds at most {limits.max_keywords_per_mailbox} keywords")
        elif isinstance(command, c.Append):
            new = set().union(*(_keywords(m.flags) for m in command.messages)) if command.messages else set()
            if new:
                return await self._check_append_keywords(ctx, command, new)
        return None

    async def _check_mailbox_name(self, ctx: SessionContext, command) -> TaggedResponse | None:
        from .mailboxes import store_name  # mailboxes imports the registry, which imports the context

        limits = self.shared.limits
        wire = command.mailbox if isinstance(command, c.Create) else command.new_mailbox
        try:
            name = store_name(ctx, wire, strip_delimiter=True)
        except Exception:  # an invalid name: the handler answers it properly
            return None
        if len(name.encode("utf-8", "surrogatepass")) > limits.max_mailbox_name_bytes:
            return limit_refusal(command.tag, f"Mailbox name longer than {limits.max_mailbox_name_bytes} bytes")
        if name.count(DELIMITER) + 1 > limits.max_mailbox_depth:
            return limit_refusal(command.tag, f"Mailbox hierarchy deeper than {limits.max_mailbox_depth} levels")
        if isinstance(command, c.Create) and ctx.user is not None:
            mailboxes = await ctx.run_store(ctx.store.list_mailboxes, ctx.user)
            if len(mailboxes) >= limits.max_mailboxes_per_user:
                return limit_refusal(command.tag, f"At most {limits.max_mailboxes_per_user} mailboxes per user")
        return None

    async def _check_append_keywords(self, ctx: SessionContext, command, new: set[str]) -> TaggedResponse | None:
        from .mailboxes import store_name

        limits = self.shared.limits
        if len(new) > limits.max_keywords_per_mailbox:
            return limit_refusal(command.tag, f"A mailbox holds at most {limits.max_keywords_per_mailbox} keywords")
        try:
            name = store_name(ctx, command.mailbox)
            status = await ctx.run_store(ctx.store.status, ctx.user, name)
            known = await ctx.run_store(ctx.store.keywords, status.id)
        except Exception:  # a missing mailbox and the like: the handler answers it properly
            return None
        if len(known | new) > limits.max_keywords_per_mailbox:
            return limit_refusal(command.tag, f"A mailbox holds at most {limits.max_keywords_per_mailbox} keywords")
        return None

    # --- around the handler ---------------------------------------------------------------------------

    def heavy(self, ctx: SessionContext, command):
        """An async context manager: a heavy-work slot for a heavy command, nothing otherwise."""
        if self.shared.is_heavy(ctx, command):
            return self.shared.heavy_slot(ctx.user)
        return NO_SLOT

    # --- the user's session slot ------------------------------------------------------------------------

    def logged_in(self, user: str) -> bool:
        """Take a session slot of ``user``; False when they have ``max_sessions_per_user`` already."""
        if self._user is not None:
            self.logged_out()
        admit = self.shared.admit_user
        if admit is not None and not admit(user, self):
            return False
        self._user = user
        return True

    def logged_out(self) -> None:
        if self._user is not None:
            release = self.shared.release_user
            if release is not None:
                release(self._user, self)
            self._user = None


class _Nothing:
    async def __aenter__(self):
        return None

    async def __aexit__(self, *exc_info):
        return False


#: What ``SessionGuard.heavy`` returns for a command that needs no heavy-work slot.
NO_SLOT = _Nothing()
