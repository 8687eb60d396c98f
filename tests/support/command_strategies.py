"""Hypothesis strategies for every command type, producing values exactly as the parser builds them.


"""

import datetime as dt

from hypothesis import strategies as st

from imapcore.syntax import commands as c
from imapcore.syntax.model import Partial, SearchAnd, SearchKey, SearchNot, SearchOr, Section, SequenceSet

MAX32 = 2**32 - 1
MAX63 = 2**63 - 1

tags = st.from_regex(r"[A-Za-z0-9.]{1,8}", fullmatch=True)
text = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=12)
atoms = st.from_regex(r"[A-Za-z0-9$_.\-]{1,10}", fullmatch=True)
upper_atoms = atoms.map(str.upper)
nz32 = st.integers(1, MAX32)
flags = st.one_of(st.sampled_from(["\\Seen", "\\Deleted", "\\Answered", "\\Flagged", "\\Draft", "\\Foo"]), atoms)
flag_tuples = st.lists(flags, max_size=4).map(tuple)
seq_numbers = st.one_of(st.just(0), nz32)
sequence_sets = st.one_of(
    st.just(SequenceSet(saved=True)),
    st.lists(st.tuples(seq_numbers, seq_numbers), min_size=1, max_size=4).map(lambda r: SequenceSet(tuple(r))),
    nz32.map(SequenceSet.single),
)
dates = st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31))
zones = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
date_times = st.builds(
    lambda d, h, mi, s, z: dt.datetime(d.year, d.month, d.day, h, mi, s, tzinfo=z),
    dates, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), zones,
)
parts = st.lists(st.integers(1, 50), max_size=3).map(tuple)


def _sections():
    plain = st.builds(Section, parts)
    texts = st.builds(lambda p, t: Section(p, t), parts, st.sampled_from(["HEADER", "TEXT"]))
    mime = st.builds(lambda p: Section(p, "MIME"), parts.filter(bool))
    fields = st.builds(
        lambda p, t, f: Section(p, t, f), parts, st.sampled_from(["HEADER.FIELDS", "HEADER.FIELDS.NOT"]),
        st.lists(text, min_size=1, max_size=3).map(tuple),
    )
    return st.one_of(plain, texts, mime, fields)


partials = st.one_of(st.none(), st.builds(Partial, st.integers(0, MAX63), st.integers(1, MAX63)))
fetch_items = st.one_of(
    st.sampled_from("ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODYSTRUCTURE "
                    "UID MODSEQ EMAILID THREADID SAVEDATE PREVIEW BODY".split()).map(c.FetchItem),
    st.just(c.FetchItem("PREVIEW", lazy=True)),
    st.builds(lambda s, p, k: c.FetchItem("BODY", s, p, k), _sections(), partials, st.booleans()),
    st.builds(lambda s, p, k: c.FetchItem("BINARY", Section(s), p, k), parts, partials, st.booleans()),
    st.builds(lambda s: c.FetchItem("BINARY.SIZE", Section(s)), parts),
)


def _fetch(tag, uid, seqs, items, macro, changed, vanished):
    if macro:
        items = tuple(c.FetchItem(n) for n in c.FETCH_MACROS[macro])
        return c.Fetch(tag, uid, seqs, items, macro, changed, vanished)
    return c.Fetch(tag, uid, seqs, tuple(items), None, changed, vanished, single=len(items) == 1 and items[0].name != "PREVIEW")


fetches = st.builds(
    _fetch, tags, st.booleans(), sequence_sets, st.lists(fetch_items, min_size=1, max_size=4),
    st.sampled_from([None, None, "ALL", "FAST", "FULL"]), st.one_of(st.none(), st.integers(1, MAX63)), st.booleans(),
)

search_leaves = st.one_of(
    st.sampled_from("ALL ANSWERED DELETED DRAFT FLAGGED SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN NEW OLD "
                    "RECENT SAVEDATESUPPORTED".split()).map(SearchKey),
    st.builds(lambda n, v: SearchKey(n, (v,)), st.sampled_from("BCC BODY CC FROM SUBJECT TEXT TO".split()), text),
    st.builds(lambda n, v: SearchKey(n, (v,)), st.sampled_from(["KEYWORD", "UNKEYWORD"]), flags),
    st.builds(lambda n, v: SearchKey(n, (v,)), st.sampled_from("BEFORE ON SINCE SENTBEFORE SENTON SENTSINCE "
                                                                "SAVEDBEFORE SAVEDON SAVEDSINCE".split()), dates),
    st.builds(lambda n, v: SearchKey(n, (v,)), st.sampled_from(["LARGER", "SMALLER"]), st.integers(0, MAX63)),
    st.builds(lambda n, v: SearchKey(n, (v,)), st.sampled_from(["OLDER", "YOUNGER"]), nz32),
    st.builds(lambda a, b: SearchKey("HEADER", (a, b)), text, text),
    st.builds(lambda s: SearchKey("UID", (s,)), sequence_sets),
    st.builds(lambda s: SearchKey("SEQ", (s,)), sequence_sets),
    st.builds(lambda v, e: SearchKey("MODSEQ", (v, e)), st.integers(0, MAX63),
              st.one_of(st.none(), st.tuples(st.just("/flags/\\seen"), st.sampled_from(["priv", "shared", "all"])))),
    st.builds(lambda n, v: SearchKey(n, (v,)), st.sampled_from(["EMAILID", "THREADID"]), atoms),
)
search_keys = st.recursive(
    search_leaves,
    lambda inner: st.one_of(
        st.builds(SearchNot, inner),
        st.builds(SearchOr, inner, inner),
        st.lists(inner, min_size=1, max_size=3).map(lambda k: SearchAnd(tuple(k))),
    ),
    max_leaves=6,
)
programs = st.lists(search_keys, min_size=1, max_size=4).map(lambda k: SearchAnd(tuple(k)))
return_options = st.one_of(
    st.none(),
    st.lists(st.one_of(
        st.sampled_from("MIN MAX ALL COUNT SAVE CONTEXT UPDATE".split()).map(c.SearchReturnOption),
        st.builds(lambda a, b, neg: c.SearchReturnOption("PARTIAL", (-a, -b) if neg else (a, b)), nz32, nz32, st.booleans()),
    ), max_size=3).map(tuple),
)
catenate_parts = st.one_of(
    st.builds(lambda u: c.CatenatePart(url=u), text),
    st.builds(lambda t: c.CatenatePart(text=t), st.binary(max_size=8).filter(lambda b: b"\x00" not in b)),
    st.builds(lambda t: c.CatenatePart(text=t, literal8=True), st.binary(max_size=8)),
)


def _message(flags_, date, kind, data, cat):
    if kind is c.AppendKind.CATENATE:
        return c.AppendMessage(flags_, date, b"", kind, tuple(cat))
    if kind is c.AppendKind.LITERAL:
        data = data.replace(b"\x00", b"")
    return c.AppendMessage(flags_, date, data, kind)


append_messages = st.builds(
    _message, st.one_of(st.none(), flag_tuples), st.one_of(st.none(), date_times), st.sampled_from(list(c.AppendKind)),
    st.binary(max_size=20), st.lists(catenate_parts, min_size=1, max_size=3),
)
qresyncs = st.one_of(st.none(), st.builds(
    lambda v, m, k, match: c.QResync(v, m, k, *(match or (None, None))),
    nz32, st.integers(1, MAX63), st.one_of(st.none(), sequence_sets),
    st.one_of(st.none(), st.tuples(sequence_sets, sequence_sets)),
))
status_items = st.lists(st.sampled_from("MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ "
                                        "APPENDLIMIT MAILBOXID".split()), min_size=1, max_size=4).map(tuple)


def _list(tag, reference, patterns, multiple, selection, returns):
    if not multiple:
        patterns = patterns[:1]
    return c.List(tag, reference, tuple(patterns), selection, returns, multiple)


def _notify_group(filter_name, mailboxes, many, events):
    if filter_name in ("SUBTREE", "MAILBOXES"):
        return c.NotifyGroup(filter_name, tuple(mailboxes if many else mailboxes[:1]), events, many)
    return c.NotifyGroup(filter_name, (), events, False)


notify_events = st.lists(st.one_of(
    st.sampled_from(["MessageExpunge", "FlagChange", "MailboxName", "SubscriptionChange"]).map(c.NotifyEvent),
    st.builds(lambda items: c.NotifyEvent("MessageNew", tuple(items)), st.lists(fetch_items, max_size=2)),
), min_size=1, max_size=3).map(tuple)

COMMANDS = {
    "CAPABILITY": st.builds(c.Capability, tags),
    "NOOP": st.builds(c.Noop, tags),
    "LOGOUT": st.builds(c.Logout, tags),
    "ID": st.builds(c.Id, tags, st.one_of(st.none(), st.lists(st.tuples(text, st.one_of(st.none(), text)), max_size=3).map(tuple))),
    "STARTTLS": st.builds(c.StartTls, tags),
    "AUTHENTICATE": st.builds(c.Authenticate, tags, upper_atoms, st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9+/]{1,12}={0,2}|=", fullmatch=True))),
    "LOGIN": st.builds(c.Login, tags, text, text),
    "ENABLE": st.builds(c.Enable, tags, st.lists(upper_atoms, min_size=1, max_size=3).map(tuple)),
    "SELECT": st.builds(c.Select, tags, text, st.booleans(), qresyncs),
    "EXAMINE": st.builds(c.Examine, tags, text, st.booleans(), qresyncs),
    "CREATE": st.builds(c.Create, tags, text, st.lists(st.sampled_from(["\\Sent", "\\Drafts", "\\Junk"]), max_size=2).map(tuple)),
    "DELETE": st.builds(c.Delete, tags, text),
    "RENAME": st.builds(c.Rename, tags, text, text),
    "SUBSCRIBE": st.builds(c.Subscribe, tags, text),
    "UNSUBSCRIBE": st.builds(c.Unsubscribe, tags, text),
    "LIST": st.builds(_list, tags, text, st.lists(text, min_size=1, max_size=3), st.booleans(),
                      st.one_of(st.none(), st.lists(st.sampled_from(["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"]), max_size=2).map(tuple)),
                      st.one_of(st.none(), st.lists(st.one_of(st.sampled_from(["SUBSCRIBED", "CHILDREN", "SPECIAL-USE"]).map(c.ListReturnOption),
                                                              st.builds(lambda i: c.ListReturnOption("STATUS", i), status_items)), max_size=2).map(tuple))),
    "LSUB": st.builds(c.Lsub, tags, text, text),
    "NAMESPACE": st.builds(c.Namespace, tags),
    "STATUS": st.builds(c.Status, tags, text, status_items),
    "APPEND": st.builds(c.Append, tags, text, st.lists(append_messages, min_size=1, max_size=3).map(tuple)),
    "IDLE": st.builds(c.Idle, tags),
    "UNAUTHENTICATE": st.builds(c.Unauthenticate, tags),
    "GETQUOTA": st.builds(c.GetQuota, tags, text),
    "GETQUOTAROOT": st.builds(c.GetQuotaRoot, tags, text),
    "SETQUOTA": st.builds(c.SetQuota, tags, text, st.lists(st.tuples(upper_atoms, st.integers(0, MAX63)), max_size=3).map(tuple)),
    "GETMETADATA": st.builds(lambda t, m, e, many, size, depth: c.GetMetadata(t, m, tuple(e if many else e[:1]), size, depth, many),
                             tags, text, st.lists(text, min_size=1, max_size=3), st.booleans(),
                             st.one_of(st.none(), st.integers(0, MAX32)), st.sampled_from([None, "0", "1", "infinity"])),
    "SETMETADATA": st.builds(c.SetMetadata, tags, text, st.lists(st.tuples(text, st.one_of(st.none(), st.binary(max_size=10))), min_size=1, max_size=3).map(tuple)),
    "NOTIFY": st.one_of(st.builds(c.Notify, tags), st.builds(
        lambda t, status, groups: c.Notify(t, True, status, tuple(groups)), tags, st.booleans(),
        st.lists(st.builds(_notify_group, st.sampled_from(["SELECTED", "SELECTED-DELAYED", "INBOXES", "PERSONAL", "SUBSCRIBED", "SUBTREE", "MAILBOXES"]),
                           st.lists(text, min_size=1, max_size=3), st.booleans(), st.one_of(st.none(), notify_events)), min_size=1, max_size=2))),
    "SETACL": st.builds(c.SetAcl, tags, text, text, text),
    "DELETEACL": st.builds(c.DeleteAcl, tags, text, text),
    "GETACL": st.builds(c.GetAcl, tags, text),
    "LISTRIGHTS": st.builds(c.ListRights, tags, text, text),
    "MYRIGHTS": st.builds(c.MyRights, tags, text),
    "COMPRESS": st.builds(c.Compress, tags, upper_atoms),
    "GENURLAUTH": st.builds(c.GenUrlAuth, tags, st.lists(st.tuples(text, upper_atoms), min_size=1, max_size=2).map(tuple)),
    "RESETKEY": st.one_of(st.builds(c.ResetKey, tags), st.builds(c.ResetKey, tags, text, st.lists(upper_atoms, max_size=2).map(tuple))),
    "URLFETCH": st.builds(c.UrlFetch, tags, st.lists(text, min_size=1, max_size=3).map(tuple)),
    "CHECK": st.builds(c.Check, tags),
    "CLOSE": st.builds(c.Close, tags),
    "UNSELECT": st.builds(c.Unselect, tags),
    "EXPUNGE": st.one_of(st.builds(c.Expunge, tags), st.builds(lambda t, s: c.Expunge(t, True, s), tags, sequence_sets)),
    "COPY": st.builds(c.Copy, tags, st.booleans(), sequence_sets, text),
    "MOVE": st.builds(c.Move, tags, st.booleans(), sequence_sets, text),
    "FETCH": fetches,
    "STORE": st.builds(
        lambda t, u, s, mode, silent, f, paren, unchanged: c.Store(t, u, s, c.StoreAction(mode, silent, f if (paren or f) else ("\\Seen",), paren or not f), unchanged),
        tags, st.booleans(), sequence_sets, st.sampled_from(list(c.StoreMode)), st.booleans(), flag_tuples, st.booleans(),
        st.one_of(st.none(), st.integers(0, MAX63))),
    "SEARCH": st.builds(c.Search, tags, st.booleans(), st.one_of(st.none(), text), programs, return_options),
    "SORT": st.builds(c.Sort, tags, st.booleans(),
                      st.lists(st.builds(c.SortCriterion, st.sampled_from("ARRIVAL CC DATE FROM SIZE SUBJECT TO DISPLAYFROM DISPLAYTO".split()), st.booleans()), min_size=1, max_size=3).map(tuple),
                      text, programs, return_options),
    "THREAD": st.builds(c.Thread, tags, st.booleans(), upper_atoms, text, programs),
    "REPLACE": st.builds(c.Replace, tags, st.booleans(), nz32, text, append_messages),
    "CANCELUPDATE": st.builds(c.CancelUpdate, tags, st.lists(st.from_regex(r"[A-Za-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=3).map(tuple)),
}
