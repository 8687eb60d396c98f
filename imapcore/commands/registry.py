"""The handler table: which coroutine runs which command class.

Each command module decorates its handlers with ``@handles(CommandClass, ...)``; the decorator fills
``HANDLERS`` (command dataclass -> handler). A class may have one handler only: registering a second one
is a programming error caught at import time, so two modules can never silently fight over a command.

``Completion`` is what a handler returns on success: the tagged ``OK`` with an optional response code
(``Completion(codes.appenduid(...), "APPEND completed")``). Failures are raised, never returned (see
``imapcore.commands`` and ``imapcore.protocol.errors``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imapcore.protocol.codes import ResponseCode

if TYPE_CHECKING:
    from .context import SessionContext


@dataclass(frozen=True, slots=True)
class Completion:
    """The tagged ``OK [code] text`` of a successful command (RFC 9051 §7.1.1).

    ``sent`` is true only when the connection itself already wrote the tagged response (the client
    ended an IDLE with something other than DONE, or cancelled an AUTHENTICATE): the session then writes
    nothing more for this command.
    """

    code: ResponseCode | None = None
    text: str = "Completed"
    sent: bool = False


#: The result of a command that the connection already completed on its own (see ``Completion.sent``).
ALREADY_SENT = Completion(sent=True)

Handler = Callable[["SessionContext", Any], Awaitable[Completion]]

#: Command dataclass (``imapcore.syntax.commands``) -> its handler.
HANDLERS: dict[type, Handler] = {}


def handles(*command_classes: type) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the handler of ``command_classes``."""

    def register(handler: Handler) -> Handler:
        for command_class in command_classes:
            existing = HANDLERS.get(command_class)
            if existing is not None and existing is not handler:
                raise RuntimeError(
                    f"{command_class.__name__} already handled by {existing.__module__}.{existing.__qualname__}"
                )
            HANDLERS[command_class] = handler
        return handler

    return register
