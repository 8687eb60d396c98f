"""THREAD algorithms of RFC 5256 over already-parsed message data: ORDEREDSUBJECT and REFERENCES.

Pure functions: the caller hands in one ``ThreadMessage`` per searched message (from the store's parsed
columns or from ``summarize``) and gets back a forest of ``ThreadNode``; ``thread_lists`` writes it in
the ``thread-list`` syntax of RFC 5256 §4. Messages are identified by ``number``, which must grow in
mailbox order (a UID does): it is the RFC's "sequence number" tie-break (§2.2) and the order in which
duplicate Message-IDs are resolved (§3 REFERENCES step 1.A). The caller maps it to a sequence number
for THREAD and leaves it as is for UID THREAD.

The pieces the RFC defines and this module follows:

* the sent date (§2.2): the Date: header in UTC, else INTERNALDATE (``sent_date``); ties go to mailbox
  order;
* the base subject (§2.1, steps 1-7) and whether the subject marks a reply or forward (§3: extraction
  removed a subj-refwd, a "(fwd)" trailer, or a subj-fwd-hdr/trl pair) — ``subject_info``; subjects
  compare case-insensitively (§7: i;unicode-casemap, approximated by ``search_fold``, casefold + NFKD);
* Message-IDs are normalized (§3: quoting must not make two ids differ) the way Dovecot does it: the
  text between ``<`` and ``>`` with quotes, quoted-pair backslashes and white space removed; an id
  without ``@`` is not valid and is skipped (``message_ids``);
* REFERENCES steps 1-6 (``thread_references``) and ORDEREDSUBJECT (``thread_ordered_subject``).

Where the RFC leaves room, the choices are Dovecot's (tests/commands_message/test_thread.py compares
both servers on crafted cases and on the sample mailbox): ORDEREDSUBJECT puts all messages with an
empty base subject in one thread (the RFC only excludes empty subjects from REFERENCES' step 5); a
message whose References end with its own Message-ID loses the parent step 1.A gave it (step 1.B breaks
the link and may not create a loop). Trees are walked without recursion: reply chains can be
thousands of messages deep.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .search import search_fold

_WHITESPACE = re.compile(r"\s+")
# RFC 5256 §5: subj-blob = "[" *BLOBCHAR "]" *WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":".
_BLOB = r"\[[^\[\]]*\][ \t]*"
_REFWD_LEADER = re.compile(r"(?:%s)*(?:re|fwd?)[ \t]*(?:%s)?:" % (_BLOB, _BLOB), re.I)
_WSP_LEADER = re.compile(r"[ \t]+")
_BLOB_START = re.compile(_BLOB)
_FWD = re.compile(r"\A\[fwd:(.*)\]\Z", re.I | re.S)
#: Longer subjects are cut first (as ``imapcore.mail.text.base_subject`` does): only their start matters.
SUBJECT_MAX = 4096
#: RFC 5256 §2.2: no valid date is "00:00:00 on the earliest possible date"; INTERNALDATE comes first.
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    base: str  # RFC 5256 §2.1 base subject
    key: str  # ``base`` in comparison form (case-insensitive, §7)
    reply_or_forward: bool  # §3 REFERENCES: extraction removed a reply/forward marker


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """One searched message: what threading needs to know about it."""

    number: int  # grows in mailbox order; the number the response names
    sent_date: float  # RFC 5256 §2.2, seconds since the epoch in UTC (see ``sent_date``)
    subject: str  # the decoded (RFC 2047) Subject, '' when absent
    message_id: str | None = None  # raw Message-ID header text (first <...> is enough)
    in_reply_to: str | None = None  # raw In-Reply-To text
    references: tuple[str, ...] = ()  # the References ids, in header order


@dataclass(frozen=True, slots=True)
class ThreadNode:
    """A node of the result; ``number`` is ``None`` for a dummy (only ever at the top level)."""

    number: int | None
    children: tuple[ThreadNode, ...] = ()


# --- RFC 5256 §2 -------------------------------------------------------------------------------------


def sent_date(date: _dt.datetime | None, internal_date: _dt.datetime | None) -> float:
    """RFC 5256 §2.2: the Date: header in UTC (a naive time is taken as UTC), else INTERNALDATE."""
    chosen = date if date is not None else internal_date
    if chosen is None:
        return _EPOCH.timestamp()
    if chosen.tzinfo is None:
        chosen = chosen.replace(tzinfo=_dt.timezone.utc)
    return chosen.timestamp()


def _strip_trailers(text: str) -> tuple[str, bool]:
    """Step 2: remove trailing WSP and "(fwd)" subj-trailers; says whether a "(fwd)" went."""
    forwarded = False
    while True:
        stripped = text.rstrip(" \t")
        if stripped[-5:].lower() == "(fwd)":
            stripped = stripped[:-5]
            forwarded = True
        if stripped == text:
            return text, forwarded
        text = stripped


def subject_info(subject: str) -> SubjectInfo:
    """RFC 5256 §2.1 base subject of a decoded subject, and whether it marks a reply or forward (§3)."""
    # Step 1 (the caller decoded RFC 2047 already): tabs, continuations and space runs become one space.
    text = _WHITESPACE.sub(" ", subject[:SUBJECT_MAX])
    reply = False
    for _ in range(100):  # every round removes text; the bound only guards pathological input
        text, forwarded = _strip_trailers(text)  # step 2
        reply = reply or forwarded
        position = 0
        while True:  # steps 3-5
            changed = False
            while True:  # step 3: every subj-leader
                match = _REFWD_LEADER.match(text, position)
                if match:
                    reply = True
                else:
                    match = _WSP_LEADER.match(text, position)
                if not match or match.end() == position:
                    break
                position = match.end()
                changed = True
            blob = _BLOB_START.match(text, position)
            if blob and text[blob.end():].strip(" \t"):  # step 4: only if a non-empty subj-base is left
                position = blob.end()
                changed = True
            if not changed:
                break
        text = text[position:]
        wrapped = _FWD.match(text)  # step 6
        if not wrapped:
            break
        reply = True
        text = wrapped.group(1)
    base = text.strip(" \t")
    return SubjectInfo(base, search_fold(base), reply)


# --- Message-IDs (RFC 5256 §3 REFERENCES, normalization note) ----------------------------------------

_ANGLE = re.compile(r"<([^<>]*)>")


def _unquote(inner: str) -> str:
    """RFC 5322 no-fold-quote and quoted-pair: ``"a\\"b"@x`` is ``a"b@x``."""
    out = []
    escaped = False
    for char in inner:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char != '"':
            out.append(char)
    return "".join(out)


def _normalize(inner: str) -> str | None:
    if '"' in inner or "\\" in inner:
        inner = _unquote(inner)
    inner = "".join(inner.split())  # white space inside an id is folding, not part of it (as Dovecot)
    if "@" not in inner:
        return None  # not a msg-id (id-left "@" id-right)
    return inner


def message_ids(text: str | None) -> list[str]:
    """The valid Message-IDs in ``text``, normalized, in order."""
    if not text:
        return []
    out = []
    for inner in _ANGLE.findall(text):
        normalized = _normalize(inner)
        if normalized is not None:
            out.append(normalized)
    return out


def first_message_id(text: str | None) -> str | None:
    ids = message_ids(text)
    return ids[0] if ids else None


def reference_ids(message: ThreadMessage) -> list[str]:
    """RFC 5256 §3: the References ids, or else the first valid In-Reply-To id, or nothing."""
    refs = [normalized for item in message.references for normalized in message_ids(item)]
    if refs:
        return refs
    parent = first_message_id(message.in_reply_to)
    return [parent] if parent else []


# --- ORDEREDSUBJECT --------------------------------------------------------------------------------


def thread_ordered_subject(messages: Iterable[ThreadMessage]) -> tuple[ThreadNode, ...]:
    """RFC 5256 §3 ORDEREDSUBJECT: one thread per base subject; the first message (by sent date) is
    the root, every later one its child; threads ordered by their first message's sent date."""
    groups: dict[str, list[ThreadMessage]] = {}
    for message in messages:
        groups.setdefault(subject_info(message.subject).key, []).append(message)
    threads = []
    for members in groups.values():
        members.sort(key=_order)
        first, rest = members[0], members[1:]
        node = ThreadNode(first.number, tuple(ThreadNode(member.number) for member in rest))
        threads.append((_order(first), node))
    threads.sort(key=lambda item: item[0])
    return tuple(node for _key, node in threads)


def _order(message: ThreadMessage) -> tuple[float, int]:
    return (message.sent_date, message.number)


# --- REFERENCES -------------------------------------------------------------------------------------


class _Container:
    """A mutable node while threading (the result is rebuilt as frozen ``ThreadNode``)."""

    __slots__ = ("message", "parent", "children", "info")

    def __init__(self, message: ThreadMessage | None = None) -> None:
        self.message = message
        self.parent: _Container | None = None
        self.children: list[_Container] = []
        self.info: SubjectInfo | None = None

    def is_ancestor_of(self, other: _Container) -> bool:
        node: _Container | None = other
        for _ in range(1_000_000):  # a chain can only be as long as the number of containers
            if node is None:
                return False
            if node is self:
                return True
            node = node.parent
        return True

    def attach(self, child: _Container) -> None:
        child.parent = self
        self.children.append(child)

    def detach(self) -> None:
        if self.parent is not None:
            self.parent.children.remove(self)
            self.parent = None

    def sort_key(self) -> tuple[float, int]:
        # Steps 4 and 6: a dummy sorts by its first child (children are sorted before their parent).
        node = self
        while node.message is None:
            node = node.children[0]
        return _order(node.message)


def _link(parent: _Container, child: _Container) -> bool:
    """Make ``child`` a child of ``parent`` unless that makes a loop (steps 1.A and 1.B)."""
    if parent is child or child.is_ancestor_of(parent):
        return False
    child.detach()
    parent.attach(child)
    return True


def _postorder(roots: list[_Container]) -> list[_Container]:
    """Every container under ``roots``, each after all its descendants (no recursion: reply chains can
    be thousands deep)."""
    preorder: list[_Container] = []
    stack = list(roots)
    while stack:
        container = stack.pop()
        preorder.append(container)
        stack.extend(container.children)
    preorder.reverse()
    return preorder


def _prune(roots: list[_Container]) -> list[_Container]:
    """Step 3: drop childless dummies and splice a dummy's children into its level; at the top level a
    dummy stays unless it has a single child (children of the root are not promoted otherwise)."""
    for container in _postorder(roots):  # below the top: every dummy goes (its children are pruned)
        kept: list[_Container] = []
        for child in container.children:
            if child.message is not None:
                kept.append(child)
            else:
                kept.extend(child.children)
        for child in kept:
            child.parent = container
        container.children = kept
    out: list[_Container] = []
    for container in roots:
        if container.message is not None:
            out.append(container)
        elif len(container.children) == 1:
            out.extend(container.children)
        elif container.children:
            out.append(container)
    return out


def _sort_tree(roots: list[_Container]) -> None:
    """Step 6: every set of siblings by sent date, the deepest first (a dummy sorts by its first child)."""
    for container in _postorder(roots):
        container.children.sort(key=_Container.sort_key)
    roots.sort(key=_Container.sort_key)


def _thread_info(container: _Container) -> SubjectInfo:
    """Step 5.B.i: the base subject of the message, or of its first child for a dummy."""
    node = container if container.message is not None else container.children[0]
    if node.info is None:
        node.info = subject_info(node.message.subject)
    return node.info


def thread_references(messages: Sequence[ThreadMessage]) -> tuple[ThreadNode, ...]:
    """RFC 5256 §3 REFERENCES, steps 1 to 6, for ``messages`` in mailbox order."""
    by_id: dict[str, _Container] = {}
    everything: list[_Container] = []
    for message in sorted(messages, key=lambda item: item.number):
        # Step 1.A: the message's own container. A missing, invalid or already used Message-ID gets a
        # unique one (a container nobody can reference).
        own_id = first_message_id(message.message_id)
        container = by_id.get(own_id) if own_id is not None else None
        if container is None or container.message is not None:
            container = _Container(message)
            everything.append(container)
            if own_id is not None and own_id not in by_id:
                by_id[own_id] = container
        else:
            container.message = message  # it was a dummy created by an earlier reference
        previous: _Container | None = None
        for ref in reference_ids(message):
            referenced = by_id.get(ref)
            if referenced is None:
                referenced = by_id[ref] = _Container()
                everything.append(referenced)
            # Link each reference to the next, keeping an existing parent (References may be truncated).
            if previous is not None and referenced.parent is None:
                _link(previous, referenced)
            previous = referenced
        # Step 1.B: the last reference is the parent; an existing parent link is replaced.
        container.detach()
        if previous is not None:
            _link(previous, container)

    # Step 2: everything without a parent is a child of the root.
    roots = [container for container in everything if container.parent is None]
    roots = _prune(roots)  # step 3
    for container in roots:
        container.parent = None
    # Step 4: the root's children by sent date (a dummy by its first child once its children are sorted).
    for container in roots:
        if container.message is None:
            container.children.sort(key=_Container.sort_key)
    roots.sort(key=_Container.sort_key)

    # Step 5: merge threads whose thread subjects are the same.
    table: dict[str, _Container] = {}
    for container in roots:  # 5.B
        info = _thread_info(container)
        if not info.key:
            continue
        held = table.get(info.key)
        if held is None:
            table[info.key] = container
        elif held.message is not None and (
            container.message is None
            or (_thread_info(held).reply_or_forward and not info.reply_or_forward)
        ):
            table[info.key] = container
    merged: list[_Container] = []
    gone: set[int] = set()  # id() of roots merged into another
    for container in roots:  # 5.C
        if id(container) in gone:
            continue
        info = _thread_info(container)
        held = table.get(info.key) if info.key else None
        if held is None or held is container:
            merged.append(container)
            continue
        gone.add(id(container))
        if held.message is None and container.message is None:
            for child in container.children:
                held.attach(child)
            container.children = []
        elif held.message is None:
            held.attach(container)
        elif info.reply_or_forward and not _thread_info(held).reply_or_forward:
            held.attach(container)
        else:
            dummy = _Container()
            position = next((index for index, item in enumerate(merged) if item is held), None)
            if position is not None:
                merged[position] = dummy
            else:
                gone.add(id(held))  # ``held`` comes later in ``roots``: the dummy stands for it
                merged.append(dummy)
            dummy.attach(held)
            dummy.attach(container)
            table[info.key] = dummy
    roots = merged

    _sort_tree(roots)  # step 6
    return _frozen(roots)


def _frozen(roots: list[_Container]) -> tuple[ThreadNode, ...]:
    built: dict[int, ThreadNode] = {}
    for container in _postorder(roots):
        number = container.message.number if container.message is not None else None
        built[id(container)] = ThreadNode(number, tuple(built.pop(id(child)) for child in container.children))
    return tuple(built[id(container)] for container in roots)


# --- RFC 5256 §4 THREAD response -------------------------------------------------------------------


def thread_lists(nodes: Iterable[ThreadNode], number_of: Callable[[int], int | None] = lambda number: number) -> bytes:
    """The ``1*thread-list`` of ``* THREAD`` (RFC 5256 §4): ``(2)(3 6 (4 23)(44 7 96))``.

    A chain of single children is written as numbers in one list; several children become nested
    lists. ``number_of`` maps a node's number to the one to send (a sequence number for THREAD); a
    message it maps to ``None`` is left out and its children take its place.
    """
    out: list[bytes] = []
    # Iterative writer: items are nodes to open as a thread-list, or bytes to write as they are.
    stack: list[ThreadNode | bytes] = list(reversed(_mapped(tuple(nodes), number_of)))
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            out.append(item)
            continue
        out.append(b"(")
        node = item
        if node.number is not None:
            out.append(b"%d" % node.number)
            while len(node.children) == 1 and node.children[0].number is not None:
                node = node.children[0]
                out.append(b" %d" % node.number)
            if node.children:
                out.append(b" ")
        stack.append(b")")
        stack.extend(reversed(node.children))
    return b"".join(out)


def _mapped(nodes: tuple[ThreadNode, ...], number_of) -> list[ThreadNode]:
    """``nodes`` with numbers mapped by ``number_of`` (dropped messages replaced by their children)."""
    preorder: list[ThreadNode] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        preorder.append(node)
        stack.extend(node.children)
    built: dict[int, list[ThreadNode]] = {}  # id(node) -> what stands for it after mapping
    for node in reversed(preorder):
        children = tuple(item for child in node.children for item in built.pop(id(child)))
        if node.number is None:
            built[id(node)] = [ThreadNode(None, children)] if len(children) > 1 else list(children)
            continue
        number = number_of(node.number)
        built[id(node)] = list(children) if number is None else [ThreadNode(number, children)]
    return [item for node in nodes for item in built[id(node)]]
