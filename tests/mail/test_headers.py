"""Header fields, RFC 2047 encoded words, RFC 2231 parameters and address lists."""

from hypothesis import given, settings
from hypothesis import strategies as st

from imapcore.mail.addresses import GROUP_END, Address, parse_address_list
from imapcore.mail.encoded_words import decode_header_value
from imapcore.mail.headers import HeaderBlock, first_values, header_end, split_fields
from imapcore.mail.params import decode_rfc2231, parse_value


def test_header_end_variants():
    assert header_end(b"A: 1\r\n\r\nbody") == 8
    assert header_end(b"A: 1\n\nbody") == 6
    assert header_end(b"\r\nbody") == 2
    assert header_end(b"A: 1\r\nB: 2\r\n") == 12  # no separator: all header
    assert header_end(b"") == 0


def test_fields_keep_raw_bytes_and_unfold_values():
    block = b"Subject: a\r\n  folded\tvalue\r\nX-Empty:\r\nbad line\r\nTo: x@y\r\n\r\n"
    fields = split_fields(block)
    assert [f.name for f in fields] == [b"Subject", b"X-Empty", b"bad line", b"To"]
    assert fields[0].raw == b"Subject: a\r\n  folded\tvalue\r\n"
    assert fields[0].value == b"a folded\tvalue"
    assert fields[1].value == b""
    assert fields[2].value == b""  # not a field: kept for HEADER, found by no name
    header = HeaderBlock(tuple(fields))
    assert header.get(b"to") == b"x@y"
    assert not fields[2].is_field and header.get(b"bad line") is None


def test_repeated_fields_first_and_last():
    header = HeaderBlock.parse(b"Subject: one\r\nSubject: two\r\n\r\n")
    assert header.get(b"subject") == b"one"
    assert header.get_last(b"subject") == b"two"
    assert header.get_all(b"subject") == [b"one", b"two"]


def test_encoded_words_in_many_charsets():
    assert decode_header_value(b"=?ISO-8859-1?Q?Caf=E9_cr=E8me?=") == "Café crème"
    assert decode_header_value(b"=?UTF-8?B?w5xiZXIgZGllIEJyw7xja2U=?=") == "Über die Brücke"
    assert decode_header_value(b"=?koi8-r?B?8NLJ18XU?=") == "Привет"
    assert decode_header_value(b"=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=") == "日本語"
    assert decode_header_value(b"=?gb2312?B?xOO6ww==?=") == "你好"
    # RFC 2047 §6.2: whitespace between adjacent encoded words disappears, not around plain text.
    assert decode_header_value(b"=?utf-8?q?Hello_?= =?utf-8?q?World?= and text") == "Hello World and text"
    assert decode_header_value(b"a =?utf-8?q?b?= c") == "a b c"


def test_encoded_words_never_raise():
    assert decode_header_value(b"=?x-no-such?Q?abc?= tail") == "=?x-no-such?Q?abc?= tail"
    assert decode_header_value(b"=?utf-8?B?@@@?=") == ""  # lenient base64: nothing decodable
    assert decode_header_value("Grüße".encode()) == "Grüße"
    assert decode_header_value("café".encode("latin-1")) == "café"


def test_content_type_parameters():
    main, params = parse_value(b'text/plain; charset="utf-8" (comment); format=flowed')
    assert main == b"text/plain"
    assert params == [(b"charset", b"utf-8"), (b"format", b"flowed")]
    main, params = parse_value(b'multipart/mixed; boundary="a \\"quoted\\" b"')
    assert params == [(b"boundary", b'a "quoted" b')]


def test_rfc2231_continuations_are_merged():
    _, params = parse_value(b"attachment; filename*0*=iso-8859-1'fr'd%E9part; filename*1=\".csv\"; size=3")
    assert params == [(b"filename*", b"iso-8859-1'fr'd%E9part.csv"), (b"size", b"3")]
    assert decode_rfc2231(params[0][1]) == "départ.csv"
    _, params = parse_value(b'x/y; title*1="second"; title*0="first "')
    assert params == [(b"title", b"first second")]


def test_address_list_shapes():
    assert parse_address_list(b'"Ann, A." <ann@example.com>, bob@example.org (Bob B)') == [
        Address(b"Ann, A.", None, b"ann", b"example.com"),
        Address(b"Bob B", None, b"bob", b"example.org"),
    ]
    assert parse_address_list(b"Friends: a@x.org, B <b@y.org>;, c@z.org") == [
        Address(None, None, b"Friends", None),
        Address(None, None, b"a", b"x.org"),
        Address(b"B", None, b"b", b"y.org"),
        GROUP_END,
        Address(None, None, b"c", b"z.org"),
    ]
    assert parse_address_list(b"R <@relay.example,@hop.example:user@example.com>") == [
        Address(b"R", b"@relay.example,@hop.example", b"user", b"example.com")
    ]
    assert parse_address_list(b"localonly") == [Address(None, None, b"localonly", b"MISSING_DOMAIN")]
    assert parse_address_list(b"") == []
    assert parse_address_list(b"=?utf-8?q?J=C3=BCrgen?= <j@example.de>")[0].name == b"=?utf-8?q?J=C3=BCrgen?="


# --- first_values: the look-up APPEND uses instead of a whole parse -------------------------------------

_ID_NAMES = (b"message-id", b"in-reply-to", b"references")


def _whole_parse(block: bytes) -> dict[bytes, bytes]:
    header = HeaderBlock.parse(block)
    return {name: header.get(name) for name in _ID_NAMES if header.get(name) is not None}


def test_first_values_reads_what_the_whole_parse_reads():
    block = (b"Received: x\r\nmessage-ID  :\t<a@b>\r\nReferences: <r1@x>\r\n <r2@x>\r\n\t<r3@x>\r\n"
             b"Message-ID: <second@b>\r\nIn-Reply-To:<r3@x>\r\n")
    assert first_values(block, _ID_NAMES) == _whole_parse(block) == {
        b"message-id": b"<a@b>", b"references": b"<r1@x> <r2@x> <r3@x>", b"in-reply-to": b"<r3@x>"}
    # Not fields: a continuation, a name with a blank inside, a name run on, a line after the end.
    tricky = b" Message-ID: <no1@x>\r\nMessage-ID x: <no2@x>\r\nMessage-IDs: <no3@x>\r\n\r\r\nMessage-ID: <no4@x>\r\n"
    assert first_values(tricky, _ID_NAMES) == _whole_parse(tricky) == {}


_PIECES = st.sampled_from([
    b"Message-ID", b"message-id", b"In-Reply-To", b"REFERENCES", b"References", b"Subject", b"X",
    b":", b": ", b" ", b"\t", b"\r", b"\n", b"\r\n", b"<a@b>", b"<c@d>", b"x y", b"\r\r\n", b"\x00", b"\xff",
])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_PIECES, max_size=40))
def test_first_values_matches_the_whole_parse_on_any_header(pieces):
    raw = b"".join(pieces)
    block = raw[:header_end(raw, 0, len(raw))]
    assert first_values(block, _ID_NAMES) == _whole_parse(block)
