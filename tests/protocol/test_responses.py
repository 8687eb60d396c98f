"""Response objects, response codes and the atom / quoted / literal choice, checked on the bytes."""

import pytest

from imapcore.protocol import codes, responses
from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import BadCommand, CommandFailed, completion_for, server_bug_completion
from imapcore.protocol.responses import (
    AString,
    Atom,
    ContinuationRequest,
    DataResponse,
    Enabled,
    FetchResponse,
    Literal,
    Raw,
    Status,
    StatusResponse,
    TaggedResponse,
    UntaggedBytes,
)


def test_tagged_with_code_and_text():
    response = TaggedResponse("a1", Status.OK, "SELECT completed", ResponseCode(Code.READ_WRITE))
    assert response.to_bytes() == b"a1 OK [READ-WRITE] SELECT completed\r\n"


def test_copyuid_keeps_order_and_merges_runs():
    code = codes.copyuid(38505, [304, 319, 320], [3956, 3957, 3958])
    assert TaggedResponse("A003", Status.OK, "Done", code).to_bytes() == (
        b"A003 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"
    )
    # Not sorted: the n-th source maps to the n-th destination (RFC 4315 §3).
    assert codes.uid_set([5, 3, 4, 9]) == "5,3:4,9"


def test_permanentflags_and_other_codes_with_arguments():
    flags_code = codes.permanentflags(["\\Deleted", "\\Seen", "\\*"])
    assert StatusResponse(Status.OK, "Limited", flags_code).to_bytes() == (
        b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
    )
    assert codes.appenduid(1, [7]).to_bytes() == b"APPENDUID 1 7"
    assert codes.uidnext(4392).to_bytes() == b"UIDNEXT 4392"
    assert codes.uidvalidity(3857529045).to_bytes() == b"UIDVALIDITY 3857529045"
    assert codes.highestmodseq(715194045007).to_bytes() == b"HIGHESTMODSEQ 715194045007"
    assert codes.modified([7, 9, 10, 11]).to_bytes() == b"MODIFIED 7,9:11"
    assert codes.badcharset(["UTF-8", "US-ASCII"]).to_bytes() == b"BADCHARSET (UTF-8 US-ASCII)"
    assert codes.badcharset().to_bytes() == b"BADCHARSET"
    assert codes.mailboxid("F2212ea87-6097-4256-9d51-71338625").to_bytes() == (
        b"MAILBOXID (F2212ea87-6097-4256-9d51-71338625)"
    )
    assert codes.metadata("longentries", 2000).to_bytes() == b"METADATA LONGENTRIES 2000"
    assert codes.capability(["IMAP4rev2", "AUTH=PLAIN"]).to_bytes() == b"CAPABILITY IMAP4rev2 AUTH=PLAIN"


@pytest.mark.parametrize("code", list(Code))
def test_every_code_name_serializes_as_itself(code):
    assert ResponseCode(code).to_bytes() == code.value.encode()
    assert TaggedResponse("t", Status.NO, "x", ResponseCode(code)).to_bytes() == b"t NO [%b] x\r\n" % code.value.encode()


def test_code_names_from_rfc5530_and_friends_are_present():
    names = {code.value for code in Code}
    for expected in (
        "ALREADYEXISTS AUTHENTICATIONFAILED AUTHORIZATIONFAILED CANNOT CLIENTBUG CONTACTADMIN CORRUPTION "
        "EXPIRED EXPUNGEISSUED INUSE LIMIT NONEXISTENT NOPERM OVERQUOTA PRIVACYREQUIRED SERVERBUG "
        "UNAVAILABLE HASCHILDREN UNKNOWN-CTE CLOSED NOTSAVED TOOBIG MAILBOXID NOMODSEQ MODIFIED"
    ).split():
        assert expected in names


def test_code_arguments_cannot_break_the_line():
    with pytest.raises(ValueError):
        ResponseCode("ALERT", "x] injected")
    with pytest.raises(ValueError):
        ResponseCode("BAD CODE")


def test_text_cannot_inject_a_line_and_is_never_empty():
    assert TaggedResponse("a", Status.NO, "evil\r\nb OK fake").to_bytes() == b"a NO evil b OK fake\r\n"
    assert TaggedResponse("a", Status.OK, "").to_bytes() == b"a OK Completed\r\n"
    # 8-bit text only in UTF-8 mode.
    assert StatusResponse(Status.OK, "Grüße").to_bytes() == b"* OK Gr??e\r\n"
    assert StatusResponse(Status.OK, "Grüße").to_bytes(utf8=True) == "* OK Grüße\r\n".encode()


def test_tagged_status_must_be_ok_no_bad():
    with pytest.raises(ValueError):
        TaggedResponse("a", Status.BYE, "x").to_bytes()


@pytest.mark.parametrize(
    "value, wire",
    [
        (None, b"NIL"),
        (0, b"0"),
        (4294967295, b"4294967295"),
        ("INBOX", b'"INBOX"'),
        ("", b'""'),
        ('say "hi" \\o/', b'"say \\"hi\\" \\\\o/"'),
        ("line\r\nbreak", b"{11}\r\nline\r\nbreak"),
        (b"nul\x00", b"{4}\r\nnul\x00"),
        ("caf\u00e9", b"{5}\r\ncaf\xc3\xa9"),
        (AString("INBOX"), b"INBOX"),
        (AString("NIL"), b'"NIL"'),
        (AString("two words"), b'"two words"'),
        (AString("[Gmail]/Sent"), b'"[Gmail]/Sent"'),
        (AString(""), b'""'),
        (Atom("\\Seen"), b"\\Seen"),
        (Atom("\\*"), b"\\*"),
        (Literal(b"abc"), b"{3}\r\nabc"),
        (Literal(b"a\x00c", binary=True), b"~{3}\r\na\x00c"),
        (Raw(b"(NIL NIL)"), b"(NIL NIL)"),
        ((), b"()"),
        ((1, None, ("x", Atom("Y"))), b'(1 NIL ("x" Y))'),
    ],
)
def test_value_encoding(value, wire):
    assert DataResponse((value,)).to_bytes() == b"* " + wire + b"\r\n"


def test_utf8_mode_quotes_utf8_strings():
    assert DataResponse(("caf\u00e9",)).to_bytes(utf8=True) == '* "café"\r\n'.encode()
    # Invalid UTF-8 is still a literal in UTF-8 mode.
    assert DataResponse((b"\xff",)).to_bytes(utf8=True) == b"* {1}\r\n\xff\r\n"


def test_long_strings_become_literals():
    long_value = "x" * 5000
    assert DataResponse((long_value,)).to_bytes() == b"* {5000}\r\n" + b"x" * 5000 + b"\r\n"


def test_atoms_are_checked():
    for bad in ("two words", "a(b", "", "x]", "caf\u00e9"):
        with pytest.raises(ValueError):
            Atom(bad)


def test_values_without_imap_form_are_refused():
    with pytest.raises(TypeError):
        DataResponse((True,)).to_bytes()
    with pytest.raises(TypeError):
        DataResponse((1.5,)).to_bytes()
    with pytest.raises(ValueError):
        DataResponse((-1,)).to_bytes()


def test_data_builders():
    assert responses.exists(23).to_bytes() == b"* 23 EXISTS\r\n"
    assert responses.expunge(3).to_bytes() == b"* 3 EXPUNGE\r\n"
    assert responses.capability(["IMAP4rev2", "IDLE"]).to_bytes() == b"* CAPABILITY IMAP4rev2 IDLE\r\n"
    assert responses.flags(["\\Answered", "\\Seen", "$Forwarded"]).to_bytes() == (
        b"* FLAGS (\\Answered \\Seen $Forwarded)\r\n"
    )
    assert responses.list_mailbox(["\\HasNoChildren"], "/", "INBOX").to_bytes() == (
        b'* LIST (\\HasNoChildren) "/" INBOX\r\n'
    )
    assert responses.list_mailbox([], None, "Sent Items").to_bytes() == b'* LIST () NIL "Sent Items"\r\n'
    assert responses.search([2, 3, 6]).to_bytes() == b"* SEARCH 2 3 6\r\n"
    assert responses.search([], modseq=917162500).to_bytes() == b"* SEARCH (MODSEQ 917162500)\r\n"
    assert Enabled(("CONDSTORE", "UTF8=ACCEPT")).to_bytes() == b"* ENABLED CONDSTORE UTF8=ACCEPT\r\n"


def test_fetch_response_single_message():
    response = FetchResponse(12, (("FLAGS", (Atom("\\Seen"),)), ("UID", 4827313), ("BODY[HEADER]", Literal(b"a: b\r\n"))))
    assert response.to_bytes() == b"* 12 FETCH (FLAGS (\\Seen) UID 4827313 BODY[HEADER] {6}\r\na: b\r\n)\r\n"


def test_continuations():
    assert ContinuationRequest().to_bytes() == b"+ Ready\r\n"
    assert ContinuationRequest("idling").to_bytes() == b"+ idling\r\n"
    assert ContinuationRequest(challenge=b"").to_bytes() == b"+ \r\n"
    assert ContinuationRequest(challenge=b"\x00user").to_bytes() == b"+ AHVzZXI=\r\n"


def test_untagged_bytes_must_be_whole_lines():
    assert UntaggedBytes(b"* 1 FETCH (UID 1)\r\n").to_bytes() == b"* 1 FETCH (UID 1)\r\n"
    with pytest.raises(ValueError):
        UntaggedBytes(b"a1 OK fake\r\n").to_bytes()


def test_error_model_maps_to_the_wire():
    bad = BadCommand("Invalid message set", ResponseCode(Code.CLIENTBUG))
    assert completion_for("a7", bad).to_bytes() == b"a7 BAD [CLIENTBUG] Invalid message set\r\n"
    failed = CommandFailed(ResponseCode(Code.NONEXISTENT), "No such mailbox")
    assert completion_for("a8", failed).to_bytes() == b"a8 NO [NONEXISTENT] No such mailbox\r\n"
    assert completion_for("a9", CommandFailed(None, "Nope")).to_bytes() == b"a9 NO Nope\r\n"
    assert server_bug_completion("b1").to_bytes() == b"b1 NO [SERVERBUG] Internal server error\r\n"


def test_status_data():
    assert responses.status_data("blurdybloop", [("MESSAGES", 231), ("UIDNEXT", 44292)]).to_bytes() == (
        b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n"
    )
    assert responses.status_data("Sent Items", []).to_bytes() == b'* STATUS "Sent Items" ()\r\n'
