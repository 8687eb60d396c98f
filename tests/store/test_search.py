"""SEARCH through SQL, the header index and FTS gives the same UIDs as a linear scan of the corpus.

The reference is ``imapcore.mail.search.matches`` evaluating the program message by message over the
``summarize`` output of each blob and the stored flags and dates. Programs are drawn by hypothesis from
keys that cover every SQL path (flags, keywords in any case, header index, FTS with long and short
needles, dates, sizes, UID and sequence sets, MODSEQ, EMAILID/THREADID).
"""

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imapcore.mail import summarize
from imapcore.mail.search import SearchableMessage, SearchContext, matches, search_fold
from imapcore.store import FlagMode, NewMessage, Store
from imapcore.syntax.model import STAR, SearchAnd, SearchKey, SearchNot, SearchOr, SequenceSet
from support.store_corpus import WORDS, make_message

CORPUS_SIZE = 240
SYSTEM = {"SEEN": "\\Seen", "ANSWERED": "\\Answered", "FLAGGED": "\\Flagged", "DELETED": "\\Deleted", "DRAFT": "\\Draft"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(7)
    store = Store.open(tmp_path_factory.mktemp("search") / "d", durable=False, synchronous="OFF")
    store.create_user("u")
    messages = []
    for i in range(CORPUS_SIZE):
        raw = make_message(i, body_kb=rng.choice([0.2, 0.5, 1.0]))
        flags = frozenset(f for f in SYSTEM.values() if rng.random() < 0.3) | frozenset(
            k for k in ("$a", "$b") if rng.random() < 0.3
        )
        zone = dt.timezone(dt.timedelta(hours=rng.randint(-11, 12)))
        when = dt.datetime(2024, rng.randint(1, 3), rng.randint(1, 28), rng.randint(0, 23), tzinfo=zone)
        messages.append(NewMessage(raw, flags, when))
    store.append_many("u", "INBOX", messages[: CORPUS_SIZE // 2])
    for message in messages[CORPUS_SIZE // 2:]:
        store.append("u", "INBOX", message.raw, message.flags, message.internal_date)
    box = store.mailbox("u", "INBOX").id
    store.expunge(box, SequenceSet(((1, 10),)))  # holes in the UID space
    store.store_flags(box, SequenceSet(((100, 140),)), FlagMode.ADD, ["$c"])
    rows = store.fetch_rows(
        box, SequenceSet(((1, STAR),)),
        ["flags", "size", "internal_date", "save_date", "modseq", "blob_id", "email_id", "thread_id"],
    )
    records = []
    for row in rows:
        summary = summarize(store.read_blob(row.blob_id))
        records.append((row, summary))
    yield store, box, records
    store.close()


def reference(program, row, summary, session_uids):
    """The linear scan: imapcore.mail.search.matches on one message at a time."""
    message = SearchableMessage(
        seq=session_uids.index(row.uid) + 1, uid=row.uid, flags=row.flags, internal_date=row.internal_date,
        size=row.size, summary=summary, save_date=row.save_date, modseq=row.modseq, email_id=row.email_id,
        thread_id=row.thread_id,
    )
    context = SearchContext(largest_seq=len(session_uids), largest_uid=session_uids[-1])
    return matches(program, message, context)


needles = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).flatmap(lambda w: st.integers(0, max(0, len(w) - 1)).map(lambda i: w[i:i + 3])),
    st.sampled_from(WORDS).map(str.upper),
    st.sampled_from(["a", "é", "e", "ss", "STRASSE", "xq", "seed1", "seed12", "ü", "u", "juergen", "Müller",
                     "@example", "bob builder", "", "CAFE", "cafe\u0301", "naive", "ﬁ", "from: bob"]),
    # Needles with spaces: the word index narrows, the stored text decides (adjacent words or not).
    st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS)).map(" ".join),
    st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS)).map(lambda t: t[0][-3:] + " " + t[1][:4]),
    st.sampled_from([" alpha", "alpha ", "a b", "x  y", "seed1\r\n", "lorem ipsum dolor"]),
)
dates = st.dates(dt.date(2023, 12, 25), dt.date(2024, 7, 1))
uid_sets = st.lists(st.tuples(st.integers(0, 260), st.integers(0, 260)), min_size=1, max_size=4).map(
    lambda ranges: SequenceSet(tuple(ranges))
)
leaves = st.one_of(
    st.sampled_from([SearchKey(n) for n in list(SYSTEM) + ["UN" + n for n in SYSTEM] + ["ALL"]]),
    st.sampled_from(["$a", "$b", "$c", "$none", "$A", "$C"]).flatmap(
        lambda k: st.sampled_from([SearchKey("KEYWORD", (k,)), SearchKey("UNKEYWORD", (k,))])
    ),
    st.tuples(st.sampled_from(["FROM", "TO", "SUBJECT", "CC", "BODY", "TEXT"]), needles).map(
        lambda t: SearchKey(t[0], (t[1],))
    ),
    st.tuples(st.sampled_from(["X-Tag", "message-id", "Date", "X-Missing"]), needles).map(
        lambda t: SearchKey("HEADER", t)
    ),
    st.tuples(st.sampled_from(["LARGER", "SMALLER"]), st.integers(100, 2000)).map(lambda t: SearchKey(t[0], (t[1],))),
    st.tuples(st.sampled_from(["BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE"]), dates).map(
        lambda t: SearchKey(t[0], (t[1],))
    ),
    uid_sets.map(lambda s: SearchKey("UID", (s,))),
    uid_sets.map(lambda s: SearchKey("SEQ", (s,))),
    st.integers(1, 400).map(lambda n: SearchKey("MODSEQ", (n, None))),
    st.sampled_from(["SAVEDBEFORE", "SAVEDON", "SAVEDSINCE"]).map(
        lambda n: SearchKey(n, (dt.datetime.now(dt.timezone.utc).date(),))
    ),
    st.tuples(st.sampled_from(["OLDER", "YOUNGER"]), st.integers(0, 10**9)).map(lambda t: SearchKey(t[0], (t[1],))),
    st.sampled_from(["EMAILID", "THREADID"]).flatmap(
        lambda n: st.sampled_from(["M" + "0" * 24, "T" + "0" * 24]).map(lambda v: SearchKey(n, (v,)))
    ),
)
programs = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda ks: SearchAnd(tuple(ks))),
        st.tuples(children, children).map(lambda t: SearchOr(*t)),
        children.map(SearchNot),
    ),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=programs)
def test_search_equals_linear_scan(corpus, program):
    store, box, records = corpus
    session_uids = [row.uid for row, _ in records]
    expected = [row.uid for row, summary in records if reference(program, row, summary, session_uids)]
    assert store.search(box, program, uids=session_uids) == expected


def test_body_search_hits_substrings_and_misses(corpus):
    store, box, records = corpus
    some = store.search(box, SearchKey("BODY", ("LPH",)))  # inside "alpha": a substring, not a word
    assert some == [row.uid for row, s in records if "lph" in s.text.casefold()] and some
    accented = store.search(box, SearchKey("BODY", ("CAFE",)))  # "café" folds to "cafe" + combining accent
    assert accented == [row.uid for row, s in records if "cafe" in search_fold(s.text)] and accented
    # Each generated body ends with "seed<N>": "seed17" matches message 17 and 170-179, as substrings do.
    seeded = store.search(box, SearchKey("TEXT", ("SEED17",)))
    assert seeded == [row.uid for row, s in records if "seed17" in s.text]
    assert len(seeded) >= 2
    # Two words that occur in many bodies, but adjacent only in some: the index alone would say all.
    pair = store.search(box, SearchKey("BODY", ("alpha bravo",)))
    both = [row.uid for row, s in records if "alpha" in s.text and "bravo" in s.text]
    assert pair == [row.uid for row, s in records if "alpha bravo" in s.text]
    assert pair and len(pair) < len(both)


def test_session_view_hides_newer_messages(corpus):
    store, box, records = corpus
    all_uids = [row.uid for row, _ in records]
    assert store.search(box, SearchKey("ALL"), uids=all_uids[:5]) == all_uids[:5]
    assert store.search(box, SearchKey("ALL"), uids=[]) == []
