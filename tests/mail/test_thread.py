"""RFC 5256 threading (imapcore.mail.thread): base subject and reply detection (§2.1, §3), sent date
(§2.2), Message-ID normalization, ORDEREDSUBJECT and REFERENCES step by step, and the §4 syntax."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from imapcore.mail.text import base_subject
from imapcore.mail.thread import (
    ThreadMessage,
    ThreadNode,
    message_ids,
    reference_ids,
    sent_date,
    subject_info,
    thread_lists,
    thread_ordered_subject,
    thread_references,
)


def msg(number, subject="", mid=None, date=None, irt=None, refs=()):
    return ThreadMessage(number, float(date if date is not None else number), subject, mid, irt, tuple(refs))


def shape(nodes) -> bytes:
    return thread_lists(nodes)


# --- §2.1 base subject and §3 reply or forward ------------------------------------------------------


def test_subject_info_strips_markers_and_says_reply_or_forward():
    cases = {
        "Re: [list] Fwd: hello (fwd)": ("hello", True),
        "[fwd: Re: x]": ("x", True),
        "[PATCH] foo": ("foo", False),  # a blob alone is not a reply marker
        "[only]": ("[only]", False),  # step 4: the last blob stays when nothing else is left
        "re:  re: Spaces \t  here": ("Spaces here", True),
        "Fw : x": ("x", True),
        "Re[2]: x": ("x", True),
        "hello (fwd)": ("hello", True),  # a "(fwd)" subj-trailer counts (§3)
        "Plain": ("Plain", False),
        "  ": ("", False),
        "Reply about Fwd": ("Reply about Fwd", False),
    }
    for subject, (base, reply) in cases.items():
        info = subject_info(subject)
        assert (info.base, info.reply_or_forward) == (base, reply), subject
    assert subject_info("RE: LOST").key == subject_info("Lost").key == "lost"  # §7: case-insensitive


_PIECES = ["Re:", "re :", "RE[3]:", "Fwd:", "FW:", "fw", "[list]", "[", "]", "[fwd:", "(fwd)", "(FWD)", " ",
           "\t", "a", "Subject", ":", "é", "[x] "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=10))
def test_base_subject_agrees_with_the_mail_layer(pieces):
    """The store keeps ``imapcore.mail.text.base_subject``; threading must compute the same subject."""
    subject = "".join(pieces)
    assert subject_info(subject).base == base_subject(subject)


# --- §2.2 sent date, message ids ---------------------------------------------------------------------


def test_sent_date_is_the_date_header_in_utc_else_internaldate():
    pst = dt.timezone(dt.timedelta(hours=-8))
    header = dt.datetime(2000, 12, 31, 16, 1, 33, tzinfo=pst)
    internal = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert sent_date(header, internal) == dt.datetime(2001, 1, 1, 0, 1, 33, tzinfo=dt.timezone.utc).timestamp()
    assert sent_date(None, internal) == internal.timestamp()
    assert sent_date(dt.datetime(2001, 1, 1), None) == dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc).timestamp()


def test_message_ids_are_normalized_and_invalid_ones_skipped():
    assert message_ids('<"01KF8JCEOCBS0045PS"@xxx.yyy.com>') == ["01KF8JCEOCBS0045PS@xxx.yyy.com"]
    assert message_ids("<01KF8JCEOCBS0045PS@xxx.yyy.com>") == ["01KF8JCEOCBS0045PS@xxx.yyy.com"]
    assert message_ids("<bogus> text <a @x> <b@y>") == ["a@x", "b@y"]
    assert message_ids('<"a\\"b"@x>') == ['a"b@x']
    assert message_ids(None) == [] and message_ids("no ids at all") == []
    # §3: References win; else the first valid In-Reply-To id; an invalid References falls back too.
    assert reference_ids(msg(1, irt="<p@x>", refs=("<r1@x>", "<r2@x>"))) == ["r1@x", "r2@x"]
    assert reference_ids(msg(1, irt="<junk> <p@x> <q@x>", refs=("<nope>",))) == ["p@x"]
    assert reference_ids(msg(1)) == []


# --- §4 syntax ----------------------------------------------------------------------------------------


def test_thread_lists_syntax_of_the_rfc_example():
    # RFC 5256 §4: (2)(3 6 (4 23)(44 7 96))
    tree = (
        ThreadNode(2),
        ThreadNode(3, (ThreadNode(6, (ThreadNode(4, (ThreadNode(23),)), ThreadNode(44, (ThreadNode(7, (ThreadNode(96),)),)))),)),
    )
    assert shape(tree) == b"(2)(3 6 (4 23)(44 7 96))"
    dummy = ThreadNode(None, (ThreadNode(1), ThreadNode(5, (ThreadNode(6),))))
    assert shape((dummy,)) == b"((1)(5 6))"
    assert shape(()) == b""
    # Sequence numbers: a message the mapping drops is left out, its children take its place.
    assert thread_lists(tree, {2: 1, 3: 2, 6: 3, 4: 4, 23: 5, 44: 6, 7: None, 96: 8}.get) == b"(1)(2 3 (4 5)(6 8))"


# --- ORDEREDSUBJECT ---------------------------------------------------------------------------------


def test_ordered_subject_groups_by_base_subject_and_orders_by_sent_date():
    messages = [
        msg(1, "Plans", date=50),
        msg(2, "Re: plans", date=40),
        msg(3, "Other", date=45),
        msg(4, "Fwd: Plans", date=60),
        msg(5, "", date=10),
        msg(6, "", date=10),
        msg(7, "Re: Plans", date=50),  # same date as 1: mailbox order
    ]
    assert shape(thread_ordered_subject(messages)) == b"(5 6)(2 (1)(7)(4))(3)"


# --- REFERENCES -------------------------------------------------------------------------------------


def test_references_builds_parent_child_chains():
    messages = [
        msg(1, "A", "<a@x>"),
        msg(2, "Re: A", "<b@x>", irt="<a@x>"),
        msg(3, "Re: A", "<c@x>", refs=("<a@x>", "<b@x>")),
        msg(4, "Re: A", "<d@x>", refs=("<a@x>",)),
    ]
    assert shape(thread_references(messages)) == b"(1 (2 3)(4))"


def test_references_keeps_an_existing_parent_and_avoids_loops():
    messages = [
        msg(1, "A", "<a@x>"),
        msg(2, "B", "<b@x>", refs=("<a@x>",)),
        # Truncated References: <zz@x> would become b's parent, but b has one already (step 1.A).
        msg(3, "C", "<c@x>", refs=("<zz@x>", "<b@x>")),
        # A loop: i -> j -> i is cut.
        msg(4, "I", "<i@x>", refs=("<j@x>",)),
        msg(5, "J", "<j@x>", refs=("<i@x>",)),
        # A message naming itself last: step 1.A makes it a's child, step 1.B breaks that link and
        # cannot make it its own parent, so it has none (Dovecot agrees).
        msg(6, "S", "<s@x>", refs=("<a@x>", "<s@x>")),
    ]
    assert shape(thread_references(messages)) == b"(1 2 3)(5 4)(6)"


def test_references_duplicate_message_id_goes_to_the_first_message():
    messages = [
        msg(1, "First", "<a@x>"),
        msg(2, "Second", "<a@x>"),
        msg(3, "Reply", "<r@x>", irt="<a@x>"),
    ]
    assert shape(thread_references(messages)) == b"(1 3)(2)"


def test_references_prunes_dummies():
    messages = [
        msg(1, "One child", "<e@x>", refs=("<gone@x>",)),  # dummy with one child: promoted to the top
        msg(2, "Sibling 1", "<f@x>", date=20, refs=("<gone2@x>",)),  # dummy with two: stays at the top
        msg(3, "Sibling 2", "<g@x>", date=10, refs=("<gone2@x>",)),
        msg(4, "Deep", "<h@x>", date=30, refs=("<top@x>", "<middle@x>")),  # two dummies, one real child
    ]
    # Top-level order is by sent date; the kept dummy sorts by its first (earliest) child.
    assert shape(thread_references(messages)) == b"(1)((3)(2))(4)"


def test_references_merges_threads_by_subject():
    messages = [
        msg(1, "Meeting", "<k@x>", date=1),
        msg(2, "Re: Meeting", "<l@x>", date=2),  # a reply: becomes a child of 1
        msg(3, "meeting", "<m@x>", date=3),  # another original: 1 and 3 go under a new dummy
        msg(4, "[fwd: Meeting]", "<n@x>", date=4),  # then joins the dummy
        msg(5, "", "<o@x>", date=5),  # empty subjects are never merged
        msg(6, "", "<p@x>", date=6),
        msg(7, "Lost", "<q@x>", date=7, refs=("<gone@x>",)),
        msg(8, "Re: Lost", "<r@x>", date=8, refs=("<gone@x>",)),  # under a dummy with 7 already
        msg(9, "RE: LOST", "<s@x>", date=9),  # joins the dummy of 7 and 8 by subject
    ]
    assert shape(thread_references(messages)) == b"((1 2)(3)(4))(5)(6)((7)(8)(9))"


def test_references_reply_is_not_chosen_over_the_original():
    # Step 5.B: the original (not a reply) holds the subject table even when the reply is older.
    messages = [msg(1, "Re: Topic", "<a@x>", date=1), msg(2, "Topic", "<b@x>", date=2)]
    assert shape(thread_references(messages)) == b"(2 1)"


@st.composite
def _mailboxes(draw):
    count = draw(st.integers(min_value=0, max_value=25))
    ids = [f"<m{n}@x>" for n in range(8)]
    messages = []
    for number in range(1, count + 1):
        messages.append(ThreadMessage(
            number,
            float(draw(st.integers(min_value=0, max_value=5))),
            draw(st.sampled_from(["", "Topic", "Re: Topic", "Other", "Fwd: Other", "[fwd: topic]"])),
            draw(st.sampled_from(ids + [None])),
            draw(st.sampled_from(ids + [None, "<bad>"])),
            tuple(draw(st.lists(st.sampled_from(ids), max_size=4))),
        ))
    return messages


def _walk(node: ThreadNode, depth: int, seen: list[int]) -> None:
    if node.number is None:
        assert depth == 0 and len(node.children) >= 2  # dummies only at the top, never trivial
    else:
        seen.append(node.number)
    for child in node.children:
        _walk(child, depth + 1, seen)


@settings(max_examples=300, deadline=None)
@given(_mailboxes())
def test_every_message_appears_once_whatever_the_headers(messages):
    for algorithm in (thread_references, thread_ordered_subject):
        seen: list[int] = []
        for node in algorithm(messages):
            _walk(node, 0, seen)
        assert sorted(seen) == [message.number for message in messages]


def test_a_reply_chain_thousands_deep_needs_no_recursion():
    depth = 5000
    messages = [msg(1, "Long", "<m1@x>")] + [
        msg(number, "Re: Long", f"<m{number}@x>", irt=f"<m{number - 1}@x>") for number in range(2, depth + 1)
    ]
    nodes = thread_references(messages)
    assert thread_lists(nodes) == b"(" + b" ".join(b"%d" % number for number in range(1, depth + 1)) + b")"
    # A staircase (each message with two replies, one of which goes on) nests thread-lists deeply.
    stairs = [msg(1, "S", "<s1@x>")]
    for number in range(2, 2 * 1500, 2):
        parent = "<s1@x>" if number == 2 else f"<s{number - 2}@x>"
        stairs += [msg(number, "S", f"<s{number}@x>", irt=parent), msg(number + 1, "S", f"<t{number}@x>", irt=parent)]
    text = thread_lists(thread_references(stairs))
    assert text.startswith(b"(1 (2 (4 (6 ") and text.count(b"(") == text.count(b")") == 1 + 2 * 1499
