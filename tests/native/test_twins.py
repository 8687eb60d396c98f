"""The C tokenizer is an exact twin of the pure-Python one (the executable specification).

Same events, same tuples, same error texts and codes, on arbitrary bytes under arbitrary chunkings, in
both UTF-8 modes, with line mode switched on at command boundaries; and on every recorded client stream
of /work/shared/traffic, whole and byte by byte. The C-side assertions are skipped only when the
extension cannot be imported (tests/native/test_build.py fails in that case unless the pure-Python
tokenizer was forced).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imapcore.syntax.pytokenizer import Tokenizer as PyTokenizer
from imapcore.syntax.tokens import COMMAND, ERROR, LINE, NEED_MORE, WORD, Limits

ctokenizer = pytest.importorskip("imapcore.syntax.ctokenizer", reason="C tokenizer not built")
CTokenizer = ctokenizer.Tokenizer

from support.shared import TRAFFIC  # noqa: E402
STREAMS = sorted(TRAFFIC.glob("*/*.client.imap"))

# Hard bound on the events one drive may produce (a bug must not become an endless loop).
MAX_EVENTS = 100_000


def drive(cls, chunks, *, limits=None, utf8=False, schedule=(), include_need_more=True):
    """Feed chunks, draining events after each; after the i-th command-ending event (COMMAND, LINE or
    ERROR) apply schedule[i % len(schedule)]: "line" switches line mode on, "utf8" toggles UTF-8 mode."""
    tokenizer = cls(limits, utf8=utf8)
    events = []
    ended = 0
    for chunk in chunks:
        tokenizer.feed(chunk)
        while True:
            event = tokenizer.next_event()
            if event[0] != NEED_MORE or include_need_more:
                events.append(event)
            assert len(events) < MAX_EVENTS
            if event[0] == NEED_MORE:
                break
            if event[0] in (COMMAND, LINE, ERROR):
                if schedule:
                    action = schedule[ended % len(schedule)]
                    if action == "line":
                        tokenizer.set_line_mode()
                    elif action == "utf8":
                        tokenizer.set_utf8(not tokenizer.utf8)
                ended += 1
    return events


def chunked(data: bytes, cuts) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def assert_twins(data: bytes, cuts=(), **kw):
    chunks = chunked(data, cuts)
    expected = drive(PyTokenizer, chunks, **kw)
    assert drive(CTokenizer, chunks, **kw) == expected
    return expected


# --- strategies: bytes that look like IMAP, with every kind of trouble mixed in -----------------------

tags = st.sampled_from([b"a1", b"A0001", b"*", b"+", b"tag+", b"x~y", b"\\", b"1", b"}", b"%"])
words = st.sampled_from(
    [b"LOGIN", b"FETCH", b"1:*,5", b"BODY.PEEK", b"\\Seen", b"NIL", b"~", b"<0.100>", b"UID", b"IDLE", b"DONE",
     b"INBOX", b"a~", b"+", b"}", b"%"]
)


@st.composite
def quoted(draw):
    parts = draw(st.lists(st.sampled_from([b"a", b" ", b'\\"', b"\\\\", b"\\x", b"\t", b"\x7f", b"\xc3\xa9",
                                           b"\xe2\x82\xac", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80",
                                           b"\xff", b"\x00", b"\r", b"\xc3", b"\\"]), max_size=6))
    closed = draw(st.booleans())
    return b'"' + b"".join(parts) + (b'"' if closed else b"")


@st.composite
def marker(draw):
    size = draw(st.one_of(st.integers(0, 40), st.sampled_from([2**63 - 1, 2**63, 10**19, 10**20 - 1, 10**25])))
    prefix = draw(st.sampled_from([b"{", b"~{", b"{", b"~ {"]))
    plus = draw(st.sampled_from([b"", b"+", b"-", b"++"]))
    end = draw(st.sampled_from([b"}\r\n", b"}\n", b"}", b"} \r\n", b"}\r\r\n", b"\r\n"]))
    body = b""
    if draw(st.booleans()) and size <= 40:
        body = draw(st.binary(min_size=size, max_size=size)) if draw(st.booleans()) else b"x" * size
    return prefix + str(size).encode() + plus + end + body


@st.composite
def command(draw):
    """A mostly well-formed command: tag, words, quoted strings, parenthesised lists and literals."""
    out = [draw(tags)]
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 4))
        out.append(b" ")
        if kind == 0:
            out.append(draw(words))
        elif kind == 1:
            out.append(b'"' + draw(st.sampled_from([b"", b"a b", b'\\"', b"\\\\", b"\xc3\xa9", b"x"])) + b'"')
        elif kind == 2:
            out.append(b"(" + draw(words) + b" " + draw(words) + b")")
        elif kind == 3:
            out.append(b"BODY[" + draw(st.sampled_from([b"", b"HEADER", b"1.2"])) + b"]<0.10>")
        else:
            value = draw(st.one_of(st.binary(max_size=12), st.sampled_from([b"a\x00b", b"hello\r\nworld", b""])))
            prefix = draw(st.sampled_from([b"{", b"~{"]))
            plus = draw(st.sampled_from([b"", b"+"]))
            out.append(prefix + str(len(value)).encode() + plus + b"}\r\n" + value)
    out.append(draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"])))
    return b"".join(out)


piece = st.one_of(
    command(), command(), command(),
    tags, words, quoted(), marker(),
    st.sampled_from([b" ", b"  ", b"(", b")", b"[", b"]", b"\r\n", b"\n", b"\r", b"\x00", b"\xff", b"\xc3\xa9",
                     b"{", b"~{", b"}", b"\t", b"\x7f", b"DONE\r\n", b"=\r\n"]),
    st.binary(max_size=6),
)
imap_bytes = st.lists(piece, max_size=40).map(b"".join)

small_limits = st.one_of(
    st.none(),
    st.builds(
        Limits,
        max_line_bytes=st.integers(0, 48),
        max_literal_bytes=st.integers(0, 40),
        max_command_bytes=st.integers(0, 120),
        max_literals_per_command=st.integers(0, 4),
        max_discard_bytes=st.integers(0, 60),
    ),
)
schedules = st.lists(st.sampled_from(["", "", "line", "utf8"]), max_size=5)
cut_lists = st.lists(st.integers(0, 10_000), max_size=8)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=imap_bytes, cuts=cut_lists, limits=small_limits, utf8=st.booleans(), schedule=schedules)
def test_twins_agree_on_imap_like_bytes(data, cuts, limits, utf8, schedule):
    assert_twins(data, cuts, limits=limits, utf8=utf8, schedule=schedule)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), cuts=cut_lists, limits=small_limits, utf8=st.booleans(), schedule=schedules)
def test_twins_agree_on_arbitrary_bytes(data, cuts, limits, utf8, schedule):
    assert_twins(data, cuts, limits=limits, utf8=utf8, schedule=schedule)


@settings(max_examples=200, deadline=None)
@given(data=imap_bytes, cuts=cut_lists, limits=small_limits, utf8=st.booleans(), schedule=schedules)
def test_chunking_never_changes_the_c_events(data, cuts, limits, utf8, schedule):
    kw = dict(limits=limits, utf8=utf8, schedule=schedule, include_need_more=False)
    whole = drive(CTokenizer, [data], **kw)
    assert drive(CTokenizer, chunked(data, cuts), **kw) == whole
    assert drive(CTokenizer, [data[i : i + 1] for i in range(len(data))], **kw) == whole


# --- the recorded traffic of real clients -------------------------------------------------------------


def corpus_drive(cls, chunks):
    """Line mode where a real server would use it: after IDLE, and after AUTHENTICATE without an
    initial response (one SASL line follows: PLAIN is the only mechanism in the corpus)."""
    tokenizer = cls()
    events = []
    for chunk in chunks:
        tokenizer.feed(chunk)
        while (event := tokenizer.next_event())[0] != NEED_MORE:
            events.append(event)
            assert len(events) < MAX_EVENTS
            if event[0] == COMMAND:
                names = [value.upper() for kind, value in event[1] if kind == WORD]
                if names[1:2] == [b"IDLE"] or (names[1:2] == [b"AUTHENTICATE"] and len(event[1]) == 5):
                    tokenizer.set_line_mode()
    return events


@pytest.mark.skipif(not TRAFFIC.is_dir(), reason="no traffic corpus on this machine")
def test_the_corpus_is_there():
    assert len(STREAMS) >= 40


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recorded_stream_tokenizes_identically(path):
    data = path.read_bytes()
    expected = corpus_drive(PyTokenizer, [data])
    assert any(event[0] == COMMAND for event in expected)
    assert corpus_drive(CTokenizer, [data]) == expected
    # Byte by byte on the C side always; the Python side too when that stays quick.
    assert corpus_drive(CTokenizer, [data[i : i + 1] for i in range(len(data))]) == expected
    rng = random.Random(len(data))
    cuts = [rng.randrange(len(data) + 1) for _ in range(min(2000, len(data)))]
    chunks = chunked(data, cuts)
    assert corpus_drive(CTokenizer, chunks) == expected
    if len(data) < 100_000:
        assert corpus_drive(PyTokenizer, [data[i : i + 1] for i in range(len(data))]) == expected
    else:
        assert corpus_drive(PyTokenizer, chunks) == expected
