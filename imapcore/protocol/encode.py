"""Encoding of IMAP string values on the response side (RFC 9051 §4.3 and §9).

One place decides whether a value goes out as an atom, a quoted string or a literal, so every layer that
produces IMAP syntax (the response serializer, the ENVELOPE/BODYSTRUCTURE builders in ``mail``, the
conformance harness's client side) writes the same bytes for the same value.

* quoted: at most ``QUOTED_MAX`` bytes of CHAR without CR, LF or NUL (``"`` and ``\\`` escaped); 8-bit
  bytes only when ``utf8`` is allowed (RFC 9051 §9 ``quoted`` with UTF8-2..4 after UTF8=ACCEPT/rev2, and
  always inside ENVELOPE/BODYSTRUCTURE of rev2 sessions is still a literal decision made by the caller).
* literal: everything else, ``{n}\\r\\n`` followed by the bytes.
* atom: only where the grammar allows an atom (``astring``) and the value is non-empty ATOM-CHARs.
"""

from __future__ import annotations

import re

#: Longer strings go out as literals even when they could be quoted: clients handle literals of any
#: size, and a long quoted string is harder on line-based client parsers.
QUOTED_MAX = 1024

_QUOTED_SAFE = re.compile(rb"[\x01-\x09\x0b\x0c\x0e-\x7f]*\Z")
_QUOTED_SAFE_UTF8 = re.compile(rb"[^\x00\r\n]*\Z")
# ATOM-CHAR: any CHAR except atom-specials ( ) { SP CTL % * " \ ] (RFC 9051 §9).
_ATOM = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\\]]+\Z")
_NEEDS_ESCAPE = re.compile(rb'["\\]')


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def can_quote(data: bytes, utf8: bool = False) -> bool:
    if len(data) > QUOTED_MAX:
        return False
    if utf8:
        if _QUOTED_SAFE_UTF8.match(data) is None:
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return _QUOTED_SAFE.match(data) is not None


def quoted(data: bytes) -> bytes:
    """``"..."`` with ``"`` and ``\\`` escaped. The caller has checked ``can_quote``."""
    if _NEEDS_ESCAPE.search(data):
        data = data.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return b'"' + data + b'"'


def literal(data: bytes, literal8: bool = False) -> bytes:
    return (b"~{%d}\r\n" if literal8 else b"{%d}\r\n") % len(data) + data


def string(value: bytes | str, utf8: bool = False) -> bytes:
    """An IMAP ``string``: quoted when possible, otherwise a literal."""
    data = _as_bytes(value)
    return quoted(data) if can_quote(data, utf8) else literal(data)


def nstring(value: bytes | str | None, utf8: bool = False) -> bytes:
    """An IMAP ``nstring``: ``NIL`` for None, else ``string``."""
    if value is None:
        return b"NIL"
    return string(value, utf8)


def astring(value: bytes | str, utf8: bool = False) -> bytes:
    """An IMAP ``astring``: a bare atom when the value is one (and not ``NIL``), else ``string``."""
    data = _as_bytes(value)
    if _ATOM.match(data) is not None and data.upper() != b"NIL":
        return data
    return string(data, utf8)


def is_atom(value: bytes | str) -> bool:
    return _ATOM.match(_as_bytes(value)) is not None
