"""Two sessions on one mailbox: every kind of change one session makes must reach the other
(RFC 9051 §5.2 mailbox size and state updates, §7.4.1 EXISTS, §7.5.1 EXPUNGE, §7.5.2 FETCH FLAGS,
RFC 2177 / RFC 9051 §6.3.13 IDLE), and the rule that EXPUNGE is never sent during FETCH, STORE or SEARCH
(§7.5.1)."""

SCRIPTS = r"""
=== other-session-append-exists
rfc: 9051 §7.4.1
area: sessions
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * 1 EXISTS
c1< a OK {...}
c2> b APPEND {$box} {msg:second}
c2< b OK {...}
c1> c NOOP
c1< * 2 EXISTS
c1< c OK {...}
c1> d FETCH 2 RFC822.SIZE
c1< * 2 FETCH (RFC822.SIZE 243)
c1< d OK {...}

=== other-session-flag-change
rfc: 9051 §7.5.2
area: sessions
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c STORE 1 +FLAGS (\Flagged)
c2< c OK {...}
c1> d NOOP
c1< * 1 FETCH ({...}FLAGS ({flags:\Flagged}){...})
c1< d OK {...}

=== other-session-flag-removal
rfc: 9051 §7.5.2
area: sessions
setup: APPEND {$box} (\Seen \Flagged) {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c STORE 1 -FLAGS.SILENT (\Flagged)
c2< c OK {...}
c1> d NOOP
c1< * 1 FETCH ({...}FLAGS ({flags:\Seen}){...})
c1< d OK {...}

=== other-session-keyword
rfc: 9051 §7.5.2
area: sessions
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c STORE 1 +FLAGS.SILENT (Shared1)
c2< c OK {...}
c1> d NOOP
c1< * 1 FETCH ({...}FLAGS ({flags:Shared1}){...})
c1< d OK {...}

=== other-session-expunge
rfc: 9051 §7.5.1
area: sessions
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} (\Deleted) {msg:second}
c1> a SELECT {$box}
c1< * 2 EXISTS
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c EXPUNGE
c2< * 2 EXPUNGE
c2< c OK {...}
c1> d NOOP
c1< * 2 EXPUNGE
c1< d OK {...}
c1> e FETCH 1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 291)
c1< e OK {...}

=== other-session-expunge-not-during-fetch
rfc: 9051 §7.5.1
area: sessions
doc: "An EXPUNGE response MUST NOT be sent ... while responding to a FETCH, STORE, or SEARCH command"
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c EXPUNGE
c2< c OK {...}
c1> d FETCH 2 RFC822.SIZE
c1< ! * {#} EXPUNGE
c1< d OK {...}
c1> e NOOP
c1< * 1 EXPUNGE
c1< e OK {...}

=== other-session-expunge-not-during-store
rfc: 9051 §7.5.1
area: sessions
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c EXPUNGE
c2< c OK {...}
c1> d STORE 2 +FLAGS (\Seen)
c1< ! * {#} EXPUNGE
c1< d {OK|NO}{...}
c1> e NOOP
c1< * 1 EXPUNGE
c1< e OK {...}

=== other-session-expunge-not-during-search
rfc: 9051 §7.5.1
area: sessions
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c EXPUNGE
c2< c OK {...}
c1> d SEARCH ALL
c1< ! * {#} EXPUNGE
c1< d OK {...}
c1> e NOOP
c1< * 1 EXPUNGE
c1< e OK {...}

=== other-session-copy-into-selected
rfc: 9051 §7.4.1
area: sessions
setup: CREATE {$box}/src
setup: APPEND {$box}/src {msg:third}
c1> a SELECT {$box}
c1< * 0 EXISTS
c1< a OK {...}
c2> b SELECT {$box}/src
c2< b OK {...}
c2> c COPY 1 {$box}
c2< c OK {...}
c1> d NOOP
c1< * 1 EXISTS
c1< d OK {...}

=== other-session-move-out
rfc: 6851 §3.1
area: sessions
requires: MOVE
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c MOVE 1 {$box}/dst
c2< c OK {...}
c1> d NOOP
c1< * 1 EXPUNGE
c1< d OK {...}

=== other-session-move-in
rfc: 6851 §3.1
area: sessions
requires: MOVE
setup: CREATE {$box}/src
setup: APPEND {$box}/src {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}/src
c2< b OK {...}
c2> c MOVE 1 {$box}
c2< c OK {...}
c1> d NOOP
c1< * 1 EXISTS
c1< d OK {...}

=== other-session-create-visible
rfc: 9051 §6.3.9
area: sessions
c1> a LIST "" {$box}/*
c1< ! * LIST {...}
c1< a OK {...}
c2> b CREATE {$box}/fresh
c2< b OK {...}
c1> c LIST "" {$box}/*
c1< * LIST ({...}) "/" {astr:{$box}/fresh}
c1< c OK {...}

=== other-session-delete-visible
rfc: 9051 §6.3.5
area: sessions
setup: CREATE {$box}/doomed
c2> b DELETE {$box}/doomed
c2< b OK {...}
c1> c LIST "" {$box}/*
c1< ! * LIST ({...}) "/" {astr:{$box}/doomed}
c1< c OK {...}
c1> d SELECT {$box}/doomed
c1< d NO {...}

=== other-session-rename-visible
rfc: 9051 §6.3.6
area: sessions
setup: CREATE {$box}/before
setup: APPEND {$box}/before {msg:plain}
c2> b RENAME {$box}/before {$box}/after
c2< b OK {...}
c1> c STATUS {$box}/after (MESSAGES)
c1< * STATUS {astr:{$box}/after} (MESSAGES 1)
c1< c OK {...}
c1> d STATUS {$box}/before (MESSAGES)
c1< d NO {...}

=== other-session-subscribe-visible
rfc: 3501 §6.3.9
area: sessions
setup: CREATE {$box}/sub
c2> b SUBSCRIBE {$box}/sub
c2< b OK {...}
c1> c LSUB "" {$box}/*
c1< * LSUB ({...}) "/" {astr:{$box}/sub}
c1< c OK {...}

=== other-session-status-counts
rfc: 9051 §6.3.11
area: sessions
c1> a STATUS {$box} (MESSAGES UNSEEN)
c1< * STATUS {astr:{$box}} ({MESSAGES 0 UNSEEN 0|UNSEEN 0 MESSAGES 0})
c1< a OK {...}
c2> b APPEND {$box} {msg:plain}
c2< b OK {...}
c1> c STATUS {$box} (MESSAGES UNSEEN)
c1< * STATUS {astr:{$box}} ({MESSAGES 1 UNSEEN 1|UNSEEN 1 MESSAGES 1})
c1< c OK {...}

=== other-session-close-expunges
rfc: 9051 §6.4.1
area: sessions
doc: CLOSE in one session removes \Deleted messages; the other session gets EXPUNGE
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} (\Deleted) {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c CLOSE
c2< c OK {...}
c1> d NOOP
c1< * 2 EXPUNGE
c1< d OK {...}

=== other-session-uid-expunge
rfc: 4315 §2.1
area: sessions
requires: UIDPLUS
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} (\Deleted) {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> u FETCH 1 UID
c2< * 1 FETCH (UID {=uid1})
c2< u OK {...}
c2> c UID EXPUNGE {$uid1}
c2< c OK {...}
c1> d NOOP
c1< * 1 EXPUNGE
c1< ! * 2 EXPUNGE
c1< d OK {...}

=== other-session-examine-sees-changes
rfc: 9051 §6.3.3
area: sessions
doc: a read-only session still receives EXISTS for new messages
c1> a EXAMINE {$box}
c1< * 0 EXISTS
c1< a OK {...}
c2> b APPEND {$box} {msg:plain}
c2< b OK {...}
c1> c NOOP
c1< * 1 EXISTS
c1< c OK {...}

=== other-session-uid-fetch-sees-new
rfc: 9051 §6.4.9
area: sessions
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * OK [UIDNEXT {=next}]{...}
c1< a OK {...}
c2> b APPEND {$box} {msg:second}
c2< b OK {...}
c1> c NOOP
c1< * 2 EXISTS
c1< c OK {...}
c1> d UID FETCH {$next}:* RFC822.SIZE
c1< * 2 FETCH ({...}RFC822.SIZE 243{...})
c1< d OK {...}

=== idle-continuation-and-done
rfc: 2177 §3
area: idle
requires: IDLE
c1> a SELECT {$box}
c1< a OK {...}
c1> b IDLE
c1< +{...}
c1>+ DONE
c1< b OK {...}

=== idle-new-message
rfc: 2177 §3
area: idle
requires: IDLE
c1> a SELECT {$box}
c1< * 0 EXISTS
c1< a OK {...}
c1> b IDLE
c1< +{...}
c2> c APPEND {$box} {msg:plain}
c2< c OK {...}
c1~ * 1 EXISTS
c1>+ DONE
c1< b OK {...}

=== idle-flag-change
rfc: 2177 §3
area: idle
requires: IDLE
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b IDLE
c1< +{...}
c2> c SELECT {$box}
c2< c OK {...}
c2> d STORE 1 +FLAGS (\Answered)
c2< d OK {...}
c1~ * 1 FETCH ({...}FLAGS ({flags:\Answered}){...})
c1>+ DONE
c1< b OK {...}

=== idle-expunge
rfc: 2177 §3
area: idle
requires: IDLE
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b IDLE
c1< +{...}
c2> c SELECT {$box}
c2< c OK {...}
c2> d EXPUNGE
c2< d OK {...}
c1~ * 1 EXPUNGE
c1>+ DONE
c1< b OK {...}

=== idle-authenticated-state
rfc: 9051 §6.3.13
area: idle
requires: IDLE
doc: IDLE is valid in the authenticated state too
c1> b IDLE
c1< +{...}
c1>+ DONE
c1< b OK {...}

=== idle-bad-done
rfc: 2177 §3
area: idle
requires: IDLE
doc: anything but DONE ends IDLE with a tagged BAD (RFC 9051 §6.3.13: "the server ... MUST NOT
doc: process further commands"; the reply to a non-DONE line is BAD)
c1> a SELECT {$box}
c1< a OK {...}
c1> b IDLE
c1< +{...}
c1>+ NOTDONE
c1< b BAD {...}

=== idle-then-commands
rfc: 2177 §3
area: idle
requires: IDLE
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b IDLE
c1< +{...}
c1>+ DONE
c1< b OK {...}
c1> c FETCH 1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 291)
c1< c OK {...}
"""

SCRIPTS += r"""
=== other-user-cannot-see-mailboxes
rfc: 9051 §5.1
area: users
conn: c2 user2
doc: mailboxes belong to their user: another account neither lists nor opens them
setup: CREATE {$box}/private
setup: APPEND {$box}/private {msg:tiny}
c2> a LIST "" {$box}*
c2< ! * LIST {...}
c2< a OK {...}
c2> b SELECT {$box}/private
c2< b NO {...}
c2> c STATUS {$box}/private (MESSAGES)
c2< c NO {...}

=== other-user-same-name-independent
rfc: 9051 §5.1
area: users
conn: c2 user2
doc: the same mailbox name in two accounts names two mailboxes
setup: APPEND {$box} {msg:plain}
setup2: APPEND {$box} {msg:tiny}
setup2: APPEND {$box} {msg:tiny}
c1> a STATUS {$box} (MESSAGES)
c1< * STATUS {astr:{$box}} (MESSAGES 1)
c1< a OK {...}
c2> b STATUS {$box} (MESSAGES)
c2< * STATUS {astr:{$box}} (MESSAGES 2)
c2< b OK {...}

=== other-user-append-not-visible
rfc: 9051 §5.1
area: users
conn: c2 user2
setup2: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< * 0 EXISTS
c1< a OK {...}
c2> b APPEND {$box} {msg:plain}
c2< b OK {...}
c1> c NOOP
c1< ! * {#} EXISTS
c1< c OK {...}

=== other-session-unseen-after-seen
rfc: 9051 §6.3.11
area: sessions
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b STORE 1:2 +FLAGS.SILENT (\Seen)
c1< b OK {...}
c2> c STATUS {$box} (UNSEEN)
c2< * STATUS {astr:{$box}} (UNSEEN 0)
c2< c OK {...}
c2> d SEARCH ALL
c2< d {BAD|NO} {...}

=== other-session-metadata-visible
rfc: 5464 §4.3
area: sessions
requires: METADATA
c1> a SETMETADATA {$box} (/private/comment "set by one session")
c1< a OK {...}
c2> b GETMETADATA {$box} /private/comment
c2< * METADATA {astr:{$box}} (/private/comment "set by one session")
c2< b OK {...}

=== other-session-acl-visible
rfc: 4314 §3.3
area: sessions
requires: ACL
c1> a SETACL {$box} {$user2} lrs
c1< a OK {...}
c2> b GETACL {$box}
c2< * ACL {astr:{$box}} {...}{astr:{$user2}} {...}
c2< b OK {...}

=== other-session-keyword-removed
rfc: 9051 §7.5.2
area: sessions
setup: APPEND {$box} (Gone1 \Seen) {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c STORE 1 -FLAGS.SILENT (Gone1)
c2< c OK {...}
c1> d NOOP
c1< * 1 FETCH ({...}FLAGS ({flags:\Seen}){...})
c1< d OK {...}

=== other-session-flags-replaced
rfc: 9051 §7.5.2
area: sessions
setup: APPEND {$box} (\Seen \Answered) {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c2> b SELECT {$box}
c2< b OK {...}
c2> c STORE 1 FLAGS.SILENT (\Draft)
c2< c OK {...}
c1> d NOOP
c1< * 1 FETCH ({...}FLAGS ({flags:\Draft}){...})
c1< d OK {...}

=== other-session-several-appends-one-exists
rfc: 9051 §7.4.1
area: sessions
doc: several new messages may be announced with one EXISTS carrying the new total
c1> a SELECT {$box}
c1< * 0 EXISTS
c1< a OK {...}
c2> b APPEND {$box} {msg:plain}
c2< b OK {...}
c2> c APPEND {$box} {msg:second}
c2< c OK {...}
c2> d APPEND {$box} {msg:third}
c2< d OK {...}
c1> e NOOP
c1< * 3 EXISTS
c1< e OK {...}
c1> f FETCH 3 RFC822.SIZE
c1< * 3 FETCH (RFC822.SIZE 391)
c1< f OK {...}
"""
