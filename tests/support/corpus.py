"""A deterministic corpus of realistic and malformed messages for tests (mail, store, server).

``messages()`` returns ``[(name, raw_bytes), ...]``: hand-built shapes that real mail takes
(multipart/alternative, attachments, nested message/rfc822, digests, encoded words in many charsets,
RFC 2231 parameters, groups and odd addresses) and the malformed mail servers meet anyway (no
header/body separator, broken or missing boundaries, 8-bit and overlong header lines, bare LF, truncated
parts). Names starting with ``malformed-`` are the broken ones. ``generated(count, seed)`` adds random but
reproducible combinations of the same building blocks. ``sample_mbox(limit)`` reads the 500-message
sample mbox when it is present.

Every message uses CRLF line ends except the ones named ``*-bare-lf``.
"""

from __future__ import annotations

import base64
import mailbox
import os
import random
from pathlib import Path

from support import shared

SAMPLE_MBOX = Path(os.environ.get("IMAPCORE_SAMPLE_MBOX", str(shared.SAMPLE_MBOX)))


def crlf(text: str | bytes) -> bytes:
    """Lines joined with CRLF whatever they were written with."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _b64(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


_PDF = bytes(range(256)) * 3
_PNG = b"\x89PNG\r\n\x1a\n" + bytes((i * 7) % 256 for i in range(500))

_HEAD = """From: Alice Example <alice@example.org>
To: Bob <bob@example.net>
Date: Mon, 04 Mar 2024 17:21:00 +0200
Message-ID: <{mid}@corpus.example>
"""


def _head(mid: str) -> str:
    return _HEAD.format(mid=mid)


def _simple() -> str:
    return _head("simple") + """Subject: Plain text
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Bob,
this is a plain message.
-- 
Alice
"""


def _encoded_subjects() -> list[tuple[str, bytes]]:
    samples = [
        ("iso-8859-1-q", "=?ISO-8859-1?Q?Caf=E9_cr=E8me?="),
        ("utf-8-b", "=?UTF-8?B?w5xiZXIgZGllIEJyw7xja2U=?="),
        ("koi8-r", "=?koi8-r?B?8NLJ18XU?="),
        ("shift-jis", "=?Shift_JIS?B?k/qWe4zq?="),
        ("gb2312", "=?gb2312?B?xOO6ww==?="),
        ("iso-2022-jp", "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?="),
        ("windows-1252", "=?windows-1252?Q?=93quoted=94_and_=80?="),
        ("adjacent", "=?utf-8?q?Hello_?= =?utf-8?q?World?= and text"),
        ("unknown-charset", "=?x-no-such?Q?abc?= tail"),
        ("broken-b64", "=?utf-8?B?@@@?= tail"),
    ]
    out = []
    for name, subject in samples:
        text = _head(f"ew-{name}").replace(
            "Alice Example", "=?utf-8?q?Al=C3=AFce?= Example"
        ) + f"""Subject: {subject}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Body for {name}: caf\u00e9 \u00fcber \u65e5\u672c
"""
        out.append((f"encoded-subject-{name}", crlf(text)))
    return out


def _alternative() -> str:
    return _head("alternative") + """Subject: Alternative
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-1"

This is a multi-part message in MIME format.
--alt-1
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait, soft=
 break.
--alt-1
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<html><body><p>Caf=C3=A9 <b>au lait</b></p></body></html>
--alt-1--
epilogue text
"""


def _attachments() -> str:
    return _head("attachments") + f"""Subject: Report with attachments
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix-1"

--mix-1
Content-Type: text/plain; charset=utf-8
Content-Language: en, de

See attached.
--mix-1
Content-Type: application/pdf; name="report.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="report.pdf"; size=768
Content-Description: Quarterly report
Content-ID: <pdf-1@corpus.example>
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

{_b64(_PDF)}
--mix-1
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-Disposition: inline
Content-Location: http://example.org/logo.png

{_b64(_PNG)}
--mix-1
Content-Type: text/csv; charset=iso-8859-1
Content-Disposition: attachment;
 filename*0*=iso-8859-1'fr'd%E9part;
 filename*1=".csv"
Content-Transfer-Encoding: quoted-printable

a;b
=E9t=E9;1
--mix-1--
"""


def _nested_rfc822() -> str:
    inner = """From: Carol <carol@example.com>
To: Dave <dave@example.com>, undisclosed-recipients:;
Subject: =?utf-8?q?Inner_message_=E2=9C=93?=
Date: Sun, 3 Mar 2024 09:00:00 -0500
Message-ID: <inner@corpus.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=inner-b

--inner-b
Content-Type: text/plain

inner text
--inner-b
Content-Type: message/rfc822

From: Eve <eve@example.com>
Subject: Deepest

deepest body
--inner-b--
"""
    return _head("nested") + f"""Subject: Fwd: Inner message
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer-b"

--outer-b
Content-Type: text/plain

Forwarding below.
--outer-b
Content-Type: message/rfc822
Content-Disposition: inline

{inner}
--outer-b--
"""


def _digest() -> str:
    return _head("digest") + """Subject: Digest
MIME-Version: 1.0
Content-Type: multipart/digest; boundary="dig"

--dig

From: one@example.com
Subject: first

first body
--dig

From: two@example.com
Subject: second

second body
--dig
Content-Type: text/plain

explicit text in a digest
--dig--
"""


def _related() -> str:
    return _head("related") + """Subject: Related
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"; type="text/html"
Content-Language: fr
Content-Location: http://example.org/page

--rel
Content-Type: text/html; charset=us-ascii
Content-Location: page.html

<img src="cid:img@x">
--rel
Content-Type: image/gif
Content-ID: <img@x>
Content-Transfer-Encoding: base64

R0lGODlhAQABAAAAACw=
--rel--
"""


def _addresses() -> list[tuple[str, bytes]]:
    cases = {
        "group": "To: Friends: ann@example.com, \"Ben B.\" <ben@example.com>;, solo@example.com",
        "empty-group": "To: undisclosed-recipients:;",
        "comments": "To: ann@example.com (Ann Smith), <bare@example.com>",
        "quoted-local": 'To: "john doe"@example.com',
        "no-domain": "To: localonly",
        "route": "To: Routed <@relay.example,@hop.example:user@example.com>",
        "encoded-name": "To: =?utf-8?q?J=C3=BCrgen?= <j@example.de>, \"Quoted, Name\" <q@example.de>",
        "empty-to": "To: ",
        "sender-replyto": "Sender: Secretary <sec@example.org>\nReply-To: list@example.org\nTo: x@example.org",
        "cc-bcc": "To: a@example.org\nCc: b@example.org, C <c@example.org>\nBcc: d@example.org",
    }
    out = []
    for name, line in cases.items():
        text = f"""From: Alice Example <alice@example.org>
{line}
Subject: address case {name}
Date: Tue, 5 Mar 2024 10:00:00 +0000
In-Reply-To: <parent-{name}@corpus.example>
References: <root@corpus.example> <parent-{name}@corpus.example>
Message-ID: <addr-{name}@corpus.example>

body
"""
        out.append((f"address-{name}", crlf(text)))
    return out


def _misc_headers() -> list[tuple[str, bytes]]:
    out = []
    out.append(("no-content-type", crlf(_head("noct") + "Subject: No content type\n\nplain body\n")))
    out.append(("uppercase-type", crlf(_head("upper") + 'Subject: Upper\nContent-Type: TEXT/HTML; CHARSET="UTF-8"\nContent-Transfer-Encoding: QUOTED-PRINTABLE\n\n<p>hi</p>\n')))
    out.append(("invalid-content-type", crlf(_head("invalid") + "Subject: Invalid\nContent-Type: garbage\n\nbody\n")))
    out.append(("folded-headers", crlf(_head("folded") + "Subject: a folded\n\tsubject line\n   with spaces\nX-Long: one\n two\n\nbody\n")))
    out.append(("quoted-subject", crlf(_head("quotes") + 'Subject: He said "hi" \\ back\n\nbody\n')))
    out.append(("empty-subject", crlf(_head("empty-subj") + "Subject:\n\nbody\n")))
    out.append(("no-trailing-newline", crlf(_head("nonl") + "Subject: no newline at end\n\nlast line").rstrip(b"\r\n")))
    out.append(("message-global", crlf(_head("global") + "Subject: x\nContent-Type: multipart/mixed; boundary=g\n\n--g\nContent-Type: message/global\n\nSubject: inner\n\nbody\n--g--\n")))
    out.append(("application-only", crlf(_head("app") + f"Subject: binary\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n{_b64(_PDF)}\n")))
    out.append(("unknown-cte", crlf(_head("xcte") + "Subject: x-uuencode\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\nend\n")))
    out.append(("param-continuation", crlf(_head("cont") + "Subject: continuation\nContent-Type: application/x-stuff;\n title*0=\"first \";\n title*1=\"second\"\n\ndata\n")))
    return out


def _malformed() -> list[tuple[str, bytes]]:
    out = []
    out.append(("malformed-no-separator", crlf(_head("nosep") + "Subject: no body separator")))
    out.append(("malformed-body-only", crlf("\nthis message has no header at all\n")))
    out.append(("malformed-empty", b""))
    out.append(("malformed-missing-close-boundary", crlf(_head("noclose") + "Subject: x\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\npart one\n--b1\nContent-Type: text/plain\n\npart two, never closed\n")))
    out.append(("malformed-boundary-absent", crlf(_head("absent") + "Subject: x\nContent-Type: multipart/mixed; boundary=\"nowhere\"\n\nno delimiter here at all\n")))
    out.append(("malformed-no-boundary-param", crlf(_head("noparam") + "Subject: x\nContent-Type: multipart/alternative\n\n--x\nContent-Type: text/plain\n\ntext\n--x--\n")))
    out.append(("malformed-8bit-header", crlf(_head("8bit") + "Subject: Grüße aus Köln — ünïcödé\nX-Raw: caf\xe9\n\nbody\n".replace("\xe9", "é"))))
    out.append(("malformed-latin1-header", crlf(_head("latin1").encode() + "Subject: caf\xe9 latin-1\n\nbody\n".encode("latin-1"))))
    out.append(("malformed-overlong-header", crlf(_head("long") + "Subject: " + "long " * 500 + "\nX-Very-Long: " + "x" * 5000 + "\n\nbody\n")))
    out.append(("malformed-truncated-base64", crlf(_head("trunc") + f"Subject: x\nContent-Type: multipart/mixed; boundary=t\n\n--t\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n{_b64(_PDF)[:301]}")))
    out.append(("malformed-header-junk-line", crlf(_head("junk") + "Subject: junk line follows\nthis line has no colon\nX-After: value\n\nbody\n")))
    out.append(("malformed-duplicate-headers", crlf(_head("dup") + "Subject: first\nSubject: second\nContent-Type: text/plain\nContent-Type: text/html\n\nbody\n")))
    out.append(("malformed-nested-missing-close", crlf(_head("nestclose") + "Subject: x\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\n\ninner one\n--outer\nContent-Type: text/plain\n\nafter\n--outer--\n")))
    out.append(("malformed-boundary-trailing-junk", crlf(_head("trail") + "Subject: x\nContent-Type: multipart/mixed; boundary=tj\n\n--tj   \nContent-Type: text/plain\n\none\n--tjextra\nContent-Type: text/plain\n\ntwo\n--tj--  \n")))
    out.append(("malformed-empty-parts", crlf(_head("emptyparts") + "Subject: x\nContent-Type: multipart/mixed; boundary=e\n\n--e\n--e\n\n--e--\n")))
    bare = (_head("barelf") + "Subject: bare LF\nContent-Type: multipart/mixed; boundary=lf\n\n--lf\nContent-Type: text/plain\n\nline\n--lf--\n").encode()
    out.append(("malformed-bare-lf", bare))
    return out


def messages() -> list[tuple[str, bytes]]:
    """The fixed corpus: realistic shapes first, then malformed ones (names ``malformed-*``)."""
    corpus: list[tuple[str, bytes]] = [
        ("simple", crlf(_simple())),
        ("alternative", crlf(_alternative())),
        ("attachments", crlf(_attachments())),
        ("nested-rfc822", crlf(_nested_rfc822())),
        ("digest", crlf(_digest())),
        ("related", crlf(_related())),
    ]
    corpus += _encoded_subjects()
    corpus += _addresses()
    corpus += _misc_headers()
    corpus += _extra_shapes()
    corpus += _malformed()
    return corpus


_WORDS = "lorem ipsum dolor sit amet fetch store search mailbox flags uid envelope café naïve Grüße".split()


def generated(count: int, seed: int = 9051) -> list[tuple[str, bytes]]:
    """``count`` random but reproducible messages mixing the building blocks above."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        leaves = []
        for leaf in range(rng.randint(1, 4)):
            kind = rng.choice(["plain", "html", "b64", "qp"])
            words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 60)))
            if kind == "plain":
                leaves.append(f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{words}\n")
            elif kind == "html":
                leaves.append(f"Content-Type: text/html; charset=utf-8\n\n<p>{words}</p>\n")
            elif kind == "qp":
                leaves.append(f"Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\n{words.encode('ascii', 'replace').decode()}=\n end\n")
            else:
                blob = bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))
                leaves.append(f"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"f{leaf}.bin\"\n\n{_b64(blob)}\n")
        boundary = f"gen-{index}-{rng.randrange(10**6)}"
        body = "".join(f"--{boundary}\n{leaf}" for leaf in leaves) + f"--{boundary}--\n"
        subject = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 6)))
        text = (
            f"From: Gen {index} <gen{index}@example.org>\nTo: rcpt{index}@example.net\n"
            f"Subject: {rng.choice(['', 'Re: ', 'Fwd: ', '[list] Re: '])}{subject}\n"
            f"Date: {rng.randint(1, 28)} Feb 2024 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00 "
            f"{rng.choice(['+0000', '-0500', '+0930'])}\nMessage-ID: <gen{index}@corpus.example>\n"
            f"MIME-Version: 1.0\nContent-Type: multipart/{rng.choice(['mixed', 'alternative'])}; "
            f"boundary=\"{boundary}\"\n\n{body}"
        )
        out.append((f"generated-{index}", crlf(text)))
    return out


_MUTATION_PIECES = [
    b"\r\n", b"--", b"\r\n\r\n", b"Content-Type: multipart/mixed; boundary=x\r\n", b"\r\n--x\r\n",
    b"\r\n--x--\r\n", b":", b" ", b"\r\n ", b"=?utf-8?q?a?=", b'"', b"(", b"<", b">", b",", b";", b"@",
]


def mutated(count: int, seed: int = 5) -> list[tuple[str, bytes]]:
    """``count`` reproducible mutants of the fixed and generated corpus: structural fragments inserted,
    spans deleted, tails cut; line ends normalized to CRLF, empty results dropped."""
    rng = random.Random(seed)
    base = [raw for name, raw in messages() + generated(20) if raw and not name.endswith("bare-lf")]
    out = []
    for index in range(count):
        data = bytearray(rng.choice(base))
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(data))
            operation = rng.random()
            if operation < 0.4:
                data[position:position] = rng.choice(_MUTATION_PIECES)
            elif operation < 0.7:
                del data[position : position + rng.randint(1, 20)]
            elif position > 10:
                data = data[:position]
        raw = bytes(data).replace(b"\r\n", b"\n").replace(b"\r", b"").replace(b"\n", b"\r\n")
        if raw.strip():
            out.append((f"mutated-{seed}-{index}", raw))
    return out


def sample_mbox(limit: int | None = None) -> list[tuple[str, bytes]]:
    """Messages of the sample mbox (CRLF line ends), or [] when the file is absent."""
    if not SAMPLE_MBOX.exists():
        return []
    box = mailbox.mbox(str(SAMPLE_MBOX), create=False)
    out = []
    try:
        for index, key in enumerate(box.iterkeys()):
            if limit is not None and index >= limit:
                break
            out.append((f"mbox-{index}", crlf(box.get_bytes(key))))
    finally:
        box.close()
    return out


def _extra_shapes() -> list[tuple[str, bytes]]:
    return [
        ("text-params-no-charset", crlf(_head("flowed") + "Subject: flowed\nContent-Type: text/plain; format=flowed; delsp=yes\n\nbody\n")),
        ("subject-inner-whitespace", crlf(_head("ws") + "Subject: two  spaces\tand a tab\n  then fold\n\nbody\n")),
        ("empty-content-type", crlf(_head("emptyct") + "Subject: x\nContent-Type: \n\nbody\n")),
        ("single-language", crlf(_head("lang") + "Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Language: en\nContent-Disposition: inline; filename=a.txt\n\nbody\n")),
        ("rfc822-base64", crlf(_head("r64") + "Subject: x\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n" + _b64(b"Subject: inner\r\n\r\nhello\r\n") + "\n--q--\n")),
        ("boundary-prefix", crlf(_head("prefix") + "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\nContent-Type: text/plain\n\none\n--b2\nContent-Type: text/html\n\n<p>two</p>\n--b2--\n--b\nContent-Type: text/plain\n\nthree\n--b--\n")),
        ("boundary-prefix-reverse", crlf(_head("prefix2") + "Subject: x\nContent-Type: multipart/mixed; boundary=b2\n\n--b2\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n--b\nContent-Type: text/html\n\n<p>two</p>\n--b--\n--b2\nContent-Type: text/plain\n\nthree\n--b2--\n")),
        ("same-boundary-nested", crlf(_head("same") + "Subject: x\nContent-Type: multipart/mixed; boundary=s\n\n--s\nContent-Type: multipart/alternative; boundary=s\n\n--s\nContent-Type: text/plain\n\none\n--s--\n--s\nContent-Type: text/plain\n\ntwo\n--s--\n")),
        ("multipart-base64-cte", crlf(_head("mp64") + "Subject: x\nContent-Type: multipart/mixed; boundary=m\nContent-Transfer-Encoding: base64\n\n--m\nContent-Type: text/plain\n\none\n--m--\n")),
        ("empty-date-and-sender", crlf(_head("empties").replace("Date: Mon, 04 Mar 2024 17:21:00 +0200\n", "Date:\n") + "Sender:\nSubject: x\n\nbody\n")),
    ]
