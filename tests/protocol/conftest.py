"""Fixtures of the protocol tests: the connection over each tokenizer twin, and a scripted server.

``ScriptedServer`` plays the server side of a conversation through the sans-IO connection the way the
Trio session will: it feeds the client's bytes in the given chunks, takes events until the connection
needs data, writes every event's ``output``, and answers each command with a fixed policy (OK for
everything; a ``+`` for IDLE and for AUTHENTICATE without an initial response; ``* BYE`` before LOGOUT's
OK). Tests then compare the bytes the client would have received.
"""

from __future__ import annotations

import pytest

from imapcore.protocol import events
from imapcore.protocol.connection import Connection
from imapcore.protocol.responses import ContinuationRequest, Status, StatusResponse, TaggedResponse
from imapcore.syntax import pytokenizer

TOKENIZERS = [pytest.param(pytokenizer.Tokenizer, id="py-tokenizer")]
try:
    from imapcore.syntax import ctokenizer
except ImportError:  # C tokenizer not built: the Python twin alone
    pass
else:
    TOKENIZERS.append(pytest.param(ctokenizer.Tokenizer, id="c-tokenizer"))


@pytest.fixture(params=TOKENIZERS)
def tokenizer_class(request):
    return request.param


def default_answer(command, connection):
    """Responses to a command under the scripted policy."""
    tag, name = command.tag, type(command).name
    if name == "IDLE":
        return [ContinuationRequest("idling")]
    if name == "AUTHENTICATE" and command.initial_response is None:
        return [ContinuationRequest(challenge=b"")]
    if name == "LOGOUT":
        return [StatusResponse(Status.BYE, "Logging out"), TaggedResponse(tag, Status.OK, "LOGOUT completed")]
    return [TaggedResponse(tag, Status.OK, f"{name} completed")]


class ScriptedServer:
    """Drive a ``Connection`` like the session loop; collect the wire output and the events."""

    MAX_STEPS = 100_000

    def __init__(self, connection: Connection, answer=default_answer, greeting=None):
        self.connection = connection
        self.answer = answer
        self.events: list = []
        self.wire = bytearray(connection.send(greeting or StatusResponse(Status.OK, "imapcore ready")))
        self.closed = False

    def feed(self, data: bytes) -> None:
        self.connection.receive_data(data)
        self.pump()

    def pump(self) -> None:
        connection = self.connection
        for _ in range(self.MAX_STEPS):
            if self.closed:
                return
            event = connection.next_event()
            self.events.append(event)
            self.wire += event.output
            if isinstance(event, (events.NeedData, events.Paused)):
                return
            if isinstance(event, events.CommandReceived):
                self.wire += connection.send_many(self.answer(event.command, connection))
            elif isinstance(event, events.IdleDone):
                self.wire += connection.send(TaggedResponse(event.tag, Status.OK, "IDLE terminated"))
            elif isinstance(event, events.AuthenticateResponse):
                self.wire += connection.send(TaggedResponse(event.tag, Status.OK, "Logged in"))
            elif isinstance(event, (events.ConnectionClosed, events.ConnectionTerminated)):
                self.closed = True
        raise AssertionError("the connection produced events without end")

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.events if not isinstance(event, events.NeedData)]


@pytest.fixture
def make_server(tokenizer_class):
    def make(limits=None, **kwargs):
        return ScriptedServer(Connection(limits, tokenizer_class=tokenizer_class), **kwargs)

    return make
