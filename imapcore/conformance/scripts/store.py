"""STORE and UID STORE (RFC 9051 §6.4.6, §6.4.9), flags and keywords (§2.3.2)."""

# (name, initial flags, store command, expected FETCH flags after, silent)
_CASES = [
    ("store-add-flag", "", "+FLAGS (\\Flagged)", "\\Flagged"),
    ("store-add-two-flags", "", "+FLAGS (\\Flagged \\Answered)", "\\Flagged \\Answered"),
    ("store-add-existing-flag", "\\Seen", "+FLAGS (\\Seen)", "\\Seen"),
    ("store-remove-flag", "\\Seen \\Flagged", "-FLAGS (\\Seen)", "\\Flagged"),
    ("store-remove-absent-flag", "\\Seen", "-FLAGS (\\Draft)", "\\Seen"),
    ("store-replace-flags", "\\Seen \\Flagged", "FLAGS (\\Draft)", "\\Draft"),
    ("store-replace-with-empty", "\\Seen \\Flagged", "FLAGS ()", ""),
    ("store-add-keyword", "", "+FLAGS ($Important)", "$Important"),
    ("store-keyword-and-system-flag", "", "+FLAGS (\\Seen $Label1)", "\\Seen $Label1"),
    ("store-remove-keyword", "$Label1 \\Seen", "-FLAGS ($Label1)", "\\Seen"),
    ("store-flag-without-parentheses", "", "+FLAGS \\Deleted", "\\Deleted"),
    ("store-deleted-flag", "", "+FLAGS (\\Deleted)", "\\Deleted"),
    ("store-draft-flag", "", "FLAGS (\\Draft \\Answered)", "\\Draft \\Answered"),
]


def _case(name: str, initial: str, action: str, after: str) -> str:
    append_flags = f"({initial}) " if initial else ""
    return f"""
=== {name}
rfc: 9051 §6.4.6
area: store
setup: APPEND {{$box}} {append_flags}{{msg:tiny}}
c1> a SELECT {{$box}}
c1< a OK {{...}}
c1> b STORE 1 {action}
c1< {"? " if set(initial.split()) == set(after.split()) else ""}* 1 FETCH ({{...}}FLAGS ({{flags:{after}}}){{...}})
c1< b OK {{...}}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({{flags:{after}}}))
c1< c OK {{...}}

=== {name}-silent
rfc: 9051 §6.4.6
area: store
doc: .SILENT: "the server SHOULD NOT send an untagged FETCH" for this session's own change; the
doc: flags are checked with FETCH
setup: APPEND {{$box}} {append_flags}{{msg:tiny}}
c1> a SELECT {{$box}}
c1< a OK {{...}}
c1> b STORE 1 {action.replace("FLAGS", "FLAGS.SILENT", 1)}
c1< b OK {{...}}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({{flags:{after}}}))
c1< c OK {{...}}
"""


SCRIPTS = "".join(_case(*case) for case in _CASES) + r"""
=== store-range
rfc: 9051 §6.4.6
area: store
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
setup: APPEND {$box} {msg:third}
c1> a SELECT {$box}
c1< a OK {...}
c1> b STORE 2:* +FLAGS (\Answered)
c1< * 2 FETCH ({...}FLAGS ({flags:\Answered}){...})
c1< * 3 FETCH ({...}FLAGS ({flags:\Answered}){...})
c1< ! * 1 FETCH {...}
c1< b OK {...}

=== store-uid
rfc: 9051 §6.4.9
area: store
doc: UID STORE: the FETCH responses carry the UID
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b FETCH 2 UID
c1< * 2 FETCH (UID {=uid})
c1< b OK {...}
c1> c UID STORE {$uid} +FLAGS (\Flagged)
c1< * 2 FETCH ({...}UID {$uid}{...})
c1< & * 2 FETCH ({...}FLAGS ({flags:\Flagged}){...})
c1< ! * 1 FETCH {...}
c1< c OK {...}

=== store-uid-silent-still-reports-nothing-else
rfc: 9051 §6.4.9
area: store
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b UID STORE 1:* +FLAGS.SILENT (\Seen)
c1< b OK {...}
c1> c FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:\Seen}))
c1< c OK {...}

=== store-uid-nonexistent
rfc: 9051 §6.4.9
area: store
doc: UID STORE on a UID that does not exist changes nothing and is not an error
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * OK [UIDNEXT {=next}]{...}
c1< a OK {...}
c1> b UID STORE {$next+7} +FLAGS (\Seen)
c1< ! * {#} FETCH {...}
c1< b OK {...}

=== store-bad-action
rfc: 9051 §6.4.6
area: store
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
c1> b STORE 1 *FLAGS (\Seen)
c1< b BAD {...}

=== store-missing-flags
rfc: 9051 §6.4.6
area: store
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< a OK {...}
dovecot: answers OK; RFC 9051 §9 store-att-flags requires a flag-list or at least one flag after
dovecot: "+FLAGS", so the command is a syntax error (tagged BAD, §7.1.3).
c1> b STORE 1 +FLAGS
c1< b BAD {...}

=== store-recent-not-storable
rfc: 3501 §6.4.6
area: store
requires: IMAP4rev1
doc: \Recent cannot be altered by the client (RFC 3501 §2.3.2); a server answers BAD or NO, or
doc: ignores it, but never reports it as stored on its own
setup: APPEND {$box} {msg:plain}
c1> a EXAMINE {$box}
c1< a OK {...}
c1> b SELECT {$box}
c1< b OK {...}
c1> c STORE 1 +FLAGS (\Recent)
c1< c {BAD|NO|OK}{...}
c1> d FETCH 1 FLAGS
c1< * 1 FETCH (FLAGS ({flags:}))
c1< d OK {...}

=== store-flags-visible-in-status-unseen
rfc: 9051 §6.3.11
area: store
setup: APPEND {$box} {msg:plain}
setup: APPEND {$box} {msg:second}
c1> a SELECT {$box}
c1< a OK {...}
c1> b STORE 1:2 +FLAGS.SILENT (\Seen)
c1< b OK {...}
c1> c UNSELECT
c1< c OK {...}
c1> d STATUS {$box} (UNSEEN)
c1< * STATUS {astr:{$box}} (UNSEEN 0)
c1< d OK {...}

=== store-new-keyword-permanentflags
rfc: 9051 §7.1
area: store
doc: PERMANENTFLAGS with "\*" means new keywords can be created: a STORE of a new keyword sticks
setup: APPEND {$box} {msg:plain}
c1> a SELECT {$box}
c1< * OK [PERMANENTFLAGS ({...}\*{...})]{...}
c1< a OK {...}
c1> b STORE 1 +FLAGS (NewKeyword1)
c1< b OK {...}
c2> c EXAMINE {$box}
c2< c OK {...}
c2> d FETCH 1 FLAGS
c2< * 1 FETCH (FLAGS ({flags:NewKeyword1}))
c2< d OK {...}
"""
