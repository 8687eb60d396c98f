"""FETCH response assembly for many messages at once (RFC 9051 §7.5.2).

A FETCH of a thousand messages is a thousand ``* n FETCH (...)`` lines whose big parts already exist as
bytes: ENVELOPE and BODYSTRUCTURE are computed once per message by ``imapcore.mail`` and stored
serialized, bodies are literals read from the blob store. What is left is gluing: numbers, item names,
separators, literal headers. ``serialize_fetch_batch(rows)`` does that for a whole batch into one
buffer, the way the session writes it (one ``send_all`` per batch).

Two implementations give the same bytes for every input (a hypothesis property checks it):

* ``serialize_fetch_batch_py``: the reference, an ordinary ``b" ".join`` of each row's items.
* ``serialize_fetch_batch_c``: ``native/serializer.c`` walks the row tuples itself (CPython C API),
  sizes the output exactly and writes every row straight into one bytes object. (Handing the batch to
  C by columns built in Python was tried first and measured only 2.5x faster: building the columns is
  the per-field work that costs; serializer.c explains.)

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
from typing import NamedTuple

from imapcore._native import use_c


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


def serialize_fetch_batch_c(rows) -> bytes:
    """The FETCH responses of ``rows``, assembled by ``native/serializer.c``; the same bytes as the
    Python reference. Rows outside the C fast path (see serializer.c) go through the reference."""
    if _lib is None:
        raise RuntimeError("imapcore._cserialize is not built")
    if type(rows) is not list:
        rows = list(rows)
    result = [None]
    # CPython: id() is the object's address; both objects stay referenced here for the whole call.
    if _lib.imc_fetch_rows(_ffi.cast("void *", id(rows)), _ffi.cast("void *", id(result))) == 0:
        return result[0]
    return serialize_fetch_batch_py(rows)


if use_c(_lib):
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
