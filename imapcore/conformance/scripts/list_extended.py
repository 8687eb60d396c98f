"""LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154),
CHILDREN (RFC 3348)."""

SCRIPTS = r"""
=== list-extended-subscribed-selection
rfc: 5258 §3.1
area: list-extended
requires: LIST-EXTENDED
setup: CREATE {$box}/in
setup: CREATE {$box}/out
setup: SUBSCRIBE {$box}/in
c1> a LIST (SUBSCRIBED) "" {$box}/*
c1< * LIST ({...}\Subscribed{...}) "/" {astr:{$box}/in}
c1< ! * LIST ({...}) "/" {astr:{$box}/out}
c1< a OK {...}

=== list-extended-return-subscribed
rfc: 5258 §3.2
area: list-extended
requires: LIST-EXTENDED
setup: CREATE {$box}/in
setup: CREATE {$box}/out
setup: SUBSCRIBE {$box}/in
c1> a LIST "" {$box}/* RETURN (SUBSCRIBED)
c1< * LIST ({...}\Subscribed{...}) "/" {astr:{$box}/in}
c1< * LIST ({...}) "/" {astr:{$box}/out}
c1< ! * LIST ({...}\Subscribed{...}) "/" {astr:{$box}/out}
c1< a OK {...}

=== list-extended-multiple-patterns
rfc: 5258 §3
area: list-extended
requires: LIST-EXTENDED
setup: CREATE {$box}/aa
setup: CREATE {$box}/bb
setup: CREATE {$box}/cc
c1> a LIST "" ({$box}/aa {$box}/cc)
c1< * LIST ({...}) "/" {astr:{$box}/aa}
c1< * LIST ({...}) "/" {astr:{$box}/cc}
c1< ! * LIST ({...}) "/" {astr:{$box}/bb}
c1< a OK {...}

=== list-extended-return-children
rfc: 5258 §4
area: list-extended
requires: LIST-EXTENDED
setup: CREATE {$box}/p
setup: CREATE {$box}/p/c
c1> a LIST "" {$box}/% RETURN (CHILDREN)
c1< * LIST ({...}\HasChildren{...}) "/" {astr:{$box}/p}
c1< a OK {...}
c1> b LIST "" {$box}/p/% RETURN (CHILDREN)
c1< * LIST ({...}\HasNoChildren{...}) "/" {astr:{$box}/p/c}
c1< b OK {...}

=== list-extended-subscribed-deleted-nonexistent
rfc: 5258 §3.1
area: list-extended
requires: LIST-EXTENDED
doc: a subscribed name without a mailbox is listed with \NonExistent (and \Subscribed)
setup: CREATE {$box}/gone
setup: SUBSCRIBE {$box}/gone
setup: DELETE {$box}/gone
c1> a LIST (SUBSCRIBED) "" {$box}/*
c1< * LIST ({...}\NonExistent{...}) "/" {astr:{$box}/gone}
c1< & * LIST ({...}\Subscribed{...}) "/" {astr:{$box}/gone}
c1< a OK {...}

=== list-extended-recursivematch-childinfo
rfc: 5258 §3.5
area: list-extended
requires: LIST-EXTENDED
doc: RECURSIVEMATCH: a parent whose child is subscribed is returned with CHILDINFO ("SUBSCRIBED")
setup: CREATE {$box}/p
setup: CREATE {$box}/p/kid
setup: SUBSCRIBE {$box}/p/kid
c1> a LIST (SUBSCRIBED RECURSIVEMATCH) "" {$box}/%
c1< * LIST ({...}) "/" {astr:{$box}/p} ({astr:CHILDINFO} ("SUBSCRIBED"))
c1< a OK {...}

=== list-extended-recursivematch-alone
rfc: 5258 §3
area: list-extended
requires: LIST-EXTENDED
doc: RECURSIVEMATCH without another selection option is a syntax error (BAD)
c1> a LIST (RECURSIVEMATCH) "" {$box}/*
c1< a BAD {...}

=== list-extended-unknown-selection-option
rfc: 5258 §3
area: list-extended
requires: LIST-EXTENDED
c1> a LIST (NOSUCHOPTION) "" {$box}/*
c1< a BAD {...}

=== list-extended-empty-selection
rfc: 5258 §3
area: list-extended
requires: LIST-EXTENDED
doc: an empty selection option list is the same as a basic LIST
setup: CREATE {$box}/x
c1> a LIST () "" {$box}/*
c1< * LIST ({...}) "/" {astr:{$box}/x}
c1< a OK {...}

=== list-status-messages
rfc: 5819 §2
area: list-status
requires: LIST-STATUS
setup: CREATE {$box}/s1
setup: APPEND {$box}/s1 {msg:plain}
setup: APPEND {$box}/s1 (\Seen) {msg:second}
c1> a LIST "" {$box}/% RETURN (STATUS (MESSAGES UNSEEN))
c1< * LIST ({...}) "/" {astr:{$box}/s1}
c1< * STATUS {astr:{$box}/s1} ({MESSAGES 2 UNSEEN 1|UNSEEN 1 MESSAGES 2})
c1< a OK {...}

=== list-status-nonexistent-skipped
rfc: 5819 §2
area: list-status
requires: LIST-STATUS LIST-EXTENDED
doc: no STATUS for a name listed as \NonExistent (a subscription whose mailbox was deleted)
setup: CREATE {$box}/gone
setup: SUBSCRIBE {$box}/gone
setup: DELETE {$box}/gone
c1> a LIST (SUBSCRIBED) "" {$box}/* RETURN (STATUS (MESSAGES))
c1< * LIST ({...}\NonExistent{...}) "/" {astr:{$box}/gone}
c1< ! * STATUS {astr:{$box}/gone} {...}
c1< a OK {...}

=== list-status-uidnext
rfc: 5819 §2
area: list-status
requires: LIST-STATUS
setup: CREATE {$box}/u
c1> a LIST "" {$box}/u RETURN (STATUS (UIDNEXT MESSAGES))
c1< * STATUS {astr:{$box}/u} ({...}MESSAGES 0{...})
c1< a OK {...}

=== special-use-return
rfc: 6154 §5.1
area: special-use
requires: SPECIAL-USE LIST-EXTENDED
doc: the test account is expected to have the usual special-use mailboxes (Sent at least)
c1> a LIST "" "*" RETURN (SPECIAL-USE)
c1< * LIST ({...}\Sent{...}) {...}
c1< a OK {...}

=== special-use-selection
rfc: 6154 §5.1
area: special-use
requires: SPECIAL-USE LIST-EXTENDED
doc: the SPECIAL-USE selection option returns only mailboxes with special-use attributes
setup: CREATE {$box}/plain
c1> a LIST (SPECIAL-USE) "" "*"
c1< * LIST ({...}\{Sent|Drafts|Trash|Junk|Archive|All|Flagged}{...}) {...}
c1< ! * LIST ({...}) "/" {astr:{$box}/plain}
c1< ! * LIST ({...}) {...} INBOX
c1< a OK {...}

=== create-special-use
rfc: 6154 §3
area: special-use
requires: CREATE-SPECIAL-USE
doc: CREATE with USE: the server creates it with the attribute, or refuses with NO [USEATTR]
c1> a CREATE {$box}/flagged (USE (\Flagged))
c1< a {OK|NO [USEATTR]}{...}
c1> b LIST "" {$box}/* RETURN (SPECIAL-USE)
c1< ? * LIST ({...}\Flagged{...}) "/" {astr:{$box}/flagged}
c1< b OK {...}

=== create-special-use-unknown
rfc: 6154 §3
area: special-use
requires: CREATE-SPECIAL-USE
c1> a CREATE {$box}/weird (USE (\NoSuchUse))
c1< a NO {...}
c1> b LIST "" {$box}/weird
c1< ! * LIST {...}
c1< b OK {...}

=== children-hasnochildren
rfc: 3348 §3
area: list
requires: CHILDREN
setup: CREATE {$box}/leafy
c1> a LIST "" {$box}/leafy
c1< * LIST ({...}\HasNoChildren{...}) "/" {astr:{$box}/leafy}
c1< a OK {...}
"""
