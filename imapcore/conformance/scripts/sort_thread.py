"""SORT and THREAD (RFC 5256), ESORT and CONTEXT=SEARCH (RFC 5267), PARTIAL (RFC 9394), REPLACE
(RFC 8508). The mailbox is the four messages of the SEARCH scripts (sizes 291, 243, 391, 492;
From alice, bob, dave, alice; To bob, alice, alice, bob; Cc carol on 1 only; 2 replies to 1)."""

from .search import SETUP

_SORT = [
    ("subject", "(SUBJECT) UTF-8 ALL", "1 2 3 4"),
    ("reverse-subject", "(REVERSE SUBJECT) UTF-8 ALL", "4 3 1 2"),
    ("size", "(SIZE) UTF-8 ALL", "2 1 3 4"),
    ("reverse-size", "(REVERSE SIZE) UTF-8 ALL", "4 3 1 2"),
    ("from", "(FROM) UTF-8 ALL", "1 4 2 3"),
    ("to", "(TO) UTF-8 ALL", "2 3 1 4"),
    ("cc", "(CC) UTF-8 ALL", "2 3 4 1"),
    ("date", "(DATE) UTF-8 ALL", "1 2 3 4"),
    ("arrival", "(ARRIVAL) UTF-8 ALL", "1 2 3 4"),
    ("reverse-arrival", "(REVERSE ARRIVAL) UTF-8 ALL", "4 3 2 1"),
    ("two-keys", "(TO SIZE) UTF-8 ALL", "2 3 1 4"),
    ("with-search-criteria", "(SIZE) UTF-8 UNSEEN", "2 3 4"),
    ("us-ascii", "(REVERSE SIZE) US-ASCII FLAGGED", "2"),
]


def _sort(name: str, arguments: str, expected: str) -> str:
    return f"""
=== sort-{name}
rfc: 5256 §3
area: sort
requires: SORT
{SETUP}c1> a SELECT {{$box}}
c1< a OK {{...}}
c1> b SORT {arguments}
c1< * SORT {expected}
c1< b OK {{...}}
"""


SCRIPTS = "".join(_sort(*case) for case in _SORT) + r"""
=== sort-uid
rfc: 5256 §3
area: sort
requires: SORT
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 1:4 UID
c1< * 1 FETCH (UID {=u1})
c1< * 2 FETCH (UID {=u2})
c1< u OK {...}
c1> b UID SORT (REVERSE SIZE) UTF-8 SMALLER 300
c1< * SORT {$u1} {$u2}
c1< b OK {...}

=== sort-no-match
rfc: 5256 §3
area: sort
requires: SORT
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SORT (SIZE) UTF-8 KEYWORD $Never
c1< * SORT
c1< b OK {...}

=== sort-bad-charset
rfc: 5256 §3
area: sort
requires: SORT
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SORT (SIZE) X-NO-SUCH-CHARSET ALL
c1< b NO [BADCHARSET{...}]{...}

=== sort-bad-criterion
rfc: 5256 §3
area: sort
requires: SORT
c1> a SELECT {$box}
c1< a OK {...}
c1> b SORT (SHOESIZE) UTF-8 ALL
c1< b BAD {...}

=== sort-missing-charset
rfc: 5256 §3
area: sort
requires: SORT
c1> a SELECT {$box}
c1< a OK {...}
c1> b SORT (SIZE) ALL
c1< b BAD {...}

=== thread-orderedsubject
rfc: 5256 §4
area: thread
requires: THREAD=ORDEREDSUBJECT
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b THREAD ORDEREDSUBJECT UTF-8 ALL
c1< * THREAD (1 2)(3)(4)
c1< b OK {...}

=== thread-references
rfc: 5256 §4
area: thread
requires: THREAD=REFERENCES
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b THREAD REFERENCES UTF-8 ALL
c1< * THREAD (1 2)(3)(4)
c1< b OK {...}

=== thread-with-criteria
rfc: 5256 §4
area: thread
requires: THREAD=REFERENCES
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b THREAD REFERENCES UTF-8 FLAGGED
c1< * THREAD (2)
c1< b OK {...}

=== thread-unknown-algorithm
rfc: 5256 §4
area: thread
requires: THREAD=REFERENCES
c1> a SELECT {$box}
c1< a OK {...}
c1> b THREAD NOSUCHALGORITHM UTF-8 ALL
c1< b {BAD|NO} {...}

=== esort-min-max-count
rfc: 5267 §3.1
area: esort
requires: ESORT
doc: MIN and MAX are the first and last message in the sort order
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SORT RETURN (MIN MAX COUNT) (SIZE) UTF-8 ALL
c1< * ESEARCH (TAG "b"){...} MIN 2{...}
c1< & * ESEARCH (TAG "b"){...} MAX 4{...}
c1< & * ESEARCH (TAG "b"){...} COUNT 4{...}
c1< b OK {...}

=== esort-all-in-sort-order
rfc: 5267 §3.2
area: esort
requires: ESORT
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SORT RETURN (ALL) (SIZE) UTF-8 ALL
c1< * ESEARCH (TAG "b") ALL 2,1,3:4
c1< b OK {...}

=== context-partial
rfc: 5267 §4.4
area: context
requires: CONTEXT=SEARCH
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (PARTIAL 2:3) ALL
c1< * ESEARCH (TAG "b") PARTIAL (2:3 2:3)
c1< b OK {...}

=== context-partial-beyond-results
rfc: 5267 §4.4
area: context
requires: CONTEXT=SEARCH
doc: a range past the end of the results gives the range and NIL
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (PARTIAL 10:20) ALL
c1< * ESEARCH (TAG "b") PARTIAL (10:20 NIL)
c1< b OK {...}

=== context-update-addto
rfc: 5267 §4.3.3
area: context
requires: CONTEXT=SEARCH
doc: RETURN (UPDATE) keeps the search live: a message that starts to match is reported with ADDTO
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (UPDATE) FLAGGED
c1< b OK {...}
c2> c SELECT {$box}
c2< c OK {...}
c2> d STORE 1 +FLAGS (\Flagged)
c2< d OK {...}
c1> e NOOP
c1< e OK {...}
c1= * ESEARCH (TAG "b") ADDTO ({...}1{...})
c1> f CANCELUPDATE "b"
c1< f OK {...}

=== context-cancelupdate-unknown
rfc: 5267 §4.3.5
area: context
requires: CONTEXT=SEARCH
c1> a SELECT {$box}
c1< a OK {...}
c1> b CANCELUPDATE "nosuchtag"
c1< b {BAD|NO|OK} {...}
c1> c NOOP
c1< c OK {...}

=== partial-first-results
rfc: 9394 §3.1
area: partial
requires: PARTIAL
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (PARTIAL 1:2) ALL
c1< * ESEARCH (TAG "b") PARTIAL (1:2 1:2)
c1< b OK {...}

=== partial-last-results
rfc: 9394 §3.1
area: partial
requires: PARTIAL
doc: negative ranges count from the end of the result list
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (PARTIAL -1:-2) ALL
c1< * ESEARCH (TAG "b") PARTIAL ({-1:-2|-2:-1} 3:4)
c1< b OK {...}

=== partial-uid-fetch-modifier
rfc: 9394 §3.3
area: partial
requires: PARTIAL
doc: the PARTIAL modifier of UID FETCH returns only the given part of the matching messages
""" + SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b UID FETCH 1:* (RFC822.SIZE) (PARTIAL 1:2)
c1< * 1 FETCH ({...}RFC822.SIZE 291{...})
c1< * 2 FETCH ({...}RFC822.SIZE 243{...})
c1< ! * 3 FETCH {...}
c1< b OK {...}

=== replace-message
rfc: 8508 §3.3
area: replace
requires: REPLACE
doc: REPLACE appends the new message and expunges the old one, atomically
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b REPLACE 1 {$box} {msg:second}
c1< * 1 EXPUNGE
c1< b OK {...}
c1> c NOOP
c1< c OK {...}
c1> d FETCH 1 RFC822.SIZE
c1< * 1 FETCH (RFC822.SIZE 243)
c1< d OK {...}

=== replace-to-other-mailbox
rfc: 8508 §3.3
area: replace
requires: REPLACE
setup: CREATE {$box}/other
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 1 UID
c1< * 1 FETCH (UID {=uid})
c1< u OK {...}
c1> b UID REPLACE {$uid} {$box}/other {msg:third}
c1< * 1 EXPUNGE
c1< b OK {...}
c1> c STATUS {$box}/other (MESSAGES)
c1< * STATUS {astr:{$box}/other} (MESSAGES 1)
c1< c OK {...}

=== replace-nonexistent-message
rfc: 8508 §3.3
area: replace
requires: REPLACE
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b REPLACE 5 {$box} {msg+:second}
c1< b {BAD|NO} {...}
c1> c STATUS {$box} (MESSAGES)
c1< c {OK|NO}{...}
"""
