"""FETCH (RFC 9051 §6.4.5, §7.5.2; RFC 3501 §6.4.5 for the RFC822 items; RFC 3516 BINARY; RFC 8970
PREVIEW; RFC 8514 SAVEDATE; RFC 8474 OBJECTID). Expected strings come from the fixture bytes, cut the
way the RFC says sections are cut (§6.4.5: HEADER includes the blank line, TEXT is the body, a MIME
part ends before the CRLF that precedes its boundary)."""

from ..fixtures import MESSAGES
from ..reader import escape_string


def s(data: bytes) -> str:
    """The canonical form of a string value (what the reader makes of quoted or literal)."""
    return '"' + escape_string(data) + '"'


def _split(name: str) -> tuple[bytes, bytes]:
    header, _, body = MESSAGES[name].partition(b"\r\n\r\n")
    return header + b"\r\n\r\n", body


PLAIN = MESSAGES["plain"]
PLAIN_HEADER, PLAIN_BODY = _split("plain")
MULTI_HEADER, MULTI_BODY = _split("multipart")

PLAIN_ENVELOPE = (
    '("Mon, 07 Feb 1994 21:52:25 -0800" "Hello world" (("Alice Example" NIL "alice" "example.org"))'
    ' (("Alice Example" NIL "alice" "example.org")) (("Alice Example" NIL "alice" "example.org"))'
    ' (("Bob" NIL "bob" "example.net")) ((NIL NIL "carol" "example.com")) NIL NIL "<plain-1@example.org>")'
)

# (name, rfc, requires, fixture, command items, expected FETCH data for message 1, extra checks)
CASES = [
    ("fetch-flags-none", "9051 §7.5.2", "", "plain", "FLAGS", "FLAGS ({flags:})"),
    ("fetch-uid", "9051 §7.5.2", "", "plain", "UID", "UID {#}"),
    ("fetch-rfc822-size", "9051 §7.5.2", "", "plain", "RFC822.SIZE", f"RFC822.SIZE {len(PLAIN)}"),
    ("fetch-rfc822-size-multipart", "9051 §7.5.2", "", "multipart", "RFC822.SIZE",
     f"RFC822.SIZE {len(MESSAGES['multipart'])}"),
    ("fetch-body-peek-whole", "9051 §6.4.5", "", "plain", "BODY.PEEK[]", f"BODY[] {s(PLAIN)}"),
    ("fetch-body-peek-header", "9051 §6.4.5", "", "plain", "BODY.PEEK[HEADER]", f"BODY[HEADER] {s(PLAIN_HEADER)}"),
    ("fetch-body-peek-text", "9051 §6.4.5", "", "plain", "BODY.PEEK[TEXT]", f"BODY[TEXT] {s(PLAIN_BODY)}"),
    ("fetch-header-fields-one", "9051 §6.4.5", "", "plain", "BODY.PEEK[HEADER.FIELDS (Subject)]",
     "BODY[HEADER.FIELDS ({\"Subject\"|Subject})] " + s(b"Subject: Hello world\r\n\r\n")),
    ("fetch-header-fields-two-in-message-order", "9051 §6.4.5", "", "plain",
     "BODY.PEEK[HEADER.FIELDS (Subject From)]",
     "BODY[HEADER.FIELDS ({...})] " + s(b"From: Alice Example <alice@example.org>\r\nSubject: Hello world\r\n\r\n")),
    ("fetch-header-fields-case-insensitive", "9051 §6.4.5", "", "plain", "BODY.PEEK[HEADER.FIELDS (sUbJeCt)]",
     "BODY[HEADER.FIELDS ({...})] " + s(b"Subject: Hello world\r\n\r\n")),
    ("fetch-header-fields-absent", "9051 §6.4.5", "", "plain", "BODY.PEEK[HEADER.FIELDS (X-Not-There)]",
     "BODY[HEADER.FIELDS ({...})] " + s(b"\r\n")),
    ("fetch-header-fields-not", "9051 §6.4.5", "", "tiny", "BODY.PEEK[HEADER.FIELDS.NOT (From)]",
     "BODY[HEADER.FIELDS.NOT ({...})] " + s(b"Subject: tiny\r\n\r\n")),
    ("fetch-header-fields-not-subject", "9051 §6.4.5", "", "second", "BODY.PEEK[HEADER.FIELDS.NOT (Subject Date Message-ID In-Reply-To)]",
     "BODY[HEADER.FIELDS.NOT ({...})] " + s(b"From: Bob <bob@example.net>\r\nTo: Alice Example <alice@example.org>\r\n\r\n")),
    ("fetch-partial-start", "9051 §6.4.5", "", "plain", "BODY.PEEK[]<0.10>", f"BODY[]<0> {s(PLAIN[:10])}"),
    ("fetch-partial-middle-of-text", "9051 §6.4.5", "", "plain", "BODY.PEEK[TEXT]<6.3>", f"BODY[TEXT]<6> {s(PLAIN_BODY[6:9])}"),
    ("fetch-partial-past-end", "9051 §6.4.5", "", "plain", "BODY.PEEK[]<1000.10>", 'BODY[]<1000> ""'),
    ("fetch-partial-overlaps-end", "9051 §6.4.5", "", "plain", f"BODY.PEEK[]<{len(PLAIN) - 6}.100>",
     f"BODY[]<{len(PLAIN) - 6}> {s(PLAIN[-6:])}"),
    ("fetch-partial-header", "9051 §6.4.5", "", "plain", "BODY.PEEK[HEADER]<5.7>", f"BODY[HEADER]<5> {s(PLAIN_HEADER[5:12])}"),
    ("fetch-part-1-of-single-part", "9051 §6.4.5", "", "plain", "BODY.PEEK[1]", f"BODY[1] {s(PLAIN_BODY)}"),
    ("fetch-multipart-part-1", "9051 §6.4.5", "", "multipart", "BODY.PEEK[1]", "BODY[1] " + s(b"Part one text.")),
    ("fetch-multipart-part-2", "9051 §6.4.5", "", "multipart", "BODY.PEEK[2]", "BODY[2] " + s(b"SGVsbG8gYmluYXJ5IQ==")),
    ("fetch-multipart-part-1-mime", "9051 §6.4.5", "", "multipart", "BODY.PEEK[1.MIME]",
     "BODY[1.MIME] " + s(b"Content-Type: text/plain; charset=utf-8\r\n\r\n")),
    ("fetch-multipart-header", "9051 §6.4.5", "", "multipart", "BODY.PEEK[HEADER]", f"BODY[HEADER] {s(MULTI_HEADER)}"),
    ("fetch-multipart-text", "9051 §6.4.5", "", "multipart", "BODY.PEEK[TEXT]", f"BODY[TEXT] {s(MULTI_BODY)}"),
    ("fetch-nested-message-header", "9051 §6.4.5", "", "nested", "BODY.PEEK[2.HEADER]",
     "BODY[2.HEADER] " + s(b"From: Inner <inner@example.org>\r\nSubject: inner\r\n\r\n")),
    ("fetch-nested-message-text", "9051 §6.4.5", "", "nested", "BODY.PEEK[2.TEXT]", "BODY[2.TEXT] " + s(b"Inner body.")),
    ("fetch-nested-message-part-1", "9051 §6.4.5", "", "nested", "BODY.PEEK[1]", "BODY[1] " + s(b"See below.")),
    ("fetch-envelope", "9051 §7.5.2", "", "plain", "ENVELOPE", f"ENVELOPE {PLAIN_ENVELOPE}"),
    ("fetch-envelope-encoded-words-raw", "9051 §7.5.2", "", "encoded", "ENVELOPE",
     'ENVELOPE ("Fri, 11 Feb 1994 09:00:00 +0100" "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=" '
     '(("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.de")){...}"<enc-1@example.de>")'),
    ("fetch-envelope-in-reply-to", "9051 §7.5.2", "", "second", "ENVELOPE",
     'ENVELOPE ("Tue, 08 Feb 1994 10:00:00 +0000" "Re: Hello world" {...} "<plain-1@example.org>" "<second-1@example.net>")'),
    ("fetch-envelope-minimal-headers", "9051 §7.5.2", "", "tiny", "ENVELOPE",
     'ENVELOPE (NIL "tiny" NIL NIL NIL NIL NIL NIL NIL NIL)'),
    ("fetch-body-structure-plain", "9051 §7.5.2", "", "plain", "BODYSTRUCTURE",
     f'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" {len(PLAIN_BODY)} 2{{...}})'),
    ("fetch-body-non-extensible", "9051 §7.5.2", "", "plain", "BODY",
     f'BODY ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" {len(PLAIN_BODY)} 2)'),
    ("fetch-body-structure-multipart", "9051 §7.5.2", "", "multipart", "BODYSTRUCTURE",
     'BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 14 {#}{...})'
     '("APPLICATION" "OCTET-STREAM" ("NAME" "a.bin") NIL NIL "BASE64" 20{...}) "MIXED"{...})'),
    ("fetch-body-structure-disposition", "9051 §7.5.2", "", "multipart", "BODYSTRUCTURE",
     'BODYSTRUCTURE ({...}("ATTACHMENT" ("FILENAME" "a.bin")){...})'),
    ("fetch-body-structure-boundary-param", "9051 §7.5.2", "", "multipart", "BODYSTRUCTURE",
     'BODYSTRUCTURE ({...} "MIXED" ("BOUNDARY" "XYZ"){...})'),
    ("fetch-body-structure-message-rfc822", "9051 §7.5.2", "", "nested", "BODYSTRUCTURE",
     'BODYSTRUCTURE ({...}("MESSAGE" "RFC822" NIL NIL NIL "7BIT" {#} (NIL "inner" (("Inner" NIL "inner" "example.org")){...}'),
    ("fetch-body-structure-default-type", "9051 §7.5.2", "", "tiny", "BODYSTRUCTURE",
     'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 3 1{...})'),
    ("fetch-rfc822", "3501 §6.4.5", "IMAP4rev1", "tiny", "RFC822", "{...}RFC822 " + s(MESSAGES["tiny"]) + "{...}"),
    ("fetch-rfc822-header", "3501 §6.4.5", "IMAP4rev1", "plain", "RFC822.HEADER", f"RFC822.HEADER {s(PLAIN_HEADER)}"),
    ("fetch-rfc822-text", "3501 §6.4.5", "IMAP4rev1", "plain", "RFC822.TEXT", f"{{...}}RFC822.TEXT {s(PLAIN_BODY)}{{...}}"),
    ("fetch-binary-decodes-base64", "3516 §4.2", "BINARY", "multipart", "BINARY.PEEK[2]", "BINARY[2] " + s(b"Hello binary!")),
    ("fetch-binary-size", "3516 §4.2", "BINARY", "multipart", "BINARY.SIZE[2]", "BINARY.SIZE[2] 13"),
    ("fetch-binary-7bit-part", "3516 §4.2", "BINARY", "multipart", "BINARY.PEEK[1]", "BINARY[1] " + s(b"Part one text.")),
    ("fetch-binary-partial", "3516 §4.2", "BINARY", "multipart", "BINARY.PEEK[2]<6.6>", "BINARY[2]<6> " + s(b"binary")),
    ("fetch-binary-size-single-part", "3516 §4.2", "BINARY", "plain", "BINARY.SIZE[1]", f"BINARY.SIZE[1] {len(PLAIN_BODY)}"),
    ("fetch-preview", "8970 §3", "PREVIEW", "plain", "PREVIEW", 'PREVIEW "Hello Bob,{...}"'),
    ("fetch-savedate", "8514 §4", "SAVEDATE", "plain", "SAVEDATE", 'SAVEDATE {...}'),
    ("fetch-emailid", "8474 §5.1", "OBJECTID", "plain", "EMAILID", "EMAILID ({=emailid})"),
    ("fetch-threadid", "8474 §5.2", "OBJECTID", "plain", "THREADID", "THREADID {...}"),
]


def _script(name: str, rfc: str, requires: str, fixture: str, items: str, expected: str) -> str:
    lines = [f"=== {name}", f"rfc: {rfc}", "area: fetch"]
    if requires:
        lines.append(f"requires: {requires}")
    lines += [
        f"setup: APPEND {{$box}} {{msg:{fixture}}}",
        "c1> a SELECT {$box}",
        "c1< a OK {...}",
        f"c1> b FETCH 1 ({items})",
        f"c1< * 1 FETCH ({expected})",
        "c1< b OK {...}",
    ]
    return "\n".join(lines) + "\n\n"


SCRIPTS = "".join(_script(*case) for case in CASES) + r"""
=== fetch-body-sets-seen
rfc: 9051 §6.4.5
area: fetch
doc: BODY[section] sets \Seen (the read-write case)
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 BODY[TEXT]
c1< * 1 FETCH ({...}BODY[TEXT] "x\r\n"{...})
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:\Seen}))
c1< c OK {...}

=== fetch-body-peek-keeps-unseen
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 BODY.PEEK[]
c1< * 1 FETCH (BODY[] "Subject: tiny\r\n\r\nx\r\n")
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:}))
c1< c OK {...}

=== fetch-binary-sets-seen
rfc: 3516 §4.2
area: fetch
requires: BINARY
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 BINARY[1]
c1< * 1 FETCH ({...}BINARY[1] "x\r\n"{...})
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:\Seen}))
c1< c OK {...}

=== fetch-fast-macro
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} (\Flagged) {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 FAST
c1< * 1 FETCH ({...}FLAGS ({flags:\Flagged}){...})
c1< & * 1 FETCH ({...}RFC822.SIZE 291{...})
c1< & * 1 FETCH ({...}INTERNALDATE "{...}"{...})
c1< b OK {...}

=== fetch-all-macro
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 ALL
c1< * 1 FETCH ({...}FLAGS ({flags:}){...})
c1< & * 1 FETCH ({...}RFC822.SIZE 291{...})
c1< & * 1 FETCH ({...}ENVELOPE ("Mon, 07 Feb 1994 21:52:25 -0800" "Hello world"{...})
c1< & * 1 FETCH ({...}INTERNALDATE "{...}"{...})
c1< b OK {...}

=== fetch-full-macro
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 FULL
c1< * 1 FETCH ({...}BODY ("TEXT" "PLAIN"{...})
c1< & * 1 FETCH ({...}ENVELOPE ({...})
c1< & * 1 FETCH ({...}RFC822.SIZE 291{...})
c1< b OK {...}

=== fetch-several-items
rfc: 9051 §7.5.2
area: fetch
setup: APPEND {$box} (\Answered) {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])
c1< * 1 FETCH ({...}UID {#}{...})
c1< & * 1 FETCH ({...}FLAGS ({flags:\Answered}){...})
c1< & * 1 FETCH ({...}RFC822.SIZE 20{...})
c1< & * 1 FETCH ({...}BODY[HEADER.FIELDS ({...})] "Subject: tiny\r\n\r\n"{...})
c1< b OK {...}

=== fetch-internaldate-from-append
rfc: 9051 §6.3.12
area: fetch
doc: the date-time given to APPEND becomes INTERNALDATE (the same instant; the zone may differ)
setup: APPEND {$box} "17-Jul-1996 02:44:25 -0700" {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 INTERNALDATE
c1< * 1 FETCH (INTERNALDATE {"17-Jul-1996 02:44:25 -0700"|"17-Jul-1996 09:44:25 +0000"})
c1< b OK {...}

=== fetch-star-is-last
rfc: 9051 §6.4.1
area: sequence-sets
doc: "*" is the largest number in use (§9 seq-number)
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH * RFC822.SIZE
c1< * 3 FETCH (RFC822.SIZE 391)
c1< ! * 1 FETCH {...}
c1< ! * 2 FETCH {...}
c1< b OK {...}

=== fetch-range-to-star
rfc: 9051 §9
area: sequence-sets
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 2:* RFC822.SIZE
c1< * 2 FETCH (RFC822.SIZE 243)
c1< * 3 FETCH (RFC822.SIZE 391)
c1< ! * 1 FETCH {...}
c1< b OK {...}

=== fetch-reversed-range
rfc: 9051 §9
area: sequence-sets
doc: "2:1" is the same set as "1:2" (seq-range: "the range includes the numbers between")
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH *:2 RFC822.SIZE
c1< * 2 FETCH (RFC822.SIZE 243)
c1< * 3 FETCH (RFC822.SIZE 391)
c1< ! * 1 FETCH {...}
c1< b OK {...}

=== fetch-set-with-list
rfc: 9051 §9
area: sequence-sets
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1,3 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 291)
c1< * 3 FETCH (RFC822.SIZE 391)
c1< ! * 2 FETCH {...}
c1< b OK {...}

=== fetch-duplicates-in-set
rfc: 9051 §9
area: sequence-sets
doc: overlapping ranges name each message once; a server may answer once per message
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1:2,2,1:1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 291)
c1< * 2 FETCH (RFC822.SIZE 243)
c1< b OK {...}

=== fetch-sequence-zero
rfc: 9051 §9
area: sequence-sets
doc: nz-number: 0 is not a sequence number
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 0 FLAGS
c1< b BAD {...}

=== fetch-beyond-exists
rfc: 9051 §9
area: sequence-sets
doc: seq-number: "a command that uses a message sequence number greater than the number of messages
doc: in the selected mailbox" gets a tagged BAD
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 5 FLAGS
c1< b BAD {...}
c1< ! * 5 FETCH {...}

=== uid-fetch-range-beyond-uidnext
rfc: 9051 §6.4.9
area: uid
doc: "a UID range of 559:* always includes the UID of the last message in the mailbox, even if 559 is
doc: higher than any assigned UID value"
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< * OK [UIDNEXT {=next}]{...}
c1< a OK {...}
c1> b UID FETCH {$next+5}:* RFC822.SIZE
c1< * 2 FETCH ({...}RFC822.SIZE 243{...})
c1< & * 2 FETCH ({...}UID {$next-1}{...})
c1< ! * 1 FETCH {...}
c1< b OK {...}

=== uid-fetch-nonexistent-uid
rfc: 9051 §6.4.9
area: uid
doc: UIDs that match no message are ignored, no error (§6.4.9 "no error")
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * OK [UIDNEXT {=next}]{...}
c1< a OK {...}
c1> b UID FETCH {$next+100} FLAGS
c1< ! * {#} FETCH {...}
c1< b OK {...}

=== uid-fetch-empty-mailbox
rfc: 9051 §6.4.9
area: uid
c1> a SELECT {$box}
c1< a OK {...}
c1> b UID FETCH 1:* FLAGS
c1< ! * {#} FETCH {...}
c1< b OK {...}

=== uid-fetch-includes-uid
rfc: 9051 §6.4.9
area: uid
doc: "the UID data item ... MUST be included in the response to UID FETCH even if not requested"
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b UID FETCH 1:* RFC822.SIZE
c1< * 1 FETCH ({...}UID {#}{...})
c1< & * 1 FETCH ({...}RFC822.SIZE 291{...})
c1< b OK {...}

=== uid-fetch-by-uid
rfc: 9051 §6.4.9
area: uid
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 2 UID
c1< * 2 FETCH (UID {=uid2})
c1< b OK {...}
c1> c UID FETCH {$uid2} RFC822.SIZE
c1< * 2 FETCH ({...}RFC822.SIZE 243{...})
c1< ! * 1 FETCH {...}
c1< ! * 3 FETCH {...}
c1< c OK {...}

=== uid-fetch-star-when-uids-sparse
rfc: 9051 §6.4.9
area: uid
doc: after expunges UIDs have gaps; "*" is still the last message
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} (\Deleted) {msg:third}
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b EXPUNGE
c1< * 3 EXPUNGE
c1< b OK {...}
c1> c UID FETCH * RFC822.SIZE
c1< * 3 FETCH ({...}RFC822.SIZE 20{...})
c1< c OK {...}

=== fetch-partial-zero-length
rfc: 9051 §9
area: fetch
doc: partial = "<" number64 "." nz-number64 ">": a zero length is a syntax error
dovecot: answers BODY[]<4> "" instead of BAD; RFC 9051 §9 (and RFC 3501 §9 section-partial) make the
dovecot: length an nz-number, so "<4.0>" does not parse and §7.1.3 calls for a tagged BAD.
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 BODY.PEEK[]<4.0>
c1< b BAD {...}
c1< ! * 1 FETCH {...}

=== fetch-bad-item
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 (FLAGS NOSUCHITEM)
c1< b BAD {...}

=== fetch-missing-items
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1
c1< b BAD {...}

=== fetch-bad-section
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 BODY[NOPE]
c1< b BAD {...}

=== fetch-unclosed-list
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 (FLAGS UID
c1< b BAD {...}
c1> c NOOP
c1< c OK {...}

=== fetch-huge-message
rfc: 9051 §6.4.5
area: fetch
doc: a 3 MB message round-trips; a partial fetch deep inside it returns the right bytes
setup: APPEND {$box} {big:3000000}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 (RFC822.SIZE BODY.PEEK[]<2999990.100>)
c1< * 1 FETCH ({...}RFC822.SIZE 3000000{...})
c1< & * 1 FETCH ({...}BODY[]<2999990> "@TAIL@"{...})
c1< b OK {...}
""".replace("@TAIL@", escape_string(__import__("imapcore.conformance.fixtures", fromlist=["big_message"]).big_message(3000000)[-10:]))
