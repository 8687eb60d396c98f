"""Header fields, RFC 2047 encoded words, RFC 2231 parameters and address lists."""

from imapcore.mail.addresses import GROUP_END, Address, parse_address_list
from imapcore.mail.encoded_words import decode_header_value
from imapcore.mail.headers import HeaderBlock, header_end, split_fields
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
