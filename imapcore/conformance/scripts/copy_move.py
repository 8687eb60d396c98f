"""COPY, MOVE, UID COPY, UID MOVE (RFC 9051 §6.4.7, §6.4.8, RFC 6851) with COPYUID (RFC 4315)."""

SCRIPTS = r"""
=== copy-one
rfc: 9051 §6.4.7
area: copy
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b COPY 2 {$box}/dst
c1< b OK {...}
c1> c STATUS {$box}/dst (MESSAGES)
c1< * STATUS {astr:{$box}/dst} (MESSAGES 1)
c1< c OK {...}
c2> d SELECT {$box}/dst
c2< d OK {...}
c2> e FETCH 1 RFC822.SIZE
c2< * 1 FETCH (RFC822.SIZE 243)
c2< e OK {...}

=== copy-keeps-flags
rfc: 9051 §6.4.7
area: copy
doc: "the flags and internal date of the message SHOULD be preserved"; the flags are checked
setup: CREATE {$box}/dst
setup: APPEND {$box} (\Flagged $Work) {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b COPY 1 {$box}/dst
c1< b OK {...}
c1> c EXAMINE {$box}/dst
c1< c OK {...}
c1> d FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:\Flagged $Work}))
c1< d OK {...}

=== copy-keeps-source
rfc: 9051 §6.4.7
area: copy
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b COPY 1 {$box}/dst
c1< ! * 1 EXPUNGE
c1< b OK {...}
c1> c FETCH 1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 291)
c1< c OK {...}

=== copy-nonexistent-trycreate
rfc: 9051 §6.4.7
area: copy
doc: "If the destination mailbox does not exist, a server MUST return an error ... SHOULD use TRYCREATE"
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b COPY 1 {$box}/nowhere
c1< b NO {...}

=== copy-copyuid
rfc: 4315 §3
area: copy
requires: UIDPLUS
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> s EXAMINE {$box}/dst
c1< * OK [UIDVALIDITY {=dstvalidity}]{...}
c1< s OK {...}
c1> a SELECT {$box}
c1< a OK {...}
c1> b UID FETCH 1:* UID
c1< * 1 FETCH (UID {=u1})
c1< * 2 FETCH (UID {=u2})
c1< b OK {...}
c1> c COPY 1:2 {$box}/dst
c1< c OK [COPYUID {$dstvalidity} {$u1}:{$u2} {=dst1}:{=dst2}]{...}
c1> d EXAMINE {$box}/dst
c1< d OK {...}
c1> e UID FETCH {$dst2} RFC822.SIZE
c1< * 2 FETCH ({...}RFC822.SIZE 243{...})
c1< e OK {...}

=== uid-copy
rfc: 9051 §6.4.9
area: copy
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 2 UID
c1< * 2 FETCH (UID {=uid})
c1< b OK {...}
c1> c UID COPY {$uid} {$box}/dst
c1< c OK {...}
c1> d STATUS {$box}/dst (MESSAGES)
c1< * STATUS {astr:{$box}/dst} (MESSAGES 1)
c1< d OK {...}

=== uid-copy-nothing-matches
rfc: 9051 §6.4.9
area: copy
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * OK [UIDNEXT {=next}]{...}
c1< a OK {...}
c1> b UID COPY {$next+3} {$box}/dst
c1< b OK {...}
c1> c STATUS {$box}/dst (MESSAGES)
c1< * STATUS {astr:{$box}/dst} (MESSAGES 0)
c1< c OK {...}

=== copy-to-same-mailbox
rfc: 9051 §6.4.7
area: copy
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b COPY 1 {$box}
c1< b OK {...}
c1> c NOOP
c1< c OK {...}
c1= * 2 EXISTS

=== copy-missing-mailbox-argument
rfc: 9051 §6.4.7
area: copy
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b COPY 1
c1< b BAD {...}

=== move-one
rfc: 6851 §3.1
area: move
requires: MOVE
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b MOVE 1 {$box}/dst
c1< * 1 EXPUNGE
c1< b OK {...}
c1> c FETCH 1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 243)
c1< c OK {...}
c1> d STATUS {$box}/dst (MESSAGES)
c1< * STATUS {astr:{$box}/dst} (MESSAGES 1)
c1< d OK {...}

=== move-copyuid-untagged
rfc: 6851 §4.3
area: move
requires: MOVE UIDPLUS
doc: with UIDPLUS, MOVE sends COPYUID in an untagged OK before the expunges
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b MOVE 1 {$box}/dst
c1< * OK [COPYUID {#} {#} {#}]{...}
c1< * 1 EXPUNGE
c1< b OK {...}

=== move-range
rfc: 6851 §3.1
area: move
requires: MOVE
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b MOVE 2:3 {$box}/dst
c1< * {2|3} EXPUNGE
c1< * 2 EXPUNGE
c1< b OK {...}
c1> c STATUS {$box}/dst (MESSAGES)
c1< * STATUS {astr:{$box}/dst} (MESSAGES 2)
c1< c OK {...}

=== uid-move
rfc: 6851 §3.2
area: move
requires: MOVE
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 2 UID
c1< * 2 FETCH (UID {=uid})
c1< b OK {...}
c1> c UID MOVE {$uid} {$box}/dst
c1< * 2 EXPUNGE
c1< c OK {...}

=== move-nonexistent
rfc: 6851 §3.1
area: move
requires: MOVE
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b MOVE 1 {$box}/nowhere
c1< b NO {...}
c1< ! * 1 EXPUNGE
c1> c FETCH 1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 291)
c1< c OK {...}

=== move-keeps-flags
rfc: 6851 §3.3
area: move
requires: MOVE
setup: CREATE {$box}/dst
setup: APPEND {$box} (\Answered $Moved) {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b MOVE 1 {$box}/dst
c1< b OK {...}
c1> c EXAMINE {$box}/dst
c1< c OK {...}
c1> d FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:\Answered $Moved}))
c1< d OK {...}

=== move-not-selected
rfc: 6851 §3.1
area: move
requires: MOVE
c1> a MOVE 1 INBOX
c1< a {BAD|NO} {...}
"""
