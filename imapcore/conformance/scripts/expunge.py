"""EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, §7.5.1; RFC 4315 UIDPLUS §2.1): which messages go, the
sequence numbers the EXPUNGE responses carry (each one counted after the previous removals)."""

SCRIPTS = r"""
=== expunge-one
rfc: 9051 §6.4.3
area: expunge
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} (\Deleted) {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b EXPUNGE
c1< * 2 EXPUNGE
c1< ! * 1 EXPUNGE
c1< ! * 3 EXPUNGE
c1< b OK {...}
c1> c FETCH 2 RFC822.SIZE
c1< * 2 FETCH (RFC822.SIZE 391)
c1< c OK {...}

=== expunge-adjacent-renumbering
rfc: 9051 §7.5.1
area: expunge
doc: messages 2 and 3 deleted: "2 EXPUNGE" twice, or "3 EXPUNGE" then "2 EXPUNGE" (each number is
doc: counted after the previous removal), never "4 EXPUNGE"
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} (\Deleted) {msg:second}
setup: APPEND {$box} (\Deleted) {msg:third}
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> b EXPUNGE
c1< * 2 EXPUNGE
c1< * {2|3} EXPUNGE
c1< ! * 4 EXPUNGE
c1< b OK {...}
c1> c FETCH 2 RFC822.SIZE
c1< * 2 FETCH (RFC822.SIZE 20)
c1< c OK {...}

=== expunge-all
rfc: 9051 §6.4.3
area: expunge
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} (\Deleted) {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b EXPUNGE
c1< * 1 EXPUNGE
c1< * {1|2} EXPUNGE
c1< b OK {...}
c1> c STATUS {$box} (MESSAGES)
c1< c {OK|NO} {...}
c1> d UNSELECT
c1< d OK {...}
c1> e STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 0)
c1< e OK {...}

=== expunge-nothing-deleted
rfc: 9051 §6.4.3
area: expunge
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b EXPUNGE
c1< ! * {#} EXPUNGE
c1< b OK {...}

=== expunge-empty-mailbox
rfc: 9051 §6.4.3
area: expunge
c1> a SELECT {$box}
c1< a OK {...}
c1> b EXPUNGE
c1< b OK {...}

=== expunge-after-store-deleted
rfc: 9051 §6.4.3
area: expunge
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b STORE 1 +FLAGS.SILENT (\Deleted)
c1< b OK {...}
c1> c EXPUNGE
c1< * 1 EXPUNGE
c1< c OK {...}
c1> d FETCH 1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 243)
c1< d OK {...}

=== expunge-uid-next-not-reused
rfc: 9051 §2.3.1.1
area: expunge
doc: UIDs are strictly ascending and never reused: a message appended after an expunge gets a new UID
setup: APPEND {$box} (\Deleted) {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 UID
c1< * 1 FETCH (UID {=old})
c1< b OK {...}
c1> c EXPUNGE
c1< * 1 EXPUNGE
c1< c OK {...}
c1> d APPEND {$box} {msg:second}
c1< d OK {...}
c1> e NOOP
c1< e OK {...}
c1= * 1 EXISTS
c1> f UID FETCH {$old+1}:* UID
c1< * 1 FETCH (UID {=new})
c1< ! * 1 FETCH (UID {$old})
c1< f OK {...}

=== uid-expunge-only-listed
rfc: 4315 §2.1
area: expunge
requires: UIDPLUS
doc: UID EXPUNGE removes only \Deleted messages whose UID is in the set
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} (\Deleted) {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 2 UID
c1< * 2 FETCH (UID {=uid2})
c1< b OK {...}
c1> c UID EXPUNGE {$uid2}
c1< * 2 EXPUNGE
c1< ! * 1 EXPUNGE
c1< c OK {...}
c1> d FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:\Deleted}))
c1< d OK {...}

=== uid-expunge-not-deleted
rfc: 4315 §2.1
area: expunge
requires: UIDPLUS
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b UID EXPUNGE 1:*
c1< ! * {#} EXPUNGE
c1< b OK {...}

=== uid-expunge-missing-set
rfc: 4315 §2.1
area: expunge
requires: UIDPLUS
c1> a SELECT {$box}
c1< a OK {...}
c1> b UID EXPUNGE
c1< b BAD {...}

=== expunge-extra-argument
rfc: 9051 §6.4.3
area: expunge
dovecot: ignores the argument and expunges; RFC 9051 §9 expunge = "EXPUNGE" (no argument; UID EXPUNGE
dovecot: takes the set), so this is a syntax error, tagged BAD per §7.1.3.
c1> a SELECT {$box}
c1< a OK {...}
c1> b EXPUNGE 1
c1< b BAD {...}
"""
