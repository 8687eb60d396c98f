"""Per-command parsing, from the examples of RFC 9051 §6 and the extension RFCs, plus §9 edge cases."""

import datetime as dt

import pytest

from imapcore.syntax import commands as c
from imapcore.syntax.model import Partial, SearchAnd, SearchKey, SearchNot, SearchOr, Section, SequenceSet
from imapcore.syntax.parser import CommandSyntaxError
from imapcore.syntax.pytokenizer import Tokenizer
from imapcore.syntax.stream import iter_stream


def parse(data: bytes, utf8: bool = False):
    """Parse one command (CRLF added); returns the Command or the CommandSyntaxError."""
    items = list(iter_stream(b"x ENABLE UTF8=ACCEPT\r\n" + data + b"\r\n" if utf8 else data + b"\r\n",
                             tokenizer_class=Tokenizer))
    if utf8:
        items = items[1:]
    assert len(items) == 1, items
    return items[0]


def seq(*ranges, saved=False):
    return SequenceSet(tuple(ranges), saved)


def item(name, **kw):
    return c.FetchItem(name, **kw)


CASES = [
    # RFC 9051 §6.1
    (b"a002 NOOP", c.Noop("a002")),
    (b"abcd CAPABILITY", c.Capability("abcd")),
    (b"A023 LOGOUT", c.Logout("A023")),
    # RFC 2971 §3.1
    (b'a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")',
     c.Id("a023", (("name", "sodr"), ("version", "19.34"), ("vendor", "Pink Floyd Music Limited")))),
    (b"a1 ID NIL", c.Id("a1", None)),
    (b'a1 ID ("x" NIL)', c.Id("a1", (("x", None),))),
    # RFC 9051 §6.2
    (b"a001 STARTTLS", c.StartTls("a001")),
    (b"A001 AUTHENTICATE GSSAPI", c.Authenticate("A001", "GSSAPI")),
    (b"A001 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=", c.Authenticate("A001", "PLAIN", "dGVzdAB0ZXN0AHRlc3Q=")),
    (b"A001 AUTHENTICATE PLAIN =", c.Authenticate("A001", "PLAIN", "=")),
    (b"a001 LOGIN SMITH SESAME", c.Login("a001", "SMITH", "SESAME")),
    (b'a001 LOGIN "fred" "a\\"b\\\\c"', c.Login("a001", "fred", 'a"b\\c')),
    (b"a001 LOGIN {4+}\r\nfred {0+}\r\n", c.Login("a001", "fred", "")),
    # RFC 9051 §6.3
    (b"t2 ENABLE CONDSTORE X-GOOD-IDEA", c.Enable("t2", ("CONDSTORE", "X-GOOD-IDEA"))),
    (b"A142 SELECT INBOX", c.Select("A142", "INBOX")),
    (b"A142 SELECT [Gmail]/Sent", c.Select("A142", "[Gmail]/Sent")),
    (b"A142 SELECT \"\"", c.Select("A142", "")),
    (b"A932 EXAMINE blurdybloop", c.Examine("A932", "blurdybloop")),
    (b"A003 CREATE owatagusiam/", c.Create("A003", "owatagusiam/")),
    (b"t1 CREATE \"Important Messages\" (USE (\\Important))", c.Create("t1", "Important Messages", ("\\Important",))),
    (b"A683 DELETE blurdybloop", c.Delete("A683", "blurdybloop")),
    (b"A683 RENAME blurdybloop sarasoop", c.Rename("A683", "blurdybloop", "sarasoop")),
    (b"A002 SUBSCRIBE #news.comp.mail.mime", c.Subscribe("A002", "#news.comp.mail.mime")),
    (b"A002 UNSUBSCRIBE #news.comp.mail.mime", c.Unsubscribe("A002", "#news.comp.mail.mime")),
    (b'A101 LIST "" ""', c.List("A101", "", ("",))),
    (b'A102 LIST #news.comp.mail.misc ""', c.List("A102", "#news.comp.mail.misc", ("",))),
    (b"A202 LIST ~/Mail/ %", c.List("A202", "~/Mail/", ("%",))),
    (b'A03 LIST () "" %', c.List("A03", "", ("%",), ())),
    (b'A01 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)',
     c.List("A01", "", ("%",), ("SUBSCRIBED", "RECURSIVEMATCH"), (c.ListReturnOption("CHILDREN"),))),
    (b'A04 LIST "" ("INBOX" "Drafts" %)', c.List("A04", "", ("INBOX", "Drafts", "%"), None, None, True)),
    (b'A02 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))',
     c.List("A02", "", ("%",), None, (c.ListReturnOption("STATUS", ("MESSAGES", "UNSEEN")),))),
    (b't3 LIST (SPECIAL-USE) "" *', c.List("t3", "", ("*",), ("SPECIAL-USE",))),
    (b'A002 LSUB "#news." "comp.mail.*"', c.Lsub("A002", "#news.", "comp.mail.*")),
    (b"A001 NAMESPACE", c.Namespace("A001")),
    (b"A042 STATUS blurdybloop (UIDNEXT MESSAGES SIZE DELETED HIGHESTMODSEQ APPENDLIMIT MAILBOXID)",
     c.Status("A042", "blurdybloop", ("UIDNEXT", "MESSAGES", "SIZE", "DELETED", "HIGHESTMODSEQ", "APPENDLIMIT", "MAILBOXID"))),
    (b"A002 IDLE", c.Idle("A002")),
    (b"a UNAUTHENTICATE", c.Unauthenticate("a")),
    # RFC 9051 §6.4
    (b"FXXZ CHECK", c.Check("FXXZ")),
    (b"A341 CLOSE", c.Close("A341")),
    (b"A342 UNSELECT", c.Unselect("A342")),
    (b"A202 EXPUNGE", c.Expunge("A202")),
    (b"A003 UID EXPUNGE 3000:3002", c.Expunge("A003", True, seq((3000, 3002)))),
    (b"A003 COPY 2:4 MEETING", c.Copy("A003", False, seq((2, 4)), "MEETING")),
    (b"a UID MOVE 42:69 foo", c.Move("a", True, seq((42, 69)), "foo")),
    (b"A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])",
     c.Fetch("A654", False, seq((2, 4)), (item("FLAGS"), item("BODY", section=Section((), "HEADER.FIELDS", ("DATE", "FROM")))))),
    (b"A999 UID FETCH 4827313:4828442 FLAGS", c.Fetch("A999", True, seq((4827313, 4828442)), (item("FLAGS"),), single=True)),
    (b"a FETCH * ALL", c.Fetch("a", False, seq((0, 0)), tuple(item(n) for n in c.FETCH_MACROS["ALL"]), "ALL")),
    (b"a FETCH 1:* FAST", c.Fetch("a", False, seq((1, 0)), tuple(item(n) for n in c.FETCH_MACROS["FAST"]), "FAST")),
    (b"a FETCH $ FULL", c.Fetch("a", False, seq(saved=True), tuple(item(n) for n in c.FETCH_MACROS["FULL"]), "FULL")),
    (b"a FETCH 1 (BODY.PEEK[1.2.MIME] BODY[3.TEXT]<0.1024> BODY[] RFC822.SIZE BODY BODYSTRUCTURE)",
     c.Fetch("a", False, seq((1, 1)), (
         item("BODY", section=Section((1, 2), "MIME"), peek=True),
         item("BODY", section=Section((3,), "TEXT"), partial=Partial(0, 1024)),
         item("BODY", section=Section()),
         item("RFC822.SIZE"), item("BODY"), item("BODYSTRUCTURE")))),
    (b"a FETCH 1 (RFC822 RFC822.HEADER RFC822.TEXT INTERNALDATE ENVELOPE UID)",
     c.Fetch("a", False, seq((1, 1)), tuple(item(n) for n in ("RFC822", "RFC822.HEADER", "RFC822.TEXT", "INTERNALDATE", "ENVELOPE", "UID")))),
    (b"a FETCH 1 BODY[1.2.HEADER.FIELDS.NOT (Received)]",
     c.Fetch("a", False, seq((1, 1)), (item("BODY", section=Section((1, 2), "HEADER.FIELDS.NOT", ("Received",))),), single=True)),
    # RFC 3516 BINARY
    (b"t FETCH 1 (BINARY.PEEK[1]<0.64> BINARY[] BINARY.SIZE[2.1])",
     c.Fetch("t", False, seq((1, 1)), (item("BINARY", section=Section((1,)), partial=Partial(0, 64), peek=True),
                                       item("BINARY", section=Section()), item("BINARY.SIZE", section=Section((2, 1)))))),
    # RFC 7162 CONDSTORE / QRESYNC
    (b"s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)",
     c.Fetch("s100", True, seq((1, 0)), (item("FLAGS"),), changed_since=12345)),
    (b"s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 9223372036854775807 VANISHED)",
     c.Fetch("s100", True, seq((300, 500)), (item("FLAGS"),), changed_since=2**63 - 1, vanished=True)),
    (b"a FETCH 1 (MODSEQ EMAILID THREADID SAVEDATE PREVIEW)",
     c.Fetch("a", False, seq((1, 1)), tuple(item(n) for n in ("MODSEQ", "EMAILID", "THREADID", "SAVEDATE", "PREVIEW")))),
    (b"a FETCH 1 (UID PREVIEW (LAZY))", c.Fetch("a", False, seq((1, 1)), (item("UID"), item("PREVIEW", lazy=True)))),
    (b"a FETCH 1 PREVIEW (LAZY) (CHANGEDSINCE 4)",
     c.Fetch("a", False, seq((1, 1)), (item("PREVIEW", lazy=True),), changed_since=4, single=True)),
    (b"A160 SELECT INBOX (CONDSTORE)", c.Select("A160", "INBOX", True)),
    (b"A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))",
     c.Select("A02", "INBOX", qresync=c.QResync(67890007, 20050715194045000, seq((41, 41), (43, 211), (214, 541))))),
    (b"B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976:29980)))",
     c.Select("B04", "INBOX", qresync=c.QResync(67890007, 90060115194045000, seq((1, 29997)),
              seq((5000, 5000), (7500, 7500), (9000, 9000), (9990, 9999)),
              seq((15000, 15000), (22500, 22500), (27000, 27000), (29970, 29970), (29973, 29973), (29976, 29980))))),
    (b"A003 STORE 2:4 +FLAGS (\\Deleted)",
     c.Store("A003", False, seq((2, 4)), c.StoreAction(c.StoreMode.ADD, False, ("\\Deleted",)))),
    (b"A005 STORE 2:4 -FLAGS.SILENT \\seen $Forwarded",
     c.Store("A005", False, seq((2, 4)), c.StoreAction(c.StoreMode.REMOVE, True, ("\\Seen", "$Forwarded"), False))),
    (b"d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)",
     c.Store("d105", False, seq((7, 7), (5, 5), (9, 9)), c.StoreAction(c.StoreMode.ADD, True, ("\\Deleted",)), 320162338)),
    (b"a STORE 1 FLAGS ()", c.Store("a", False, seq((1, 1)), c.StoreAction(c.StoreMode.REPLACE, False, ()))),
    # SEARCH; RFC 9051 §6.4.4 and extensions
    (b'A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"',
     c.Search("A282", False, None, SearchAnd((SearchKey("FLAGGED"), SearchKey("SINCE", (dt.date(1994, 2, 1),)),
              SearchNot(SearchKey("FROM", ("Smith",))))),
              (c.SearchReturnOption("MIN"), c.SearchReturnOption("COUNT")))),
    (b"A284 SEARCH CHARSET UTF-8 TEXT {12}\r\n\xd0\x9d\xd1\x8e\xd1\x85\xd0\xbe\xd0\xb2\xd0\xba",
     c.Search("A284", False, "UTF-8", SearchAnd((SearchKey("TEXT", ("Нюховк",)),)))),
    (b"a UID SEARCH RETURN (SAVE) KEYWORD $Junk UNKEYWORD Foo 2:5 LARGER 9223372036854775807",
     c.Search("a", True, None, SearchAnd((SearchKey("KEYWORD", ("$Junk",)), SearchKey("UNKEYWORD", ("Foo",)),
              SearchKey("SEQ", (seq((2, 5)),)), SearchKey("LARGER", (2**63 - 1,)))), (c.SearchReturnOption("SAVE"),))),
    (b'a SEARCH MODSEQ "/flags/\\\\draft" all 620162338',
     c.Search("a", False, None, SearchAnd((SearchKey("MODSEQ", (620162338, ("/flags/\\draft", "all"))),)))),
    (b"a SEARCH MODSEQ 0 YOUNGER 3600 OLDER 1 SAVEDBEFORE 1-Jan-2024 SAVEDATESUPPORTED",
     c.Search("a", False, None, SearchAnd((SearchKey("MODSEQ", (0, None)), SearchKey("YOUNGER", (3600,)),
              SearchKey("OLDER", (1,)), SearchKey("SAVEDBEFORE", (dt.date(2024, 1, 1),)), SearchKey("SAVEDATESUPPORTED"))))),
    (b"a SEARCH EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9 ON \"29-Feb-2024\"",
     c.Search("a", False, None, SearchAnd((SearchKey("EMAILID", ("M6d99ac3275bb4e",)), SearchKey("THREADID", ("T64b478a75b7ea9",)),
              SearchKey("ON", (dt.date(2024, 2, 29),)))))),
    (b"a SEARCH RETURN (PARTIAL -1:-100 COUNT) UNDELETED",
     c.Search("a", False, None, SearchAnd((SearchKey("UNDELETED"),)),
              (c.SearchReturnOption("PARTIAL", (-1, -100)), c.SearchReturnOption("COUNT")))),
    (b"a SEARCH RETURN () ALL", c.Search("a", False, None, SearchAnd((SearchKey("ALL"),)), ())),
    (b"B282 SEARCH RETURN (UPDATE CONTEXT COUNT) FROM \"smith\"",
     c.Search("B282", False, None, SearchAnd((SearchKey("FROM", ("smith",)),)),
              (c.SearchReturnOption("UPDATE"), c.SearchReturnOption("CONTEXT"), c.SearchReturnOption("COUNT")))),
    (b'B285 CANCELUPDATE "B282"', c.CancelUpdate("B285", ("B282",))),
    # SORT / THREAD; RFC 5256, RFC 5267, RFC 5957
    (b"A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994",
     c.Sort("A282", False, (c.SortCriterion("SUBJECT"),), "UTF-8", SearchAnd((SearchKey("SINCE", (dt.date(1994, 2, 1),)),)))),
    (b"A283 UID SORT RETURN (MIN MAX) (REVERSE DATE DISPLAYFROM) US-ASCII ALL",
     c.Sort("A283", True, (c.SortCriterion("DATE", True), c.SortCriterion("DISPLAYFROM")), "US-ASCII",
            SearchAnd((SearchKey("ALL"),)), (c.SearchReturnOption("MIN"), c.SearchReturnOption("MAX")))),
    (b"A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000",
     c.Thread("A283", False, "ORDEREDSUBJECT", "UTF-8", SearchAnd((SearchKey("SINCE", (dt.date(2000, 3, 5),)),)))),
    # RFC 9208 QUOTA
    (b'G0001 GETQUOTA "!partition/sda4"', c.GetQuota("G0001", "!partition/sda4")),
    (b"G0002 GETQUOTAROOT INBOX", c.GetQuotaRoot("G0002", "INBOX")),
    (b'S0000 SETQUOTA "#user/alice" (STORAGE 510)', c.SetQuota("S0000", "#user/alice", (("STORAGE", 510),))),
    (b'S0001 SETQUOTA "" ()', c.SetQuota("S0001", "")),
    # RFC 5464 METADATA
    (b'a GETMETADATA "" /shared/comment', c.GetMetadata("a", "", ("/shared/comment",))),
    (b"a GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX (/shared/comment /private/comment)",
     c.GetMetadata("a", "INBOX", ("/shared/comment", "/private/comment"), 1024, "infinity", True)),
    (b'a SETMETADATA INBOX (/private/comment {10+}\r\nMy comment /shared/x NIL)',
     c.SetMetadata("a", "INBOX", (("/private/comment", b"My comment"), ("/shared/x", None)))),
    # RFC 5465 NOTIFY
    (b"a NOTIFY NONE", c.Notify("a")),
    # RFC 4314 ACL
    (b"A002 SETACL INBOX/Drafts John lrQswicda", c.SetAcl("A002", "INBOX/Drafts", "John", "lrQswicda")),
    (b"A035 DELETEACL INBOX/Drafts Fred", c.DeleteAcl("A035", "INBOX/Drafts", "Fred")),
    (b"A003 GETACL INBOX/Drafts", c.GetAcl("A003", "INBOX/Drafts")),
    (b"a001 LISTRIGHTS ~/Mail/saved smith", c.ListRights("a001", "~/Mail/saved", "smith")),
    (b"A003 MYRIGHTS INBOX", c.MyRights("A003", "INBOX")),
    # RFC 4978, RFC 4467
    (b"a COMPRESS DEFLATE", c.Compress("a", "DEFLATE")),
    (b'a GENURLAUTH "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred" INTERNAL',
     c.GenUrlAuth("a", (("imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred", "INTERNAL"),))),
    (b"a RESETKEY", c.ResetKey("a")),
    (b"a RESETKEY INBOX INTERNAL", c.ResetKey("a", "INBOX", ("INTERNAL",))),
    (b'a URLFETCH "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038"',
     c.UrlFetch("a", ("imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038",))),
]


@pytest.mark.parametrize("line, expected", CASES, ids=lambda v: None)
def test_rfc_examples(line, expected):
    assert parse(line) == expected


def test_search_or_parenthesised_header_and_saved_uid_set():
    result = parse(b'A285 SEARCH OR (SEEN FLAGGED) (SMALLER 100) HEADER X-Spam "yes" UID 1:*,$')
    # "1:*,$" is not a sequence set ("$" stands alone; RFC 5182 §2.1): BAD.
    assert isinstance(result, CommandSyntaxError) and result.tag == "A285"
    result = parse(b'A285 SEARCH OR (SEEN FLAGGED) (SMALLER 100) HEADER X-Spam "yes" UID $')
    assert result.criteria == SearchAnd((
        SearchOr(SearchAnd((SearchKey("SEEN"), SearchKey("FLAGGED"))), SearchAnd((SearchKey("SMALLER", (100,)),))),
        SearchKey("HEADER", ("X-Spam", "yes")),
        SearchKey("UID", (seq(saved=True),)),
    ))


def test_notify_with_message_new_fetch_attributes():
    result = parse(b"a NOTIFY SET STATUS (selected (MessageNew (uid body.peek[header.fields (from to)]) "
                   b"MessageExpunge)) (subtree (Lists Work) (MailboxName)) (personal NONE)")
    assert result == c.Notify("a", True, True, (
        c.NotifyGroup("SELECTED", (), (
            c.NotifyEvent("MessageNew", (item("UID"), item("BODY", section=Section((), "HEADER.FIELDS", ("from", "to")), peek=True))),
            c.NotifyEvent("MessageExpunge"))),
        c.NotifyGroup("SUBTREE", ("Lists", "Work"), (c.NotifyEvent("MailboxName"),), True),
        c.NotifyGroup("PERSONAL", (), None),
    ))
    assert isinstance(parse(b"a NOTIFY SET (selected (MessageExpunge (uid)))"), CommandSyntaxError)


def test_append_forms():
    assert parse(b'A003 APPEND saved-messages (\\Seen) " 7-Feb-1994 21:52:25 -0800" {5+}\r\nhello') == c.Append(
        "A003", "saved-messages", (c.AppendMessage(("\\Seen",), dt.datetime(1994, 2, 7, 21, 52, 25,
                                   tzinfo=dt.timezone(-dt.timedelta(hours=8))), b"hello"),))
    # MULTIAPPEND (RFC 3502), literal8 (RFC 3516), UTF8 (RFC 6855), CATENATE (RFC 4469)
    result = parse(b"A1 APPEND Drafts {1+}\r\na () ~{2+}\r\n\x00b UTF8 (~{1+}\r\nc) CATENATE "
                   b"(URL \"/INBOX;UIDVALIDITY=385759045/;UID=20\" TEXT {2+}\r\nde)")
    assert result.messages == (
        c.AppendMessage(None, None, b"a"),
        c.AppendMessage((), None, b"\x00b", c.AppendKind.LITERAL8),
        c.AppendMessage(None, None, b"c", c.AppendKind.UTF8),
        c.AppendMessage(None, None, b"", c.AppendKind.CATENATE,
                        (c.CatenatePart(url="/INBOX;UIDVALIDITY=385759045/;UID=20"), c.CatenatePart(text=b"de"))),
    )
    assert parse(b"a UID REPLACE 2 Drafts {1+}\r\nx") == c.Replace("a", True, 2, "Drafts", c.AppendMessage(None, None, b"x"))


@pytest.mark.parametrize(
    "line",
    [
        b"a  NOOP",  # two spaces
        b"a NOOP ",  # trailing space
        b"a FETCH 0 FLAGS",  # seq-number is nz-number
        b"a FETCH 4294967296 FLAGS",  # beyond 32 bits
        b"a FETCH 1 (CHANGEDSINCE 0)",
        b"a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)",  # beyond 2^63-1
        b"a FETCH 1 BODY[0]",
        b"a FETCH 1 BODY[]<0.0>",
        b"a SEARCH SINCE 30-Feb-2024",
        b"a SEARCH SINCE 1-Foo-2024",
        b"a APPEND INBOX \"31-Jun-2024 10:00:00 +0000\" {1+}\r\nx",
        b'a APPEND INBOX "hello"',  # message data must be a literal
        b"a SELECT a*b",  # list-wildcards are not ASTRING-CHARs
        b"a LOGIN \\fred x",
        b"a XKITBOGUS",
        b"a STORE 1 +FLAGS (\\Seen",
        b"a SEARCH",
        b"a SEARCH RETURN (PARTIAL 1:-5) ALL",
        b"a GETMETADATA (DEPTH 2) INBOX /x",
        b"a FETCH 1 (UID (LAZY))",
        b"a ID (\"x\")",
    ],
)
def test_rejected_with_tag(line):
    result = parse(line)
    assert isinstance(result, CommandSyntaxError), result
    assert result.tag == "a"


def test_unknown_command_message():
    assert parse(b"MKEC124 XKITBOGUS arg").message == "unknown command 'XKITBOGUS'"


def test_keywords_are_case_insensitive():
    assert parse(b"a uid fetch 1:* (flags body.peek[header]) (changedsince 7)") == c.Fetch(
        "a", True, seq((1, 0)), (item("FLAGS"), item("BODY", section=Section((), "HEADER"), peek=True)), changed_since=7)


def test_star_at_either_end_of_a_range():
    assert parse(b"a COPY *:4,7:* x").sequence_set == seq((0, 4), (7, 0))


def test_nil_is_an_astring_where_an_astring_is_expected():
    assert parse(b"a SELECT NIL") == c.Select("a", "NIL")


def test_utf8_quoted_mailbox_after_enable():
    assert parse('a SELECT "Entwürfe"'.encode(), utf8=True) == c.Select("a", "Entwürfe")
    assert isinstance(parse('a SELECT "Entwürfe"'.encode()), c.Command) is False


def test_literal_login_with_8bit_password_is_kept_losslessly():
    result = parse(b"a LOGIN fred {3}\r\n\xff\xfeA")
    assert result.password.encode("utf-8", "surrogateescape") == b"\xff\xfeA"


def test_search_nesting_is_bounded():
    ok = b"a SEARCH " + b"NOT " * 60 + b"ALL"
    assert isinstance(parse(ok), c.Search)
    deep = b"a SEARCH " + b"(" * 5000 + b"ALL" + b")" * 5000
    result = parse(deep)
    assert result == CommandSyntaxError("a", "search keys nested too deeply")
    assert parse(b"a SEARCH " + b"NOT " * 200 + b"ALL") == CommandSyntaxError("a", "search keys nested too deeply")
