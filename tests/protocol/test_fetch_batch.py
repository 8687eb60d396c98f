"""FETCH batch assembly: exact bytes, and the C assembler equal to the Python reference (hypothesis)."""

import datetime as dt
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapcore.protocol import fetch
from imapcore.protocol.fetch import FetchRow, format_internaldate, serialize_fetch_batch_py

HAVE_C = fetch._lib is not None
needs_c = pytest.mark.skipif(not HAVE_C, reason="imapcore._cserialize not built")


def test_python_reference_bytes():
    rows = [
        FetchRow(
            1,
            uid=4827313,
            flags=("\\Seen", "$Forwarded"),
            internaldate=b"17-Jul-1996 02:44:25 -0700",
            size=4286,
            modseq=12121231000,
            envelope=b'("date" "subj" NIL NIL NIL NIL NIL NIL NIL "<id>")',
            bodystructure=b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)',
            extras=((b"EMAILID", b"(M6d99ac3275bb4e)"),),
            bodies=((b"BODY[HEADER]", b"Subject: x\r\n\r\n"), (b"BODY[TEXT]<0>", None)),
        ),
        FetchRow(2, flags=()),
    ]
    assert serialize_fetch_batch_py(rows) == (
        b'* 1 FETCH (UID 4827313 FLAGS (\\Seen $Forwarded) INTERNALDATE "17-Jul-1996 02:44:25 -0700" '
        b"RFC822.SIZE 4286 MODSEQ (12121231000) "
        b'ENVELOPE ("date" "subj" NIL NIL NIL NIL NIL NIL NIL "<id>") '
        b'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92) '
        b"EMAILID (M6d99ac3275bb4e) BODY[HEADER] {14}\r\nSubject: x\r\n\r\n BODY[TEXT]<0> NIL)\r\n"
        b"* 2 FETCH (FLAGS ())\r\n"
    )


def test_nul_in_body_gives_literal8():
    rows = [FetchRow(3, bodies=((b"BINARY[1]", b"a\x00b"), (b"BINARY[2]", b"ab")))]
    assert serialize_fetch_batch_py(rows) == b"* 3 FETCH (BINARY[1] ~{3}\r\na\x00b BINARY[2] {2}\r\nab)\r\n"


def test_empty_batch():
    assert serialize_fetch_batch_py([]) == b""
    if HAVE_C:
        assert fetch.serialize_fetch_batch_c([]) == b""


def test_internaldate_format():
    tz = dt.timezone(dt.timedelta(hours=-7))
    assert format_internaldate(dt.datetime(1996, 7, 17, 2, 44, 25, tzinfo=tz)) == b"17-Jul-1996 02:44:25 -0700"
    tz = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert format_internaldate(dt.datetime(2024, 1, 5, 23, 0, 0, tzinfo=tz)) == b" 5-Jan-2024 23:00:00 +0530"
    with pytest.raises(ValueError):
        format_internaldate(dt.datetime(2024, 1, 5))


def test_default_implementation_follows_the_environment():
    if os.environ.get("IMAPCORE_PURE_PYTHON") == "1" or not HAVE_C:
        assert fetch.serialize_fetch_batch is fetch.serialize_fetch_batch_py
    else:
        assert fetch.serialize_fetch_batch is fetch.serialize_fetch_batch_c


def test_c_extension_is_built_in_ci():
    # CI installs with a compiler: a silently failed C build must not pass unnoticed.
    if os.environ.get("IMAPCORE_PURE_PYTHON") == "1":
        pytest.skip("pure-Python run")
    assert HAVE_C, "imapcore._cserialize failed to build"


_numbers = st.integers(min_value=0, max_value=2**63 - 1) | st.integers(min_value=-(2**64), max_value=2**66)
_flag = st.sampled_from(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "$Forwarded", "$Junk", "work"])
_blob = st.binary(max_size=40)
_name = st.sampled_from([b"BODY[]", b"BODY[HEADER]", b"BINARY[1]", b"BODY[1.2]<0>", b"RFC822.TEXT"])


def _optional(strategy):
    return st.none() | strategy


_rows = st.builds(
    FetchRow,
    seq=st.integers(min_value=1, max_value=2**32 - 1),
    uid=_optional(st.integers(min_value=1, max_value=2**32 - 1)),
    flags=_optional(st.lists(_flag, max_size=4).map(tuple)),
    internaldate=_optional(st.just(b"17-Jul-1996 02:44:25 -0700")),
    size=_optional(_numbers),
    modseq=_optional(_numbers),
    envelope=_optional(_blob),
    bodystructure=_optional(_blob),
    extras=st.lists(st.tuples(st.sampled_from([b"EMAILID", b"SAVEDATE", b"BODY"]), _blob), max_size=2).map(tuple),
    bodies=st.lists(st.tuples(_name, _optional(_blob)), max_size=3).map(tuple),
)


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.lists(_rows, max_size=8))
def test_c_and_python_give_identical_bytes(rows):
    assert fetch.serialize_fetch_batch_c(rows) == serialize_fetch_batch_py(rows)


@needs_c
@settings(max_examples=100, deadline=None)
@given(_rows, st.integers(min_value=1, max_value=30))
def test_c_and_python_agree_on_homogeneous_batches(row, count):
    # The common server case: every row has the same items (columns all present or all absent).
    rows = [row._replace(seq=row.seq + i) for i in range(count)]
    assert fetch.serialize_fetch_batch_c(rows) == serialize_fetch_batch_py(rows)


@needs_c
@pytest.mark.parametrize(
    "row",
    [
        FetchRow(1, envelope=bytearray(b"(NIL)")),  # bytes-like, not bytes
        FetchRow(1, uid=2**70),  # beyond 64 bits
        FetchRow(1, size=-3),
        FetchRow(1, flags=["\\Seen"]),  # a list, not a tuple
        FetchRow(1, extras=[(b"EMAILID", b"(M1)")]),
        (1, None, None, None, None, None, None, None, (), ()),  # a plain tuple is a row too
    ],
)
def test_rows_outside_the_fast_path_give_the_reference_bytes(row):
    assert bytes(fetch.serialize_fetch_batch_c([row])) == serialize_fetch_batch_py([row])


@needs_c
def test_errors_are_the_reference_errors():
    with pytest.raises(UnicodeEncodeError):
        fetch.serialize_fetch_batch_c([FetchRow(1, flags=("caf\u00e9",))])
    with pytest.raises((TypeError, ValueError)):
        fetch.serialize_fetch_batch_c([FetchRow(1, envelope="not bytes")])
    with pytest.raises((TypeError, ValueError)):
        fetch.serialize_fetch_batch_c([("short",)])


@needs_c
def test_any_iterable_of_rows():
    rows = (FetchRow(i, uid=i) for i in range(1, 4))
    assert fetch.serialize_fetch_batch_c(rows) == b"* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\n"
