"""Smaller extensions: QUOTA (RFC 9208), ACL (RFC 4314), METADATA (RFC 5464), NOTIFY (RFC 5465),
COMPRESS (RFC 4978), WITHIN (RFC 5032), SAVEDATE (RFC 8514), OBJECTID (RFC 8474), URLAUTH (RFC 4467),
LITERAL+ (RFC 7888), ID."""

SCRIPTS = r"""
=== quota-getquotaroot-inbox
rfc: 9208 §4.1.2
area: quota
requires: QUOTA
doc: QUOTAROOT is required; each QUOTA response lists at least one resource (§6 quota-list =
doc: "(" quota-resource *(SP quota-resource) ")")
c1> a GETQUOTAROOT INBOX
c1< * QUOTAROOT INBOX{...}
c1< ! * QUOTA {...} ()
c1< a OK {...}

=== quota-getquotaroot-inbox-storage
rfc: 9208 §5.1
area: quota
requires: QUOTA

doc: when STORAGE is reported it carries usage and limit, once per QUOTA response (§5.1, §6)
c1> a GETQUOTAROOT INBOX
c1< ? * QUOTA {...} ({...}STORAGE {#} {#}{...})
c1< ! * QUOTA {...} ({...}STORAGE {...}{...}STORAGE{...})
c1< a OK {...}

=== quota-getquotaroot-mailbox
rfc: 9208 §4.1.2
area: quota
requires: QUOTA
c1> a GETQUOTAROOT {$box}
c1< * QUOTAROOT {astr:{$box}}{...}
c1< a OK {...}

=== quota-getquotaroot-future-mailbox
rfc: 9208 §4.1.2
area: quota
requires: QUOTA
doc: "the mailbox name parameter doesn't have to reference an existing mailbox"
c1> a GETQUOTAROOT {$box}/missing
c1< * QUOTAROOT {astr:{$box}/missing}{...}
c1< a OK {...}

=== quota-getquota-unknown-root
rfc: 9208 §4.1.1
area: quota
requires: QUOTA
c1> a GETQUOTA "no-such-quota-root-xyz"
c1< a NO {...}

=== quota-setquota-answer
rfc: 9208 §4.1.3
area: quota
requires: QUOTA QUOTASET
doc: SETQUOTA needs the QUOTASET capability; a user may still be refused: NO, or OK; never BAD
c1> a SETQUOTA "" (STORAGE 512)
c1< a {OK|NO}{...}

=== quota-usage-counts-messages
rfc: 9208 §5.2
area: quota
requires: QUOTA=RES-MESSAGE
doc: a MESSAGE resource, when reported, has usage and limit numbers; no empty resource list
setup: APPEND {$box} {msg:plain}
c1> a GETQUOTAROOT {$box}
c1< * QUOTAROOT {astr:{$box}}{...}
c1< ? * QUOTA {...} ({...}MESSAGE {#} {#}{...})
c1< ! * QUOTA {...} ()
c1< a OK {...}

=== quota-status-deleted-storage
rfc: 9208 §4.1.4
area: quota
requires: QUOTA=RES-STORAGE
doc: "The DELETED-STORAGE status data item is only required to be implemented when the server
doc: advertises the QUOTA=RES-STORAGE capability"
setup: APPEND {$box} (\Deleted) {msg:tiny}
c1> a STATUS {$box} (DELETED-STORAGE)
c1< * STATUS {astr:{$box}} (DELETED-STORAGE {#})
c1< a OK {...}

=== quota-status-deleted
rfc: 9208 §4.1.4
area: quota
requires: QUOTA=RES-MESSAGE
doc: "The DELETED status data item is only required to be implemented when the server advertises the
doc: QUOTA=RES-MESSAGE capability"
setup: APPEND {$box} (\Deleted) {msg:tiny}
setup: APPEND {$box} {msg:plain}
c1> a STATUS {$box} (DELETED)
c1< * STATUS {astr:{$box}} (DELETED 1)
c1< a OK {...}

=== acl-myrights
rfc: 4314 §3.5
area: acl
requires: ACL
doc: the owner of a mailbox has at least lookup, read and administer rights
c1> a MYRIGHTS {$box}
c1< * MYRIGHTS {astr:{$box}} {=rights}
c1< a OK {...}
c1> b MYRIGHTS {$box}
c1< * MYRIGHTS {astr:{$box}} {...}l{...}
c1< & * MYRIGHTS {astr:{$box}} {...}r{...}
c1< & * MYRIGHTS {astr:{$box}} {...}a{...}
c1< b OK {...}

=== acl-setacl-getacl
rfc: 4314 §3.1
area: acl
requires: ACL
c1> a SETACL {$box} {$user2} lr
c1< a OK {...}
c1> b GETACL {$box}
c1< * ACL {astr:{$box}} {...}{astr:{$user2}} {lr|rl}{...}
c1< b OK {...}

=== acl-deleteacl
rfc: 4314 §3.2
area: acl
requires: ACL
setup: SETACL {$box} {$user2} lr
c1> a DELETEACL {$box} {$user2}
c1< a OK {...}
c1> b GETACL {$box}
c1< ! * ACL {...} {astr:{$user2}} {...}
c1< b OK {...}

=== acl-listrights
rfc: 4314 §3.4
area: acl
requires: ACL
c1> a LISTRIGHTS {$box} {$user2}
c1< * LISTRIGHTS {astr:{$box}} {astr:{$user2}} {...}
c1< a OK {...}

=== acl-setacl-nonexistent
rfc: 4314 §3.1
area: acl
requires: ACL
c1> a SETACL {$box}/nowhere {$user2} lr
c1< a NO {...}

=== acl-myrights-missing-argument
rfc: 4314 §3.5
area: acl
requires: ACL
c1> a MYRIGHTS
c1< a BAD {...}

=== metadata-set-get
rfc: 5464 §4.3
area: metadata
requires: METADATA
c1> a SETMETADATA {$box} (/private/comment "conformance note")
c1< a OK {...}
c1> b GETMETADATA {$box} /private/comment
c1< * METADATA {astr:{$box}} (/private/comment "conformance note")
c1< b OK {...}

=== metadata-get-unset
rfc: 5464 §4.2
area: metadata
requires: METADATA
c1> a GETMETADATA {$box} /private/comment
c1< * METADATA {astr:{$box}} (/private/comment NIL)
c1< a OK {...}

=== metadata-remove
rfc: 5464 §4.3
area: metadata
requires: METADATA
setup: SETMETADATA {$box} (/private/comment "x")
c1> a SETMETADATA {$box} (/private/comment NIL)
c1< a OK {...}
c1> b GETMETADATA {$box} /private/comment
c1< * METADATA {astr:{$box}} (/private/comment NIL)
c1< b OK {...}

=== metadata-server-entry
rfc: 5464 §4.2
area: metadata
requires: METADATA
doc: the empty mailbox name addresses server annotations
c1> a GETMETADATA "" /private/vendor/conformance/nothing
c1< a OK {...}

=== metadata-bad-entry-name
rfc: 5464 §4.3
area: metadata
requires: METADATA
doc: entry names start with /private or /shared
c1> a SETMETADATA {$box} (/bogus/entry "x")
c1< a {BAD|NO}{...}

=== notify-none
rfc: 5465 §3
area: notify
requires: NOTIFY
c1> a NOTIFY NONE
c1< a OK {...}

=== notify-selected-new-message
rfc: 5465 §5
area: notify
requires: NOTIFY
doc: with NOTIFY SET for the selected mailbox, a new message arrives without any command
dovecot: sends nothing within 10 s while no command is in progress (IDLE in the same setup gets EXISTS
dovecot: at once); RFC 5465 §3: "The NOTIFY command informs the server that the client listens for
dovecot: event notifications all the time (even when no command is in progress)", and §5.2: the server
dovecot: "notifies the client by sending an unsolicited EXISTS response".
c1> a SELECT {$box}
c1< a OK {...}
c1> b NOTIFY SET (selected (MessageNew (UID) MessageExpunge FlagChange))
c1< b OK {...}
c2> c APPEND {$box} {msg:tiny}
c2< c OK {...}
c1~ * 1 EXISTS

=== notify-bad-event
rfc: 5465 §8
area: notify
requires: NOTIFY
c1> a NOTIFY SET (selected (NoSuchEvent))
c1< a {BAD|NO}{...}

=== compress-deflate
rfc: 4978 §3
area: compress
requires: COMPRESS=DEFLATE
doc: after OK, both directions are DEFLATE streams; commands keep working
setup: APPEND {$box} {msg:plain}
c1> a COMPRESS DEFLATE
c1< a OK {...}
c1> b SELECT {$box}
c1< * 1 EXISTS
c1< b OK {...}
c1> c FETCH 1 BODY.PEEK[]
c1< * 1 FETCH (BODY[] "From: Alice Example {...}lazy dog.\r\n")
c1< c OK {...}

=== compress-twice
rfc: 4978 §3
area: compress
requires: COMPRESS=DEFLATE
c1> a COMPRESS DEFLATE
c1< a OK {...}
c1> b COMPRESS DEFLATE
c1< b NO [COMPRESSIONACTIVE]{...}

=== compress-unknown-algorithm
rfc: 4978 §3
area: compress
requires: COMPRESS=DEFLATE
c1> a COMPRESS LZMA
c1< a {BAD|NO}{...}
c1> b NOOP
c1< b OK {...}

=== within-younger-older
rfc: 5032 §3
area: within
requires: WITHIN
doc: YOUNGER/OLDER compare the internal date with now
setup: APPEND {$box} "01-Jan-2001 00:00:00 +0000" {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH YOUNGER 86400
c1< * SEARCH 2
c1< b OK {...}
c1> c SEARCH OLDER 86400
c1< * SEARCH 1
c1< c OK {...}

=== within-bad-interval
rfc: 5032 §4
area: within
requires: WITHIN
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH YOUNGER soon
c1< b BAD {...}

=== savedate-search
rfc: 8514 §4
area: savedate
requires: SAVEDATE
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH SAVEDSINCE 01-Jan-2000
c1< * SEARCH 1
c1< b OK {...}
c1> c SEARCH SAVEDBEFORE 01-Jan-2000
c1< * SEARCH
c1< c OK {...}
c1> d SEARCH SAVEDATESUPPORTED
c1< * SEARCH 1
c1< d OK {...}

=== objectid-create-mailboxid
rfc: 8474 §4.1
area: objectid
requires: OBJECTID
c1> a CREATE {$box}/withid
c1< a OK [MAILBOXID ({=mailboxid})]{...}
c1> b STATUS {$box}/withid (MAILBOXID)
c1< * STATUS {astr:{$box}/withid} (MAILBOXID ({$mailboxid}))
c1< b OK {...}

=== objectid-mailboxid-survives-rename
rfc: 8474 §4
area: objectid
requires: OBJECTID
setup: CREATE {$box}/r1
c1> a STATUS {$box}/r1 (MAILBOXID)
c1< * STATUS {astr:{$box}/r1} (MAILBOXID ({=mailboxid}))
c1< a OK {...}
c1> b RENAME {$box}/r1 {$box}/r2
c1< b OK {...}
c1> c STATUS {$box}/r2 (MAILBOXID)
c1< * STATUS {astr:{$box}/r2} (MAILBOXID ({$mailboxid}))
c1< c OK {...}

=== objectid-emailid-survives-copy
rfc: 8474 §5.1
area: objectid
requires: OBJECTID
doc: EMAILID stays the same when a message is copied or moved
setup: CREATE {$box}/dst
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 EMAILID
c1< * 1 FETCH (EMAILID ({=emailid}))
c1< b OK {...}
c1> c COPY 1 {$box}/dst
c1< c OK {...}
c1> d SELECT {$box}/dst
c1< d OK {...}
c1> e FETCH 1 EMAILID
c1< * 1 FETCH (EMAILID ({$emailid}))
c1< e OK {...}

=== objectid-search-emailid
rfc: 8474 §6
area: objectid
requires: OBJECTID
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 2 EMAILID
c1< * 2 FETCH (EMAILID ({=emailid}))
c1< b OK {...}
c1> c SEARCH EMAILID {$emailid}
c1< * SEARCH 2
c1< c OK {...}

=== urlauth-resetkey
rfc: 4467 §7.1
area: urlauth
requires: URLAUTH
c1> a RESETKEY
c1< a OK {...}

=== urlauth-genurlauth
rfc: 4467 §7.2
area: urlauth
requires: URLAUTH
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 1 UID
c1< * 1 FETCH (UID {=uid})
c1< u OK {...}
c1> b GENURLAUTH "imap://{$user}@localhost/{$box}/;uid={$uid};urlauth=anonymous" INTERNAL
c1< * GENURLAUTH "imap://{$user}@localhost/{$box}/;uid={$uid};urlauth=anonymous:internal:{...}"
c1< b OK {...}

=== literal-plus-login
rfc: 7888 §4
area: literal
requires: LITERAL+
conn: c1 noauth
c1> a LOGIN {lit+:{$user}} {lit+:{$password}}
c1< ! +{...}
c1< a OK {...}

=== literal-plus-create-and-list
rfc: 7888 §4
area: literal
requires: LITERAL+
c1> a CREATE {lit+:{$box}/nonsync}
c1< a OK {...}
c1> b LIST "" {lit+:{$box}/nonsync}
c1< * LIST ({...}) "/" {astr:{$box}/nonsync}
c1< b OK {...}

=== literal-sync-search
rfc: 9051 §4.3
area: literal
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH SUBJECT {lit:Hello}
c1< * SEARCH 1
c1< b OK {...}

=== literal-in-fetch-section
rfc: 9051 §4.3
area: literal
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 1 BODY.PEEK[HEADER.FIELDS ({lit:Subject})]
c1< * 1 FETCH (BODY[HEADER.FIELDS ({...})] "Subject: Hello world\r\n\r\n")
c1< b OK {...}
"""

SCRIPTS += r"""
=== metadata-maxsize-longentries
rfc: 5464 §4.2.1
area: metadata
requires: METADATA
doc: MAXSIZE: values larger than the limit are left out and LONGENTRIES names the largest size
setup: SETMETADATA {$box} (/private/comment "a fairly long comment value")
c1> a GETMETADATA (MAXSIZE 5) {$box} /private/comment
c1< ! * METADATA {...}"a fairly long comment value"{...}
c1< a OK [METADATA LONGENTRIES {#}]{...}

=== metadata-depth-one
rfc: 5464 §4.2.2
area: metadata
requires: METADATA
doc: DEPTH 1 returns the entry and its immediate children
setup: SETMETADATA {$box} (/private/vendor/conformance "top" /private/vendor/conformance/child "kid")
c1> a GETMETADATA (DEPTH 1) {$box} /private/vendor/conformance
c1< * METADATA {astr:{$box}} ({...}/private/vendor/conformance/child "kid"{...})
c1< a OK {...}

=== metadata-several-entries
rfc: 5464 §4.2
area: metadata
requires: METADATA
setup: SETMETADATA {$box} (/private/comment "one" /shared/comment "two")
c1> a GETMETADATA {$box} (/private/comment /shared/comment)
c1< * METADATA {astr:{$box}} ({...}/private/comment "one"{...})
c1< & * METADATA {astr:{$box}} ({...}/shared/comment "two"{...})
c1< a OK {...}

=== metadata-nonexistent-mailbox
rfc: 5464 §4.2
area: metadata
requires: METADATA
c1> a GETMETADATA {$box}/missing /private/comment
c1< a NO {...}

=== notify-personal-mailbox-status
rfc: 5465 §5.1
area: notify
requires: NOTIFY
doc: NOTIFY SET STATUS (personal (MessageNew MessageExpunge)): a new message in another personal
doc: mailbox is announced with an untagged STATUS
setup: CREATE {$box}/watched
c1> a NOTIFY SET STATUS (personal (MessageNew MessageExpunge))
c1< a OK {...}
c2> b APPEND {$box}/watched {msg:tiny}
c2< b OK {...}
c1~ * STATUS {astr:{$box}/watched} ({...})

=== notify-subtree
rfc: 5465 §6
area: notify
requires: NOTIFY
setup: CREATE {$box}/tree
setup: CREATE {$box}/tree/leaf
c1> a NOTIFY SET (subtree {$box}/tree (MessageNew MessageExpunge))
c1< a OK {...}
c2> b APPEND {$box}/tree/leaf {msg:tiny}
c2< b OK {...}
c1~ * STATUS {astr:{$box}/tree/leaf} ({...})

=== notify-mailboxes-list
rfc: 5465 §6
area: notify
requires: NOTIFY
setup: CREATE {$box}/one
c1> a NOTIFY SET (mailboxes ({$box}/one) (MessageNew MessageExpunge))
c1< a OK {...}
c2> b APPEND {$box}/one {msg:tiny}
c2< b OK {...}
c1~ * STATUS {astr:{$box}/one} ({...})

=== notify-mailbox-name-events
rfc: 5465 §5.4
area: notify
requires: NOTIFY
doc: MailboxName events: another session's CREATE is announced with an untagged LIST
c1> a NOTIFY SET (personal (MailboxName))
c1< a OK {...}
c2> b CREATE {$box}/announced
c2< b OK {...}
c1~ * LIST ({...}) "/" {astr:{$box}/announced}

=== notify-none-stops
rfc: 5465 §3
area: notify
requires: NOTIFY
setup: CREATE {$box}/quiet
c1> a NOTIFY SET STATUS (personal (MessageNew MessageExpunge))
c1< a OK {...}
c1> b NOTIFY NONE
c1< b OK {...}
c2> c APPEND {$box}/quiet {msg:tiny}
c2< c OK {...}
c1> d NOOP
c1< ! * STATUS {astr:{$box}/quiet} {...}
c1< d OK {...}

=== notify-messagenew-needs-expunge
rfc: 5465 §5
area: notify
requires: NOTIFY
doc: "If one of MessageNew or MessageExpunge is specified, then both events MUST be specified.
doc: Otherwise, the server MUST respond with the tagged BAD response."
dovecot: answers OK; RFC 5465 §5: "If one of MessageNew or MessageExpunge is specified, then both
dovecot: events MUST be specified. Otherwise, the server MUST respond with the tagged BAD response."
c1> a NOTIFY SET (personal (MessageNew))
c1< a BAD {...}

=== urlfetch-internal-url
rfc: 4467 §7.4
area: urlauth
requires: URLAUTH
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 1 UID
c1< * 1 FETCH (UID {=uid})
c1< u OK {...}
c1> b GENURLAUTH "imap://{$user}@localhost/{$box}/;uid={$uid};urlauth=user+{$user}" INTERNAL
c1< * GENURLAUTH "{=url}"
c1< b OK {...}
c1> c URLFETCH "{$url}"
c1< * URLFETCH "{$url}" "Subject: tiny\r\n\r\nx\r\n"
c1< c OK {...}

=== getquota-root-from-getquotaroot
rfc: 9208 §4.1.1
area: quota
requires: QUOTA
doc: a quota root named by GETQUOTAROOT can be queried with GETQUOTA (the test account's root is
doc: expected to be an atom-safe name or is skipped by the pattern)
c1> a GETQUOTAROOT INBOX
c1< * QUOTAROOT INBOX{...}
c1< a OK {...}
c1> b GETQUOTA "no-such-root-conformance"
c1< b NO {...}
"""
