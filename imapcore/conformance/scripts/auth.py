"""Not-authenticated state: LOGIN, AUTHENTICATE (PLAIN, LOGIN, SASL-IR), state rules, UNAUTHENTICATE
(RFC 9051 §6.2, RFC 4616, RFC 4959, RFC 8437)."""

SCRIPTS = r"""
=== login-ok
rfc: 9051 §6.2.3
area: login
conn: c1 noauth
c1> a LOGIN {$user} {$password}
c1< a OK {...}
c1> b SELECT INBOX
c1< b OK {...}

=== login-quoted
rfc: 9051 §6.2.3
area: login
conn: c1 noauth
c1> a LOGIN "{$user}" "{$password}"
c1< a OK {...}

=== login-literal
rfc: 9051 §6.2.3
area: login
conn: c1 noauth
doc: user name and password are astrings: a synchronizing literal works (§4.3)
c1> a LOGIN {lit:{$user}} {lit:{$password}}
c1< a OK {...}

=== login-wrong-password
rfc: 9051 §6.2.3
area: login
conn: c1 noauth
c1> a LOGIN {$user} "{$password}-wrong"
c1< a NO {...}
c1> b LOGIN {$user} {$password}
c1< b OK {...}

=== login-unknown-user
rfc: 9051 §6.2.3
area: login
conn: c1 noauth
c1> a LOGIN nosuchuser-conformance secret
c1< a NO {...}

=== login-missing-password
rfc: 9051 §6.2.3
area: login
conn: c1 noauth
c1> a LOGIN {$user}
c1< a BAD {...}

=== login-twice
rfc: 9051 §6.2.3
area: login
doc: LOGIN is only valid in the not-authenticated state
c1> a LOGIN {$user} {$password}
c1< a {BAD|NO} {...}
c1> b NOOP
c1< b OK {...}

=== login-ok-capability-code
rfc: 9051 §6.2.3
area: login
conn: c1 noauth
doc: the tagged OK may carry a CAPABILITY code; if it does not, CAPABILITY still answers
c1> a LOGIN {$user} {$password}
c1< a OK {...}
c1> b CAPABILITY
c1< * CAPABILITY {...}
c1< b OK {...}

=== authenticate-plain-continuation
rfc: 9051 §6.2.2
area: authenticate
requires: AUTH=PLAIN
conn: c1 noauth
c1> a AUTHENTICATE PLAIN
c1< +{...}
c1>+ {$plain}
c1< a OK {...}
c1> b SELECT INBOX
c1< b OK {...}

=== authenticate-plain-initial-response
rfc: 4959 §3
area: authenticate
requires: AUTH=PLAIN SASL-IR
conn: c1 noauth
c1> a AUTHENTICATE PLAIN {$plain}
c1< a OK {...}

=== authenticate-plain-wrong
rfc: 9051 §6.2.2
area: authenticate
requires: AUTH=PLAIN SASL-IR
conn: c1 noauth
c1> a AUTHENTICATE PLAIN {$badplain}
c1< a NO {...}

=== authenticate-cancel
rfc: 9051 §6.2.2
area: authenticate
requires: AUTH=PLAIN
conn: c1 noauth
doc: a line "*" cancels the exchange: the server MUST answer with a tagged BAD
c1> a AUTHENTICATE PLAIN
c1< +{...}
c1>+ *
c1< a BAD {...}
c1> b NOOP
c1< b OK {...}

=== authenticate-bad-base64
rfc: 9051 §6.2.2
area: authenticate
requires: AUTH=PLAIN
conn: c1 noauth
doc: an invalid base64 string MUST be rejected with a tagged BAD
dovecot: answers "NO [ALERT] Invalid base64 in response"; RFC 9051 §6.2.2: "If the server receives
dovecot: such a response, or if it receives an invalid base64 string, it MUST reject the AUTHENTICATE
dovecot: command by sending a tagged BAD response."
c1> a AUTHENTICATE PLAIN
c1< +{...}
c1>+ !!!not-base64!!!
c1< a BAD {...}

=== authenticate-unknown-mechanism
rfc: 9051 §6.2.2
area: authenticate
conn: c1 noauth
c1> a AUTHENTICATE X-NO-SUCH-MECHANISM
c1< a NO {...}

=== authenticate-login-mechanism
rfc: 9051 §6.2.2
area: authenticate
requires: AUTH=LOGIN
conn: c1 noauth
doc: draft-murchison-sasl-login: user name then password, each after a continuation
c1> a AUTHENTICATE LOGIN
c1< +{...}
c1>+ {$user_b64}
c1< +{...}
c1>+ {$password_b64}
c1< a OK {...}

=== authenticate-after-login
rfc: 9051 §6.2.2
area: authenticate
requires: AUTH=PLAIN SASL-IR
c1> a AUTHENTICATE PLAIN {$plain}
c1< a {BAD|NO} {...}

=== not-authenticated-select
rfc: 9051 §6.3.2
area: state
conn: c1 noauth
doc: SELECT is only valid in the authenticated and selected states (§3.2)
c1> a SELECT INBOX
c1< a {BAD|NO} {...}

=== not-authenticated-list
rfc: 9051 §6.3.9
area: state
conn: c1 noauth
c1> a LIST "" "*"
c1< a {BAD|NO} {...}
c1< ! * LIST {...}

=== not-authenticated-create
rfc: 9051 §6.3.4
area: state
conn: c1 noauth
c1> a CREATE {$box}/never
c1< a {BAD|NO} {...}

=== not-authenticated-status
rfc: 9051 §6.3.11
area: state
conn: c1 noauth
c1> a STATUS INBOX (MESSAGES)
c1< a {BAD|NO} {...}
c1< ! * STATUS {...}

=== not-authenticated-append
rfc: 9051 §6.3.12
area: state
conn: c1 noauth
doc: the server may refuse at once or after the literal; either way not OK
c1> a APPEND INBOX {lit+:Subject: x\r\n\r\ny\r\n}
c1< a {BAD|NO} {...}

=== authenticated-fetch-without-select
rfc: 9051 §6.4.5
area: state
doc: FETCH is only valid in the selected state (§3.3)
c1> a FETCH 1 FLAGS
c1< a {BAD|NO} {...}

=== authenticated-store-without-select
rfc: 9051 §6.4.6
area: state
c1> a STORE 1 +FLAGS (\Seen)
c1< a {BAD|NO} {...}

=== authenticated-search-without-select
rfc: 9051 §6.4.4
area: state
c1> a SEARCH ALL
c1< a {BAD|NO} {...}
c1< ! * SEARCH{...}

=== authenticated-expunge-without-select
rfc: 9051 §6.4.3
area: state
c1> a EXPUNGE
c1< a {BAD|NO} {...}

=== authenticated-close-without-select
rfc: 9051 §6.4.1
area: state
c1> a CLOSE
c1< a {BAD|NO} {...}

=== authenticated-copy-without-select
rfc: 9051 §6.4.7
area: state
c1> a COPY 1 INBOX
c1< a {BAD|NO} {...}

=== authenticated-uid-fetch-without-select
rfc: 9051 §6.4.9
area: state
c1> a UID FETCH 1:* FLAGS
c1< a {BAD|NO} {...}

=== starttls-after-login
rfc: 9051 §6.2.1
area: state
doc: STARTTLS is only valid before authentication
c1> a STARTTLS
c1< a {BAD|NO} {...}
c1> b NOOP
c1< b OK {...}

=== unauthenticate-and-login-again
rfc: 8437 §3
area: unauthenticate
requires: UNAUTHENTICATE
c1> a UNAUTHENTICATE
c1< a OK {...}
c1> b SELECT INBOX
c1< b {BAD|NO} {...}
c1> c LOGIN {$user} {$password}
c1< c OK {...}
c1> d SELECT INBOX
c1< d OK {...}

=== unauthenticate-from-selected
rfc: 8437 §3
area: unauthenticate
requires: UNAUTHENTICATE
c1> a SELECT INBOX
c1< a OK {...}
c1> b UNAUTHENTICATE
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< c {BAD|NO} {...}

=== unauthenticate-not-authenticated
rfc: 8437 §3
area: unauthenticate
requires: UNAUTHENTICATE
conn: c1 noauth
c1> a UNAUTHENTICATE
c1< a {BAD|NO} {...}
"""

SCRIPTS += r"""
=== starttls-then-login
rfc: 9051 §6.2.1
area: starttls
requires: STARTTLS
conn: c1 noauth
c1> a STARTTLS
c1< a OK {...}
c1 tls
c1> b CAPABILITY
c1< * CAPABILITY {...}
c1< ! * CAPABILITY {...} STARTTLS{...} ;; RFC 9051 §6.2.1: STARTTLS is only valid once, before TLS
c1< b OK {...}
c1> c LOGIN {$user} {$password}
c1< c OK {...}
c1> d SELECT {$box}
c1< d OK {...}

=== starttls-twice
rfc: 9051 §6.2.1
area: starttls
requires: STARTTLS
conn: c1 noauth
doc: "BAD - STARTTLS received after a successful TLS negotiation"
c1> a STARTTLS
c1< a OK {...}
c1 tls
c1> b STARTTLS
c1< b BAD {...}
c1> c NOOP
c1< c OK {...}

=== starttls-with-argument
rfc: 9051 §6.2.1
area: starttls
requires: STARTTLS
conn: c1 noauth
dovecot: ignores the argument and starts TLS; RFC 9051 §9 command-nonauth: starttls = "STARTTLS" (no
dovecot: argument), so the line is a syntax error and gets a tagged BAD (§7.1.3).
c1> a STARTTLS now
c1< a BAD {...}

=== starttls-then-authenticate
rfc: 9051 §6.2.1
area: starttls
requires: STARTTLS AUTH=PLAIN
conn: c1 noauth
c1> a STARTTLS
c1< a OK {...}
c1 tls
c1> b AUTHENTICATE PLAIN
c1< +{...}
c1>+ {$plain}
c1< b OK {...}
"""
