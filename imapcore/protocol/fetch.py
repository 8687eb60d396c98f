"""FETCH response assembly for many messages at once (RFC 9051 §7.5.2).

A FETCH of a thousand messages is a thousand ``* n FETCH (...)`` lines whose big parts already exist as
bytes: ENVELOPE and BODYSTRUCTURE are computed once per message by ``imapcore.mail`` and stored
serialized, bodies are literals read from the blob store. What is left is gluing: numbers, item names,
separators, literal headers. ``serialize_fetch_batch(rows)`` does that for a whole batch into one
buffer, the way the session writes it (one ``send_all`` per batch).

Two implementations give the same bytes for every input (a hypothesis property checks it):

* ``serialize_fetch_batch_py``: the reference, an ordinary ``b" ".join`` of each row's items.
* ``serialize_fetch_batch_c``: the batch goes to C (``native/serializer.c``) *by column*: the rows are
  transposed with ``zip(*rows)``, numbers go into ``array('q')`` columns and byte strings into one
  joined blob plus a lengths column. All of that runs at C speed inside CPython (zip, map(len),
  bytes.join), so Python executes no bytecode per field; C then formats every row in one pass.

``serialize_fetch_batch`` is the C one when ``imapcore._cserialize`` was built (and
``IMAPCORE_PURE_PYTHON`` is not ``1``), the Python one otherwise.

Row format (``FetchRow``, a NamedTuple so a batch transposes cheaply): a field left ``None`` (or an
empty tuple for ``extras``/``bodies``) is an item that was not requested. Items are written in this
order: UID, FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ, ENVELOPE, BODYSTRUCTURE, extras, bodies.

* ``flags``: flag names (ASCII atoms, ``\\Seen``), written space-separated in parentheses;
* ``internaldate``: the date-time text without quotes, ``b"17-Jul-1996 02:44:25 -0700"``
  (``format_internaldate``);
* ``envelope``, ``bodystructure``: the serialized parenthesised values;
* ``extras``: ``(name, serialized value)`` pairs written as is (``(b"EMAILID", b"(M6d99ac3275bb4e)")``,
  ``(b"BODY", b"(...)")``, ``(b"BINARY.SIZE[1]", b"1234")``);
* ``bodies``: ``(name, data)`` pairs written as literals (``b"BODY[]"``, ``b"BODY[HEADER]<0>"``,
  ``b"BINARY[1]"``, ``b"RFC822.TEXT"``); ``None`` data is ``NIL``; data containing NUL goes out as
  a literal8 ``~{n}`` (RFC 9051 §4.3, §6.4.5 BINARY).
"""

from __future__ import annotations

import datetime as _dt
import os
from array import array
from itertools import chain
from typing import NamedTuple


class FetchRow(NamedTuple):
    seq: int
    uid: int | None = None
    flags: tuple[str, ...] | None = None
    internaldate: bytes | None = None
    size: int | None = None
    modseq: int | None = None
    envelope: bytes | None = None
    bodystructure: bytes | None = None
    extras: tuple[tuple[bytes, bytes], ...] = ()
    bodies: tuple[tuple[bytes, bytes | None], ...] = ()


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_internaldate(moment: _dt.datetime) -> bytes:
    """RFC 9051 §9 ``date-time`` without the quotes: ``17-Jul-1996 02:44:25 -0700`` (aware datetime)."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("INTERNALDATE needs a timezone-aware datetime")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (
        f"{moment.day:2d}-{_MONTHS[moment.month - 1]}-{moment.year:04d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    ).encode("ascii")


# --- the pure-Python reference ------------------------------------------------------------------------


def _row_bytes(row: FetchRow) -> bytes:
    seq, uid, flags, internaldate, size, modseq, envelope, bodystructure, extras, bodies = row
    items = []
    if uid is not None:
        items.append(b"UID %d" % uid)
    if flags is not None:
        items.append(b"FLAGS (" + " ".join(flags).encode("ascii") + b")")
    if internaldate is not None:
        items.append(b'INTERNALDATE "' + internaldate + b'"')
    if size is not None:
        items.append(b"RFC822.SIZE %d" % size)
    if modseq is not None:
        items.append(b"MODSEQ (%d)" % modseq)
    if envelope is not None:
        items.append(b"ENVELOPE " + envelope)
    if bodystructure is not None:
        items.append(b"BODYSTRUCTURE " + bodystructure)
    for name, value in extras:
        items.append(name + b" " + value)
    for name, data in bodies:
        if data is None:
            items.append(name + b" NIL")
        else:
            marker = b" ~{%d}\r\n" if b"\x00" in data else b" {%d}\r\n"
            items.append(name + marker % len(data) + data)
    return b"* %d FETCH (%b)\r\n" % (seq, b" ".join(items))


def serialize_fetch_batch_py(rows) -> bytes:
    """The FETCH responses of ``rows`` (``FetchRow``s), pure Python."""
    return b"".join(map(_row_bytes, rows))


# --- the C path ---------------------------------------------------------------------------------------

try:
    from imapcore._cserialize import ffi as _ffi, lib as _lib
except ImportError:  # not built (no compiler at install time)
    _ffi = _lib = None

_NULL = None


def _int_column(values: tuple):
    """An int64 column; -1 marks a row without the item; None when no row has it."""
    nones = values.count(None)
    if nones:
        if nones == len(values):
            return None
        values = [-1 if v is None else v for v in values]
    return array("q", values)


def _bytes_column(values: tuple):
    """(blob, lengths) for byte strings; -1 lengths for None; (None, None) when no row has one."""
    nones = values.count(None)
    if nones:
        if nones == len(values):
            return None, None
        return b"".join([v for v in values if v is not None]), array(
            "q", [-1 if v is None else len(v) for v in values]
        )
    return b"".join(values), array("q", map(len, values))


def _pairs_column(values: tuple):
    """(counts, names blob, name lengths, values blob, value lengths) for extras/bodies, or None."""
    if not any(values):
        return None
    counts = array("q", map(len, values))
    names, data = zip(*chain.from_iterable(values))
    names_blob, name_lengths = _bytes_column(names)
    data_blob, data_lengths = _bytes_column(data)
    if data_lengths is None:  # every body NIL
        data_blob, data_lengths = b"", array("q", [-1]) * len(data)
    return counts, names_blob, name_lengths, data_blob, data_lengths


def serialize_fetch_batch_c(rows) -> bytearray:
    """The FETCH responses of ``rows``, assembled by ``native/serializer.c``; same bytes as the Python
    reference."""
    if _lib is None:
        raise RuntimeError("imapcore._cserialize is not built")
    if not rows:
        return b""
    ffi = _ffi
    seqs, uids, flags, dates, sizes, modseqs, envelopes, structures, extras, bodies = zip(*rows)
    keep = []  # everything C points into must stay alive until the call returns

    def buf(obj):
        if obj is None:
            return ffi.NULL
        keep.append(obj)
        # array('q') columns are int64_t[]; blobs are char[].
        return ffi.from_buffer("int64_t[]" if type(obj) is array else "char[]", obj)

    columns = ffi.new("imc_fetch_columns *")
    columns.seq = buf(array("q", seqs))
    columns.uid = buf(_int_column(uids))
    columns.size = buf(_int_column(sizes))
    columns.modseq = buf(_int_column(modseqs))
    if None in flags:
        present = [f for f in flags if f is not None]
        if present:
            joined = [" ".join(f) for f in present]
            columns.flags = buf("".join(joined).encode("ascii"))
            lengths = iter(map(len, joined))
            columns.flags_len = buf(array("q", [-1 if f is None else next(lengths) for f in flags]))
    else:
        joined = list(map(" ".join, flags))
        columns.flags = buf("".join(joined).encode("ascii"))
        columns.flags_len = buf(array("q", map(len, joined)))
    blob, lengths = _bytes_column(dates)
    columns.date, columns.date_len = buf(blob), buf(lengths)
    blob, lengths = _bytes_column(envelopes)
    columns.envelope, columns.envelope_len = buf(blob), buf(lengths)
    blob, lengths = _bytes_column(structures)
    columns.bodystructure, columns.bodystructure_len = buf(blob), buf(lengths)
    pairs = _pairs_column(extras)
    if pairs is not None:
        counts, names, name_lengths, values, value_lengths = pairs
        columns.extra_count = buf(counts)
        columns.extra_names, columns.extra_name_len = buf(names), buf(name_lengths)
        columns.extra_values, columns.extra_value_len = buf(values), buf(value_lengths)
    pairs = _pairs_column(bodies)
    if pairs is not None:
        counts, names, name_lengths, data, data_lengths = pairs
        columns.body_count = buf(counts)
        columns.body_names, columns.body_name_len = buf(names), buf(name_lengths)
        columns.body_data, columns.body_data_len = buf(data), buf(data_lengths)
    nrows = len(seqs)
    out = bytearray(_lib.imc_fetch_assemble(nrows, columns, ffi.NULL))
    _lib.imc_fetch_assemble(nrows, columns, ffi.from_buffer(out))
    # Returned as is: a bytearray is bytes-like for every writer (trio's send_all, b"".join) and
    # copying half a megabyte into a bytes object would cost as much as assembling it.
    return out


if _lib is not None and os.environ.get("IMAPCORE_PURE_PYTHON") != "1":
    serialize_fetch_batch = serialize_fetch_batch_c
    IMPLEMENTATION = "C (cffi)"
else:
    serialize_fetch_batch = serialize_fetch_batch_py
    IMPLEMENTATION = "python"

__all__ = [
    "FetchRow",
    "IMPLEMENTATION",
    "format_internaldate",
    "serialize_fetch_batch",
    "serialize_fetch_batch_c",
    "serialize_fetch_batch_py",
]
