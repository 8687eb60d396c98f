"""The harness itself: response reader, patterns, script parser, literal forms, the suite's size, and
the runner against misbehaving fake servers (it must fail that script clearly and go on)."""

from __future__ import annotations

import pytest
import trio

from imapcore.conformance import fixtures
from imapcore.conformance.pattern import Pattern
from imapcore.conformance.reader import Kind, ResponseReader, ResponseTooLarge
from imapcore.conformance.runner import ServerInfo, Status, Target, Timeouts, match_checks, run_suite
from imapcore.conformance.script import Expect, ScriptError, parse_scripts
from imapcore.conformance.scripts import load_all


def read_all(data: bytes, chunk: int) -> list:
    reader = ResponseReader()
    responses = []
    for start in range(0, len(data), chunk):
        reader.feed(data[start : start + chunk])
        while (response := reader.next_response()) is not None:
            responses.append(response)
    return responses


WIRE = (
    b"* OK [CAPABILITY IMAP4rev1] hi\r\n"
    b'* 1 FETCH (BODY[] {11}\r\nab"c\\d\r\nxyz FLAGS (\\Seen))\r\n'
    b'* LIST () "/" "a \\"b\\""\r\n'
    b"+ go\r\n"
    b"a1 OK done\r\n"
)


@pytest.mark.parametrize("chunk", [1, 3, 7, len(WIRE)])
def test_reader_canonical_text_is_chunking_independent(chunk):
    responses = read_all(WIRE, chunk)
    assert [r.kind for r in responses] == [Kind.UNTAGGED, Kind.UNTAGGED, Kind.UNTAGGED, Kind.CONTINUATION, Kind.TAGGED]
    assert responses[1].text == '* 1 FETCH (BODY[] "ab\\"c\\\\d\\r\\nxyz" FLAGS (\\Seen))'
    assert responses[2].text == '* LIST () "/" "a \\"b\\""'
    assert responses[4].tag == "a1" and responses[4].status == "OK"


def test_reader_quoted_and_literal_read_the_same():
    quoted = read_all(b'* 1 FETCH (BODY[1] "hello")\r\n', 5)[0].text
    literal = read_all(b"* 1 FETCH (BODY[1] {5}\r\nhello)\r\n", 5)[0].text
    literal8 = read_all(b"* 1 FETCH (BINARY[1] ~{5}\r\nhello)\r\n", 5)[0].text
    assert quoted == literal == '* 1 FETCH (BODY[1] "hello")'
    assert literal8 == '* 1 FETCH (BINARY[1] "hello")'


def test_reader_escapes_binary_and_8bit():
    text = read_all(b"* 1 FETCH (BINARY[1] {4}\r\n\x00\xff\xc3\xa9)\r\n", 64)[0].text
    assert text == '* 1 FETCH (BINARY[1] "\\x00\\xffé")'


def test_reader_limits():
    reader = ResponseReader(max_line=100)
    reader.feed(b"x" * 101)
    with pytest.raises(ResponseTooLarge):
        reader.next_response()
    reader = ResponseReader(max_response=50)
    reader.feed(b"* 1 FETCH (BODY[] {100}\r\n")
    with pytest.raises(ResponseTooLarge):
        reader.next_response()


def test_reader_tolerates_bare_lf_and_garbage():
    responses = read_all(b"\x01\x02garbage\n* OK fine\n", 4)
    assert responses[0].kind is Kind.TAGGED and responses[0].text == "\x01\x02garbage"
    assert responses[1].text == "* OK fine"


def test_pattern_forms():
    variables = {"box": "ct1-001", "n": "41"}
    assert Pattern("* OK [UIDNEXT {$n+1}] {...}").match("* OK [UIDNEXT 42] Predicted", variables) == {}
    assert Pattern("* OK [UIDNEXT {$n+1}] {...}").match("* OK [UIDNEXT 41] Predicted", variables) is None
    assert Pattern("* 1 FETCH (UID {=uid})").match("* 1 fetch (uid 7)", {}) == {"uid": "7"}
    assert Pattern("a {OK|NO} {...}").match("a NO [X] y", {}) == {}
    assert Pattern("a {OK|NO} {...}").match("a BAD y", {}) is None
    listing = Pattern('* LIST ({...}) "/" {astr:{$box}/a}')
    assert listing.match('* LIST (\\HasNoChildren) "/" ct1-001/a', variables) == {}
    assert listing.match('* LIST () "/" "ct1-001/a"', variables) == {}
    assert listing.match('* LIST () "/" ct1-001/ab', variables) is None
    flags = Pattern("* 1 FETCH (FLAGS ({flags:\\Seen \\Flagged}))")
    assert flags.match("* 1 FETCH (FLAGS (\\Flagged \\Recent \\Seen))", {}) == {}
    assert flags.match("* 1 FETCH (FLAGS (\\Flagged))", {}) is None
    assert flags.match("* 1 FETCH (FLAGS (\\Flagged \\Seen \\Draft))", {}) is None
    assert Pattern("* SEARCH {set:1 3}").match("* SEARCH 3 1", {}) == {}
    assert Pattern("* SEARCH {set:1 3}").match("* SEARCH 3 1 1", {}) is None


def test_parse_script_and_checks():
    (script,) = parse_scripts(
        """
=== demo
rfc: 9051 §6.4.5
area: fetch
requires: IDLE
conn: c2 user2
setup: APPEND {$box} {msg:tiny}
c1> a SELECT {$box}
c1< * 1 EXISTS
c1< ? * 1 RECENT
c1< ! * 0 EXISTS ;; RFC 9051 §7.4.1
c1< a OK {...}
c1< & a OK [READ-WRITE]{...}
c2> b NOOP
c1~ * 2 EXISTS
c1= * 2 EXISTS
c1 eof
"""
    )
    assert script.rfc == "RFC 9051 §6.4.5" and script.rfc_number == "RFC 9051"
    assert script.requires == ("IDLE",) and script.connections == {"c1": "user", "c2": "user2"}
    assert script.needs_user2()
    checks = script.steps[0].checks
    assert [c.expect for c in checks] == [Expect.REQUIRED, Expect.OPTIONAL, Expect.FORBIDDEN, Expect.REQUIRED]
    assert checks[2].citation == "RFC 9051 §7.4.1" and checks[0].citation == "RFC 9051 §6.4.5"
    assert len(checks[3].also) == 1
    assert script.check_count == 6  # 2 required (+1 '&'), 1 forbidden, '~' and '='


@pytest.mark.parametrize(
    "text",
    [
        "c1> a NOOP\n",  # before any script
        "=== x\nrfc: 9051\narea: a\nbogus line\n",
        "=== x\nrfc: 9051\nc1> a NOOP\n",  # no area
        "=== x\nrfc: 9051\narea: a\nc1> a NOOP\nc1< & a OK\n",  # '&' without a required check
        "=== x\nrfc: 9051\narea: a\nconn: c1 admin\nc1> a NOOP\n",
    ],
)
def test_parse_errors(text):
    with pytest.raises(ScriptError):
        parse_scripts(text)


def test_command_chunks_literals():
    chunks = fixtures.command_chunks("a APPEND box {lit:x\\r\\n} {lit+:yz}")
    assert [c.data for c in chunks] == [b"a APPEND box {3}\r\n", b"x\r\n {2+}\r\nyz\r\n"]
    assert [c.wait for c in chunks] == [True, False]
    (single,) = fixtures.command_chunks("a X {lit8:\\x00}")[1:]
    assert single.data == b"\x00\r\n"
    assert len(fixtures.big_message(100000)) == 100000


def test_suite_size_and_shape():
    scripts = load_all()
    assert len(scripts) >= 300
    assert sum(s.check_count for s in scripts) >= 2000
    for script in scripts:
        assert script.rfc.startswith("RFC ") and "§" in script.rfc or "appendix" in script.rfc, script.name
        assert script.area
    # every command family of the grammar is exercised by at least one script
    commands = " ".join(step.text.split(" ", 2)[1].upper() for s in scripts for step in s.steps
                        if step.text and " " in step.text)
    for name in ("CAPABILITY", "NOOP", "LOGOUT", "LOGIN", "AUTHENTICATE", "ENABLE", "SELECT", "EXAMINE", "CREATE",
                 "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB", "NAMESPACE", "STATUS", "APPEND",
                 "IDLE", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID",
                 "ID", "UNAUTHENTICATE", "GETQUOTA", "GETQUOTAROOT", "SETQUOTA", "GETMETADATA", "SETMETADATA",
                 "NOTIFY", "SETACL", "DELETEACL", "GETACL", "LISTRIGHTS", "MYRIGHTS", "COMPRESS", "GENURLAUTH",
                 "RESETKEY", "STARTTLS"):
        assert name in commands.split(), name


def test_match_checks_backtracks():
    from imapcore.conformance.reader import Response

    (script,) = parse_scripts("=== m\nrfc: 9051 §1\narea: a\nc1> a X\nc1< * {#} EXISTS\nc1< * 2 EXISTS\n")
    responses = [Response(Kind.UNTAGGED, "*", "* 2 EXISTS", b""), Response(Kind.UNTAGGED, "*", "* 3 EXISTS", b"")]
    assert match_checks(script.steps[0].checks, responses, {}) == 2


# -- a misbehaving server ------------------------------------------------------------------------------


async def fake_server(behaviour: str, task_status=trio.TASK_STATUS_IGNORED):
    """Greets, accepts LOGIN and the harness's setup/teardown commands; misbehaves on NOOP."""

    async def handle(stream: trio.SocketStream) -> None:
        buffer = b""
        try:
            await stream.send_all(b"* OK [CAPABILITY IMAP4rev1] fake\r\n")
            while True:
                while b"\r\n" not in buffer:
                    data = await stream.receive_some(4096)
                    if not data:
                        return
                    buffer += data
                line, buffer = buffer.split(b"\r\n", 1)
                tag, _, rest = line.partition(b" ")
                verb = rest.split(b" ", 1)[0].upper()
                if verb == b"NOOP":
                    if behaviour == "disconnect":
                        await stream.aclose()
                        return
                    if behaviour == "garbage":
                        await stream.send_all(b"\x00\xff)(garbage\r\n" * 3)
                        continue  # and never a tagged reply
                    if behaviour == "endless":
                        for _ in range(100000):
                            await stream.send_all(b"* OK still talking\r\n")
                            await trio.sleep(0.001)
                        return
                    if behaviour == "silent":
                        continue
                    if behaviour == "long-line":
                        await stream.send_all(b"x" * (2 << 20))
                        continue
                if verb == b"CAPABILITY":
                    await stream.send_all(b"* CAPABILITY IMAP4rev1\r\n")
                await stream.send_all(tag + b" OK done\r\n")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    task_status.started(listeners[0].socket.getsockname()[1])
    await trio.serve_listeners(handle, listeners)


SCRIPTS = parse_scripts(
    """
=== misbehaves
rfc: 9051 §6.1.2
area: noop
c1> a NOOP
c1< a OK {...}

=== fine-afterwards
rfc: 9051 §6.1.1
area: capability
c1> a CAPABILITY
c1< * CAPABILITY IMAP4rev1
c1< a OK {...}
"""
)


@pytest.mark.parametrize(
    "behaviour, message",
    [
        ("disconnect", "closed the connection"),
        ("garbage", "no response within"),
        ("endless", "timed out"),
        ("silent", "no response within"),
        ("long-line", "longer than"),
    ],
)
async def test_runner_survives_misbehaving_server(nursery, behaviour, message):
    port = await nursery.start(fake_server, behaviour)
    target = Target("127.0.0.1", port, "u", "p")
    timeouts = Timeouts(response=0.5, script=1.5, connect=2.0)
    info = ServerInfo("* OK fake", frozenset({"IMAP4REV1"}))
    with trio.fail_after(20):
        results = await run_suite(SCRIPTS, target, info, jobs=2, timeouts=timeouts)
    bad, good = results
    assert bad.status is Status.FAILED and message in bad.message, bad.message
    assert good.status is Status.PASSED, good.message


async def test_exclusive_scripts_run_alone_after_the_others(nursery):
    port = await nursery.start(fake_server, "fine")
    scripts = parse_scripts(
        "".join(
            f"=== s{i}\nrfc: 9051 §6.1.2\narea: noop\n{'exclusive: yes' if i == 0 else ''}\nc1> a NOOP\nc1< a OK {{...}}\n\n"
            for i in range(4)
        )
    )
    order: list[str] = []
    info = ServerInfo("* OK fake", frozenset({"IMAP4REV1"}))
    with trio.fail_after(20):
        results = await run_suite(scripts, Target("127.0.0.1", port, "u", "p"), info, jobs=4,
                                  timeouts=Timeouts(response=2, script=5), progress=lambda r: order.append(r.script.name))
    assert [r.status for r in results] == [Status.PASSED] * 4
    assert order[-1] == "s0" and sorted(order[:-1]) == ["s1", "s2", "s3"]


def test_junit_and_json_reports():
    import json
    from xml.etree import ElementTree

    from imapcore.conformance import report
    from imapcore.conformance.runner import ScriptResult

    scripts = parse_scripts(
        "=== a\nrfc: 9051 §6.1.2\narea: noop\nc1> a NOOP\n\n=== b\nrfc: 3691 §2\narea: unselect\nc1> a UNSELECT\n"
        "\n=== c\nrfc: 9051 §6.1.1\narea: capability\nc1> a CAPABILITY\n"
    )
    results = [
        ScriptResult(scripts[0], Status.PASSED, checks=2),
        ScriptResult(scripts[1], Status.FAILED, "line 5: expected  a OK\n  got: a BAD", transcript=["c1 C: a UNSELECT"]),
        ScriptResult(scripts[2], Status.SKIPPED, "server lacks X"),
    ]
    root = ElementTree.fromstring(report.junit_xml(results))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    failure = root.find(".//testcase[@name='b']/failure")
    assert failure is not None and failure.get("message") == "line 5: expected  a OK"
    data = json.loads(report.json_report(results, {"host": "h"}))
    assert data["summary"] == {"passed": 1, "failed": 1, "skipped": 1} and data["checks"] == 2
    assert report.summary_line(results) == "1 passed, 1 failed, 1 skipped"
    assert ("RFC 3691", "unselect", 0, 1, 0) in report.matrix_rows(results)
    table = report.matrix_markdown({"x": results, "y": results[:1]})
    assert "| RFC 3691 | unselect | 0 / 1 / 0 | 0 / 0 / 0 |" in table
