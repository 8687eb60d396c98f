"""LIST/LSUB matching as pure functions (RFC 9051 §6.3.9, RFC 5258, RFC 3501 §6.3.9)."""

from __future__ import annotations

from imapcore.commands import listing
from imapcore.store import MailboxInfo


def boxes(*specs):
    infos = []
    for index, spec in enumerate(specs, 1):
        name, _, special = spec.partition(":")
        infos.append(MailboxInfo(index, 1, name, 1, 1, 1, special or None, f"F{index}", False))
    return infos


MAILBOXES = boxes("INBOX", "INBOX/Sub", "Sent:\\Sent", "Work", "Work/A", "Work/A/Deep", "Work/B", "Zed")


def names(entries):
    return [entry.name for entry in entries]


def test_wildcards():
    request = listing.ListRequest(patterns=("Work/%",))
    assert names(listing.list_entries(MAILBOXES, [], request)) == ["Work/A", "Work/B"]
    request = listing.ListRequest(patterns=("Work/*",))
    assert names(listing.list_entries(MAILBOXES, [], request)) == ["Work/A", "Work/A/Deep", "Work/B"]
    request = listing.ListRequest(patterns=("%",))
    assert names(listing.list_entries(MAILBOXES, [], request)) == ["INBOX", "Sent", "Work", "Zed"]
    request = listing.ListRequest(patterns=("*A*",))
    assert names(listing.list_entries(MAILBOXES, [], request)) == ["Work/A", "Work/A/Deep"]


def test_children_and_special_use_attributes():
    entries = {e.name: e for e in listing.list_entries(MAILBOXES, [], listing.ListRequest(patterns=("*",), special_use=True))}
    assert entries["INBOX"].attributes == ("\\HasChildren",)
    assert entries["Work/A/Deep"].attributes == ("\\HasNoChildren",)
    assert entries["Sent"].attributes == ("\\HasNoChildren", "\\Sent")
    plain = listing.list_entries(MAILBOXES, [], listing.ListRequest(patterns=("Sent",)))
    assert plain[0].attributes == ("\\HasNoChildren",)


def test_inbox_is_case_insensitive():
    assert listing.canonical_pattern("", "inbox/%") == "INBOX/%"
    for pattern in ("inbox", "InBoX", "in*", "i%"):
        found = names(listing.list_entries(MAILBOXES, [], listing.ListRequest(patterns=(listing.canonical_pattern("", pattern),))))
        assert found[0] == "INBOX", pattern


def test_reference_is_prepended():
    request = listing.ListRequest(patterns=(listing.canonical_pattern("Work/", "%"),))
    assert names(listing.list_entries(MAILBOXES, [], request)) == ["Work/A", "Work/B"]


def test_order_puts_parents_before_children():
    mailboxes = boxes("a-b", "a", "a/b", "INBOX")
    # "a-b" sorts after "a/b" by levels, not by raw characters ("-" < "/").
    assert names(listing.list_entries(mailboxes, [], listing.ListRequest(patterns=("*",)))) == ["INBOX", "a", "a/b", "a-b"]


def test_nonexistent_superior_is_listed():
    mailboxes = boxes("INBOX", "x/y/z")  # made without its superiors (not through CREATE)
    entries = listing.list_entries(mailboxes, [], listing.ListRequest(patterns=("%",)))
    assert [(e.name, e.attributes) for e in entries] == [("INBOX", ("\\HasNoChildren",)), ("x", ("\\NonExistent", "\\HasChildren"))]


def test_subscribed_selection():
    subscriptions = ["INBOX", "Gone", "Work/A/Deep"]
    request = listing.ListRequest(patterns=("*",), select_subscribed=True, return_subscribed=True)
    entries = listing.list_entries(MAILBOXES, subscriptions, request)
    assert [(e.name, e.attributes) for e in entries] == [
        ("INBOX", ("\\HasChildren", "\\Subscribed")),
        ("Gone", ("\\NonExistent", "\\Subscribed")),
        ("Work/A/Deep", ("\\HasNoChildren", "\\Subscribed")),
    ]


def test_recursivematch_childinfo():
    # RFC 5258 §5 example 8 shape: "Work" is not subscribed, but has a subscribed child "%" misses.
    request = listing.ListRequest(patterns=("%",), select_subscribed=True, recursive_match=True, return_subscribed=True)
    entries = listing.list_entries(MAILBOXES, ["INBOX", "Work/A/Deep"], request)
    assert [(e.name, e.attributes, e.child_info) for e in entries] == [
        ("INBOX", ("\\HasChildren", "\\Subscribed"), ()),
        ("Work", ("\\HasChildren",), ("SUBSCRIBED",)),
    ]


def test_special_use_selection():
    request = listing.ListRequest(patterns=("*",), select_special_use=True, special_use=True)
    assert [(e.name, e.attributes) for e in listing.list_entries(MAILBOXES, [], request)] == [
        ("Sent", ("\\HasNoChildren", "\\Sent"))
    ]


def test_lsub():
    subscriptions = ["INBOX", "Work/A/Deep", "Gone", "Sent"]
    assert [(e.name, e.attributes) for e in listing.lsub_entries(MAILBOXES, subscriptions, "*")] == [
        ("INBOX", ()), ("Gone", ("\\Noselect",)), ("Sent", ("\\Sent",)), ("Work/A/Deep", ()),
    ]
    # RFC 3501 §6.3.9: with "%", an unsubscribed superior of a subscribed name shows as \Noselect.
    assert [(e.name, e.attributes) for e in listing.lsub_entries(MAILBOXES, subscriptions, "%")] == [
        ("INBOX", ()), ("Gone", ("\\Noselect",)), ("Sent", ("\\Sent",)), ("Work", ("\\Noselect",)),
    ]


def test_extended_list_without_children_option():
    request = listing.ListRequest(patterns=("%",), children=False)
    entries = listing.list_entries(boxes("INBOX", "x/y/z", "Work", "Work/A"), [], request)
    # Only the \NonExistent \HasChildren pair survives (RFC 5258 §3.5).
    assert [(e.name, e.attributes) for e in entries] == [
        ("INBOX", ()), ("Work", ()), ("x", ("\\NonExistent", "\\HasChildren")),
    ]
