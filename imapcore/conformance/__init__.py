r"""The conformance harness: scripted IMAP conversations that check a server against the RFCs.

``imapcore conformance --host H --port P --user U --password W`` runs every script of the suite
(``imapcore.conformance.scripts``) against a server and prints a matrix per RFC and area; ``--dovecot``
runs it against a private Debian Dovecot, the independent server every script is first proven on.

Modules: ``reader`` (tolerant response reader, canonical response text), ``pattern`` (what an expected
response looks like), ``script`` (the format below, parsed), ``fixtures`` (messages and literals),
``runner`` (Trio: connections, timeouts, setup/teardown, concurrency), ``report`` (matrix, JUnit, JSON),
``dovecot`` (the private Dovecot), ``cli``.

Running it
==========

The account given with ``--user`` must be a test account: each script works in its own mailbox tree
``ct<run>-<n>`` (created, then deleted and unsubscribed afterwards, whatever the outcome) and never
changes INBOX, but it does select INBOX and reads its capabilities. ``--user2`` names a second account
for the scripts that need one (ACL); without it they are skipped. Scripts run ``--jobs`` at a time, each
with a deadline (``--timeout``, and 10 s per awaited response), so a server that hangs, disconnects or
talks garbage fails that script and the run goes on. The matrix (RFC x area: passed / failed / skipped)
is printed, ``--json`` / ``--junit`` / ``--markdown`` write it for machines, and the last line reads
``N passed, M failed, K skipped``; the exit status is 0 only when nothing failed.

``--dovecot`` validates the suite itself: a private Dovecot with one account pair per concurrent script
(``dovecot``), where every script must pass or carry a ``dovecot:`` note naming the deviation with the
RFC text that shows it; the run prints the documented and undocumented failures (an undocumented one
is a wrong script), and notes on scripts that pass (stale notes). ``MATRIX.md`` beside this file is the
side-by-side matrix for imapcore and Dovecot (``python -m benchmarks.conformance --write ...``).

The script format
=================

Scripts are text, kept in Python modules (``SCRIPTS = r'''...'''``) so they ship in the wheel. Each
script starts with ``=== name``; lines starting with ``#`` are comments. Header lines::

    rfc: 9051 §6.3.1            the section the script checks (checks inherit it)
    area: select                the matrix row (with the RFC number)
    requires: CONDSTORE MOVE    capabilities the server must advertise, or the script is skipped
    conn: c2 user2              how a connection logs in: user (default), user2, noauth (greeting only)
    setup: CREATE {$box}/a      an IMAP command run before the script as the user; it must answer OK
    setup2: ...                 the same as the second user
    dovecot: <text>             a documented Dovecot deviation (the RFC text that shows it): the script
                                may fail on Dovecot, and says why
    exclusive: yes              the script touches shared state (INBOX): it runs alone
    doc: <text>                 what the script is about

Every script has its own root mailbox ``{$box}`` (unique per run), created before the setup lines and
deleted with everything under it (and unsubscribed) afterwards: every mailbox a script creates must
start with ``{$box}``. Variables ``{$user}``, ``{$password}``, ``{$user2}``, ``{$password2}`` are set too, and base64 SASL
strings: ``{$plain}`` / ``{$plain2}`` (PLAIN for each user), ``{$badplain}`` (wrong password),
``{$user_b64}`` / ``{$password_b64}`` (LOGIN mechanism).

Steps, in order, on connections ``c1``, ``c2``, ... (opened and logged in on first use)::

    c1> a SELECT {$box}         send a command; collect responses up to its tagged reply (or a
                                continuation request "+", or "* BYE", or the close of the connection)
    c1< * 0 EXISTS              expected response (unordered, among those the command collected)
    c1< ? * 0 RECENT            optional: checked if present, may bind variables
    c1< ! * {#} EXPUNGE         forbidden: no collected response may match
    c1< & {...}UID 4{...}       the response matched by the check above must match this too
    c1< a OK {...}              the tagged reply is matched like any other response
    c1>> b NOOP                 send without waiting (pipelining); responses go to the next step
    c1>+ DONE                   a continuation line (IDLE's DONE, SASL data) for the command in progress
    c1~ * 2 EXISTS              wait until an untagged response matches (earlier ones stay queued)
    c1= * 2 EXISTS              some response c1 received since its last '=' step matches (for what
                                may arrive with one command or the next: "EXISTS after APPEND or NOOP")
    c1 eof                      the server must close the connection
    c1 close                    the client closes the connection
    c1 tls                      TLS handshake now (after the script's own STARTTLS got its OK)

Expectations before a connection's first command match its greeting (use with ``conn: c1 noauth``).
Responses a connection receives between its steps (another session's changes) belong to its next step.
A check may name its own source: ``c1< * 1 EXPUNGE ;; RFC 9051 §7.5.1``.

Patterns (``pattern``): the whole response must match, case-insensitively; ``{...}`` any text, ``{#}``
a number, ``{=name}`` captures a token into a variable, ``{$name}`` (``{$name+1}``) uses one,
``{OK|NO}`` alternatives, ``{astr:NAME}`` NAME as atom or quoted string, ``{set:1 3}`` a list in any
order, ``{flags:\Seen}`` a flag list in any order where ``\Recent`` may also appear. Responses are compared in canonical form (``reader``): strings — quoted or
literal — always read ``"..."`` with ``\r \n \t \\ \"`` escapes, so ``BODY[TEXT] "x\r\n"``.

Command lines: ``{$name}`` variables, and literal forms: ``{msg:NAME}`` a fixture message as a
synchronizing literal (``{msg+:NAME}`` non-synchronizing, LITERAL+), ``{lit:TEXT}`` / ``{lit+:TEXT}``
with ``\r \n \t \\ \} \xNN`` escapes, ``{lit8:TEXT}`` a ``~{n}`` literal8 (BINARY), ``{big:N}`` a
generated message of exactly N bytes (``{big+:N}`` non-synchronizing). A synchronizing literal waits
for "+" (or a tagged refusal). After a tagged OK to ``COMPRESS DEFLATE`` the connection switches to
DEFLATE both ways (RFC 4978).

A script passes when every required and forbidden check holds and no step fails (timeout, disconnect,
unbound variable). It is skipped when the server lacks a required capability (or ``--user2`` is
missing for a script that needs it).
"""
