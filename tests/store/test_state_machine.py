"""The store against a plain in-memory model, with every invariant checked after each step.

The model is a dict of mailbox name -> (uid_next, {uid: (message index, flags)}) that follows the RFC
rules the store implements (create makes parents, delete refuses INBOX and names with children, rename
carries children and treats INBOX specially, copy/move keep flags and give new UIDs, expunge removes
``\\Deleted``). After every step the store must agree with the model and keep its invariants: UIDs
ascending and never reused, UIDNEXT above every UID, HIGHESTMODSEQ strictly increasing on each change,
counters equal to a recount, quota usage exact, and exactly the referenced blobs on disk.
"""

import hashlib
import shutil
import tempfile

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from imapcore.store import (
    CannotDeleteInbox,
    FlagMode,
    HasChildren,
    InvalidMailboxName,
    MailboxExists,
    MailboxNotFound,
    Store,
)
from imapcore.syntax.model import STAR, SequenceSet

NAMES = ["INBOX", "a", "a/b", "a/b/c", "b", "Trash", "x/y"]
RAWS = [f"Subject: m{i}\r\nFrom: p{i}@example.org\r\n\r\nbody {i} {'z' * (i * 37)}\r\n".encode() for i in range(6)]
FLAG_POOL = ["\\Seen", "\\Deleted", "\\Flagged", "$k", "$j"]
flag_sets = st.frozensets(st.sampled_from(FLAG_POOL), max_size=3)
uid_picks = st.lists(st.integers(1, 30), max_size=6)


class StoreMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="store-sm-")
        self.store = Store.open(self.dir, durable=False, synchronous="OFF")
        self.store.create_user("u")
        self.boxes = {name: [1, {}] for name, _ in (("INBOX", 0), ("Sent", 0), ("Drafts", 0), ("Trash", 0),
                                                    ("Junk", 0), ("Archive", 0))}
        self.seen_uids = {}  # (uid_validity, mailbox id) -> every UID ever given
        self.last_modseq = {}  # mailbox id -> HIGHESTMODSEQ at the last check

    def teardown(self):
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers ---
    def box_id(self, name):
        return self.store.mailbox("u", name).id

    def add_model(self, name, entries):
        box = self.boxes[name]
        given = []
        for raw_index, flags in entries:
            box[1][box[0]] = (raw_index, frozenset(flags))
            given.append(box[0])
            box[0] += 1
        return given

    def expect_modseq_bump(self, name, before):
        after = self.store.status("u", name).highest_modseq
        assert after > before, (name, before, after)

    # --- mailbox rules ---
    @rule(name=st.sampled_from(NAMES))
    def create(self, name):
        try:
            self.store.create_mailbox("u", name)
        except MailboxExists:
            assert name in self.boxes
            return
        assert name not in self.boxes
        levels = name.split("/")
        for i in range(1, len(levels) + 1):
            self.boxes.setdefault("/".join(levels[:i]), [1, {}])

    @rule(name=st.sampled_from(NAMES))
    def delete(self, name):
        try:
            self.store.delete_mailbox("u", name)
        except CannotDeleteInbox:
            assert name == "INBOX"
            return
        except MailboxNotFound:
            assert name not in self.boxes
            return
        except HasChildren:
            assert any(other.startswith(name + "/") for other in self.boxes)
            return
        assert name in self.boxes and name != "INBOX"
        assert not any(other.startswith(name + "/") for other in self.boxes)
        del self.boxes[name]

    @rule(old=st.sampled_from(NAMES), new=st.sampled_from(NAMES + ["n", "n/m"]))
    def rename(self, old, new):
        try:
            self.store.rename_mailbox("u", old, new)
        except InvalidMailboxName:
            assert new == old or new.startswith(old + "/")
            return
        except MailboxNotFound:
            assert old not in self.boxes
            return
        except MailboxExists:
            assert new in self.boxes
            return
        assert old in self.boxes and new not in self.boxes
        levels = new.split("/")
        for i in range(1, len(levels)):
            self.boxes.setdefault("/".join(levels[:i]), [1, {}])
        if old == "INBOX":
            inbox = self.boxes["INBOX"]
            moved = [inbox[1][uid] for uid in sorted(inbox[1])]
            inbox[1] = {}
            self.boxes[new] = [1, {}]
            self.add_model(new, moved)
            return
        for name in sorted(self.boxes):
            if name == old or name.startswith(old + "/"):
                self.boxes[new + name[len(old):]] = self.boxes.pop(name)

    # --- message rules ---
    @rule(name=st.sampled_from(NAMES), raws=st.lists(st.integers(0, len(RAWS) - 1), min_size=1, max_size=3),
          flags=flag_sets)
    def append(self, name, raws, flags):
        from imapcore.store import NewMessage

        try:
            before = self.store.status("u", name).highest_modseq
        except MailboxNotFound:
            before = None
        try:
            result = self.store.append_many("u", name, [NewMessage(RAWS[i], flags) for i in raws])
        except MailboxNotFound as error:
            assert name not in self.boxes and error.code == "TRYCREATE"
            return
        assert list(result.uids) == self.add_model(name, [(i, flags) for i in raws])
        self.expect_modseq_bump(name, before)

    @rule(source=st.sampled_from(NAMES), destination=st.sampled_from(NAMES), picks=uid_picks, move=st.booleans())
    def copy_or_move(self, source, destination, picks, move):
        target = destination
        if source not in self.boxes:
            return
        box = self.box_id(source)
        try:
            result = (self.store.move if move else self.store.copy)(box, picks, "u", target)
        except MailboxNotFound:
            assert target not in self.boxes
            return
        chosen = sorted(set(picks) & set(self.boxes[source][1]))
        assert list(result.source_uids) == chosen
        entries = [self.boxes[source][1][uid] for uid in chosen]
        if move:
            for uid in chosen:
                del self.boxes[source][1][uid]
        assert list(result.target_uids) == self.add_model(target, entries)

    @rule(name=st.sampled_from(NAMES), picks=uid_picks, mode=st.sampled_from(list(FlagMode)), flags=flag_sets,
          whole=st.booleans())
    def store_flags(self, name, picks, mode, flags, whole):
        if name not in self.boxes:
            return
        uids = SequenceSet(((1, STAR),)) if whole else picks
        before = self.store.status("u", name).highest_modseq
        result = self.store.store_flags(self.box_id(name), uids, mode, flags)
        messages = self.boxes[name][1]
        chosen = sorted(messages) if whole else sorted(set(picks) & set(messages))
        changed = []
        for uid in chosen:
            raw_index, old = messages[uid]
            new = flags if mode is FlagMode.REPLACE else (old | flags if mode is FlagMode.ADD else old - flags)
            if new != old:
                changed.append(uid)
                messages[uid] = (raw_index, frozenset(new))
        assert [c.uid for c in result.changed] == changed
        if changed:
            modseqs = [c.modseq for c in result.changed]
            assert modseqs == sorted(set(modseqs)) and modseqs[0] > before
            self.expect_modseq_bump(name, before)

    @rule(name=st.sampled_from(NAMES), picks=st.one_of(st.none(), uid_picks))
    def expunge(self, name, picks):
        if name not in self.boxes:
            return
        before = self.store.status("u", name).highest_modseq
        result = self.store.expunge(self.box_id(name), picks)
        messages = self.boxes[name][1]
        doomed = sorted(uid for uid, (_, flags) in messages.items()
                        if "\\Deleted" in flags and (picks is None or uid in picks))
        assert list(result.uids) == doomed
        for uid in doomed:
            del messages[uid]
        if doomed:
            self.expect_modseq_bump(name, before)
            assert set(doomed) <= set(self.store.vanished_since(self.box_id(name), before))

    # --- invariants ---
    @invariant()
    def agrees_with_model_and_keeps_invariants(self):
        store = self.store
        listed = {m.name: m for m in store.list_mailboxes("u")}
        assert set(listed) == set(self.boxes)
        total_size = total_count = 0
        for name, (uid_next, messages) in self.boxes.items():
            info = listed[name]
            snapshot = store.select("u", name)
            status = snapshot.status
            assert list(snapshot.uids) == sorted(messages)
            assert status.uid_next == uid_next == info.uid_next
            assert all(uid < status.uid_next for uid in snapshot.uids)
            key = (info.uid_validity, info.id)
            ever = self.seen_uids.setdefault(key, set())
            new = set(snapshot.uids) - ever
            assert all(uid > max(ever, default=0) for uid in new), "a UID was reused or given out of order"
            ever |= new
            previous = self.last_modseq.get(info.id, 0)
            assert status.highest_modseq >= previous
            self.last_modseq[info.id] = status.highest_modseq
            rows = store.fetch_rows(info.id, list(messages), ["flags", "size", "modseq"])
            assert [r.flags for r in rows] == [messages[uid][1] for uid in sorted(messages)]
            assert all(r.modseq <= status.highest_modseq for r in rows)
            size = sum(len(RAWS[messages[uid][0]]) for uid in messages)
            assert status.messages == len(messages) and status.size == size
            assert status.unseen == sum("\\Seen" not in f for _, f in messages.values())
            assert status.deleted == sum("\\Deleted" in f for _, f in messages.values())
            total_size += size
            total_count += len(messages)
        usage = store.quota("u")
        assert (usage.used_storage_bytes, usage.used_messages) == (total_size, total_count)
        referenced = {hashlib.sha256(RAWS[i]).hexdigest() for _, msgs in self.boxes.values() for i, _ in msgs.values()}
        assert set(store.blobs.iter_ids()) == referenced
        report = store.fsck(repair=False, verify_hashes=False)
        assert report.clean and report.unreferenced_blobs == (), report


StoreMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=25, deadline=None)
TestStoreMachine = StoreMachine.TestCase
