"""APPEND (RFC 9051 §6.3.12), with UIDPLUS APPENDUID (RFC 4315), LITERAL+ (RFC 7888), MULTIAPPEND
(RFC 3502), CATENATE (RFC 4469), BINARY literal8 (RFC 3516 §4.4) and UTF8=ACCEPT (RFC 6855 §4)."""

SCRIPTS = r"""
=== append-basic
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box} {msg:plain}
c1< a OK {...}
c1> b SELECT {$box}
c1< * 1 EXISTS
c1< b OK {...}
c1> c FETCH 1 (RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)])
c1< * 1 FETCH ({...}RFC822.SIZE 291{...})
c1< & * 1 FETCH ({...}"Subject: Hello world\r\n\r\n"{...})
c1< c OK {...}

=== append-with-flags
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box} (\Seen \Flagged) {msg:plain}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:\Seen \Flagged}))
c1< c OK {...}

=== append-with-keyword
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box} ($Forwarded Custom1) {msg:plain}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:$Forwarded Custom1}))
c1< c OK {...}

=== append-empty-flag-list
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box} () {msg:tiny}
c1< a OK {...}
c1> b STATUS {$box} (MESSAGES UNSEEN)
c1< * STATUS {astr:{$box}} ({MESSAGES 1 UNSEEN 1|UNSEEN 1 MESSAGES 1})
c1< b OK {...}

=== append-with-date
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box} "05-Jan-2001 13:14:15 +0000" {msg:tiny}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 INTERNALDATE
c1< * 1 FETCH (INTERNALDATE "{ 5|05}-Jan-2001 13:14:15 +0000") ;; RFC 9051 §9 date-day-fixed = (SP DIGIT) / 2DIGIT
c1< c OK {...}
c1> d SEARCH ON 05-Jan-2001
c1< * SEARCH 1
c1< d OK {...}

=== append-flags-and-date
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box} (\Answered) " 5-Jan-2001 13:14:15 +0000" {msg:tiny}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 (FLAGS INTERNALDATE)
c1< * 1 FETCH ({...}FLAGS ({flags:\Answered}){...})
c1< & * 1 FETCH ({...}INTERNALDATE "{ 5|05}-Jan-2001 13:14:15 +0000"{...})
c1< c OK {...}

=== append-bad-date
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box} "2001-01-05 13:14:15" {lit+:Subject: x\r\n\r\ny\r\n}
c1< a BAD {...}

=== append-nonexistent-trycreate
rfc: 9051 §6.3.12
area: append
doc: "If the destination mailbox does not exist, a server MUST return an error, and MUST NOT
doc: automatically create the mailbox"; the TRYCREATE code hints that CREATE may help
c1> a APPEND {$box}/missing {lit+:Subject: x\r\n\r\ny\r\n}
c1< a NO [TRYCREATE]{...}
c1> b LIST "" {$box}/missing
c1< ! * LIST {...}
c1< b OK {...}

=== append-appenduid
rfc: 4315 §3
area: append
requires: UIDPLUS
c1> a APPEND {$box} {msg:plain}
c1< a OK [APPENDUID {=uv} {=uid}]{...}
c1> b SELECT {$box}
c1< * OK [UIDVALIDITY {$uv}]{...}
c1< b OK {...}
c1> c UID FETCH {$uid} RFC822.SIZE
c1< * 1 FETCH ({...}RFC822.SIZE 291{...})
c1< c OK {...}

=== append-appenduid-increases
rfc: 4315 §3
area: append
requires: UIDPLUS
c1> a APPEND {$box} {msg:plain}
c1< a OK [APPENDUID {=uv} {=first}]{...}
c1> b APPEND {$box} {msg:second}
c1< b OK [APPENDUID {$uv} {=second}]{...}
c1> c SELECT {$box}
c1< c OK {...}
c1> d UID FETCH {$second} RFC822.SIZE
c1< * 2 FETCH ({...}RFC822.SIZE 243{...})
c1< d OK {...}

=== append-literal-plus
rfc: 7888 §4
area: append
requires: LITERAL+
doc: a non-synchronizing literal is sent without waiting for a continuation
c1> a APPEND {$box} {msg+:plain}
c1< ! +{...}
c1< a OK {...}
c1> b STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 1)
c1< b OK {...}

=== append-synchronizing-literal-continuation
rfc: 9051 §7.5
area: append
doc: the server sends a command continuation request before the literal's data
c1> a APPEND {$box} {msg:tiny}
c1< +{...}
c1< a OK {...}

=== append-huge-literal
rfc: 9051 §6.3.12
area: append
doc: a 5 MB literal (below any APPENDLIMIT a server advertises is not required; 5 MB is modest)
c1> a APPEND {$box} {big:5000000}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 5000000)
c1< c OK {...}

=== append-to-selected-mailbox-exists
rfc: 9051 §6.3.12
area: append
doc: appending to the selected mailbox: the new message is announced with EXISTS (with the APPEND
doc: or by the next NOOP, §7.4.1)
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * 1 EXISTS
c1< a OK {...}
c1> b APPEND {$box} {msg:second}
c1< b OK {...}
c1> c NOOP
c1< c OK {...}
c1= * 2 EXISTS

=== append-missing-message
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box}
c1< a BAD {...}

=== append-missing-mailbox
rfc: 9051 §6.3.12
area: append
c1> a APPEND
c1< a BAD {...}

=== append-crlf-preserved
rfc: 9051 §6.3.12
area: append
doc: the message comes back byte for byte
c1> a APPEND {$box} {lit:Subject: exact\r\nX-Test: a  b\r\n\r\nline one\r\n\r\nline three\r\n}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 BODY.PEEK[]
c1< * 1 FETCH (BODY[] "Subject: exact\r\nX-Test: a  b\r\n\r\nline one\r\n\r\nline three\r\n")
c1< c OK {...}

=== append-8bit-body
rfc: 9051 §6.3.12
area: append
c1> a APPEND {$box} {msg:encoded}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 BODY.PEEK[TEXT]
c1< * 1 FETCH (BODY[TEXT] "Schöne Grüße.\r\n")
c1< c OK {...}

=== append-multi
rfc: 3502 §3
area: append
requires: MULTIAPPEND
c1> a APPEND {$box} (\Seen) {msg:plain} (\Flagged) {msg:second}
c1< a OK {...}
c1> b SELECT {$box}
c1< * 2 EXISTS
c1< b OK {...}
c1> c FETCH 1:2 FLAGS
c1< * 1 FETCH (FLAGS ({flags:\Seen}))
c1< * 2 FETCH (FLAGS ({flags:\Flagged}))
c1< c OK {...}

=== append-multi-appenduid-range
rfc: 4315 §3
area: append
requires: MULTIAPPEND UIDPLUS
c1> a APPEND {$box} {msg:plain} {msg:second} {msg:third}
c1< a OK [APPENDUID {#} {=first}:{=last}]{...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c UID FETCH {$last} RFC822.SIZE
c1< * 3 FETCH ({...}RFC822.SIZE 391{...})
c1< c OK {...}

=== append-multi-atomic-on-error
rfc: 3502 §3
area: append
requires: MULTIAPPEND
doc: "If the server returns an error for any message, all messages are discarded" (bad date on the 2nd)
c1> a APPEND {$box} {msg+:plain} "not a date" {msg+:second}
c1< a {BAD|NO} {...}
c1> b STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 0)
c1< b OK {...}

=== append-catenate-text
rfc: 4469 §5
area: append
requires: CATENATE
c1> a APPEND {$box} CATENATE (TEXT {lit:Subject: cat\r\n\r\n} TEXT {lit:body\r\n})
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 BODY.PEEK[]
c1< * 1 FETCH (BODY[] "Subject: cat\r\n\r\nbody\r\n")
c1< c OK {...}

=== append-binary-literal8
rfc: 3516 §4.4
area: append
requires: BINARY
doc: APPEND accepts a literal8 with NUL bytes; BINARY[] gives them back
c1> a APPEND {$box} {lit8:Subject: bin\r\nContent-Transfer-Encoding: binary\r\n\r\na\x00b\r\n}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 BINARY.PEEK[1]
c1< * 1 FETCH (BINARY[1] "a\x00b\r\n")
c1< c OK {...}

=== append-utf8-accept
rfc: 6855 §4
area: append
requires: UTF8=ACCEPT
c1> e ENABLE UTF8=ACCEPT
c1< * ENABLED UTF8=ACCEPT
c1< e OK {...}
c1> a APPEND {$box} UTF8 ({lit8:Subject: caf\xc3\xa9\r\n\r\nx\r\n})
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c FETCH 1 BODY.PEEK[HEADER]
c1< * 1 FETCH (BODY[HEADER] "Subject: café\r\n\r\n")
c1< c OK {...}
"""
