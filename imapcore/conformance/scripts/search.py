"""SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4): every search key on a four-message mailbox
whose flags, keywords, internal dates, sizes, headers and bodies are known. Each key is checked as
SEARCH (sequence numbers) and UID SEARCH (UIDs read from the mailbox first); results are sets
(servers may order them as they like)."""

SETUP = r"""setup: APPEND {$box} (\Seen) "01-Feb-2020 10:00:00 +0000" {msg:plain}
setup: APPEND {$box} (\Flagged \Answered) "05-Mar-2021 10:00:00 +0000" {msg:second}
setup: APPEND {$box} (\Draft $Work) "10-Apr-2022 10:00:00 +0000" {msg:third}
setup: APPEND {$box} (\Deleted) "15-May-2023 10:00:00 +0000" {msg:multipart}
"""

# message 1 plain (291 bytes, \Seen, From alice, To bob, Cc carol, "Hello world", sent 07-Feb-1994)
# message 2 second (243 bytes, \Flagged \Answered, From bob, To alice, "Re: Hello world", 08-Feb-1994)
# message 3 third (391 bytes, \Draft $Work, From dave, To alice, "Meeting agenda", 09-Feb-1994, X-Priority)
# message 4 multipart (492 bytes, \Deleted, From alice, To bob, "With attachment", 10-Feb-1994)
CASES = [
    ("all", "ALL", "1 2 3 4", "9051 §6.4.4"),
    ("seen", "SEEN", "1", "9051 §6.4.4"),
    ("unseen", "UNSEEN", "2 3 4", "9051 §6.4.4"),
    ("flagged", "FLAGGED", "2", "9051 §6.4.4"),
    ("unflagged", "UNFLAGGED", "1 3 4", "9051 §6.4.4"),
    ("answered", "ANSWERED", "2", "9051 §6.4.4"),
    ("unanswered", "UNANSWERED", "1 3 4", "9051 §6.4.4"),
    ("draft", "DRAFT", "3", "9051 §6.4.4"),
    ("undraft", "UNDRAFT", "1 2 4", "9051 §6.4.4"),
    ("deleted", "DELETED", "4", "9051 §6.4.4"),
    ("undeleted", "UNDELETED", "1 2 3", "9051 §6.4.4"),
    ("keyword", "KEYWORD $Work", "3", "9051 §6.4.4"),
    ("unkeyword", "UNKEYWORD $Work", "1 2 4", "9051 §6.4.4"),
    ("keyword-unused", "KEYWORD $NeverSet", "", "9051 §6.4.4"),
    ("from-name", "FROM alice", "1 4", "9051 §6.4.4"),
    ("from-address", "FROM \"bob@example.net\"", "2", "9051 §6.4.4"),
    ("from-case-insensitive", "FROM DAVE", "3", "9051 §6.4.4"),
    ("to", "TO alice", "2 3", "9051 §6.4.4"),
    ("cc", "CC carol", "1", "9051 §6.4.4"),
    ("bcc-none", "BCC carol", "", "9051 §6.4.4"),
    ("subject", "SUBJECT hello", "1 2", "9051 §6.4.4"),
    ("subject-substring", "SUBJECT \"Re:\"", "2", "9051 §6.4.4"),
    ("subject-no-match", "SUBJECT \"no such subject\"", "", "9051 §6.4.4"),
    ("body", "BODY zebra", "2", "9051 §6.4.4"),
    ("body-phrase", "BODY \"quick brown\"", "1", "9051 §6.4.4"),
    ("body-not-header", "BODY Meeting", "", "9051 §6.4.4"),
    ("text-header-and-body", "TEXT Meeting", "3", "9051 §6.4.4"),
    ("text-everywhere", "TEXT alice", "1 2 3 4", "9051 §6.4.4"),
    ("header-field", "HEADER X-Priority 1", "3", "9051 §6.4.4"),
    ("header-empty-value", "HEADER In-Reply-To \"\"", "2", "9051 §6.4.4"),
    ("header-message-id", "HEADER Message-ID plain-1", "1", "9051 §6.4.4"),
    ("larger", "LARGER 300", "3 4", "9051 §6.4.4"),
    ("smaller", "SMALLER 250", "2", "9051 §6.4.4"),
    ("larger-none", "LARGER 100000", "", "9051 §6.4.4"),
    ("before", "BEFORE 01-Jan-2022", "1 2", "9051 §6.4.4"),
    ("since", "SINCE 01-Jan-2022", "3 4", "9051 §6.4.4"),
    ("on", "ON 05-Mar-2021", "2", "9051 §6.4.4"),
    ("since-is-inclusive", "SINCE 10-Apr-2022", "3 4", "9051 §6.4.4"),
    ("before-is-exclusive", "BEFORE 10-Apr-2022", "1 2", "9051 §6.4.4"),
    ("sentbefore", "SENTBEFORE 09-Feb-1994", "1 2", "9051 §6.4.4"),
    ("sentsince", "SENTSINCE 09-Feb-1994", "3 4", "9051 §6.4.4"),
    ("senton", "SENTON 08-Feb-1994", "2", "9051 §6.4.4"),
    ("not", "NOT SEEN", "2 3 4", "9051 §6.4.4"),
    ("not-not", "NOT NOT SEEN", "1", "9051 §6.4.4"),
    ("or", "OR SEEN FLAGGED", "1 2", "9051 §6.4.4"),
    ("or-parenthesised", "OR (SEEN) (DRAFT)", "1 3", "9051 §6.4.4"),
    ("or-nested", "OR SEEN OR FLAGGED DRAFT", "1 2 3", "9051 §6.4.4"),
    ("and-implicit", "UNSEEN UNDELETED", "2 3", "9051 §6.4.4"),
    ("and-empty-intersection", "SEEN FLAGGED", "", "9051 §6.4.4"),
    ("parenthesised-group", "(FROM alice SUBJECT attachment)", "4", "9051 §6.4.4"),
    ("sequence-set-key", "2:3", "2 3", "9051 §6.4.4"),
    ("sequence-star", "*", "4", "9051 §6.4.4"),
    ("sequence-list", "1,4", "1 4", "9051 §6.4.4"),
    ("sequence-and-flag", "1:3 UNSEEN", "2 3", "9051 §6.4.4"),
    ("uid-key", "UID {$u2}:{$u3}", "2 3", "9051 §6.4.4"),
    ("uid-key-beyond-last", "UID {$u4+10}:*", "4", "9051 §6.4.9"),
    ("uid-key-nonexistent", "UID {$u4+10}", "", "9051 §6.4.4"),
    ("not-or", "NOT OR SEEN DELETED", "2 3", "9051 §6.4.4"),
    ("lowercase-keys", "unseen from bob", "2", "9051 §6.4.4"),
    ("charset-us-ascii", "CHARSET US-ASCII SUBJECT agenda", "3", "9051 §6.4.4"),
    ("charset-utf8-ascii-text", "CHARSET UTF-8 SUBJECT attachment", "4", "9051 §6.4.4"),
]

_RFC_FOR_CHARSET = "9051 §6.4.4"


def _script(name: str, key: str, expected: str, rfc: str) -> str:
    seq = f"* SEARCH {{set:{expected}}}" if expected else "* SEARCH"
    uids = " ".join(f"{{$u{n}}}" for n in expected.split())
    uid = f"* SEARCH {{set:{uids}}}" if expected else "* SEARCH"
    return f"""
=== search-{name}
rfc: {rfc}
area: search
{SETUP}c1> a SELECT {{$box}}
c1< * 4 EXISTS
c1< a OK {{...}}
c1> u FETCH 1:4 UID
c1< * 1 FETCH (UID {{=u1}})
c1< * 2 FETCH (UID {{=u2}})
c1< * 3 FETCH (UID {{=u3}})
c1< * 4 FETCH (UID {{=u4}})
c1< u OK {{...}}
c1> b SEARCH {key}
c1< {seq}
c1< b OK {{...}}
c1> c UID SEARCH {key}
c1< {uid}
c1< c OK {{...}}
"""


SCRIPTS = "".join(_script(*case) for case in CASES) + r"""
=== search-empty-mailbox
rfc: 9051 §6.4.4
area: search
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH ALL
c1< * SEARCH
c1< b OK {...}
c1> c UID SEARCH ALL
c1< * SEARCH
c1< c OK {...}

=== search-utf8-subject
rfc: 9051 §6.4.4
area: search
doc: SUBJECT matches the decoded header (RFC 2047 words), with CHARSET UTF-8 and a literal
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:encoded}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH CHARSET UTF-8 SUBJECT {lit:K\xc3\xb6ln}
c1< * SEARCH 2
c1< b OK {...}

=== search-utf8-body
rfc: 9051 §6.4.4
area: search
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:encoded}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH CHARSET UTF-8 BODY {lit:Sch\xc3\xb6ne}
c1< * SEARCH 2
c1< b OK {...}

=== search-utf8-from-encoded-name
rfc: 9051 §6.4.4
area: search
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:encoded}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH CHARSET UTF-8 FROM {lit:J\xc3\xb6rg}
c1< * SEARCH 2
c1< b OK {...}

=== search-badcharset
rfc: 9051 §6.4.4
area: search
doc: an unsupported charset gets NO with the BADCHARSET response code
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH CHARSET X-NO-SUCH-CHARSET SUBJECT hello
c1< b NO [BADCHARSET{...}]{...}
c1< ! * SEARCH{...}

=== search-unknown-key
rfc: 9051 §6.4.4
area: search
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH FROBNICATED
c1< b BAD {...}

=== search-missing-key
rfc: 9051 §6.4.4
area: search
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH
c1< b BAD {...}

=== search-unbalanced-parenthesis
rfc: 9051 §6.4.4
area: search
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH (SEEN
c1< b BAD {...}
c1> c NOOP
c1< c OK {...}

=== search-bad-date
rfc: 9051 §6.4.4
area: search
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH SINCE 2022-01-01
c1< b BAD {...}

=== search-larger-not-a-number
rfc: 9051 §6.4.4
area: search
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH LARGER big
c1< b BAD {...}

=== search-after-store
rfc: 9051 §6.4.4
area: search
doc: a flag change is visible to the next SEARCH
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b STORE 2 +FLAGS.SILENT (\Flagged)
c1< b OK {...}
c1> c SEARCH FLAGGED
c1< * SEARCH 2
c1< c OK {...}

=== search-after-expunge-renumbers
rfc: 9051 §6.4.4
area: search
setup: APPEND {$box} (\Deleted) {msg:plain}
setup: APPEND {$box} (\Flagged) {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b EXPUNGE
c1< * 1 EXPUNGE
c1< b OK {...}
c1> c SEARCH FLAGGED
c1< * SEARCH 1
c1< c OK {...}

=== search-header-case-insensitive-name
rfc: 9051 §6.4.4
area: search
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b SEARCH HEADER x-priority 1
c1< * SEARCH 1
c1< b OK {...}
"""
