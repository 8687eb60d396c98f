"""The sans-IO server side of one IMAP connection (STYLE.md §1, after h11's ``Connection``).

Theory of operation
-------------------
Bytes from the client go in with ``receive_data``; ``next_event`` hands out what the client did, one
event at a time (``imapcore.protocol.events``); ``send(response)`` turns a response object into bytes
and returns them. The connection does no I/O, owns no clock and never imports trio: the Trio session,
the tests and the fuzzer all drive this same code.

Inside, the tokenizer (C or pure Python, ``imapcore.syntax.tokenizer``) frames the stream and the Lark
parser (``imapcore.syntax.parser.parse_command``) types each command. The connection adds:

* the continuation request for a synchronizing literal, emitted as a ``SendContinuation`` event whose
  ``output`` the I/O layer writes (RFC 9051 §7.5). Non-synchronizing literals get none (RFC 7888).
* the state table (``imapcore.protocol.states``): a command not allowed in the current state is answered
  ``tag BAD`` here and never reaches a handler; completions the server sends move the state.
* one command at a time: after a ``CommandReceived``, ``next_event`` returns ``PAUSED`` until the tagged
  completion is sent, so pipelined commands are read out only when the previous one is done and each is
  checked against the state its predecessors left (a pipelined ``SELECT`` then ``FETCH`` works; ``ENABLE
  UTF8=ACCEPT`` changes how the *next* command is tokenized). The exceptions are the two commands that
  read client lines while in progress: IDLE (``DONE``, RFC 9051 §6.3.13) and AUTHENTICATE (SASL
  responses, §6.2.2). Sending a ``ContinuationRequest`` for them puts the tokenizer in line mode for one
  line, and that line comes out as ``IdleDone``/``IdleAborted`` or ``AuthenticateResponse``/
  ``AuthenticateCancelled``.
* errors of the client become responses right here, and the stream stays in sync (the tokenizer skips
  the rest of a bad command): a syntax error or framing error is ``tag BAD text`` (``* BAD`` without a
  tag), a literal over the limit ``tag NO [TOOBIG] text`` (RFC 7889), a fatal framing error ``* BYE``.

Exceptions: ``next_event`` and ``receive_data`` raise nothing whatever the client sends. ``send`` raises
``LocalProtocolError`` when the server code misuses the connection (a tagged response with no command in
progress or with another tag; a continuation for a command that takes none; the greeting missing or
sent twice); ``next_event`` raises it too when called before the greeting was sent.

How the session drives it (sketch; ``stream`` is a Trio stream, ``run`` the command dispatch)::

    await stream.send_all(conn.send(StatusResponse(Status.OK, "ready", codes.capability(caps))))
    while True:
        event = conn.next_event()
        if event.output:
            await stream.send_all(event.output)
        if event is NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))  # b"" on hang-up
        elif isinstance(event, CommandReceived):
            try:
                responses = await run(event.command)           # handlers raise BadCommand/CommandFailed
            except (BadCommand, CommandFailed) as error:
                responses = [completion_for(event.command.tag, error)]
            await stream.send_all(conn.send_many(responses))
        elif isinstance(event, (ConnectionClosed, ConnectionTerminated)):
            break
        # IdleDone / AuthenticateResponse go to the IDLE or AUTHENTICATE handler that is waiting.

Memory: an idle connection holds the tokenizer (small when nothing is buffered) and a few slots; the
test suite checks the whole object graph stays under 4 KiB.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable

from imapcore.syntax import tokenizer as _tokenizer_choice
from imapcore.syntax.tokens import COMMAND, ERROR, LINE, NEED_LITERAL, NEED_MORE, Limits

from . import events
from .codes import Code, ResponseCode
from .errors import LocalProtocolError
from .responses import (
    ContinuationRequest,
    DataResponse,
    Enabled,
    FetchResponse,
    Response,
    Status,
    StatusResponse,
    TaggedResponse,
    UntaggedBytes,
)
from .states import EFFECTS, UNTAGGED_TRANSITIONS, Effect, State, is_allowed, next_state, wrong_state_text

log = logging.getLogger(__name__)

LITERAL_CONTINUATION = b"+ Ready for literal data\r\n"

# RFC 9051 §9 base64: groups of four, padding only at the end (RFC 9051 §6.2.2 asks for the strict check).
_BASE64 = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")

# Why the connection is reading a raw line (tokenizer line mode) for the command in progress.
_NO_LINE = 0
_IDLE_LINE = 1  # "+ idling" sent, waiting for DONE
_AUTH_LINE = 2  # a SASL challenge sent, waiting for the client's response
_IDLE_OVER = 3  # DONE received, waiting for the IDLE's tagged completion

# Responses whose sending changes nothing in the connection (exact types: a subclass takes the long way).
_STATELESS = frozenset({DataResponse, FetchResponse, UntaggedBytes})

# Capabilities whose ENABLE lets quoted strings carry UTF-8 (RFC 6855 §3, RFC 9051 §6.3.1).
_UTF8_CAPABILITIES = frozenset({"UTF8=ACCEPT", "IMAP4REV2"})

_PARSER = None


def _default_parser():
    # Imported on first use: the parser module builds the Lark tables when imported.
    global _PARSER
    if _PARSER is None:
        from imapcore.syntax import parser

        _PARSER = (parser.parse_command, parser.CommandSyntaxError)
    return _PARSER


class Connection:
    """One server-side IMAP connection, without I/O. See the module docstring."""

    __slots__ = (
        "_tokenizer",
        "_parse",
        "_syntax_error",
        "_state",
        "_greeted",
        "_utf8",
        "_tag",
        "_command_name",
        "_line",
        "_eof",
    )

    def __init__(self, limits: Limits | None = None, *, tokenizer_class=None, parser=None) -> None:
        """``tokenizer_class`` defaults to the one ``imapcore.syntax.tokenizer`` picked; ``parser`` is a
        ``(parse_command, CommandSyntaxError)`` pair and defaults to ``imapcore.syntax.parser``'s."""
        self._tokenizer = (tokenizer_class or _tokenizer_choice.Tokenizer)(limits)
        self._parse, self._syntax_error = parser or _default_parser()
        self._state = State.NOT_AUTHENTICATED
        self._greeted = False
        self._utf8 = False
        self._tag: str | None = None  # tag of the command in progress
        self._command_name: str | None = None
        self._line = _NO_LINE
        self._eof = False

    # --- what the rest of the server may look at -----------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def utf8(self) -> bool:
        """True once UTF8=ACCEPT or IMAP4rev2 was enabled (quoted strings may carry UTF-8)."""
        return self._utf8

    @property
    def command_in_progress(self) -> tuple[str, str] | None:
        """``(tag, command name)`` of the command handed out and not yet completed."""
        return None if self._tag is None else (self._tag, self._command_name)

    # --- input -----------------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client; ``b""`` means the client closed its side."""
        if data:
            if not self._eof:
                self._tokenizer.feed(bytes(data))
        else:
            self._eof = True

    def next_event(self) -> events.Event:
        if not self._greeted:
            raise LocalProtocolError("send the greeting (an untagged OK, PREAUTH or BYE) first")
        while True:
            # After BYE (or LOGOUT) nothing more is read, not even an IDLE's DONE.
            if self._state is State.LOGOUT:
                return events.ConnectionClosed(by_peer=False)
            if self._tag is not None and self._line not in (_IDLE_LINE, _AUTH_LINE):
                return events.PAUSED
            event = self._tokenizer.next_event()
            kind = event[0]
            if kind == NEED_MORE:
                return events.ConnectionClosed(by_peer=True) if self._eof else events.NEED_DATA
            if kind == NEED_LITERAL:
                if event[2]:  # synchronizing: the client waits for "+" (RFC 9051 §7.5)
                    return events.SendContinuation(LITERAL_CONTINUATION)
                continue  # RFC 7888: a non-synchronizing literal's bytes follow at once
            if kind == COMMAND:
                return self._command_event(event[1])
            if kind == LINE:
                return self._line_event(event[1])
            if kind == ERROR:
                return self._error_event(event[1], event[2], event[3], event[4])
            raise AssertionError(f"unknown tokenizer event {event!r}")  # a broken tokenizer twin

    def _command_event(self, tokens: list) -> events.Event:
        try:
            command = self._parse(tokens, utf8=self._utf8)
        except self._syntax_error as error:
            return self._reject(error.tag, error.message)
        except Exception:  # a parser bug must not take the connection down (STYLE.md §3)
            log.exception("parser failed on %r", tokens[:8])
            tag = tokens[0][1].decode("ascii", "replace") if tokens and isinstance(tokens[0][1], bytes) else None
            return self._reject(tag if tag and _is_tag(tag) else None, "Internal error while parsing the command")
        name = type(command).name
        if not is_allowed(name, self._state):
            return self._reject(command.tag, wrong_state_text(name, self._state))
        self._tag = command.tag
        self._command_name = name
        return events.CommandReceived(command)

    def _line_event(self, line: bytes) -> events.Event:
        tag = self._tag
        if tag is None or self._line not in (_IDLE_LINE, _AUTH_LINE):
            # Only reachable if a tokenizer twin returned a raw line unasked; answer, do not raise.
            return self._reject(None, "Unexpected line")
        if self._line == _IDLE_LINE:
            # RFC 2177 §3 / RFC 9051 §6.3.13: the client ends IDLE with "DONE" (case-insensitive).
            if line.upper() == b"DONE":
                self._line = _IDLE_OVER
                return events.IdleDone(tag)
            return events.IdleAborted(tag, self._complete_here(Status.BAD, "Expected DONE to end IDLE"))
        # _AUTH_LINE (RFC 9051 §6.2.2): "*" cancels; otherwise strict base64.
        self._line = _NO_LINE
        if line == b"*":
            reason = "AUTHENTICATE cancelled"
            return events.AuthenticateCancelled(tag, reason, self._complete_here(Status.BAD, reason))
        if _BASE64.match(line) is None:
            reason = "Invalid base64 in AUTHENTICATE response"
            return events.AuthenticateCancelled(tag, reason, self._complete_here(Status.BAD, reason))
        return events.AuthenticateResponse(tag, base64.b64decode(line))

    def _error_event(self, tag: bytes | None, message: str, code: str | None, fatal: bool) -> events.Event:
        response_code = ResponseCode(code) if code else None
        if fatal:
            self._state = State.LOGOUT
            self._tag = None
            self._line = _NO_LINE
            output = StatusResponse(Status.BYE, message, response_code).to_bytes(self._utf8)
            return events.ConnectionTerminated(message, output)
        if self._line == _IDLE_LINE:
            return events.IdleAborted(self._tag, self._complete_here(Status.BAD, message))
        if self._line == _AUTH_LINE:
            self._line = _NO_LINE
            return events.AuthenticateCancelled(self._tag, message, self._complete_here(Status.BAD, message))
        text_tag = tag.decode("ascii") if tag else None
        if text_tag is not None and code == Code.TOOBIG:
            # RFC 7889 §3 / RFC 9051 §7.1: a tagged NO [TOOBIG] lets the client tell "too large" apart.
            output = TaggedResponse(text_tag, Status.NO, message, response_code).to_bytes(self._utf8)
            return events.CommandRejected(text_tag, message, output)
        return self._reject(text_tag, message, response_code)

    def _reject(self, tag: str | None, message: str, code: ResponseCode | None = None) -> events.CommandRejected:
        if tag is None:
            output = StatusResponse(Status.BAD, message, code).to_bytes(self._utf8)
        else:
            output = TaggedResponse(tag, Status.BAD, message, code).to_bytes(self._utf8)
        return events.CommandRejected(tag, message, output)

    def _complete_here(self, status: Status, text: str) -> bytes:
        """The connection completes the command in progress itself (IDLE/AUTHENTICATE ended by the
        client's line)."""
        self._line = _NO_LINE
        return self.send(TaggedResponse(self._tag, status, text))

    # --- output --------------------------------------------------------------------------------------

    def send(self, response: Response) -> bytes:
        """The wire bytes of ``response``; updates the state from what is said (``states`` tables)."""
        if not self._greeted:
            return self._send_greeting(response)
        if type(response) in _STATELESS:  # most responses: data that moves no state
            return response.to_bytes(self._utf8)
        if isinstance(response, TaggedResponse):
            return self._send_tagged(response)
        if isinstance(response, ContinuationRequest):
            return self._send_continuation(response)
        if isinstance(response, StatusResponse):
            if response.status is Status.PREAUTH:
                raise LocalProtocolError("PREAUTH is only valid as the greeting (RFC 9051 §7.1.4)")
            self._state = UNTAGGED_TRANSITIONS.get(response.status, self._state)
            return response.to_bytes(self._utf8)
        data = response.to_bytes(self._utf8)
        if isinstance(response, Enabled) and _UTF8_CAPABILITIES & {c.upper() for c in response.capabilities}:
            self._set_utf8(True)
        return data

    def send_many(self, responses: Iterable[Response]) -> bytes:
        return b"".join([self.send(response) for response in responses])

    def _send_greeting(self, response) -> bytes:
        # RFC 9051 §7.1: the greeting is an untagged OK, PREAUTH or BYE.
        if not isinstance(response, StatusResponse) or response.status not in (Status.OK, Status.PREAUTH, Status.BYE):
            raise LocalProtocolError("the first response must be the greeting: * OK, * PREAUTH or * BYE")
        self._greeted = True
        self._state = UNTAGGED_TRANSITIONS.get(response.status, self._state)
        return response.to_bytes(self._utf8)

    def _send_tagged(self, response: TaggedResponse) -> bytes:
        if self._tag is None or response.tag != self._tag:
            raise LocalProtocolError(f"no command with tag {response.tag!r} is in progress")
        if self._line in (_IDLE_LINE, _AUTH_LINE):
            raise LocalProtocolError(f"{self._command_name} is waiting for the client's line")
        data = response.to_bytes(self._utf8)
        key = (self._command_name, response.status)
        self._state = next_state(self._command_name, response.status, self._state)
        effect = EFFECTS.get(key)
        if effect is Effect.DISCARD_INPUT:
            self._tokenizer = type(self._tokenizer)(self._tokenizer.limits)
        elif effect is Effect.RESET_ENABLED:
            self._set_utf8(False)
        self._tag = None
        self._command_name = None
        self._line = _NO_LINE
        return data

    def _send_continuation(self, response: ContinuationRequest) -> bytes:
        if self._command_name == "IDLE" and self._line == _NO_LINE:
            self._line = _IDLE_LINE
        elif self._command_name == "AUTHENTICATE" and self._line == _NO_LINE:
            self._line = _AUTH_LINE
        else:
            raise LocalProtocolError(
                "continuation requests are sent by the server only for IDLE and AUTHENTICATE "
                "(literal continuations come from the connection)"
            )
        self._tokenizer.set_line_mode()
        return response.to_bytes(self._utf8)

    def _set_utf8(self, enabled: bool) -> None:
        self._utf8 = enabled
        self._tokenizer.set_utf8(enabled)


_TAG = re.compile(r"[\x21\x23-\x27\x2a\x2c-\x5a\x5c\x5e-\x7a\x7c-\x7e]+\Z")


def _is_tag(text: str) -> bool:
    return _TAG.match(text) is not None
