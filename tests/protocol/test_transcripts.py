"""Conversations through the sans-IO connection: client bytes in, server bytes out, compared exactly."""

import pytest

from imapcore.protocol import codes, events
from imapcore.protocol.connection import Connection
from imapcore.protocol.errors import LocalProtocolError
from imapcore.protocol.responses import (
    ContinuationRequest,
    Enabled,
    Status,
    StatusResponse,
    TaggedResponse,
    exists,
)
from imapcore.protocol.states import State
from imapcore.syntax.tokens import Limits


def test_login_select_fetch_logout(make_server):
    server = make_server()
    server.feed(b"a1 CAPABILITY\r\n")
    server.feed(b'a2 LOGIN alice "secret"\r\n')
    assert server.connection.state is State.AUTHENTICATED
    server.feed(b"a3 SELECT INBOX\r\na4 FETCH 1:* (FLAGS)\r\n")
    server.feed(b"a5 LOGOUT\r\n")
    assert bytes(server.wire) == (
        b"* OK imapcore ready\r\n"
        b"a1 OK CAPABILITY completed\r\n"
        b"a2 OK LOGIN completed\r\n"
        b"a3 OK SELECT completed\r\n"
        b"a4 OK FETCH completed\r\n"
        b"* BYE Logging out\r\n"
        b"a5 OK LOGOUT completed\r\n"
    )
    assert server.connection.state is State.LOGOUT
    assert isinstance(server.events[-1], events.ConnectionClosed) and not server.events[-1].by_peer


def test_synchronizing_literal_gets_a_continuation(make_server):
    server = make_server()
    server.feed(b"a1 LOGIN {5}\r\n")
    assert bytes(server.wire).endswith(b"+ Ready for literal data\r\n")
    server.feed(b"alice {6}\r\n")
    assert bytes(server.wire).count(b"+ Ready for literal data\r\n") == 2
    server.feed(b"secret\r\n")
    login = [e for e in server.events if isinstance(e, events.CommandReceived)][0].command
    assert (login.username, login.password) == ("alice", "secret")
    assert bytes(server.wire).endswith(b"a1 OK LOGIN completed\r\n")


def test_non_synchronizing_literal_gets_no_continuation(make_server):
    server = make_server()
    server.feed(b'a1 LOGIN alice "x"\r\na2 APPEND INBOX {5+}\r\nhello\r\n')
    assert b"+ " not in bytes(server.wire)
    assert bytes(server.wire).endswith(b"a2 OK APPEND completed\r\n")


def test_pipelined_commands_answered_in_order_and_checked_in_sequence(make_server):
    server = make_server()
    # All in one chunk: SELECT must be done before FETCH is checked against the state table.
    server.feed(b'a1 LOGIN alice "x"\r\na2 SELECT INBOX\r\na3 FETCH 1 (UID)\r\na4 CLOSE\r\na5 FETCH 1 (UID)\r\n')
    assert bytes(server.wire).split(b"\r\n")[1:] == [
        b"a1 OK LOGIN completed",
        b"a2 OK SELECT completed",
        b"a3 OK FETCH completed",
        b"a4 OK CLOSE completed",
        b"a5 BAD FETCH requires a selected mailbox",
        b"",
    ]


def test_connection_pauses_until_the_command_completes(tokenizer_class):
    connection = Connection(tokenizer_class=tokenizer_class)
    connection.send(StatusResponse(Status.OK, "hi"))
    connection.receive_data(b"a NOOP\r\nb NOOP\r\n")
    first = connection.next_event()
    assert isinstance(first, events.CommandReceived) and first.command.tag == "a"
    assert connection.next_event() is events.PAUSED
    assert connection.command_in_progress == ("a", "NOOP")
    connection.send(TaggedResponse("a", Status.OK, "done"))
    assert connection.next_event().command.tag == "b"


def test_bad_command_then_the_next_one_still_parses(make_server):
    server = make_server()
    server.feed(b"a1 XKITBOGUS foo\r\na2 NOOP\r\n")
    lines = bytes(server.wire).split(b"\r\n")
    assert lines[1].startswith(b"a1 BAD ")
    assert lines[2] == b"a2 OK NOOP completed"
    server.feed(b'a3 LOGIN "unterminated\r\na4 NOOP\r\n')
    lines = bytes(server.wire).split(b"\r\n")
    assert lines[3].startswith(b"a3 BAD ")
    assert lines[4] == b"a4 OK NOOP completed"


def test_untagged_bad_when_no_tag_can_be_read(make_server):
    server = make_server()
    server.feed(b"\r\n(garbage\r\na1 NOOP\r\n")
    lines = bytes(server.wire).split(b"\r\n")
    assert lines[1] == b"* BAD empty command line"
    assert lines[2].startswith(b"* BAD ")
    assert lines[3] == b"a1 OK NOOP completed"


@pytest.mark.parametrize(
    "setup, command, reason",
    [
        (b"", b"t FETCH 1 (FLAGS)", b"t BAD FETCH requires a selected mailbox"),
        (b"", b"t SELECT INBOX", b"t BAD SELECT not allowed before authentication"),
        (b'a LOGIN u "p"\r\n', b't LOGIN u "p"', b"t BAD LOGIN not allowed: already authenticated"),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"t ENABLE UTF8=ACCEPT", b"t BAD ENABLE not allowed while a mailbox is selected"),
        (b'a LOGIN u "p"\r\n', b"t CLOSE", b"t BAD CLOSE requires a selected mailbox"),
        (b'a LOGIN u "p"\r\n', b"t STARTTLS", b"t BAD STARTTLS not allowed: already authenticated"),
    ],
)
def test_wrong_state_is_answered_bad_by_the_connection(make_server, setup, command, reason):
    server = make_server()
    if setup:  # feeding b"" would mean the client hung up
        server.feed(setup)
    before = server.kinds().count("CommandReceived")
    server.feed(command + b"\r\n")
    assert bytes(server.wire).endswith(reason + b"\r\n")
    # The handler never saw it.
    assert server.kinds().count("CommandReceived") == before


def test_toobig_synchronizing_literal(make_server):
    server = make_server(Limits(max_literal_bytes=10))
    server.feed(b'a LOGIN u "p"\r\nb APPEND INBOX {11}\r\n')
    assert bytes(server.wire).endswith(b"b NO [TOOBIG] literal too large\r\n")
    assert b"+ Ready" not in bytes(server.wire)
    server.feed(b"c NOOP\r\n")
    assert bytes(server.wire).endswith(b"c OK NOOP completed\r\n")


def test_toobig_non_synchronizing_literal_is_discarded(make_server):
    server = make_server(Limits(max_literal_bytes=10))
    server.feed(b'a LOGIN u "p"\r\nb APPEND INBOX {20+}\r\n' + b"x" * 20 + b"\r\nc NOOP\r\n")
    assert bytes(server.wire).split(b"\r\n")[2:] == [b"b NO [TOOBIG] literal too large", b"c OK NOOP completed", b""]


def test_fatal_framing_error_says_bye_and_closes(make_server):
    server = make_server(Limits(max_literal_bytes=10, max_discard_bytes=100))
    server.feed(b"b APPEND INBOX {1000+}\r\n")
    assert bytes(server.wire).endswith(b"* BYE [TOOBIG] literal too large\r\n")
    assert server.kinds()[-1] == "ConnectionTerminated"
    assert server.connection.next_event() == events.ConnectionClosed(by_peer=False)
    assert server.connection.state is State.LOGOUT


def test_line_too_long_is_bad_and_resyncs(make_server):
    server = make_server(Limits(max_line_bytes=50))
    server.feed(b"a1 NOOP " + b"x" * 100 + b"\r\na2 NOOP\r\n")
    assert bytes(server.wire).split(b"\r\n")[1:] == [b"a1 BAD line too long", b"a2 OK NOOP completed", b""]


def test_idle_and_done(make_server):
    server = make_server()
    server.feed(b'a LOGIN u "p"\r\nb SELECT INBOX\r\nc IDLE\r\n')
    assert bytes(server.wire).endswith(b"+ idling\r\n")
    # While idling the server pushes updates; the client's next line is read raw.
    server.wire += server.connection.send(exists(4))
    server.feed(b"done\r\n")
    assert bytes(server.wire).endswith(b"+ idling\r\n* 4 EXISTS\r\nc OK IDLE terminated\r\n")
    assert "IdleDone" in server.kinds()
    server.feed(b"d NOOP\r\n")
    assert bytes(server.wire).endswith(b"d OK NOOP completed\r\n")


def test_idle_ended_by_anything_but_done_is_bad(make_server):
    server = make_server()
    server.feed(b'a LOGIN u "p"\r\nc IDLE\r\nd NOOP\r\ne NOOP\r\n')
    # "d NOOP" is the line that ends IDLE: it is not a command.
    assert bytes(server.wire).split(b"\r\n")[-4:] == [
        b"+ idling",
        b"c BAD Expected DONE to end IDLE",
        b"e OK NOOP completed",
        b"",
    ]
    assert "IdleAborted" in server.kinds()


def test_idle_and_done_split_in_odd_chunks(make_server):
    server = make_server()
    for chunk in [b'a LOGIN u "p"\r\nc ID', b"LE\r", b"\nDO", b"NE", b"\r", b"\nd NOOP\r\n"]:
        server.feed(chunk)
    assert bytes(server.wire).endswith(b"+ idling\r\nc OK IDLE terminated\r\nd OK NOOP completed\r\n")


def test_authenticate_continuation_and_initial_response(make_server):
    server = make_server()
    server.feed(b"a AUTHENTICATE PLAIN\r\n")
    assert bytes(server.wire).endswith(b"a AUTHENTICATE PLAIN\r\n"[:0] + b"+ \r\n")
    server.feed(b"AGFsaWNlAHNlY3JldA==\r\n")
    response = [e for e in server.events if isinstance(e, events.AuthenticateResponse)][0]
    assert response.data == b"\x00alice\x00secret"
    assert bytes(server.wire).endswith(b"a OK Logged in\r\n")
    assert server.connection.state is State.AUTHENTICATED


def test_authenticate_multi_step(tokenizer_class):
    connection = Connection(tokenizer_class=tokenizer_class)
    connection.send(StatusResponse(Status.OK, "hi"))
    connection.receive_data(b"a AUTHENTICATE SCRAM-SHA-256\r\n")
    assert isinstance(connection.next_event(), events.CommandReceived)
    assert connection.send(ContinuationRequest(challenge=b"")) == b"+ \r\n"
    connection.receive_data(b"bj1h\r\n")
    assert connection.next_event() == events.AuthenticateResponse("a", b"n=a")
    assert connection.next_event() is events.PAUSED
    assert connection.send(ContinuationRequest(challenge=b"r=xyz")) == b"+ cj14eXo=\r\n"
    connection.receive_data(b"\r\n")  # an empty response is empty data
    assert connection.next_event() == events.AuthenticateResponse("a", b"")
    assert connection.send(TaggedResponse("a", Status.NO, "Nope", codes.simple("AUTHENTICATIONFAILED"))) == (
        b"a NO [AUTHENTICATIONFAILED] Nope\r\n"
    )
    assert connection.state is State.NOT_AUTHENTICATED


@pytest.mark.parametrize(
    "line, reason",
    [(b"*", b"AUTHENTICATE cancelled"), (b"=AAA", b"Invalid base64 in AUTHENTICATE response"), (b"AA?A", b"Invalid base64 in AUTHENTICATE response")],
)
def test_authenticate_cancel_and_invalid_base64(make_server, line, reason):
    server = make_server()
    server.feed(b"a AUTHENTICATE PLAIN\r\n" + line + b"\r\nb NOOP\r\n")
    assert bytes(server.wire).split(b"\r\n")[-4:] == [b"+ ", b"a BAD " + reason, b"b OK NOOP completed", b""]
    assert "AuthenticateCancelled" in server.kinds()
    assert server.connection.state is State.NOT_AUTHENTICATED


def test_sasl_ir_goes_to_the_handler_in_the_command(make_server):
    server = make_server()
    server.feed(b"1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n")
    command = [e for e in server.events if isinstance(e, events.CommandReceived)][0].command
    assert command.initial_response == "AGFsaWNlAHNlY3JldA=="
    assert bytes(server.wire).endswith(b"1 OK AUTHENTICATE completed\r\n")
    assert server.connection.state is State.AUTHENTICATED


def test_utf8_mode_after_enable(tokenizer_class):
    def answer(command, connection):
        if type(command).name == "ENABLE":
            return [Enabled(("UTF8=ACCEPT",)), TaggedResponse(command.tag, Status.OK, "Enabled")]
        return [TaggedResponse(command.tag, Status.OK, "done")]

    connection = Connection(tokenizer_class=tokenizer_class)
    from_server = bytearray(connection.send(StatusResponse(Status.PREAUTH, "welcome")))
    assert connection.state is State.AUTHENTICATED
    name = "Entwürfe".encode()
    connection.receive_data(b'a SELECT "' + name + b'"\r\n')
    rejected = connection.next_event()
    assert isinstance(rejected, events.CommandRejected) and rejected.output.startswith(b"a BAD ")
    # Pipelined: the SELECT after ENABLE is only tokenized once ENABLE is answered.
    connection.receive_data(b'b ENABLE UTF8=ACCEPT\r\nc SELECT "' + name + b'"\r\n')
    enable = connection.next_event()
    assert connection.send_many(answer(enable.command, connection)) == b"* ENABLED UTF8=ACCEPT\r\nb OK Enabled\r\n"
    assert connection.utf8
    select = connection.next_event()
    assert isinstance(select, events.CommandReceived) and select.command.mailbox == "Entwürfe"
    # Response text may now carry UTF-8.
    assert connection.send(TaggedResponse("c", Status.OK, "Entwürfe selected")) == "c OK Entwürfe selected\r\n".encode()


def test_unauthenticate_resets_state_and_utf8(tokenizer_class):
    connection = Connection(tokenizer_class=tokenizer_class)
    connection.send(StatusResponse(Status.PREAUTH, "welcome"))
    connection.receive_data(b"a ENABLE IMAP4rev2\r\n")
    connection.next_event()
    connection.send(Enabled(("IMAP4rev2",)))
    connection.send(TaggedResponse("a", Status.OK, "ok"))
    assert connection.utf8
    connection.receive_data(b"b UNAUTHENTICATE\r\n")
    connection.next_event()
    connection.send(TaggedResponse("b", Status.OK, "ok"))
    assert connection.state is State.NOT_AUTHENTICATED and not connection.utf8


def test_starttls_discards_injected_commands(tokenizer_class):
    connection = Connection(tokenizer_class=tokenizer_class)
    connection.send(StatusResponse(Status.OK, "hi"))
    # CVE-2011-0411: a command sent in clear text after STARTTLS must not run after the handshake.
    connection.receive_data(b"a STARTTLS\r\nb LOGIN mallory x\r\n")
    assert isinstance(connection.next_event(), events.CommandReceived)
    connection.send(TaggedResponse("a", Status.OK, "Begin TLS negotiation now"))
    assert connection.next_event() is events.NEED_DATA
    connection.receive_data(b"c CAPABILITY\r\n")
    assert connection.next_event().command.tag == "c"


@pytest.mark.parametrize(
    "setup, command, status, after",
    [
        (b"", b'LOGIN u "p"', Status.NO, State.NOT_AUTHENTICATED),
        (b"", b'LOGIN u "p"', Status.OK, State.AUTHENTICATED),
        (b'a LOGIN u "p"\r\n', b"SELECT INBOX", Status.NO, State.AUTHENTICATED),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"SELECT nosuch", Status.NO, State.AUTHENTICATED),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"EXAMINE nosuch", Status.NO, State.AUTHENTICATED),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"EXAMINE other", Status.OK, State.SELECTED),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"SELECT nosuch", Status.BAD, State.SELECTED),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"CLOSE", Status.OK, State.AUTHENTICATED),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"UNSELECT", Status.OK, State.AUTHENTICATED),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"UNSELECT", Status.NO, State.SELECTED),
        (b'a LOGIN u "p"\r\nb SELECT INBOX\r\n', b"UNAUTHENTICATE", Status.OK, State.NOT_AUTHENTICATED),
        (b'a LOGIN u "p"\r\n', b"LOGOUT", Status.OK, State.LOGOUT),
    ],
)
def test_state_transitions_follow_what_the_server_sends(make_server, setup, command, status, after):
    server = make_server()
    if setup:  # feeding b"" would mean the client hung up
        server.feed(setup)
    connection = server.connection
    connection.receive_data(b"t " + command + b"\r\n")
    assert isinstance(connection.next_event(), events.CommandReceived)
    connection.send(TaggedResponse("t", status, "x"))
    assert connection.state is after


def test_bye_moves_to_logout_and_the_connection_closes(make_server):
    server = make_server()
    server.wire += server.connection.send(StatusResponse(Status.BYE, "Server shutting down"))
    server.feed(b"a NOOP\r\n")
    assert bytes(server.wire).endswith(b"* BYE Server shutting down\r\n")
    assert server.kinds() == ["ConnectionClosed"]


def test_client_hang_up_is_an_event(tokenizer_class):
    connection = Connection(tokenizer_class=tokenizer_class)
    connection.send(StatusResponse(Status.OK, "hi"))
    connection.receive_data(b"a NOOP\r\n")
    connection.receive_data(b"")
    # What was received before the hang-up is still handed out.
    assert connection.next_event().command.tag == "a"
    connection.send(TaggedResponse("a", Status.OK, "ok"))
    assert connection.next_event() == events.ConnectionClosed(by_peer=True)


def test_misuse_by_the_server_raises_local_protocol_error(tokenizer_class):
    connection = Connection(tokenizer_class=tokenizer_class)
    with pytest.raises(LocalProtocolError):
        connection.next_event()  # no greeting yet
    with pytest.raises(LocalProtocolError):
        connection.send(TaggedResponse("a", Status.OK, "x"))  # the greeting must come first
    connection.send(StatusResponse(Status.OK, "hi"))
    with pytest.raises(LocalProtocolError):
        connection.send(StatusResponse(Status.PREAUTH, "again"))
    with pytest.raises(LocalProtocolError):
        connection.send(TaggedResponse("a", Status.OK, "x"))  # nothing in progress
    connection.receive_data(b"a NOOP\r\n")
    connection.next_event()
    with pytest.raises(LocalProtocolError):
        connection.send(TaggedResponse("b", Status.OK, "x"))  # another tag
    with pytest.raises(LocalProtocolError):
        connection.send(ContinuationRequest("x"))  # NOOP takes no continuation
    assert connection.send(TaggedResponse("a", Status.OK, "x")) == b"a OK x\r\n"


def test_idle_completion_before_done_is_a_server_bug(tokenizer_class):
    connection = Connection(tokenizer_class=tokenizer_class)
    connection.send(StatusResponse(Status.PREAUTH, "hi"))
    connection.receive_data(b"a IDLE\r\n")
    connection.next_event()
    connection.send(ContinuationRequest("idling"))
    with pytest.raises(LocalProtocolError):
        connection.send(TaggedResponse("a", Status.OK, "x"))


def test_idle_line_too_long_ends_idle_with_bad(make_server):
    server = make_server(Limits(max_line_bytes=40))
    server.feed(b'a LOGIN u "p"\r\nc IDLE\r\n' + b"x" * 100 + b"\r\nd NOOP\r\n")
    assert bytes(server.wire).split(b"\r\n")[-4:] == [b"+ idling", b"c BAD line too long", b"d OK NOOP completed", b""]


def test_bye_during_idle_stops_reading(tokenizer_class):
    connection = Connection(tokenizer_class=tokenizer_class)
    connection.send(StatusResponse(Status.PREAUTH, "hi"))
    connection.receive_data(b"a IDLE\r\n")
    connection.next_event()
    connection.send(ContinuationRequest("idling"))
    assert connection.send(StatusResponse(Status.BYE, "Server shutting down")) == b"* BYE Server shutting down\r\n"
    connection.receive_data(b"DONE\r\n")
    assert connection.next_event() == events.ConnectionClosed(by_peer=False)


def test_a_parser_bug_becomes_bad_not_an_exception(tokenizer_class, caplog):
    from imapcore.syntax.parser import CommandSyntaxError

    def broken_parser(tokens, *, utf8=False):
        raise IndexError("bug")

    connection = Connection(tokenizer_class=tokenizer_class, parser=(broken_parser, CommandSyntaxError))
    connection.send(StatusResponse(Status.OK, "hi"))
    connection.receive_data(b"a7 NOOP\r\n")
    event = connection.next_event()
    assert isinstance(event, events.CommandRejected)
    assert event.output == b"a7 BAD Internal error while parsing the command\r\n"
    assert "parser failed" in caplog.text
