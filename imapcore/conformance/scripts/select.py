"""Selecting mailboxes and the selected-state housekeeping commands: SELECT, EXAMINE, CLOSE, UNSELECT,
CHECK, and STATUS (RFC 9051 §6.3.2, §6.3.3, §6.3.11, §6.4.1, §6.4.2; RFC 3501 §6.4.1 CHECK;
RFC 3691 UNSELECT; RFC 8438 STATUS=SIZE)."""

from ..fixtures import MESSAGES

_SIZE = len(MESSAGES["plain"]) + len(MESSAGES["second"])

SCRIPTS = r"""
=== select-empty
rfc: 9051 §6.3.2
area: select
c1> a SELECT {$box}
c1< * 0 EXISTS
c1< * FLAGS ({...})
c1< * OK [UIDVALIDITY {#}]{...}
c1< * OK [UIDNEXT {#}]{...}
c1< a OK [READ-WRITE]{...}

=== select-three-messages
rfc: 9051 §6.3.2
area: select
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} (\Seen) {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< * 3 EXISTS
c1< * FLAGS ({...}\Seen{...})
c1< * OK [PERMANENTFLAGS ({...})]{...}
c1< * OK [UIDVALIDITY {=uidvalidity}]{...}
c1< * OK [UIDNEXT {=uidnext}]{...}
c1< a OK [READ-WRITE]{...}
c1> b UID FETCH 1:* UID
c1< * 3 FETCH (UID {$uidnext-1})
c1< b OK {...}

=== select-uidvalidity-stable
rfc: 9051 §2.3.1.1
area: select
doc: UIDVALIDITY does not change between sessions while the mailbox exists
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * OK [UIDVALIDITY {=uv}]{...}
c1< a OK {...}
c2> b EXAMINE {$box}
c2< * OK [UIDVALIDITY {$uv}]{...}
c2< b OK {...}

=== select-inbox-any-case
rfc: 9051 §5.1
area: select
c1> a SELECT inbox
c1< * {#} EXISTS
c1< a OK {...}

=== select-nonexistent
rfc: 9051 §6.3.2
area: select
c1> a SELECT {$box}/missing
c1< a NO {...}
c1< ! * {#} EXISTS

=== select-failure-leaves-selected-state
rfc: 9051 §6.3.2
area: select
doc: "If the client is not permitted to modify the mailbox ... a failed SELECT ... returns to the
doc: authenticated state": after a failed SELECT no mailbox is selected
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SELECT {$box}/missing
c1< b NO {...}
c1> c FETCH 1 FLAGS
c1< c {BAD|NO} {...}
c1< ! * 1 FETCH {...}

=== select-missing-argument
rfc: 9051 §6.3.2
area: select
c1> a SELECT
c1< a BAD {...}

=== select-twice-switches
rfc: 9051 §6.3.2
area: select
doc: a second SELECT deselects the first mailbox and selects the second
setup: CREATE {$box}/two
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box}/two {msg:plain}
setup: APPEND {$box}/two {msg:second}
c1> a SELECT {$box}
c1< * 1 EXISTS
c1< a OK {...}
c1> b SELECT {$box}/two
c1< * 2 EXISTS
c1< b OK {...}
c1> c FETCH 2 UID
c1< * 2 FETCH (UID {#})
c1< c OK {...}

=== examine-read-only
rfc: 9051 §6.3.3
area: examine
setup: APPEND {$box} {msg:plain}
c1> a EXAMINE {$box}
c1< * 1 EXISTS
c1< * OK [UIDVALIDITY {#}]{...}
c1< a OK [READ-ONLY]{...}

=== examine-store-refused
rfc: 9051 §6.3.3
area: examine
doc: no changes to the mailbox are permitted after EXAMINE
setup: APPEND {$box} {msg:plain}
c1> a EXAMINE {$box}
c1< a OK [READ-ONLY]{...}
c1> b STORE 1 +FLAGS (\Flagged)
c1< b {OK|NO} {...}
c1< ! * 1 FETCH {...}\Flagged{...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:}))
c1< c OK {...}

=== examine-fetch-body-does-not-set-seen
rfc: 9051 §6.3.3
area: examine
doc: read-only: BODY[] does not set \Seen (§6.4.5 "\Seen ... set" only when permitted)
setup: APPEND {$box} {msg:tiny}
c1> a EXAMINE {$box}
c1< a OK {...}
c1> b FETCH 1 BODY[]
c1< * 1 FETCH (BODY[] "Subject: tiny\r\n\r\nx\r\n")
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:}))
c1< c OK {...}

=== examine-expunge-refused
rfc: 9051 §6.4.3
area: examine
setup: APPEND {$box} (\Deleted) {msg:plain}
c1> a EXAMINE {$box}
c1< a OK {...}
c1> b EXPUNGE
c1< b {OK|NO} {...}
c1< ! * 1 EXPUNGE
c1> c STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 1)
c1< c OK {...}

=== examine-nonexistent
rfc: 9051 §6.3.3
area: examine
c1> a EXAMINE {$box}/none
c1< a NO {...}

=== close-expunges-silently
rfc: 9051 §6.4.1
area: close
doc: CLOSE removes \Deleted messages and sends no EXPUNGE responses
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b CLOSE
c1< ! * {#} EXPUNGE
c1< b OK {...}
c1> c STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 1)
c1< c OK {...}

=== close-returns-to-authenticated
rfc: 9051 §6.4.1
area: close
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b CLOSE
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< c {BAD|NO} {...}

=== close-after-examine-keeps-deleted
rfc: 9051 §6.4.1
area: close
doc: "No messages are removed ... if the mailbox is selected by EXAMINE or is otherwise selected read-only"
setup: APPEND {$box} (\Deleted) {msg:plain}
c1> a EXAMINE {$box}
c1< a OK {...}
c1> b CLOSE
c1< b OK {...}
c1> c STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 1)
c1< c OK {...}

=== unselect-keeps-deleted
rfc: 3691 §2
area: unselect
requires: UNSELECT
setup: APPEND {$box} (\Deleted) {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b UNSELECT
c1< ! * {#} EXPUNGE
c1< b OK {...}
c1> c STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 1)
c1< c OK {...}

=== unselect-not-selected
rfc: 3691 §2
area: unselect
requires: UNSELECT
c1> a UNSELECT
c1< a {BAD|NO} {...}

=== unselect-returns-to-authenticated
rfc: 3691 §2
area: unselect
requires: UNSELECT
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b UNSELECT
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< c {BAD|NO} {...}

=== check-selected
rfc: 3501 §6.4.1
area: check
requires: IMAP4rev1
c1> a SELECT {$box}
c1< a OK {...}
c1> b CHECK
c1< b OK {...}

=== status-messages-unseen
rfc: 9051 §6.3.11
area: status
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} (\Seen) {msg:second}
setup: APPEND {$box} {msg:third}
c1> a STATUS {$box} (MESSAGES UNSEEN)
c1< * STATUS {astr:{$box}} ({MESSAGES 3 UNSEEN 2|UNSEEN 2 MESSAGES 3})
c1< a OK {...}

=== status-uidnext-uidvalidity
rfc: 9051 §6.3.11
area: status
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * OK [UIDVALIDITY {=uv}]{...}
c1< * OK [UIDNEXT {=next}]{...}
c1< a OK {...}
c2> b STATUS {$box} (UIDNEXT UIDVALIDITY)
c2< * STATUS {astr:{$box}} ({UIDNEXT {$next} UIDVALIDITY {$uv}|UIDVALIDITY {$uv} UIDNEXT {$next}})
c2< b OK {...}

=== status-empty-mailbox
rfc: 9051 §6.3.11
area: status
c1> a STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 0)
c1< a OK {...}

=== status-after-append-counts
rfc: 9051 §6.3.11
area: status
c1> a APPEND {$box} {msg:plain}
c1< a OK {...}
c1> b APPEND {$box} {msg:second}
c1< b OK {...}
c1> c STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 2)
c1< c OK {...}

=== status-nonexistent
rfc: 9051 §6.3.11
area: status
c1> a STATUS {$box}/nope (MESSAGES)
c1< a NO {...}
c1< ! * STATUS {...}

=== status-bad-item
rfc: 9051 §6.3.11
area: status
c1> a STATUS {$box} (FROBS)
c1< a BAD {...}

=== status-missing-list
rfc: 9051 §6.3.11
area: status
c1> a STATUS {$box}
c1< a BAD {...}

=== status-size
rfc: 8438 §3
area: status
requires: STATUS=SIZE
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a STATUS {$box} (SIZE)
c1< * STATUS {astr:{$box}} (SIZE @SIZE@)
c1< a OK {...}

=== status-deleted-rev2
rfc: 9051 §6.3.11
area: status
requires: IMAP4rev2
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> e ENABLE IMAP4rev2
c1< e OK {...}
c1> a STATUS {$box} (DELETED MESSAGES)
c1< * STATUS {astr:{$box}} ({DELETED 1 MESSAGES 2|MESSAGES 2 DELETED 1})
c1< a OK {...}

=== status-highestmodseq
rfc: 7162 §3.1.6
area: condstore
requires: CONDSTORE
setup: APPEND {$box} {msg:plain}
c1> a STATUS {$box} (HIGHESTMODSEQ)
c1< * STATUS {astr:{$box}} (HIGHESTMODSEQ {#})
c1< a OK {...}

=== status-unseen-changes-after-store
rfc: 9051 §6.3.11
area: status
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b STORE 1 +FLAGS.SILENT (\Seen)
c1< b OK {...}
c2> c STATUS {$box} (UNSEEN)
c2< * STATUS {astr:{$box}} (UNSEEN 1)
c2< c OK {...}
""".replace("@SIZE@", str(_SIZE))
