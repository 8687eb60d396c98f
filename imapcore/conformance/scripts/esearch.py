"""ESEARCH (RFC 4731) and SEARCHRES (RFC 5182): RETURN options, the ESEARCH response, "$"."""

_SETUP = r"""setup: APPEND {$box} (\Seen) {msg:plain}
setup: APPEND {$box} (\Flagged) {msg:second}
setup: APPEND {$box} (\Flagged) {msg:third}
setup: APPEND {$box} {msg:tiny}
"""

_ES = [
    ("min-max-count", "SEARCH RETURN (MIN MAX COUNT) FLAGGED", ["MIN 2", "MAX 3", "COUNT 2"], []),
    ("all", "SEARCH RETURN (ALL) FLAGGED", ["ALL 2:3"], []),
    ("empty-return-means-all", "SEARCH RETURN () UNFLAGGED", ["ALL {1,4|4,1}"], []),
    ("count-only", "SEARCH RETURN (COUNT) ALL", ["COUNT 4"], ["MIN", "MAX", "ALL"]),
    ("count-zero", "SEARCH RETURN (COUNT) KEYWORD $Never", ["COUNT 0"], []),
    ("min-only", "SEARCH RETURN (MIN) UNSEEN", ["MIN 2"], ["MAX", "COUNT"]),
    ("max-only", "SEARCH RETURN (MAX) UNSEEN", ["MAX 4"], ["MIN", "COUNT"]),
]


def _es(name, command, present, absent):
    lines = [f"=== esearch-{name}", "rfc: 4731 §3.1", "area: esearch", "requires: ESEARCH", _SETUP.rstrip("\n"),
             "c1> a SELECT {$box}", "c1< a OK {...}", f"c1> b {command}"]
    first = True
    for item in present:
        lines.append(("c1< " if first else "c1< & ") + f'* ESEARCH (TAG "b"){{...}} {item}{{...}}')
        first = False
    for item in absent:
        lines.append(f'c1< ! * ESEARCH (TAG "b"){{...}} {item} {{...}}')
    lines += ["c1< b OK {...}", ""]
    return "\n".join(lines) + "\n"


SCRIPTS = "".join(_es(*case) for case in _ES) + r"""
=== esearch-no-match-min-max-omitted
rfc: 4731 §3.1
area: esearch
requires: ESEARCH
doc: MIN and MAX are not returned when nothing matches
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (MIN MAX) KEYWORD $Never
c1< * ESEARCH (TAG "b")
c1< b OK {...}

=== esearch-uid-indicator
rfc: 4731 §3.1
area: esearch
requires: ESEARCH
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> u FETCH 1:2 UID
c1< * 1 FETCH (UID {=u1})
c1< * 2 FETCH (UID {=u2})
c1< u OK {...}
c1> b UID SEARCH RETURN (MIN MAX) ALL
c1< * ESEARCH (TAG "b") UID {...}MIN {$u1}{...}
c1< & * ESEARCH (TAG "b") UID {...}MAX {$u2}{...}
c1< b OK {...}

=== esearch-bad-return-option
rfc: 4731 §3.1
area: esearch
requires: ESEARCH
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (NOSUCHOPTION) ALL
c1< b BAD {...}

=== esearch-plain-search-unchanged
rfc: 4731 §3.1
area: esearch
requires: ESEARCH
doc: without RETURN, SEARCH still answers with SEARCH (for an IMAP4rev1 client)
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH ALL
c1< * SEARCH 1
c1< ! * ESEARCH{...}
c1< b OK {...}

=== searchres-save-and-fetch
rfc: 5182 §2.1
area: searchres
requires: SEARCHRES
""" + _SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (SAVE) FLAGGED
c1< ! * ESEARCH{...}
c1< ! * SEARCH{...}
c1< b OK {...}
c1> c FETCH $ RFC822.SIZE
c1< * 2 FETCH (RFC822.SIZE 243)
c1< * 3 FETCH (RFC822.SIZE 391)
c1< ! * 1 FETCH {...}
c1< ! * 4 FETCH {...}
c1< c OK {...}

=== searchres-save-with-min
rfc: 5182 §2.1
area: searchres
requires: SEARCHRES ESEARCH
""" + _SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (SAVE MIN) FLAGGED
c1< * ESEARCH (TAG "b") MIN 2
c1< b OK {...}
c1> c FETCH $ RFC822.SIZE
c1< * 2 FETCH (RFC822.SIZE 243)
c1< ! * 3 FETCH {...}
c1< c OK {...}

=== searchres-uid-save
rfc: 5182 §2.1
area: searchres
requires: SEARCHRES
""" + _SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b UID SEARCH RETURN (SAVE) SEEN
c1< b OK {...}
c1> c UID FETCH $ RFC822.SIZE
c1< * 1 FETCH ({...}RFC822.SIZE 291{...})
c1< ! * 2 FETCH {...}
c1< c OK {...}

=== searchres-empty-before-save
rfc: 5182 §2.1
area: searchres
requires: SEARCHRES
doc: "$" before any SEARCH RETURN (SAVE) in this mailbox is the empty set
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH $ FLAGS
c1< ! * {#} FETCH {...}
c1< b OK {...}

=== searchres-store-dollar
rfc: 5182 §2.1
area: searchres
requires: SEARCHRES
""" + _SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (SAVE) UNSEEN UNFLAGGED
c1< b OK {...}
c1> c STORE $ +FLAGS (\Answered)
c1< * 4 FETCH ({...}FLAGS ({flags:\Answered}){...})
c1< ! * 1 FETCH {...}
c1< c OK {...}

=== searchres-dollar-as-search-key
rfc: 5182 §2.1
area: searchres
requires: SEARCHRES
""" + _SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (SAVE) FLAGGED
c1< b OK {...}
c1> c SEARCH $ SMALLER 300
c1< * SEARCH 2
c1< c OK {...}

=== searchres-reset-by-select
rfc: 5182 §2.1
area: searchres
requires: SEARCHRES
doc: the saved result is reset when a mailbox is selected
""" + _SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (SAVE) ALL
c1< b OK {...}
c1> c SELECT {$box}
c1< c OK {...}
c1> d FETCH $ FLAGS
c1< ! * {#} FETCH {...}
c1< d OK {...}

=== searchres-copy-dollar
rfc: 5182 §2.1
area: searchres
requires: SEARCHRES
setup: CREATE {$box}/dst
""" + _SETUP + r"""c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH RETURN (SAVE) FLAGGED
c1< b OK {...}
c1> c COPY $ {$box}/dst
c1< c OK {...}
c1> d STATUS {$box}/dst (MESSAGES)
c1< * STATUS {astr:{$box}/dst} (MESSAGES 2)
c1< d OK {...}
"""
