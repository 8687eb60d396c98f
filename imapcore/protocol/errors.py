"""The error kinds of the protocol layer, and who owns each (STYLE.md §3).

Command handlers (``imapcore.commands``) signal a failed command by *raising*; one place, the session's
dispatch, turns the exception into the tagged completion with ``completion_for``. That keeps the
mapping from error kind to wire form in this module and nowhere else:

* ``BadCommand(text, code=None)`` -> ``tag BAD [CODE] text``: the command was not acceptable as sent
  (arguments make no sense in context, e.g. an invalid message set). Syntax errors found by the parser
  and commands sent in the wrong state never reach a handler: the connection answers them itself.
* ``CommandFailed(code, text)`` -> ``tag NO [CODE] text``: a well-formed command that could not be
  carried out (no such mailbox, over quota, wrong password...). ``code`` is a ``ResponseCode`` (or None).
* anything else raised by a handler is a server bug: logged with its traceback by the session and sent
  as ``tag NO [SERVERBUG] text`` (``server_bug_completion``); the session goes on.

``LocalProtocolError`` is different: the *server* used the sans-IO connection wrongly (a tagged response
for a command that is not in progress, output after the connection ended...). It is the only exception
``Connection`` raises, and only from ``send``; bytes from the client never make it raise anything.
"""

from __future__ import annotations

from .codes import Code, ResponseCode
from .responses import Status, TaggedResponse


class ProtocolLayerError(Exception):
    """Base class of the exceptions defined by ``imapcore.protocol``."""


class BadCommand(ProtocolLayerError):
    """Raised by a handler: answer ``tag BAD [code] text``."""

    def __init__(self, text: str, code: ResponseCode | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


class CommandFailed(ProtocolLayerError):
    """Raised by a handler: answer ``tag NO [code] text``."""

    def __init__(self, code: ResponseCode | None, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class LocalProtocolError(ProtocolLayerError):
    """The server-side code misused the connection object (a bug in the caller, never the client's)."""


def completion_for(tag: str, error: BadCommand | CommandFailed) -> TaggedResponse:
    """The one mapping from a handler's error to its tagged completion (RFC 9051 §7.1.2, §7.1.3)."""
    if isinstance(error, BadCommand):
        return TaggedResponse(tag, Status.BAD, error.text, error.code)
    return TaggedResponse(tag, Status.NO, error.text, error.code)


def server_bug_completion(tag: str, text: str = "Internal server error") -> TaggedResponse:
    """``tag NO [SERVERBUG] text`` for an unexpected exception in a handler (RFC 5530 §3)."""
    return TaggedResponse(tag, Status.NO, text, ResponseCode(Code.SERVERBUG))
