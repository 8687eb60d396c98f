"""summarize(): ENVELOPE/BODYSTRUCTURE bytes, decoded fields, PREVIEW, robustness and speed."""

import time
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from support import corpus

from imapcore.mail import MessageSummary, summarize
from imapcore.mail.text import base_subject

SIMPLE = (
    b"From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>\r\n"
    b"To: a@example.org, Team: b@example.org;\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= \"quoted\"\r\n"
    b"Date: Tue, 05 Mar 2024 10:00:00 -0500\r\n"
    b"Message-ID: <m1@example.de>\r\n"
    b"In-Reply-To: <p@example.de>\r\n"
    b"References: <r@example.de>\r\n <p@example.de>\r\n"
    b"\r\n"
    b"Hello\r\nWorld\r\n"
)


def test_envelope_bytes_exact():
    summary = summarize(SIMPLE)
    assert summary.envelope == (
        b'("Tue, 05 Mar 2024 10:00:00 -0500" "=?utf-8?q?Gr=C3=BC=C3=9Fe?= \\"quoted\\"" '
        b'(("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.de")) (("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.de")) '
        b'(("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.de")) '
        b'((NIL NIL "a" "example.org")(NIL NIL "Team" NIL)(NIL NIL "b" "example.org")(NIL NIL NIL NIL)) '
        b'NIL NIL "<p@example.de>" "<m1@example.de>")'
    )
    assert summary.body == b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2)'
    assert summary.bodystructure == b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)'


def test_decoded_fields():
    summary = summarize(SIMPLE)
    assert summary.subject == 'Grüße "quoted"'
    assert summary.base_subject == 'Grüße "quoted"'
    assert summary.sent_date == datetime(2024, 3, 5, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert summary.message_id == "<m1@example.de>"
    assert summary.in_reply_to == "<p@example.de>"
    assert summary.references == ("<r@example.de>", "<p@example.de>")
    assert summary.headers[0] == ("from", "Jürgen <j@example.de>")
    assert ("subject", 'Grüße "quoted"') in summary.headers
    assert summary.text == "Hello\r\nWorld\r\n"
    assert summary.preview == "Hello World"


def test_multipart_extension_data_and_nesting():
    raw = dict(corpus.messages())["attachments"]
    summary = summarize(raw)
    structure = summary.bodystructure
    assert structure.startswith(b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 13 0 NIL NIL ("en" "de") NIL)')
    assert b'("application" "pdf" ("name" "report.pdf") "<pdf-1@corpus.example>" "Quarterly report" "base64" 1050 ' in structure
    assert b'"Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "report.pdf" "size" "768")) NIL NIL)' in structure
    assert b'("inline" NIL) NIL "http://example.org/logo.png")' in structure
    assert b'("filename*" "iso-8859-1\'fr\'d%E9part.csv")' in structure
    assert structure.endswith(b' "mixed" ("boundary" "mix-1") NIL NIL NIL)')
    assert summary.body.endswith(b' "mixed")')
    assert summary.preview == "See attached."
    assert "été;1" in summary.text  # quoted-printable latin-1 csv decoded


def test_nested_message_rfc822():
    summary = summarize(dict(corpus.messages())["nested-rfc822"])
    assert b'"message" "rfc822" NIL NIL NIL "7bit" 448 ("Sun, 3 Mar 2024 09:00:00 -0500"' in summary.bodystructure
    assert b'(NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)' in summary.bodystructure
    assert "deepest body" in summary.text and "inner text" in summary.text


def test_html_only_preview_and_text_strip_tags():
    raw = corpus.crlf(
        "Subject: h\nContent-Type: text/html; charset=utf-8\n\n"
        "<html><head><style>p {color: red}</style></head><body><p>Caf&eacute;   <b>noir</b></p></body></html>\n"
    )
    summary = summarize(raw)
    assert summary.preview == "Café noir"
    assert "color" not in summary.text and "Café" in summary.text


def test_preview_is_bounded_and_collapsed():
    raw = b"Subject: x\r\n\r\n" + b"word \r\n\t " * 200
    preview = summarize(raw).preview
    assert len(preview) == 256 and "  " not in preview and preview.startswith("word word")


def test_base_subject_rfc5256():
    assert base_subject("Re: [list] Fwd: Hello (fwd)") == "Hello"
    assert base_subject("[Fwd: Re: Meeting]") == "Meeting"
    assert base_subject("RE:  re: FW:   spaced   out  ") == "spaced out"
    assert base_subject("[tag]") == "[tag]"  # a blob alone is the subject (RFC 5256 §2.1 step 4)
    assert base_subject("") == ""


def test_missing_or_bad_date():
    assert summarize(b"Subject: x\r\n\r\nb").sent_date is None
    assert summarize(b"Date: not a date\r\n\r\nb").sent_date is None
    assert summarize(b"Date: 1 Jan 99 00:00 GMT\r\n\r\nb").sent_date.year == 1999


def test_bare_lf_has_the_crlf_structure_with_raw_sizes():
    name, raw = next(item for item in corpus.messages() if item[0] == "malformed-bare-lf")
    bare = summarize(raw)
    normalized = summarize(corpus.crlf(raw))
    assert bare.envelope == normalized.envelope
    assert bare.bodystructure == normalized.bodystructure  # the single part "line" is 4 octets either way
    # Sizes are of the stored octets: 12 with bare LFs, 14 once normalized to CRLF (deviation 2 of the
    # Dovecot oracle test).
    text = b"Subject: x\n\nline1\nline2\n"
    assert summarize(text).body == b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 2)'
    assert summarize(corpus.crlf(text)).body == b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2)'


def test_missing_content_type_in_digest_is_message_rfc822():
    summary = summarize(dict(corpus.messages())["digest"])
    assert summary.body.startswith(b'(("message" "rfc822" NIL NIL NIL "7bit" 51 (NIL "first"')


def test_deep_nesting_does_not_exhaust_the_stack():
    raw = b""
    for depth in range(3000):
        raw += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (depth, depth)
    raw += b"\r\nleaf\r\n"
    summary = summarize(raw)
    assert summary.bodystructure.startswith(b"((((")
    assert len(summary.bodystructure) > 1000


def test_every_corpus_message_summarizes():
    for name, raw in corpus.messages() + corpus.generated(20):
        summary = summarize(raw)
        assert isinstance(summary, MessageSummary)
        assert summary.bodystructure.startswith(b"(") and summary.bodystructure.endswith(b")"), name
        assert summary.body.count(b"(") == summary.body.count(b")") or b"{" in summary.body, name


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_never_raises_on_random_bytes(raw):
    summary = summarize(raw)
    assert summary.envelope.startswith(b"(") and summary.bodystructure.startswith(b"(")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([raw for _, raw in corpus.messages() if raw]), st.integers(0, 10**6), st.binary(max_size=20))
def test_never_raises_on_mutated_corpus(raw, position, junk):
    position %= len(raw)
    mutated = raw[:position] + junk + raw[position + len(junk) :]
    assert summarize(mutated).bodystructure.startswith(b"(")
    assert summarize(raw[:position]).body.startswith(b"(")  # truncated anywhere


def test_speed_on_the_sample_mbox():
    messages = [raw for _, raw in corpus.sample_mbox(200)] or [raw for _, raw in corpus.generated(200)]
    start = time.perf_counter()
    for raw in messages:
        summarize(raw)
    per_message = (time.perf_counter() - start) / len(messages)
    # About 0.2 ms here for a 30 KB message; the bound leaves room for slow CI machines.
    assert per_message < 0.005


PATHOLOGICAL = {
    "unclosed tags": b"Content-Type: text/html\r\n\r\n" + b"a<a" * 100000,
    "unclosed scripts": b"Content-Type: text/html\r\n\r\n" + b"<script>" * 50000,
    "unclosed comments": b"Content-Type: text/html\r\n\r\n" + b"<!--x" * 50000,
    "fwd trailers": b"Subject: " + b"(fwd) " * 50000 + b"x\r\n\r\n",
    "re leaders": b"Subject: " + b"Re: " * 100000 + b"\r\n\r\n",
    "open comments": b"To: " + b"(" * 200000 + b"\r\n\r\n",
    "encoded-word starts": b"Subject: " + b"=?" * 200000 + b"\r\n\r\n",
    "empty parts": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\n" * 50000,
    "dashes mid-line": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"x--b" * 100000,
}


def test_pathological_inputs_stay_linear():
    for name, raw in PATHOLOGICAL.items():
        start = time.perf_counter()
        summary = summarize(raw)
        elapsed = time.perf_counter() - start
        assert summary.bodystructure.startswith(b"("), name
        assert elapsed < 2.0, (name, elapsed)  # about 0.05 s each here; quadratic would be minutes


def test_8bit_header_bytes_go_out_as_literals():
    raw = "Subject: Grüße\r\nFrom: Jörg <j@example.de>\r\n\r\nbody\r\n".encode()
    envelope = summarize(raw).envelope
    subject = "Grüße".encode()
    assert b"{%d}\r\n%s" % (len(subject), subject) in envelope
    assert b'({%d}\r\nJ\xc3\xb6rg NIL "j" "example.de")' % len("Jörg".encode()) in envelope
