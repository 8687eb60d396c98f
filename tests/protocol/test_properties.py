"""Properties of the sans-IO connection: chunking never changes the result, arbitrary bytes never make it
raise, an idle connection stays small, and the layer stays free of trio."""

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imapcore.protocol import events
from imapcore.protocol.connection import Connection
from imapcore.protocol.responses import Status, StatusResponse, TaggedResponse
from imapcore.protocol.states import ALLOWED_STATES
from imapcore.syntax import commands
from imapcore.syntax.tokens import Limits

from support.shared import TRAFFIC  # noqa: E402
CLIENT_STREAMS = sorted(TRAFFIC.glob("*/*.client.imap")) if TRAFFIC.is_dir() else []
SMALL_STREAMS = [p for p in CLIENT_STREAMS if p.stat().st_size < 40_000]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return [p for p in pieces if p]


def _converse(make_server, chunks):
    server = make_server()
    for chunk in chunks:
        server.feed(chunk)
    return bytes(server.wire), [e for e in server.events if not isinstance(e, events.NeedData)]


@pytest.mark.skipif(not CLIENT_STREAMS, reason="traffic corpus not available")
@pytest.mark.parametrize("path", SMALL_STREAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_client_streams_whole_and_byte_by_byte(make_server, path):
    data = path.read_bytes()
    whole_wire, whole_events = _converse(make_server, [data])
    split_wire, split_events = _converse(make_server, [data[i : i + 1] for i in range(len(data))])
    assert split_wire == whole_wire
    assert split_events == whole_events
    received = [e for e in whole_events if isinstance(e, events.CommandReceived)]
    assert received, "every recorded connection has commands the connection hands out"
    # Every command gets exactly one tagged completion, in order.
    rejected = [e for e in whole_events if isinstance(e, events.CommandRejected)]
    for event in rejected:
        # The only syntax error in the corpus is the deliberate XKITBOGUS; the rest are state errors
        # that follow from the scripted server's "OK to everything" (e.g. a second LOGIN).
        assert b"XKITBOGUS" in event.output or b"not allowed" in event.output or b"requires" in event.output


@pytest.mark.skipif(not CLIENT_STREAMS, reason="traffic corpus not available")
@pytest.mark.parametrize("path", [p for p in CLIENT_STREAMS if p not in SMALL_STREAMS], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_large_client_streams_in_uneven_chunks(make_server, path):
    # The streams with big APPEND literals: chunk sizes from 1 byte to 8 KiB, deterministic.
    data = path.read_bytes()
    chunks, position, step = [], 0, 1
    while position < len(data):
        chunks.append(data[position : position + step])
        position += step
        step = step * 7 % 8191 + 1
    assert _converse(make_server, chunks) == _converse(make_server, [data])


@pytest.mark.skipif(not CLIENT_STREAMS, reason="traffic corpus not available")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SMALL_STREAMS or [None]), st.lists(st.integers(min_value=0), max_size=30))
def test_random_chunkings_of_real_streams(make_server, path, cuts):
    data = path.read_bytes()
    assert _converse(make_server, _split(data, cuts)) == _converse(make_server, [data])


# No STARTTLS: its OK discards whatever was buffered (by design, tested in test_transcripts), so there
# the result rightly depends on how much had arrived.
_IMAPISH = st.lists(
    st.sampled_from(
        [b"a1 ", b"LOGIN ", b"SELECT ", b"IDLE", b"DONE", b"AUTHENTICATE PLAIN", b"*", b"FETCH 1:* (FLAGS)",
         b"{3}\r\n", b"{3+}\r\n", b"~{2}\r\n", b'"q\\"x"', b"\r\n", b"\n", b"\r", b"\x00", b"\xff", b"(", b")",
         b"[", b"]", b" ", b"LOGOUT", b"ENABLE UTF8=ACCEPT", b"UNAUTHENTICATE", b"AGFsaWNlAHNlY3JldA==", b"{99999}\r\n"]
    )
    | st.binary(max_size=8),
    max_size=40,
).map(b"".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_IMAPISH, st.lists(st.integers(min_value=0), max_size=10))
def test_arbitrary_bytes_never_raise(make_server, data, cuts):
    # Small limits so the limit paths are reached too.
    limits = Limits(max_line_bytes=64, max_literal_bytes=16, max_command_bytes=256, max_literals_per_command=3,
                    max_discard_bytes=1000)
    whole = make_server(limits)
    whole.feed(data)
    chunked = make_server(limits)
    for chunk in _split(data, cuts):
        chunked.feed(chunk)
    assert bytes(chunked.wire) == bytes(whole.wire)
    # The parser never failed in an unexpected way (the connection would have logged it).
    assert b"Internal error while parsing" not in bytes(whole.wire)


def _cycled_connection(tokenizer_class):
    """A connection that was greeted and ran one command, and now has nothing buffered."""
    connection = Connection(tokenizer_class=tokenizer_class)
    connection.send(StatusResponse(Status.OK, "hi"))
    connection.receive_data(b"a NOOP\r\n")
    assert isinstance(connection.next_event(), events.CommandReceived)
    connection.send(TaggedResponse("a", Status.OK, "done"))
    assert connection.next_event() is events.NEED_DATA
    return connection


def _c_side_bytes(tokenizer) -> int:
    """Memory the C tokenizer holds outside the Python allocator (tracemalloc cannot see malloc)."""
    raw = getattr(tokenizer, "_t", None)
    if raw is None:
        return 0
    from imapcore._ctokenizer import ffi

    total = ffi.sizeof("imap_tok")
    for field, unit in (("in_cap", 1), ("arena_cap", 1), ("tokens_cap", 9)):
        try:
            total += int(getattr(raw, field)) * unit
        except AttributeError:  # not declared to cffi: only the struct itself is counted
            pass
    return total


def test_idle_connection_is_under_4_kib(tokenizer_class):
    count = 20
    _cycled_connection(tokenizer_class)  # imports, caches and shape tables are not per connection
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        connections = [_cycled_connection(tokenizer_class) for _ in range(count)]
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    python_side = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / count
    per_connection = python_side + _c_side_bytes(connections[0]._tokenizer)
    print(f"idle connection: {per_connection:.0f} bytes")
    assert 0 < per_connection < 4096, f"an idle connection holds {per_connection:.0f} bytes"


def test_protocol_and_syntax_never_import_trio():
    code = (
        "import sys\n"
        "import imapcore.syntax.tokenizer, imapcore.syntax.parser, imapcore.syntax.commands\n"
        "import imapcore.protocol.connection, imapcore.protocol.fetch, imapcore.protocol.errors\n"
        "import imapcore.protocol.responses, imapcore.protocol.states, imapcore.protocol.codes\n"
        "bad = sorted(m for m in sys.modules if m == 'trio' or m.startswith('trio.'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_state_table_covers_every_command_class():
    names = {
        obj.name
        for obj in vars(commands).values()
        if isinstance(obj, type) and issubclass(obj, commands.Command) and obj.name
    }
    assert names - set(ALLOWED_STATES) == set()
    assert set(ALLOWED_STATES) - names == set()
