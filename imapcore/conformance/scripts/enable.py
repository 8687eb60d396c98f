"""ENABLE (RFC 5161), IMAP4rev2 behaviour after ENABLE IMAP4rev2 (RFC 9051 §6.3.1, appendix E), and
UTF8=ACCEPT (RFC 6855, RFC 9051 §6.3.1)."""

SCRIPTS = r"""
=== enable-unknown-extension
rfc: 5161 §3.1
area: enable
requires: ENABLE
doc: unknown capabilities are ignored: ENABLED lists only what was enabled
c1> a ENABLE X-NO-SUCH-EXTENSION
c1< ! * ENABLED {...}X-NO-SUCH-EXTENSION{...}
c1< a OK {...}

=== enable-not-authenticated
rfc: 5161 §3.1
area: enable
requires: ENABLE
conn: c1 noauth
dovecot: answers "OK ENABLE ignored in non-authenticated state"; RFC 5161 §3.1: "The ENABLE command is
dovecot: only valid in the authenticated state", so the command must be rejected (BAD or NO).
c1> a ENABLE CONDSTORE
c1< a {BAD|NO} {...}

=== enable-missing-argument
rfc: 5161 §3.1
area: enable
requires: ENABLE
dovecot: answers OK; RFC 5161 §4: enable = "ENABLE" 1*(SP capability), so a bare ENABLE is a syntax
dovecot: error (tagged BAD, RFC 9051 §7.1.3).
c1> a ENABLE
c1< a BAD {...}

=== enable-twice
rfc: 5161 §3.1
area: enable
requires: ENABLE CONDSTORE
doc: enabling an extension twice is fine; the second ENABLED need not list it again
c1> a ENABLE CONDSTORE
c1< * ENABLED CONDSTORE
c1< a OK {...}
c1> b ENABLE CONDSTORE
c1< b OK {...}

=== rev2-enable
rfc: 9051 §6.3.1
area: imap4rev2
requires: IMAP4rev2
c1> a ENABLE IMAP4rev2
c1< * ENABLED IMAP4rev2
c1< a OK {...}

=== rev2-search-answers-esearch
rfc: 9051 §6.4.4
area: imap4rev2
requires: IMAP4rev2
doc: IMAP4rev2 SEARCH answers with ESEARCH, never SEARCH (§7.3.4)
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} (\Seen) {msg:second}
c1> e ENABLE IMAP4rev2
c1< e OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH UNSEEN
c1< * ESEARCH (TAG "b") ALL 1
c1< ! * SEARCH{...}
c1< b OK {...}
c1> c UID SEARCH ALL
c1< * ESEARCH (TAG "c") UID ALL {#}{:|,}{#}
c1< c OK {...}

=== rev2-search-no-match
rfc: 9051 §7.3.4
area: imap4rev2
requires: IMAP4rev2
setup: APPEND {$box} {msg:plain}
c1> e ENABLE IMAP4rev2
c1< e OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH KEYWORD $Never
c1< * ESEARCH (TAG "b")
c1< b OK {...}

=== rev2-no-recent
rfc: 9051 appendix E
area: imap4rev2
requires: IMAP4rev2
doc: IMAP4rev2 removed RECENT and \Recent
setup: APPEND {$box} {msg:plain}
c1> e ENABLE IMAP4rev2
c1< e OK {...}
c1> a SELECT {$box}
c1< * 1 EXISTS
c1< ! * {#} RECENT
c1< a OK {...}
c1> b FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ())
c1< b OK {...}

=== rev2-select-list-response
rfc: 9051 §6.3.2
area: imap4rev2
requires: IMAP4rev2
doc: an IMAP4rev2 SELECT sends FLAGS, EXISTS, and OK codes UIDVALIDITY, UIDNEXT, PERMANENTFLAGS
c1> e ENABLE IMAP4rev2
c1< e OK {...}
c1> a SELECT {$box}
c1< * FLAGS ({...})
c1< * 0 EXISTS
c1< * OK [UIDVALIDITY {#}]{...}
c1< * OK [UIDNEXT {#}]{...}
c1< * OK [PERMANENTFLAGS ({...})]{...}
c1< a OK [READ-WRITE]{...}

=== rev2-list-nonexistent-parent
rfc: 9051 §6.3.9
area: imap4rev2
requires: IMAP4rev2
doc: "%" returns the hierarchy level; a level that is not a mailbox is \Noselect or \NonExistent
setup: CREATE {$box}/ghost/child
c1> e ENABLE IMAP4rev2
c1< e OK {...}
c1> a LIST "" {$box}/%
c1< * LIST ({...}) "/" {astr:{$box}/ghost}
c1< a OK {...}

=== rev2-status-size
rfc: 9051 §6.3.11
area: imap4rev2
requires: IMAP4rev2
setup: APPEND {$box} {msg:tiny}
c1> e ENABLE IMAP4rev2
c1< e OK {...}
c1> a STATUS {$box} (SIZE MESSAGES)
c1< * STATUS {astr:{$box}} ({SIZE 20 MESSAGES 1|MESSAGES 1 SIZE 20})
c1< a OK {...}

=== rev2-unselect-and-move
rfc: 9051 §6.4.8
area: imap4rev2
requires: IMAP4rev2
doc: MOVE and UNSELECT are part of IMAP4rev2
setup: CREATE {$box}/to
setup: APPEND {$box} {msg:tiny}
c1> e ENABLE IMAP4rev2
c1< e OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> b MOVE 1 {$box}/to
c1< * 1 EXPUNGE
c1< b OK {...}
c1> c UNSELECT
c1< c OK {...}

=== utf8-enable
rfc: 6855 §3
area: utf8
requires: UTF8=ACCEPT
c1> a ENABLE UTF8=ACCEPT
c1< * ENABLED UTF8=ACCEPT
c1< a OK {...}

=== utf8-mailbox-name
rfc: 6855 §3
area: utf8
requires: UTF8=ACCEPT
doc: after ENABLE UTF8=ACCEPT mailbox names are UTF-8, not modified UTF-7
c1> e ENABLE UTF8=ACCEPT
c1< e OK {...}
c1> a CREATE "{$box}/café"
c1< a OK {...}
c1> b LIST "" "{$box}/*"
c1< * LIST ({...}) "/" "{$box}/café"
c1< b OK {...}
c2> c LIST "" "{$box}/*"
c2< * LIST ({...}) "/" {astr:{$box}/caf&AOk-}
c2< c OK {...}

=== utf8-quoted-strings-in-fetch
rfc: 6855 §3
area: utf8
requires: UTF8=ACCEPT
setup: APPEND {$box} {msg:encoded}
c1> e ENABLE UTF8=ACCEPT
c1< e OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 BODY.PEEK[TEXT]
c1< * 1 FETCH (BODY[TEXT] "Schöne Grüße.\r\n")
c1< b OK {...}
"""
