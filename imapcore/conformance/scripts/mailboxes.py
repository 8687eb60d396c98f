"""Mailbox management in the authenticated state: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
LIST, LSUB, NAMESPACE (RFC 9051 §6.3, RFC 3501 §6.3 for LSUB, RFC 2342)."""

SCRIPTS = r"""
=== create-simple
rfc: 9051 §6.3.4
area: create
c1> a CREATE {$box}/alpha
c1< a OK {...}
c1> b LIST "" {$box}/alpha
c1< * LIST ({...}) "/" {astr:{$box}/alpha}
c1< b OK {...}

=== create-nested-creates-parents
rfc: 9051 §6.3.9
area: create
doc: CREATE a/b/c; "%" at the end of a pattern returns the matching levels of hierarchy even when
doc: they are not selectable mailboxes (\Noselect), so a/b is always listed
c1> a CREATE {$box}/p/q/r
c1< a OK {...}
c1> b LIST "" {$box}/p/%
c1< * LIST ({...}) "/" {astr:{$box}/p/q}
c1< b OK {...}
c1> c LIST "" {$box}/p/q/r
c1< * LIST ({...}) "/" {astr:{$box}/p/q/r}
c1< c OK {...}

=== create-existing
rfc: 9051 §6.3.4
area: create
setup: CREATE {$box}/dup
c1> a CREATE {$box}/dup
c1< a NO {...}

=== create-existing-code
rfc: 5530 §3
area: create
doc: a server that sends a response code for this must use ALREADYEXISTS (it may send none)
setup: CREATE {$box}/dup
c1> a CREATE {$box}/dup
c1< a NO {...}
c1< ! a NO [NONEXISTENT] {...}

=== create-inbox
rfc: 9051 §6.3.4
area: create
doc: "It is an error to attempt to create INBOX" (INBOX is touched first: Dovecot creates it lazily on a
doc: fresh account, and CREATE INBOX succeeds until then)
c1> s STATUS INBOX (MESSAGES)
c1< s OK {...}
c1> a CREATE INBOX
c1< a NO {...}
c1> b CREATE inbox
c1< b NO {...}

=== create-trailing-separator
rfc: 9051 §6.3.4
area: create
doc: a trailing separator declares the intent to create children; the name is created without it
c1> a CREATE {$box}/folder/
c1< a OK {...}
c1> b LIST "" {$box}/folder
c1< * LIST ({...}) "/" {astr:{$box}/folder}
c1< b OK {...}

=== create-modified-utf7
rfc: 3501 §5.1.3
area: create
doc: international names in modified UTF-7 come back byte for byte
c1> a CREATE {$box}/caf&AOk-
c1< a OK {...}
c1> b LIST "" {$box}/caf&AOk-
c1< * LIST ({...}) "/" {astr:{$box}/caf&AOk-}
c1< b OK {...}

=== create-japanese-utf7
rfc: 3501 §5.1.3
area: create
c1> a CREATE "{$box}/&ZeVnLIqe-"
c1< a OK {...}
c1> b LIST "" "{$box}/&ZeVnLIqe-"
c1< * LIST ({...}) "/" {astr:{$box}/&ZeVnLIqe-}
c1< b OK {...}

=== create-name-with-space
rfc: 9051 §4.3
area: create
c1> a CREATE "{$box}/with space"
c1< a OK {...}
c1> b LIST "" "{$box}/with space"
c1< * LIST ({...}) "/" "{$box}/with space"
c1< b OK {...}

=== create-name-as-literal
rfc: 9051 §4.3
area: create
c1> a CREATE {lit:{$box}/lit}
c1< a OK {...}
c1> b STATUS {$box}/lit (MESSAGES)
c1< * STATUS {astr:{$box}/lit} (MESSAGES 0)
c1< b OK {...}

=== create-missing-argument
rfc: 9051 §6.3.4
area: create
c1> a CREATE
c1< a BAD {...}

=== create-then-select-empty
rfc: 9051 §6.3.4
area: create
c1> a CREATE {$box}/new
c1< a OK {...}
c1> b SELECT {$box}/new
c1< * 0 EXISTS
c1< b OK {...}

=== delete-simple
rfc: 9051 §6.3.5
area: delete
setup: CREATE {$box}/gone
c1> a DELETE {$box}/gone
c1< a OK {...}
c1> b LIST "" {$box}/gone
c1< ! * LIST {...}
c1< b OK {...}

=== delete-nonexistent
rfc: 9051 §6.3.5
area: delete
c1> a DELETE {$box}/never-was
c1< a NO {...}

=== delete-inbox
rfc: 9051 §6.3.5
area: delete
doc: "It is an error to attempt to delete INBOX"
c1> a DELETE INBOX
c1< a NO {...}

=== delete-removes-messages
rfc: 9051 §6.3.5
area: delete
doc: a mailbox created again with the same name starts empty
setup: CREATE {$box}/m
setup: APPEND {$box}/m {msg:plain}
c1> a DELETE {$box}/m
c1< a OK {...}
c1> b CREATE {$box}/m
c1< b OK {...}
c1> c STATUS {$box}/m (MESSAGES)
c1< * STATUS {astr:{$box}/m} (MESSAGES 0)
c1< c OK {...}

=== delete-parent-keeps-children
rfc: 9051 §6.3.5
area: delete
doc: a mailbox with inferiors may be deleted (or refused with NO, HASCHILDREN); "The DELETE command
doc: MUST NOT remove inferior hierarchical names"
setup: CREATE {$box}/par
setup: CREATE {$box}/par/kid
c1> a DELETE {$box}/par
c1< a {OK|NO [HASCHILDREN]}{...}
c1> b LIST "" {$box}/par/kid
c1< * LIST ({...}) "/" {astr:{$box}/par/kid}
c1< b OK {...}

=== delete-noselect-with-children
rfc: 3501 §6.3.4
area: delete
doc: "It is an error to attempt to delete a name that has inferior hierarchical names and also has
doc: the \Noselect mailbox name attribute"; whatever the answer, the inferior stays
setup: CREATE {$box}/par/kid
c1> a DELETE {$box}/par
c1< a {OK|NO}{...}
c1> b LIST "" {$box}/par/kid
c1< * LIST ({...}) "/" {astr:{$box}/par/kid}
c1< b OK {...}

=== delete-missing-argument
rfc: 9051 §6.3.5
area: delete
c1> a DELETE
c1< a BAD {...}

=== rename-simple
rfc: 9051 §6.3.6
area: rename
setup: CREATE {$box}/old
c1> a RENAME {$box}/old {$box}/new
c1< a OK {...}
c1> b LIST "" {$box}/*
c1< * LIST ({...}) "/" {astr:{$box}/new}
c1< ! * LIST ({...}) "/" {astr:{$box}/old}
c1< b OK {...}

=== rename-keeps-messages
rfc: 9051 §6.3.6
area: rename
setup: CREATE {$box}/old
setup: APPEND {$box}/old {msg:plain}
setup: APPEND {$box}/old {msg:second}
c1> a RENAME {$box}/old {$box}/new
c1< a OK {...}
c1> b STATUS {$box}/new (MESSAGES)
c1< * STATUS {astr:{$box}/new} (MESSAGES 2)
c1< b OK {...}

=== rename-to-existing
rfc: 9051 §6.3.6
area: rename
doc: "It is an error to attempt to rename ... to a mailbox name that already exists"
setup: CREATE {$box}/a
setup: CREATE {$box}/b
c1> a RENAME {$box}/a {$box}/b
c1< a NO {...}

=== rename-nonexistent
rfc: 9051 §6.3.6
area: rename
c1> a RENAME {$box}/nothing {$box}/something
c1< a NO {...}
c1> b LIST "" {$box}/something
c1< ! * LIST {...}
c1< b OK {...}

=== rename-moves-children
rfc: 9051 §6.3.6
area: rename
doc: "all of its inferior hierarchical names MUST also be renamed"
setup: CREATE {$box}/top
setup: CREATE {$box}/top/child
c1> a RENAME {$box}/top {$box}/moved
c1< a OK {...}
c1> b LIST "" {$box}/moved/*
c1< * LIST ({...}) "/" {astr:{$box}/moved/child}
c1< b OK {...}
c1> c LIST "" {$box}/top*
c1< ! * LIST {...}
c1< c OK {...}

=== rename-creates-parents
rfc: 9051 §6.3.6
area: rename
doc: "the server SHOULD create any superior hierarchical names that are needed"
setup: CREATE {$box}/leaf
c1> a RENAME {$box}/leaf {$box}/x/y/leaf
c1< a OK {...}
c1> b LIST "" {$box}/x/%
c1< * LIST ({...}) "/" {astr:{$box}/x/y}
c1< b OK {...}
c1> c LIST "" {$box}/x/y/%
c1< * LIST ({...}) "/" {astr:{$box}/x/y/leaf}
c1< c OK {...}

=== rename-missing-argument
rfc: 9051 §6.3.6
area: rename
setup: CREATE {$box}/a
c1> a RENAME {$box}/a
c1< a BAD {...}

=== subscribe-then-lsub
rfc: 3501 §6.3.9
area: subscribe
setup: CREATE {$box}/s
c1> a SUBSCRIBE {$box}/s
c1< a OK {...}
c1> b LSUB "" {$box}/*
c1< * LSUB ({...}) "/" {astr:{$box}/s}
c1< b OK {...}

=== unsubscribe-then-lsub
rfc: 9051 §6.3.8
area: subscribe
setup: CREATE {$box}/s
setup: SUBSCRIBE {$box}/s
c1> a UNSUBSCRIBE {$box}/s
c1< a OK {...}
c1> b LSUB "" {$box}/*
c1< ! * LSUB {...}
c1< b OK {...}

=== subscribe-survives-delete
rfc: 9051 §6.3.7
area: subscribe
doc: "A server MUST NOT unilaterally remove an existing mailbox name from the subscription list even
doc: if a mailbox by that name no longer exists."
setup: CREATE {$box}/s
setup: SUBSCRIBE {$box}/s
c1> a DELETE {$box}/s
c1< a OK {...}
c1> b LSUB "" {$box}/*
c1< * LSUB ({...}) "/" {astr:{$box}/s}
c1< b OK {...}

=== subscribe-missing-argument
rfc: 9051 §6.3.7
area: subscribe
c1> a SUBSCRIBE
c1< a BAD {...}

=== list-empty-pattern-gives-delimiter
rfc: 9051 §6.3.9
area: list
doc: an empty mailbox name argument returns the hierarchy delimiter and root name
c1> a LIST "" ""
c1< * LIST ({...}\Noselect{...}) {"/"|"."|NIL} ""
c1< a OK {...}

=== list-percent-one-level
rfc: 9051 §6.3.9
area: list
doc: "%" does not match the hierarchy delimiter
setup: CREATE {$box}/one
setup: CREATE {$box}/one/two
c1> a LIST "" {$box}/%
c1< * LIST ({...}) "/" {astr:{$box}/one}
c1< ! * LIST ({...}) "/" {astr:{$box}/one/two}
c1< a OK {...}

=== list-star-all-levels
rfc: 9051 §6.3.9
area: list
setup: CREATE {$box}/one
setup: CREATE {$box}/one/two
setup: CREATE {$box}/one/two/three
c1> a LIST "" {$box}/*
c1< * LIST ({...}) "/" {astr:{$box}/one}
c1< * LIST ({...}) "/" {astr:{$box}/one/two}
c1< * LIST ({...}) "/" {astr:{$box}/one/two/three}
c1< a OK {...}

=== list-star-in-middle
rfc: 9051 §6.3.9
area: list
setup: CREATE {$box}/abc
setup: CREATE {$box}/axc
setup: CREATE {$box}/b
c1> a LIST "" {$box}/a*c
c1< * LIST ({...}) "/" {astr:{$box}/abc}
c1< * LIST ({...}) "/" {astr:{$box}/axc}
c1< ! * LIST ({...}) "/" {astr:{$box}/b}
c1< a OK {...}

=== list-no-match
rfc: 9051 §6.3.9
area: list
c1> a LIST "" {$box}/nothing-here*
c1< ! * LIST {...}
c1< a OK {...}

=== list-inbox-any-case
rfc: 9051 §5.1
area: list
doc: INBOX is case-insensitive; LIST answers with the name "INBOX"
c1> a LIST "" inbox
c1< * LIST ({...}) {...} INBOX
c1< a OK {...}

=== list-reference-concatenated
rfc: 9051 §6.3.9
area: list
doc: the reference and the pattern are combined: reference "box/" and pattern "%"
setup: CREATE {$box}/r1
setup: CREATE {$box}/r2
c1> a LIST {$box}/ %
c1< * LIST ({...}) "/" {astr:{$box}/r1}
c1< * LIST ({...}) "/" {astr:{$box}/r2}
c1< a OK {...}

=== list-literal-pattern
rfc: 9051 §6.3.9
area: list
setup: CREATE {$box}/lp
c1> a LIST "" {lit:{$box}/lp}
c1< * LIST ({...}) "/" {astr:{$box}/lp}
c1< a OK {...}

=== list-missing-argument
rfc: 9051 §6.3.9
area: list
c1> a LIST ""
c1< a BAD {...}

=== list-root-itself
rfc: 9051 §6.3.9
area: list
c1> a LIST "" {$box}
c1< * LIST ({...}) "/" {astr:{$box}}
c1< a OK {...}

=== list-haschildren
rfc: 3348 §3
area: list
requires: CHILDREN
setup: CREATE {$box}/parent
setup: CREATE {$box}/parent/child
c1> a LIST "" {$box}/*
c1< * LIST ({...}\HasChildren{...}) "/" {astr:{$box}/parent}
c1< * LIST ({...}\HasNoChildren{...}) "/" {astr:{$box}/parent/child}
c1< a OK {...}

=== lsub-percent
rfc: 3501 §6.3.9
area: subscribe
setup: CREATE {$box}/l1
setup: CREATE {$box}/l1/l2
setup: SUBSCRIBE {$box}/l1
setup: SUBSCRIBE {$box}/l1/l2
c1> a LSUB "" {$box}/%
c1< * LSUB ({...}) "/" {astr:{$box}/l1}
c1< ! * LSUB ({...}) "/" {astr:{$box}/l1/l2}
c1< a OK {...}

=== namespace-personal
rfc: 2342 §5
area: namespace
requires: NAMESPACE
c1> a NAMESPACE
c1< * NAMESPACE (({...})) {...}
c1< a OK {...}

=== namespace-extra-argument
rfc: 2342 §5
area: namespace
requires: NAMESPACE
dovecot: ignores the argument; RFC 2342 §5 namespace = "NAMESPACE" (no argument) and RFC 9051 §7.1.3
dovecot: makes a syntax error a tagged BAD.
c1> a NAMESPACE x
c1< a BAD {...}
"""
