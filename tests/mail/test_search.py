"""Search matching for every key of RFC 9051 §6.4.4 and the extensions."""

from datetime import date, datetime, timedelta, timezone

import pytest

from imapcore.mail import SearchableMessage, SearchContext, matches, summarize
from imapcore.syntax.model import STAR, SearchAnd, SearchKey, SearchNot, SearchOr, SequenceSet

RAW = (
    "From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.de>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Cc: carol@example.net\r\n"
    "Bcc: dave@example.com\r\n"
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= from Köln\r\n"
    "Date: Sat, 02 Mar 2024 23:30:00 -0800\r\n"
    "X-Tag: Alpha\r\n"
    "Content-Type: multipart/alternative; boundary=b\r\n"
    "\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "The caf=C3=A9 is open.\r\n"
    "--b\r\nContent-Type: text/html\r\n\r\n<p>HTML <b>only</b> words</p>\r\n--b--\r\n"
).encode()  # the Subject carries raw 8-bit UTF-8 too (RFC 6532)

# INTERNALDATE 2024-03-03 01:00 in +0100, which is 2024-03-03 00:00 UTC.
INTERNAL = datetime(2024, 3, 3, 1, 0, tzinfo=timezone(timedelta(hours=1)))


def message(**changes):
    values = dict(
        seq=3, uid=30, flags=frozenset({"\\Seen", "\\Recent", "$Important"}), internal_date=INTERNAL,
        size=len(RAW), summary=summarize(RAW), save_date=None, modseq=77, email_id="M1", thread_id="T1",
    )
    values.update(changes)
    return SearchableMessage(**values)


def key(name, *args):
    return SearchKey(name, tuple(args))


def check(program, expected, msg=None, context=None):
    assert matches(program, msg or message(), context) is expected, program


CONTEXT = SearchContext(now=INTERNAL + timedelta(seconds=100), largest_seq=5, largest_uid=50, saved_uids=frozenset({30}))


@pytest.mark.parametrize(
    "name,flags,expected",
    [
        ("ALL", set(), True),
        ("SEEN", {"\\Seen"}, True), ("SEEN", set(), False), ("UNSEEN", set(), True),
        ("ANSWERED", {"\\answered"}, True), ("UNANSWERED", {"\\Answered"}, False),
        ("DELETED", {"\\Deleted"}, True), ("UNDELETED", {"\\Deleted"}, False),
        ("DRAFT", {"\\Draft"}, True), ("UNDRAFT", set(), True),
        ("FLAGGED", {"\\Flagged"}, True), ("UNFLAGGED", {"\\Flagged"}, False),
        ("RECENT", {"\\Recent"}, True), ("OLD", {"\\Recent"}, False), ("OLD", set(), True),
        ("NEW", {"\\Recent"}, True), ("NEW", {"\\Recent", "\\Seen"}, False), ("NEW", set(), False),
    ],
)
def test_flag_keys(name, flags, expected):
    check(key(name), expected, message(flags=frozenset(flags)))


def test_keywords_are_case_insensitive():
    check(key("KEYWORD", "$important"), True)
    check(key("KEYWORD", "$Other"), False)
    check(key("UNKEYWORD", "$IMPORTANT"), False)


def test_address_and_subject_keys_use_decoded_values():
    check(key("FROM", "jürgen"), True)
    check(key("FROM", "JUERGEN@EXAMPLE"), True)
    check(key("TO", "bob@"), True)
    check(key("CC", "carol"), True)
    check(key("BCC", "dave@example.com"), True)
    check(key("BCC", "bob"), False)
    check(key("SUBJECT", "grüße"), True)
    check(key("SUBJECT", "köln"), True)
    check(key("SUBJECT", "hello"), False)


def test_header_key():
    check(key("HEADER", "x-tag", "alp"), True)
    check(key("HEADER", "X-TAG", ""), True)
    check(key("HEADER", "x-missing", ""), False)
    check(key("HEADER", "x-tag", "beta"), False)


def test_body_and_text():
    check(key("BODY", "CAFÉ IS"), True)  # quoted-printable utf-8 decoded
    check(key("BODY", "html only"), True)  # tags stripped
    check(key("BODY", "Köln"), False)  # the subject is not body
    check(key("TEXT", "Köln"), True)
    check(key("TEXT", "x-tag: alpha"), True)
    check(key("TEXT", "nowhere"), False)


def test_size_keys():
    check(key("LARGER", len(RAW) - 1), True)
    check(key("LARGER", len(RAW)), False)
    check(key("SMALLER", len(RAW) + 1), True)
    check(key("SMALLER", len(RAW)), False)


def test_internal_date_keys_use_its_own_zone():
    # 2024-03-03 in +0100 (it is still 2024-03-03 00:00 in UTC; in -0800 it would be 2024-03-02).
    check(key("ON", date(2024, 3, 3)), True)
    check(key("ON", date(2024, 3, 2)), False)
    check(key("SINCE", date(2024, 3, 3)), True)
    check(key("SINCE", date(2024, 3, 4)), False)
    check(key("BEFORE", date(2024, 3, 3)), False)
    check(key("BEFORE", date(2024, 3, 4)), True)
    shifted = message(internal_date=INTERNAL.astimezone(timezone(timedelta(hours=-8))))
    check(key("ON", date(2024, 3, 2)), True, shifted)


def test_sent_date_keys_use_the_date_header_zone():
    # Date: Sat, 02 Mar 2024 23:30 -0800 (already 2024-03-03 in UTC): the header's own day counts.
    check(key("SENTON", date(2024, 3, 2)), True)
    check(key("SENTBEFORE", date(2024, 3, 3)), True)
    check(key("SENTSINCE", date(2024, 3, 3)), False)
    no_date = message(summary=summarize(b"Subject: x\r\n\r\nbody"))
    check(key("SENTON", date(2024, 3, 3)), True, no_date)  # falls back to INTERNALDATE


def test_save_date_keys():
    saved = message(save_date=datetime(2024, 4, 1, 12, tzinfo=timezone.utc))
    check(key("SAVEDON", date(2024, 4, 1)), True, saved)
    check(key("SAVEDBEFORE", date(2024, 4, 1)), False, saved)
    check(key("SAVEDSINCE", date(2024, 3, 31)), True, saved)
    check(key("SAVEDON", date(2024, 3, 3)), True)  # RFC 8514 §4: no save date -> INTERNALDATE
    check(key("SAVEDATESUPPORTED"), True)
    check(key("SAVEDATESUPPORTED"), False, None, SearchContext(savedate_supported=False))


def test_within():
    check(key("OLDER", 100), True, None, CONTEXT)
    check(key("OLDER", 101), False, None, CONTEXT)
    check(key("YOUNGER", 100), True, None, CONTEXT)
    check(key("YOUNGER", 99), False, None, CONTEXT)


def test_uid_seq_and_saved_result():
    check(key("UID", SequenceSet(((1, 29),))), False, None, CONTEXT)
    check(key("UID", SequenceSet(((30, STAR),))), True, None, CONTEXT)
    check(key("UID", SequenceSet(((STAR, STAR),))), False, None, CONTEXT)
    check(key("SEQ", SequenceSet(((3, 3),))), True, None, CONTEXT)
    check(key("SEQ", SequenceSet(((STAR, 4),))), False, None, CONTEXT)
    check(key("SEQ", SequenceSet(saved=True)), True, None, CONTEXT)
    check(key("UID", SequenceSet(saved=True)), False, message(uid=31), CONTEXT)


def test_modseq_and_object_ids():
    check(key("MODSEQ", 77, None), True)
    check(key("MODSEQ", 78, ("/flags/\\draft", "all")), False)
    check(key("EMAILID", "M1"), True)
    check(key("EMAILID", "M2"), False)
    check(key("THREADID", "T1"), True)


def test_boolean_structure():
    check(SearchAnd((key("SEEN"), key("FROM", "juergen"))), True)
    check(SearchAnd((key("SEEN"), key("FROM", "nobody"))), False)
    check(SearchOr(key("DELETED"), key("SUBJECT", "köln")), True)
    check(SearchOr(key("DELETED"), key("DRAFT")), False)
    check(SearchNot(key("DELETED")), True)
    check(SearchNot(SearchOr(key("SEEN"), key("DRAFT"))), False)
    check(SearchAnd(()), True)


def test_summary_is_loaded_lazily_and_only_when_needed():
    calls = []

    def load():
        calls.append(1)
        return RAW

    lazy = message(summary=None, load_raw=load)
    check(key("SEEN"), True, lazy)
    assert calls == []
    check(SearchAnd((key("SUBJECT", "grüße"), key("BODY", "café"))), True, lazy)
    assert calls == [1]  # one load serves every key of the evaluation


def test_search_fold_is_casefold_then_nfkd():
    from imapcore.mail.search import search_fold

    assert search_fold("CAFÉ") == "cafe\u0301"
    assert search_fold("Straße") == "strasse"
    assert search_fold("ﬁle") == "file"  # NFKD compatibility ligature
    crème = message(summary=summarize("Subject: Crème brûlée\r\n\r\nx".encode()))
    check(key("SUBJECT", "re"), True, crème)  # as Dovecot (i;unicode-casemap shape) answers
    check(key("SUBJECT", "BRULEE"), False, crème)  # decomposed, not accent-stripped: "u\u0302l" != "ul"
    check(key("SUBJECT", "brûlée"), True, crème)
