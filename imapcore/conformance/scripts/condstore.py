"""CONDSTORE and QRESYNC (RFC 7162): MODSEQ, HIGHESTMODSEQ, CHANGEDSINCE, UNCHANGEDSINCE/MODIFIED, the
MODSEQ search key, ENABLE QRESYNC, SELECT (QRESYNC ...), VANISHED, CLOSED."""

_TWO = """setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
"""

SCRIPTS = (r"""
=== condstore-select-highestmodseq
rfc: 7162 §3.1.2.1
area: condstore
requires: CONDSTORE
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box} (CONDSTORE)
c1< * OK [HIGHESTMODSEQ {#}]{...}
c1< * 1 EXISTS
c1< a OK [READ-WRITE]{...}

=== condstore-enable
rfc: 7162 §3.1
area: condstore
requires: CONDSTORE ENABLE
c1> a ENABLE CONDSTORE
c1< * ENABLED CONDSTORE
c1< a OK {...}
c1> b SELECT {$box}
c1< * OK [HIGHESTMODSEQ {#}]{...}
c1< b OK {...}

=== condstore-fetch-modseq
rfc: 7162 §3.1.4.1
area: condstore
requires: CONDSTORE
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box} (CONDSTORE)
c1< a OK {...}
c1> b FETCH 1 (MODSEQ)
c1< * 1 FETCH (MODSEQ ({#}))
c1< b OK {...}

=== condstore-store-includes-modseq
rfc: 7162 §3.1.3
area: condstore
requires: CONDSTORE
doc: after CONDSTORE is enabled, FETCH responses caused by STORE carry MODSEQ
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box} (CONDSTORE)
c1< a OK {...}
c1> b STORE 1 +FLAGS (\Seen)
c1< * 1 FETCH ({...}MODSEQ ({#}){...})
c1< & * 1 FETCH ({...}FLAGS ({flags:\Seen}){...})
c1< b OK {...}

=== condstore-changedsince
rfc: 7162 §3.1.4.1
area: condstore
requires: CONDSTORE
doc: FETCH (CHANGEDSINCE m) returns only messages whose mod-sequence is greater than m
""" + _TWO + r"""c1> a SELECT {$box} (CONDSTORE)
c1< * OK [HIGHESTMODSEQ {=hms}]{...}
c1< a OK {...}
c1> b STORE 2 +FLAGS.SILENT (\Flagged)
c1< b OK {...}
c1> c FETCH 1:* (FLAGS) (CHANGEDSINCE {$hms})
c1< * 2 FETCH ({...}MODSEQ ({#}){...})
c1< ! * 1 FETCH {...}
c1< c OK {...}

=== condstore-changedsince-enables
rfc: 7162 §3.1
area: condstore
requires: CONDSTORE
doc: a FETCH with CHANGEDSINCE is a CONDSTORE-enabling command: MODSEQ appears in its responses
""" + _TWO + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1:* (FLAGS) (CHANGEDSINCE 1)
c1< * 1 FETCH ({...}MODSEQ ({#}){...})
c1< * 2 FETCH ({...}MODSEQ ({#}){...})
c1< b OK {...}

=== condstore-unchangedsince-ok
rfc: 7162 §3.1.3
area: condstore
requires: CONDSTORE
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box} (CONDSTORE)
c1< a OK {...}
c1> b FETCH 1 (MODSEQ)
c1< * 1 FETCH (MODSEQ ({=m1}))
c1< b OK {...}
c1> c STORE 1 (UNCHANGEDSINCE {$m1}) +FLAGS (\Seen)
c1< * 1 FETCH ({...}FLAGS ({flags:\Seen}){...})
c1< c OK {...}
c1< ! c OK [MODIFIED{...}

=== condstore-unchangedsince-modified
rfc: 7162 §3.1.3
area: condstore
requires: CONDSTORE
doc: a message changed since the given mod-sequence is not stored and is listed in MODIFIED
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box} (CONDSTORE)
c1< a OK {...}
c1> b FETCH 1 (MODSEQ)
c1< * 1 FETCH (MODSEQ ({=m1}))
c1< b OK {...}
c2> c SELECT {$box}
c2< c OK {...}
c2> d STORE 1 +FLAGS (\Answered)
c2< d OK {...}
c1> e STORE 1 (UNCHANGEDSINCE {$m1}) +FLAGS (\Seen)
c1< e OK [MODIFIED 1]{...}
c1> f FETCH 1 FLAGS
c1< * 1 FETCH ({...}FLAGS ({flags:\Answered}){...})
c1< f OK {...}

=== condstore-unchangedsince-zero
rfc: 7162 §3.1.3
area: condstore
requires: CONDSTORE
doc: "Use of UNCHANGEDSINCE with a modification sequence of 0 always fails if the metadata item exists"
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box} (CONDSTORE)
c1< a OK {...}
c1> b STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\Seen)
c1< b OK [MODIFIED 1]{...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH ({...}FLAGS ({flags:}){...})
c1< c OK {...}

=== condstore-search-modseq
rfc: 7162 §3.1.5
area: condstore
requires: CONDSTORE
doc: SEARCH MODSEQ returns the messages changed at or after the mod-sequence, with the highest one
""" + _TWO + r"""c1> a SELECT {$box} (CONDSTORE)
c1< * OK [HIGHESTMODSEQ {=hms}]{...}
c1< a OK {...}
c1> b STORE 1 +FLAGS.SILENT (\Seen)
c1< b OK {...}
c1> c SEARCH MODSEQ {$hms+1}
c1< * SEARCH 1 (MODSEQ {#})
c1< c OK {...}

=== condstore-other-session-modseq
rfc: 7162 §3.1.4.1
area: condstore
requires: CONDSTORE
doc: a CONDSTORE-enabled session gets MODSEQ with flag changes made elsewhere
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box} (CONDSTORE)
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c STORE 1 +FLAGS.SILENT (\Flagged)
c2< c OK {...}
c1> d NOOP
c1< * 1 FETCH ({...}MODSEQ ({#}){...})
c1< & * 1 FETCH ({...}FLAGS ({flags:\Flagged}){...})
c1< d OK {...}

=== condstore-status-highestmodseq-grows
rfc: 7162 §3.1.6
area: condstore
requires: CONDSTORE
setup: APPEND {$box} {msg:plain}
c1> a STATUS {$box} (HIGHESTMODSEQ)
c1< * STATUS {astr:{$box}} (HIGHESTMODSEQ {=before})
c1< a OK {...}
c2> b SELECT {$box} (CONDSTORE)
c2< b OK {...}
c2> c STORE 1 +FLAGS.SILENT (\Deleted)
c2< c OK {...}
c2> d SEARCH MODSEQ {$before+1}
c2< * SEARCH 1 (MODSEQ {#})
c2< d OK {...}

=== condstore-uid-fetch-changedsince
rfc: 7162 §3.1.4.1
area: condstore
requires: CONDSTORE
""" + _TWO + r"""c1> a SELECT {$box} (CONDSTORE)
c1< * OK [HIGHESTMODSEQ {=hms}]{...}
c1< a OK {...}
c1> b STORE 1 +FLAGS.SILENT (\Seen)
c1< b OK {...}
c1> c UID FETCH 1:* (FLAGS) (CHANGEDSINCE {$hms})
c1< * 1 FETCH ({...}UID {#}{...})
c1< & * 1 FETCH ({...}MODSEQ ({#}){...})
c1< ! * 2 FETCH {...}
c1< c OK {...}

=== condstore-bad-select-parameter
rfc: 7162 §3.1.2
area: condstore
requires: CONDSTORE
c1> a SELECT {$box} (NOSUCHPARAM)
c1< a BAD {...}

=== qresync-enable
rfc: 7162 §3.2.3
area: qresync
requires: QRESYNC ENABLE
c1> a ENABLE QRESYNC
c1< * ENABLED {...}QRESYNC{...}
c1< a OK {...}

=== qresync-select-without-enable
rfc: 7162 §3.2.5
area: qresync
requires: QRESYNC
doc: "A server MUST respond with a tagged BAD response if the Quick Resynchronization parameter to
doc: SELECT/EXAMINE command is specified and the client hasn't issued ENABLE QRESYNC"
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box} (QRESYNC (1 1))
c1< a BAD {...}

=== qresync-select-reports-vanished
rfc: 7162 §3.2.5
area: qresync
requires: QRESYNC ENABLE
""" + _TWO + r"""c1> e ENABLE QRESYNC
c1< e OK {...}
c1> a SELECT {$box}
c1< * OK [UIDVALIDITY {=uv}]{...}
c1< * OK [HIGHESTMODSEQ {=hms}]{...}
c1< a OK {...}
c1> u FETCH 1 UID
c1< * 1 FETCH (UID {=uid1})
c1< u OK {...}
c1> b STORE 1 +FLAGS.SILENT (\Deleted)
c1< b OK {...}
c1> c CLOSE
c1< c OK {...}
c1> d SELECT {$box} (QRESYNC ({$uv} {$hms}))
c1< * VANISHED (EARLIER) {$uid1}
c1< * 1 EXISTS
c1< d OK {...}

=== qresync-select-reports-flag-changes
rfc: 7162 §3.2.5
area: qresync
requires: QRESYNC ENABLE
""" + _TWO + r"""c1> e ENABLE QRESYNC
c1< e OK {...}
c1> a SELECT {$box}
c1< * OK [UIDVALIDITY {=uv}]{...}
c1< * OK [HIGHESTMODSEQ {=hms}]{...}
c1< a OK {...}
c1> b STORE 2 +FLAGS.SILENT (\Answered)
c1< b OK {...}
c1> c UNSELECT
c1< c OK {...}
c1> d SELECT {$box} (QRESYNC ({$uv} {$hms}))
c1< * 2 FETCH ({...}FLAGS ({flags:\Answered}){...})
c1< & * 2 FETCH ({...}UID {#}{...})
c1< ! * 1 FETCH {...}
c1< d OK {...}

=== qresync-expunge-sends-vanished
rfc: 7162 §3.2.10
area: qresync
requires: QRESYNC ENABLE
doc: once QRESYNC is enabled, expunges are reported with VANISHED, not EXPUNGE
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> e ENABLE QRESYNC
c1< e OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 1 UID
c1< * 1 FETCH (UID {=uid1})
c1< u OK {...}
c1> b EXPUNGE
c1< * VANISHED {$uid1}
c1< ! * 1 EXPUNGE
c1< b OK {...}

=== qresync-other-session-vanished
rfc: 7162 §3.2.10
area: qresync
requires: QRESYNC ENABLE
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> e ENABLE QRESYNC
c1< e OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 1 UID
c1< * 1 FETCH (UID {=uid1})
c1< u OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c EXPUNGE
c2< c OK {...}
c1> d NOOP
c1< * VANISHED {$uid1}
c1< d OK {...}

=== qresync-uid-fetch-vanished
rfc: 7162 §3.2.6
area: qresync
requires: QRESYNC ENABLE
doc: UID FETCH (CHANGEDSINCE m VANISHED) reports UIDs expunged since m as VANISHED (EARLIER)
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> e ENABLE QRESYNC
c1< e OK {...}
c1> a SELECT {$box}
c1< * OK [HIGHESTMODSEQ {=hms}]{...}
c1< a OK {...}
c1> u FETCH 1 UID
c1< * 1 FETCH (UID {=uid1})
c1< u OK {...}
c1> b EXPUNGE
c1< b OK {...}
c1> c UID FETCH 1:* (FLAGS) (CHANGEDSINCE {$hms} VANISHED)
c1< * VANISHED (EARLIER) {$uid1}
c1< c OK {...}

=== qresync-closed-on-reselect
rfc: 7162 §3.2.11
area: qresync
requires: QRESYNC ENABLE
doc: selecting another mailbox while one is selected sends OK [CLOSED] first
setup: CREATE {$box}/other
c1> e ENABLE QRESYNC
c1< e OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SELECT {$box}/other
c1< * OK [CLOSED]{...}
c1< b OK {...}

=== qresync-wrong-uidvalidity
rfc: 7162 §3.2.5
area: qresync
requires: QRESYNC ENABLE
doc: a UIDVALIDITY that does not match: a plain SELECT, no VANISHED
setup: APPEND {$box} {msg:plain}
c1> e ENABLE QRESYNC
c1< e OK {...}
c1> a SELECT {$box} (QRESYNC (1 1))
c1< * 1 EXISTS
c1< ! * VANISHED{...}
c1< a OK {...}

=== qresync-vanished-without-changedsince
rfc: 7162 §3.2.6
area: qresync
requires: QRESYNC ENABLE
doc: VANISHED without CHANGEDSINCE is a syntax error (BAD)
setup: APPEND {$box} {msg:plain}
c1> e ENABLE QRESYNC
c1< e OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> b UID FETCH 1:* (FLAGS) (VANISHED)
c1< b BAD {...}
""")
