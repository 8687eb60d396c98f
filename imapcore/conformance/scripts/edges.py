"""Edge cases across commands: INBOX naming, read-only to read-write, keywords entering FLAGS, UID
reuse after DELETE, sequence sets like "*:*", large non-synchronizing literals, pipelining with
literals, changes to another mailbox that must not show up in the selected one."""

SCRIPTS = r"""
=== list-percent-top-level-has-inbox
rfc: 9051 §6.3.9
area: list
c1> a LIST "" %
c1< * LIST ({...}) {...} INBOX
c1< a OK {...}

=== select-quoted-inbox
rfc: 9051 §5.1
area: select
c1> a SELECT "INBOX"
c1< a OK [READ-WRITE]{...}

=== status-inbox
rfc: 9051 §6.3.11
area: status
c1> a STATUS INBOX (MESSAGES UIDVALIDITY)
c1< * STATUS INBOX ({...})
c1< a OK {...}

=== examine-then-select
rfc: 9051 §6.3.2
area: select
setup: APPEND {$box} {msg:tiny}
c1> a EXAMINE {$box}
c1< a OK [READ-ONLY]{...}
c1> b SELECT {$box}
c1< b OK [READ-WRITE]{...}
c1> c STORE 1 +FLAGS (\Flagged)
c1< * 1 FETCH ({...}FLAGS ({flags:\Flagged}){...})
c1< c OK {...}

=== keyword-enters-flags-list
rfc: 9051 §7.3.5
area: select
doc: FLAGS lists the flags applicable to the mailbox: a keyword set on a message is among them
setup: APPEND {$box} (Orange) {msg:tiny}
c1> a SELECT {$box}
c1< * FLAGS ({...}Orange{...})
c1< a OK {...}

=== delete-create-no-uid-reuse
rfc: 9051 §6.3.5
area: delete
requires: UIDPLUS
doc: a mailbox created again with the same name must not reuse UIDs unless UIDVALIDITY changed:
doc: the second APPENDUID must differ from the first in UIDVALIDITY or UID
setup: CREATE {$box}/again
c1> a APPEND {$box}/again {msg:tiny}
c1< a OK [APPENDUID {=uv1} {=uid1}]{...}
c1> b DELETE {$box}/again
c1< b OK {...}
c1> c CREATE {$box}/again
c1< c OK {...}
c1> d APPEND {$box}/again {msg:tiny}
c1< d OK [APPENDUID {#} {#}]{...}
c1< ! d OK [APPENDUID {$uv1} {$uid1}]{...}

=== sequence-star-to-star
rfc: 9051 §9
area: sequence-sets
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH *:* RFC822.SIZE
c1< * 2 FETCH (RFC822.SIZE 20)
c1< ! * 1 FETCH {...}
c1< b OK {...}

=== sequence-single-range
rfc: 9051 §9
area: sequence-sets
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1:1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 291)
c1< ! * 2 FETCH {...}
c1< b OK {...}

=== uid-store-star-empty-mailbox
rfc: 9051 §6.4.9
area: uid
c1> a SELECT {$box}
c1< a OK {...}
c1> b UID STORE 1:* +FLAGS (\Seen)
c1< ! * {#} FETCH {...}
c1< b OK {...}

=== uid-search-star
rfc: 9051 §6.4.9
area: uid
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 2 UID
c1< * 2 FETCH (UID {=last})
c1< u OK {...}
c1> b UID SEARCH UID *
c1< * SEARCH {$last}
c1< b OK {...}

=== append-large-non-synchronizing
rfc: 7888 §4
area: append
requires: LITERAL+
doc: a 1 MB non-synchronizing literal (LITERAL+ has no size limit; LITERAL- has 4096)
c1> a APPEND {$box} {big+:1000000}
c1< ! +{...}
c1< a OK {...}
c1> b STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 1)
c1< b OK {...}

=== pipelined-append-and-status
rfc: 9051 §5.5
area: append
requires: LITERAL+
doc: commands sent without waiting, one with a non-synchronizing literal, each get their reply
c1>> a APPEND {$box} {msg+:tiny}
c1>> b NOOP
c1> c STATUS {$box} (MESSAGES)
c1< a OK {...}
c1< b OK {...}
c1< * STATUS {astr:{$box}} (MESSAGES 1)
c1< c OK {...}

=== other-mailbox-append-not-in-selected
rfc: 9051 §7.4.1
area: sessions
doc: a message appended to another mailbox does not change the selected mailbox's EXISTS
setup: CREATE {$box}/elsewhere
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c2> b APPEND {$box}/elsewhere {msg:tiny}
c2< b OK {...}
c1> c NOOP
c1< ! * {#} EXISTS
c1< c OK {...}

=== search-not-all
rfc: 9051 §6.4.4
area: search
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH NOT ALL
c1< * SEARCH
c1< b OK {...}

=== search-or-sequence-sets
rfc: 9051 §6.4.4
area: search
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH OR 1 3
c1< * SEARCH {set:1 3}
c1< b OK {...}

=== search-header-present
rfc: 9051 §6.4.4
area: search
doc: HEADER with an empty string matches every message that has the field
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {lit:X-Other: 1\r\n\r\nno subject here\r\n}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH HEADER Subject ""
c1< * SEARCH 1
c1< b OK {...}

=== fetch-partial-header-fields
rfc: 9051 §6.4.5
area: fetch
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 BODY.PEEK[HEADER.FIELDS (FROM)]<0.5>
c1< * 1 FETCH (BODY[HEADER.FIELDS ({...})]<0> "From:")
c1< b OK {...}

=== fetch-uid-after-other-session-expunge-reported
rfc: 9051 §7.5.1
area: sessions
doc: after the EXPUNGE is reported, sequence numbers shift: message 1 is the former message 2
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 2 UID
c1< * 2 FETCH (UID {=uid2})
c1< u OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c EXPUNGE
c2< c OK {...}
c1> d NOOP
c1< * 1 EXPUNGE
c1< d OK {...}
c1> e FETCH 1 UID
c1< * 1 FETCH (UID {$uid2})
c1< e OK {...}

=== close-then-select-again
rfc: 9051 §6.4.1
area: close
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b CLOSE
c1< b OK {...}
c1> c SELECT {$box}
c1< * 1 EXISTS
c1< c OK {...}
"""
