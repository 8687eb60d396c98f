"""BODY[section], partials and BINARY on hand-checked messages (Dovecot agreement is in the oracle test)."""

import pytest
from support import corpus

from imapcore.mail import UnknownCTE, apply_partial, binary_size, decode_binary, extract_section
from imapcore.syntax.model import Partial, Section

# RFC 9051 §6.4.5 example shape: a multipart/mixed with a nested message/rfc822 holding a multipart.
NESTED = corpus.crlf(
    "Subject: top\n"
    "Content-Type: multipart/mixed; boundary=A\n"
    "\n"
    "preamble\n"
    "--A\n"
    "Content-Type: text/plain\n"
    "\n"
    "part one\n"
    "--A\n"
    "Content-Type: message/rfc822\n"
    "X-Part: two\n"
    "\n"
    "Subject: inner\n"
    "From: x@example.org\n"
    "Content-Type: multipart/alternative; boundary=B\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "aGVsbG8gd29ybGQ=\n"
    "--B\n"
    "Content-Type: text/html\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "<p>caf=C3=A9 =\n"
    "au lait</p>\n"
    "--B--\n"
    "--A--\n"
    "epilogue\n"
)


def section(spec_part=(), text=None, fields=()):
    return Section(tuple(spec_part), text, tuple(fields))


def test_whole_header_and_text():
    assert extract_section(NESTED, section()) == NESTED
    header = extract_section(NESTED, section(text="HEADER"))
    assert header == b"Subject: top\r\nContent-Type: multipart/mixed; boundary=A\r\n\r\n"
    assert extract_section(NESTED, section(text="TEXT")) == NESTED[len(header) :]


def test_numbered_parts_and_mime_headers():
    assert extract_section(NESTED, section([1])) == b"part one"
    assert extract_section(NESTED, section([1], "MIME")) == b"Content-Type: text/plain\r\n\r\n"
    assert extract_section(NESTED, section([2], "MIME")) == b"Content-Type: message/rfc822\r\nX-Part: two\r\n\r\n"
    inner = extract_section(NESTED, section([2]))
    # The inner close delimiter keeps its line break: the epilogue before "--A--" is empty (Dovecot agrees).
    assert inner.startswith(b"Subject: inner\r\n") and inner.endswith(b"--B--\r\n")
    assert extract_section(NESTED, section([2, 1])) == b"aGVsbG8gd29ybGQ="
    assert extract_section(NESTED, section([2, 2])) == b"<p>caf=C3=A9 =\r\nau lait</p>"
    assert extract_section(NESTED, section([2, 2], "MIME")).startswith(b"Content-Type: text/html\r\n")


def test_encapsulated_message_header_and_text():
    assert extract_section(NESTED, section([2], "HEADER")).startswith(b"Subject: inner\r\nFrom: x@example.org\r\n")
    assert extract_section(NESTED, section([2], "TEXT")).startswith(b"--B\r\n")
    assert extract_section(NESTED, section([2], "HEADER.FIELDS", ["from"])) == b"From: x@example.org\r\n\r\n"
    # HEADER of a part that is not message/rfc822 is empty.
    assert extract_section(NESTED, section([1], "HEADER")) == b""


def test_header_fields_and_not():
    assert extract_section(NESTED, section(text="HEADER.FIELDS", fields=["SUBJECT", "x-absent"])) == b"Subject: top\r\n\r\n"
    assert extract_section(NESTED, section(text="HEADER.FIELDS", fields=["x-absent"])) == b"\r\n"
    assert extract_section(NESTED, section(text="HEADER.FIELDS.NOT", fields=["subject"])) == (
        b"Content-Type: multipart/mixed; boundary=A\r\n\r\n"
    )


def test_nonexistent_parts_are_empty():
    assert extract_section(NESTED, section([3])) == b""
    assert extract_section(NESTED, section([1, 1])) == b""
    assert extract_section(NESTED, section([2, 3, 1])) == b""
    assert extract_section(NESTED, section([0])) == b""


def test_single_part_message_has_part_one():
    raw = b"Subject: s\r\n\r\nbody\r\n"
    assert extract_section(raw, section([1])) == b"body\r\n"
    assert extract_section(raw, section([1], "MIME")) == b"Subject: s\r\n\r\n"
    assert extract_section(raw, section([2])) == b""


def test_partial():
    assert apply_partial(b"0123456789", Partial(2, 3)) == b"234"
    assert apply_partial(b"0123456789", Partial(8, 10)) == b"89"
    assert apply_partial(b"0123456789", Partial(20, 1)) == b""
    assert apply_partial(b"0123456789", Partial(4)) == b"456789"
    assert apply_partial(b"abc", None) == b"abc"


def test_binary_decodes_transfer_encodings():
    assert decode_binary(NESTED, (2, 1)) == b"hello world"
    assert binary_size(NESTED, (2, 1)) == 11
    assert decode_binary(NESTED, (2, 2)) == "<p>café au lait</p>".encode()
    assert decode_binary(NESTED, (1,)) == b"part one"
    assert decode_binary(NESTED, ()) == NESTED
    assert decode_binary(NESTED, (7,)) == b""


def test_binary_unknown_cte():
    raw = dict(corpus.messages())["unknown-cte"]
    with pytest.raises(UnknownCTE):
        decode_binary(raw, (1,))
    with pytest.raises(UnknownCTE):
        binary_size(raw, (1,))
