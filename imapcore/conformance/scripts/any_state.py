"""Any-state commands (RFC 9051 §6.1: CAPABILITY, NOOP, LOGOUT), the greeting (§7.1), ID (RFC 2971)
and command-line syntax errors (§7.1.3)."""

SCRIPTS = r"""
=== greeting-ok
rfc: 9051 §7.1.1
area: greeting
conn: c1 noauth
doc: the server greets with an untagged OK (or PREAUTH, never on a plain test account)
c1< * OK {...}
c1> a NOOP
c1< a OK {...}

=== capability-not-authenticated
rfc: 9051 §6.1.1
area: capability
conn: c1 noauth
doc: CAPABILITY works before login and lists IMAP4rev1 or IMAP4rev2
c1> a CAPABILITY
c1< * CAPABILITY {...}IMAP4rev{1|2}{...}
c1< a OK {...}

=== capability-authenticated
rfc: 9051 §6.1.1
area: capability
c1> a CAPABILITY
c1< * CAPABILITY {...}IMAP4rev{1|2}{...}
c1< ! * CAPABILITY {...} LOGINDISABLED{...} ;; RFC 9051 §6.2: LOGINDISABLED only before login
c1< a OK {...}

=== capability-selected
rfc: 9051 §6.1.1
area: capability
c1> a SELECT INBOX
c1< a OK {...}
c1> b CAPABILITY
c1< * CAPABILITY {...}
c1< b OK {...}

=== capability-extra-argument
rfc: 9051 §6.1.1
area: capability
doc: CAPABILITY takes no arguments: a syntax error is BAD (§7.1.3)
dovecot: ignores trailing arguments and answers OK; RFC 9051 §9 command-any = "CAPABILITY" / "LOGOUT" /
dovecot: "NOOP" / x-command / id, and §7.1.3 makes a tagged BAD the answer to a protocol-level error.
c1> a CAPABILITY NOW
c1< a BAD {...}
c1> b NOOP
c1< b OK {...}

=== noop-not-authenticated
rfc: 9051 §6.1.2
area: noop
conn: c1 noauth
c1> a NOOP
c1< a OK {...}

=== noop-authenticated
rfc: 9051 §6.1.2
area: noop
c1> a NOOP
c1< a OK {...}

=== noop-selected-empty
rfc: 9051 §6.1.2
area: noop
c1> a SELECT {$box}
c1< a OK {...}
c1> b NOOP
c1< ! * {#} EXISTS
c1< ! * {#} EXPUNGE
c1< b OK {...}

=== noop-extra-argument
rfc: 9051 §6.1.2
area: noop
dovecot: ignores the argument and answers OK; RFC 9051 §9 command-any has no argument for NOOP and
dovecot: §7.1.3 makes a tagged BAD the answer to a protocol-level error.
c1> a NOOP please
c1< a BAD {...}

=== logout-not-authenticated
rfc: 9051 §6.1.3
area: logout
conn: c1 noauth
c1> a LOGOUT
c1< * BYE {...}
c1< a OK {...}
c1 eof

=== logout-authenticated
rfc: 9051 §6.1.3
area: logout
c1> a LOGOUT
c1< * BYE {...}
c1< a OK {...}
c1 eof

=== logout-selected
rfc: 9051 §6.1.3
area: logout
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b LOGOUT
c1< * BYE {...}
c1< b OK {...}
c1 eof

=== logout-extra-argument
rfc: 9051 §6.1.3
area: logout
dovecot: logs out on "LOGOUT now"; RFC 9051 §9 command-any has no argument for LOGOUT, so the command
dovecot: is a syntax error (§7.1.3: tagged BAD) and the session must go on.
c1> a LOGOUT now
c1< a BAD {...}
c1> b NOOP
c1< b OK {...}

=== unknown-command
rfc: 9051 §7.1.3
area: syntax
c1> a FROBNICATE
c1< a BAD {...}
c1> b NOOP
c1< b OK {...}

=== unknown-command-not-authenticated
rfc: 9051 §7.1.3
area: syntax
conn: c1 noauth
c1> a FROBNICATE x y
c1< a BAD {...}

=== command-without-name
rfc: 9051 §7.1.3
area: syntax
c1> a
c1< a BAD {...}
c1> b NOOP
c1< b OK {...}

=== tag-with-dots-and-digits
rfc: 9051 §9
area: syntax
doc: a tag is any ASTRING-CHAR except "+" (tag in the formal syntax)
c1> A.1-x_9 NOOP
c1< A.1-x_9 OK {...}

=== lowercase-command-name
rfc: 9051 §9
area: syntax
doc: command names are case-insensitive (§9: "case-insensitive")
c1> a noop
c1< a OK {...}
c1> b CaPaBiLiTy
c1< * CAPABILITY {...}
c1< b OK {...}

=== pipelined-noops
rfc: 9051 §5.5
area: syntax
doc: a client may send several commands without waiting; each gets its tagged reply
c1>> a NOOP
c1>> b NOOP
c1> c NOOP
c1< a OK {...}
c1< b OK {...}
c1< c OK {...}

=== id-nil
rfc: 2971 §3.1
area: id
requires: ID
c1> a ID NIL
c1< * ID {...}
c1< a OK {...}

=== id-with-fields
rfc: 2971 §3.1
area: id
requires: ID
c1> a ID ("name" "conformance" "version" "1.0")
c1< * ID {...}
c1< a OK {...}

=== id-not-authenticated
rfc: 2971 §3.1
area: id
requires: ID
conn: c1 noauth
doc: ID is valid in any state
c1> a ID NIL
c1< * ID {...}
c1< a OK {...}

=== id-bad-argument
rfc: 2971 §4
area: id
requires: ID
doc: the argument is a parenthesised list or NIL
dovecot: accepts "ID name"; RFC 2971 §4: id ::= "ID" SPACE id_params_list, id_params_list ::= "(" ...
dovecot: ")" / nil, so an atom there is a syntax error (BAD).
c1> a ID name
c1< a BAD {...}
"""
