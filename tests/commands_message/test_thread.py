"""THREAD / UID THREAD (RFC 5256 §3, §4) and SORT through the server, compared with Dovecot.

``THREAD_CASES`` is a mailbox built to exercise every step of REFERENCES and ORDEREDSUBJECT: replies by
References and by In-Reply-To only, a missing parent (a dummy promoted, and a dummy kept at the top with
two children), truncated References that must not move an existing parent, a duplicate Message-ID, a
reference loop, a message referencing itself, quoted and invalid Message-IDs, subject merging of
threads (a reply joining its original, two originals put under a dummy, "[fwd: ...]" and "(fwd)"
forms, case differences), empty subjects, a missing Date (INTERNALDATE is the sent date), equal dates
(mailbox order decides), and dates in other zones (compared in UTC).

The Dovecot comparisons deliver the same bytes with the same INTERNALDATE to both servers and compare
the untagged answers byte for byte; they skip when Dovecot is not installed.
"""

from __future__ import annotations

import datetime as dt

import pytest

from imapcore.store import NewMessage
from support.dovecot import dovecot_available
from support.server import ImapTestClient, running_server

USERS = {"alice": "secret"}
INTERNAL_DATE = dt.datetime(2024, 1, 5, 12, 30, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
APPEND_DATE = "05-Jan-2024 12:30:00 +0100"


def message(subject: str | None, mid: str | None, *, date: str | None = "Mon, 01 Jan 2024 10:00:00 +0000",
            irt: str | None = None, refs: str | None = None, sender: str = "Alice <alice@example.org>",
            to: str = "Bob <bob@example.org>") -> bytes:
    lines = [f"From: {sender}", f"To: {to}"]
    if subject is not None:
        lines.append(f"Subject: {subject}")
    if date is not None:
        lines.append(f"Date: {date}")
    if mid is not None:
        lines.append(f"Message-ID: {mid}")
    if irt is not None:
        lines.append(f"In-Reply-To: {irt}")
    if refs is not None:
        lines.append(f"References: {refs}")
    return ("\r\n".join(lines) + f"\r\n\r\nBody of {mid or subject}.\r\n").encode()


def day(n: int, hour: int = 10, zone: str = "+0000") -> str:
    return f"Mon, {n:02d} Jan 2024 {hour:02d}:00:00 {zone}"


THREAD_CASES = [
    # 1-4: a conversation; 4's References are truncated and name an unknown first id.
    message("Plans", "<a@x>", date=day(1)),
    message("Re: Plans", "<b@x>", date=day(2), irt="<a@x>"),
    message("Re: Plans", "<c@x>", date=day(3), refs="<a@x> <b@x>"),
    message("Re: Re: Plans", "<d@x>", date=day(4), refs="<zz@x> <b@x>"),
    # 5: parent missing, one child: the dummy goes, 5 is a thread of its own.
    message("Lost", "<e@x>", date=day(5), refs="<gone@x>"),
    # 6-7: parent missing, two children: a dummy stays at the top.
    message("Orphans", "<f@x>", date=day(7), refs="<gone2@x>"),
    message("Orphans too", "<g@x>", date=day(6), refs="<gone2@x>"),
    # 8: same Message-ID as 1: it gets a unique one and does not steal 1's replies.
    message("Duplicate", "<a@x>", date=day(8)),
    # 9-10: a reference loop.
    message("Loop one", "<i@x>", date=day(9), refs="<j@x>"),
    message("Loop two", "<j@x>", date=day(10), refs="<i@x>"),
    # 11-14: subject merging: a reply without references joins its original; two originals get a dummy.
    message("Meeting", "<k@x>", date=day(11)),
    message("Re: Meeting", "<l@x>", date=day(12)),
    message("meeting", "<m@x>", date=day(13)),
    message("[fwd: Meeting]", "<n@x>", date=day(14)),
    # 15-16: empty subjects are never merged (RFC 5256 §3 step 5.B.ii).
    message("", "<o@x>", date=day(15)),
    message(None, "<p@x>", date=day(16)),
    # 17: no Date: INTERNALDATE (5 Jan 2024 11:30 UTC) is its sent date.
    message("Undated", "<q@x>", date=None),
    # 18-19: the same sent date; mailbox order decides.
    message("Tie B", "<r@x>", date=day(18)),
    message("Tie A", "<s@x>", date=day(18)),
    # 20-21: a quoted Message-ID is the same id unquoted.
    message("Quoted", '<"quoted"@x>', date=day(20)),
    message("Re: Quoted", "<u@x>", date=day(21), refs="<quoted@x>"),
    # 22-23: an id without "@" is not a Message-ID; In-Reply-To with text around the id.
    message("No at", "<noat>", date=day(22)),
    message("Re: No at", "<w@x>", date=day(23), irt="<noat>"),
    message("Chatter", "<y@x>", date=day(24), irt="your message <u@x> of yesterday"),
    # 25: a reply in other case and with "(fwd)": joins thread 5 by subject.
    message("RE: LOST (fwd)", "<z@x>", date=day(25)),
    # 26: references itself after its parent.
    message("Self", "<self@x>", date=day(26), refs="<c@x> <self@x>"),
    # 27-28: time zones: 28 is earlier in UTC although its wall-clock date is later.
    message("Zones", "<tz1@x>", date="Sun, 31 Dec 2023 16:01:33 -0800"),
    message("Re: Zones", "<tz2@x>", date="Mon, 01 Jan 2024 00:01:00 +0000", refs="<tz1@x>"),
    # 29: no Message-ID, replying to 11 by In-Reply-To.
    message("Re: Meeting", None, date=day(29), irt="<k@x>"),
    # 30: multiple In-Reply-To ids: the first valid one counts.
    message("Re: Plans", "<v@x>", date=day(30), irt="<bogus> <d@x> <a@x>"),
]

THREAD_COMMANDS = [
    "THREAD REFERENCES UTF-8 ALL",
    "THREAD ORDEREDSUBJECT UTF-8 ALL",
    "UID THREAD REFERENCES US-ASCII ALL",
    "UID THREAD ORDEREDSUBJECT UTF-8 ALL",
    "THREAD REFERENCES UTF-8 SUBJECT plans",
    "THREAD REFERENCES UTF-8 NOT SUBJECT meeting",
    "THREAD ORDEREDSUBJECT UTF-8 1:10",
    "THREAD REFERENCES UTF-8 SUBJECT nothing-like-this",
]

SORT_COMMANDS = [
    "SORT (SUBJECT) UTF-8 ALL",
    "SORT (DATE) UTF-8 ALL",
    "SORT (REVERSE DATE) UTF-8 ALL",
    "SORT (FROM REVERSE ARRIVAL) UTF-8 ALL",
    "SORT (TO) UTF-8 ALL",
    "SORT (CC SUBJECT) UTF-8 ALL",
    "SORT (SIZE) UTF-8 ALL",
    "SORT (DISPLAYFROM) UTF-8 ALL",
    "SORT (DISPLAYTO DATE) UTF-8 ALL",
    "UID SORT (REVERSE SUBJECT DATE) UTF-8 SINCE 1-Jan-2024",
]

#: Dovecot 2.3's answers for THREAD_CASES (validated with tests/support/dovecot.py; the comparison test
#: below re-checks them whenever Dovecot is installed).
EXPECTED_THREADS = {
    "THREAD REFERENCES UTF-8 ALL":
        b"* THREAD (27 28)(1 2 (3)(4 30))(5 25)(17)((7)(6))(8)(10 9)((11 (12)(29))(13)(14))(15)(16)(18)(19)"
        b"(20 21 24)(22 23)(26)\r\n",
    "THREAD ORDEREDSUBJECT UTF-8 ALL":
        b"* THREAD (28 27)(1 (2)(3)(4)(30))(5 25)(17)(7)(6)(8)(9)(10)(11 (12)(13)(14)(29))(15 16)(18)(19)"
        b"(20 21)(22 23)(24)(26)\r\n",
    "THREAD REFERENCES UTF-8 SUBJECT plans": b"* THREAD (1 2 (3)(4 30))\r\n",
    "THREAD ORDEREDSUBJECT UTF-8 1:10": b"* THREAD (1 (2)(3)(4))(5)(7)(6)(8)(9)(10)\r\n",
}


@pytest.fixture
async def threads_server(tmp_path):
    async with running_server(tmp_path, users=USERS) as srv:
        srv.store.append_many("alice", "INBOX", [NewMessage(raw, internal_date=INTERNAL_DATE) for raw in THREAD_CASES])
        yield srv


async def _session(srv) -> ImapTestClient:
    client = await ImapTestClient.connect(srv.port)
    assert (await client.command("l1", "LOGIN alice secret"))[-1].startswith(b"l1 OK")
    assert (await client.command("l2", "SELECT INBOX"))[-1].startswith(b"l2 OK")
    return client


async def test_thread_answers(threads_server):
    client = await _session(threads_server)
    for index, (command, expected) in enumerate(EXPECTED_THREADS.items()):
        tag = f"t{index}"
        assert await client.command(tag, command) == [expected, f"{tag} OK Thread completed\r\n".encode()], command
    # RFC 5256 §4: no thread-list at all when nothing matched ("THREAD" alone, no trailing space).
    assert await client.command("e1", "THREAD REFERENCES UTF-8 SUBJECT nothing-like-this") == [
        b"* THREAD\r\n", b"e1 OK Thread completed\r\n"]
    await client.aclose()


async def test_thread_charset_algorithm_and_numbers(threads_server):
    client = await _session(threads_server)
    # CHARSET as SEARCH (RFC 5256 §3: US-ASCII and UTF-8 MUST be implemented).
    assert await client.command("c1", "THREAD REFERENCES KOI8-R ALL") == [
        b"c1 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset KOI8-R\r\n"]
    assert await client.command("c2", "THREAD XREFS UTF-8 ALL") == [b"c2 BAD Unknown thread algorithm XREFS\r\n"]
    assert await client.command("c3", "thread orderedsubject us-ascii subject plans") == [
        b"* THREAD (1 (2)(3)(4)(30))\r\n", b"c3 OK Thread completed\r\n"]
    # After an expunge sequence numbers and UIDs differ: THREAD speaks the former, UID THREAD the latter.
    assert (await client.command("x1", "STORE 1:2 +FLAGS.SILENT (\\Deleted)"))[-1].startswith(b"x1 OK")
    assert (await client.command("x2", "EXPUNGE"))[-1].startswith(b"x2 OK")
    # Without 1 and 2 their ids are dummies: 1's keeps 3 and 4 (its grandchildren, spliced up by step
    # 3) together at the top level.
    assert await client.command("n1", "THREAD REFERENCES UTF-8 SUBJECT plans") == [
        b"* THREAD ((1)(2 28))\r\n", b"n1 OK Thread completed\r\n"]
    assert await client.command("n2", "UID THREAD REFERENCES UTF-8 SUBJECT plans") == [
        b"* THREAD ((3)(4 30))\r\n", b"n2 OK Thread completed\r\n"]
    # The search program is SEARCH's: sequence sets, UID sets and "$" (RFC 5182).
    assert (await client.command("s1", "SEARCH RETURN (SAVE) SUBJECT meeting"))[-1].startswith(b"s1 OK")
    assert await client.command("s2", "UID THREAD REFERENCES UTF-8 UID $") == [
        b"* THREAD ((11 (12)(29))(13)(14))\r\n", b"s2 OK Thread completed\r\n"]
    await client.aclose()


def _dovecot_answers(messages: list[bytes], commands: list[str]) -> dict[str, list[bytes]]:
    from support.live_servers import dovecot_server
    from support.rawimap import login as raw_login

    answers = {}
    with dovecot_server(USERS) as server:
        session = raw_login(server.host, server.port, "alice", "secret", timeout=30)
        try:
            for raw in messages:
                _untagged, tagged = session.command(f'APPEND INBOX "{APPEND_DATE}" {{}}'.encode(), (raw,))
                assert b" OK " in tagged, tagged
            session.command(b"SELECT INBOX")
            for command in commands:
                untagged, tagged = session.command(command.encode(), timeout=30)
                assert b" OK " in tagged, (command, tagged)
                # Dovecot writes an empty result as "* THREAD " (trailing space); RFC 5256 §4 has none.
                answers[command] = [line.rstrip(b" ") + b"\r\n" for line in untagged]
        finally:
            session.close()
    return answers


async def _imapcore_answers(tmp_path, messages: list[bytes], commands: list[str]) -> dict[str, list[bytes]]:
    answers = {}
    async with running_server(tmp_path, users=USERS) as srv:
        srv.store.append_many("alice", "INBOX", [NewMessage(raw, internal_date=INTERNAL_DATE) for raw in messages])
        client = await _session(srv)
        for index, command in enumerate(commands):
            lines = await client.command(f"k{index}", command, timeout=30)
            assert lines[-1].startswith(f"k{index} OK".encode()), (command, lines[-1])
            answers[command] = lines[:-1]
        await client.aclose()
    return answers


@pytest.mark.skipif(not dovecot_available(), reason="dovecot is not installed (tests/run.sh installs dovecot-imapd)")
async def test_thread_and_sort_agree_with_dovecot(tmp_path):
    import trio

    from support.corpus import sample_mbox

    # The crafted cases, then real threads from the sample mailbox (In-Reply-To/References chains).
    messages = THREAD_CASES + [raw for _name, raw in sample_mbox(limit=150)]
    commands = THREAD_COMMANDS + SORT_COMMANDS
    expected = await trio.to_thread.run_sync(_dovecot_answers, messages, commands)
    assert b"((" in expected[THREAD_COMMANDS[0]][0], expected[THREAD_COMMANDS[0]]  # a real answer, with a dummy
    got = await _imapcore_answers(tmp_path, messages, commands)
    for command in commands:
        assert got[command] == expected[command], command


def test_sort_rows_complete_a_message_the_store_could_not_parse(tmp_path):
    """A blob stored unparsed (its summary failed at delivery) has empty parsed columns; SORT and THREAD
    data for it come from parsing the blob then (``imapcore.store.sortdata``)."""
    from imapcore.mail import summarize
    from imapcore.store import Store
    from imapcore.store.sortdata import sort_rows

    failed_once: set[bytes] = set()

    def flaky_summarize(raw: bytes):
        if raw not in failed_once:
            failed_once.add(raw)
            raise ValueError("parser unavailable at delivery")
        return summarize(raw)

    raw = message("Re: [list] Plans", "<late@x>", date=day(3, zone="+0200"), irt="<a@x>", sender="Zed <zed@example.org>")
    with Store.open(tmp_path / "store", summarize=flaky_summarize, durable=False) as store:
        store.create_user("alice")
        uid = store.append("alice", "INBOX", raw, internal_date=INTERNAL_DATE).uids[0]
        mailbox_id = store.mailbox("alice", "INBOX").id
        assert store.fetch_rows(mailbox_id, [uid], ("envelope",))[0].envelope is None  # stored unparsed
        (row,) = sort_rows(store, mailbox_id, [uid])
    assert (row.uid, row.subject, row.base_subject) == (uid, "Re: [list] Plans", "Plans")
    assert row.sent_date == int(dt.datetime(2024, 1, 3, 8, 0, tzinfo=dt.timezone.utc).timestamp())
    assert (row.message_id, row.in_reply_to, row.references) == ("<late@x>", "<a@x>", ())
    assert row.internal_date == int(INTERNAL_DATE.timestamp()) and row.size == len(raw)
    assert row.envelope.startswith(b'("Mon, 03 Jan 2024 10:00:00 +0200" "Re: [list] Plans" (("Zed" NIL "zed" "example.org"))')
