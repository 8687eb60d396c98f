"""LIST and LSUB matching: which names a LIST answers, with which attributes (pure, no I/O).

RFC 9051 §6.3.9: the reference and the pattern are joined into one *canonical pattern*; ``*`` matches
any run of characters (the delimiter included), ``%`` any run without the delimiter. Here the reference
is simply prepended to the pattern (the RFC leaves the joining to the server; with one personal namespace
rooted at "" and ``/`` as delimiter this is what Dovecot does too). ``INBOX`` is case-insensitive
(RFC 9051 §5.1): a literal first level spelled ``inbox`` in any case is read as ``INBOX``.

What is listed (RFC 5258 §3, LIST-EXTENDED):

* without selection options: every mailbox whose name matches, plus any name that does not exist but
  has an existing inferior (``\\NonExistent`` / ``\\Noselect``; the store creates superiors, so this only
  shows data created by other means);
* ``SUBSCRIBED``: subscribed names that match, existing or not (``\\NonExistent``), each ``\\Subscribed``;
  with ``RECURSIVEMATCH`` also a matching name that is not itself selected but has a selected inferior
  that the pattern does not match, with the ``CHILDINFO ("SUBSCRIBED")`` extended item (§3.5);
* ``SPECIAL-USE`` (RFC 6154 §5.3): only mailboxes with a special-use attribute;
* LSUB (RFC 3501 §6.3.9): subscribed names that match; with ``%`` a matching superior of a subscribed
  name is listed ``\\Noselect`` when it is not subscribed itself.

Attributes: ``\\HasChildren``/``\\HasNoChildren`` for a plain LIST and when the CHILDREN return option
is given (RFC 9051 §6.3.9.5: a server MAY always send them; like Dovecot, an extended LIST without
CHILDREN gets none, except the ``\\NonExistent \\HasChildren`` pair of RFC 5258 §3.5), ``\\Subscribed``
when asked, special-use attributes when asked (see ``ListRequest.special_use``). Order: INBOX first, then the tree in name order, so parents
come before their children.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from imapcore.store import MailboxInfo, MailboxName

DELIMITER = "/"


@dataclass(frozen=True, slots=True)
class ListRequest:
    """What a LIST asks, already decoded into store names and flags."""

    patterns: tuple[str, ...]  # canonical patterns (reference joined), store names (UTF-8)
    select_subscribed: bool = False
    select_special_use: bool = False
    recursive_match: bool = False
    return_subscribed: bool = False
    special_use: bool = False  # show special-use attributes
    children: bool = True  # show \\HasChildren / \\HasNoChildren


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One ``* LIST`` (or ``* LSUB``) response; ``child_info`` is the RFC 5258 CHILDINFO item."""

    name: str
    attributes: tuple[str, ...]
    exists: bool
    child_info: tuple[str, ...] = ()


def canonical_pattern(reference: str, pattern: str) -> str:
    """RFC 9051 §6.3.9: reference and pattern joined, a leading INBOX level upper-cased."""
    joined = reference + pattern
    head, sep, rest = joined.partition(DELIMITER)
    if head.upper() == "INBOX":
        joined = "INBOX" + sep + rest
    return joined


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``*`` -> any run, ``%`` -> any run without the delimiter; everything else literal."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "%":
            parts.append(f"[^{re.escape(DELIMITER)}]*")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def sort_key(name: str) -> tuple:
    return (name != "INBOX", name.split(DELIMITER))


def _superiors(name: str) -> list[str]:
    levels = name.split(DELIMITER)
    return [DELIMITER.join(levels[:i]) for i in range(1, len(levels))]


@functools.lru_cache(maxsize=256)
def _compiled_pattern(pattern: str) -> tuple[re.Pattern[str], str]:
    """A pattern's regex and the INBOX spelling it starts with ("" if none); clients repeat the same
    few patterns (``*``, ``%``), so they are remembered."""
    literal = re.match(r"[^*%]*", pattern).group()[: len("INBOX")]
    inbox_spelling = literal if literal and "INBOX".startswith(literal.upper()) else ""
    return compile_pattern(pattern), inbox_spelling


class _Matcher:
    """Does a name match any of the canonical patterns? INBOX-rooted names also match a pattern whose
    literal start spells INBOX in another case (``in*``, ``Inbox/%``), as Dovecot does."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._compiled = [_compiled_pattern(pattern) for pattern in patterns]

    def __call__(self, name: str) -> bool:
        inbox_rooted = name == "INBOX" or name.startswith("INBOX" + DELIMITER)
        for regex, inbox_spelling in self._compiled:
            candidate = name
            if inbox_rooted and inbox_spelling:
                candidate = inbox_spelling + name[len(inbox_spelling):]
            if regex.fullmatch(candidate):
                return True
        return False


def list_entries(mailboxes: Iterable[MailboxInfo | MailboxName], subscriptions: Iterable[str],
                 request: ListRequest) -> list[ListEntry]:
    """The LIST responses for ``request`` over this user's mailboxes and subscriptions (module docstring)."""
    existing = {info.name: info for info in mailboxes}
    subscribed = set(subscriptions)
    matches = _Matcher(request.patterns)
    with_children: set[str] = set()
    for name in existing:
        with_children.update(_superiors(name))

    def attributes(name: str, *, listed_subscribed: bool) -> tuple[str, ...]:
        attrs: list[str] = []
        info = existing.get(name)
        if info is None:
            attrs.append("\\NonExistent")  # implies \Noselect (RFC 5258 §3.4)
        if name in with_children:
            if request.children or info is None:  # RFC 5258 §3.5: \NonExistent \HasChildren pair
                attrs.append("\\HasChildren")
        elif info is not None and request.children:
            attrs.append("\\HasNoChildren")
        if listed_subscribed:
            attrs.append("\\Subscribed")
        if info is not None and info.special_use and request.special_use:
            attrs.extend(info.special_use.split())
        return tuple(attrs)

    entries: dict[str, ListEntry] = {}
    if request.select_subscribed or request.select_special_use:
        def selected(name: str) -> bool:
            if request.select_subscribed and name not in subscribed:
                return False
            if request.select_special_use:
                info = existing.get(name)
                if info is None or not info.special_use:
                    return False
            return True

        candidates = set(subscribed) | set(existing)
        chosen = {name for name in candidates if selected(name)}
        for name in chosen:
            if matches(name):
                entries[name] = ListEntry(
                    name, attributes(name, listed_subscribed=request.return_subscribed and name in subscribed),
                    name in existing,
                )
        if request.recursive_match:
            criteria = tuple(
                ["SUBSCRIBED"] * request.select_subscribed + ["SPECIAL-USE"] * request.select_special_use
            )
            for name in chosen:
                if matches(name):
                    continue
                for superior in _superiors(name):
                    if superior in entries or not matches(superior):
                        continue
                    entries[superior] = ListEntry(
                        superior,
                        attributes(superior, listed_subscribed=request.return_subscribed and superior in subscribed),
                        superior in existing,
                        criteria,
                    )
    else:
        for name in set(existing) | with_children:
            if matches(name):
                entries[name] = ListEntry(
                    name, attributes(name, listed_subscribed=request.return_subscribed and name in subscribed),
                    name in existing,
                )
    return [entries[name] for name in sorted(entries, key=sort_key)]


def lsub_entries(mailboxes: Iterable[MailboxInfo], subscriptions: Iterable[str], pattern: str) -> list[ListEntry]:
    """RFC 3501 §6.3.9 LSUB: subscribed names matching ``pattern`` (canonical), and with ``%`` the
    unsubscribed superiors of subscribed names, flagged ``\\Noselect``. ``pattern`` "" lists nothing."""
    existing = {info.name: info for info in mailboxes}
    subscribed = set(subscriptions)
    matches = _Matcher([pattern])
    entries: dict[str, ListEntry] = {}
    for name in subscribed:
        if matches(name):
            info = existing.get(name)
            if info is None:
                attrs: tuple[str, ...] = ("\\Noselect",)
            else:  # Dovecot lists special-use attributes in LSUB too
                attrs = tuple(info.special_use.split()) if info.special_use else ()
            entries[name] = ListEntry(name, attrs, name in existing)
    if "%" in pattern:
        for name in subscribed:
            for superior in _superiors(name):
                if superior not in subscribed and superior not in entries and matches(superior):
                    entries[superior] = ListEntry(superior, ("\\Noselect",), superior in existing)
    return [entries[name] for name in sorted(entries, key=sort_key)]
