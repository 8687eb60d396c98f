"""Structured MIME header values: ``Content-Type: text/plain; charset="utf-8"`` and friends.

``parse_value`` reads RFC 2045 §5.1 ``type "/" subtype *(";" parameter)`` (and RFC 2183 dispositions,
which have the same shape) with comments skipped and quoted strings unquoted. RFC 2231 continuations
(``name*0``, ``name*1*``) are merged into one parameter, the way Dovecot reports them in BODYSTRUCTURE:
a parameter that carries charset/language information keeps a trailing ``*`` in its name and its value
stays in the encoded ``charset'language'percent-octets`` form (``decode_rfc2231`` reads it for search).
Nothing here raises; junk yields an empty value or fewer parameters.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from .encoded_words import decode_bytes, decode_header_value
from .headers import comment_end

# RFC 2045 §5.1 tspecials; a token is a run of anything else but space and controls.
_TSPECIALS = frozenset(b'()<>@,;:\\"/[]?=')
_WHITESPACE = frozenset(b" \t\r\n")
_SECTION = re.compile(rb"^(.*?)\*(\d+)(\*?)$", re.S)


# Whitespace runs, tokens (anything but tspecials, space and controls) and closed quoted strings, the
# common cases of ``_tokens``, one regular-expression match each instead of a Python step per byte
# (the byte loop was the largest single cost of parsing real mail's headers).
_SCAN = re.compile(rb'([ \t\r\n]+)|([^()<>@,;:\\"/\[\]?= \t\r\n\x00-\x1f]+)|"((?:[^"\\]|\\.)*)"', re.S)
_QUOTED_PAIR = re.compile(rb"\\(.)", re.S)


def _tokens(value: bytes) -> list[tuple[str, bytes]]:
    """("t", token) ("q", unquoted string) ("s", a tspecial), comments skipped; an unclosed quoted
    string or comment ends the list with ("x", b'"') or ("x", b"("). Other control characters are
    skipped."""
    tokens: list[tuple[str, bytes]] = []
    i, n = 0, len(value)
    scan = _SCAN.match
    while i < n:
        found = scan(value, i)
        if found is not None:
            i = found.end()
            kind = found.lastindex
            if kind == 2:
                tokens.append(("t", found.group(2)))
            elif kind == 3:
                quoted = found.group(3)
                tokens.append(("q", _QUOTED_PAIR.sub(rb"\1", quoted) if b"\\" in quoted else quoted))
            continue
        c = value[i]
        if c == 0x28:  # "(" comment, nested (RFC 5322 §3.2.2)
            end = comment_end(value, i)
            if end is None:
                tokens.append(("x", b"("))
                break
            i = end
        elif c == 0x22:  # a quoted string the expression could not close: unclosed
            tokens.append(("x", b'"'))
            break
        elif c in _TSPECIALS:
            tokens.append(("s", value[i : i + 1]))
            i += 1
        else:
            i += 1  # a control character: skipped
    return tokens


def _merge_rfc2231(params: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Join ``name*0``, ``name*1``... into one parameter (RFC 2231 §3), in first-seen order."""
    if not any(b"*" in name for name, _ in params):
        return params
    merged: list[tuple[bytes, bytes]] = []
    sections: dict[bytes, list[tuple[int, bool, bytes]]] = {}
    order: list[bytes] = []
    for name, value in params:
        match = _SECTION.match(name)
        if match is None:
            merged.append((name, value))
            continue
        base = match.group(1)
        if base.lower() not in sections:
            sections[base.lower()] = []
            order.append(base)
            merged.append((base, b""))  # placeholder keeps the position
        sections[base.lower()].append((int(match.group(2)), bool(match.group(3)), value))
    result: list[tuple[bytes, bytes]] = []
    for name, value in merged:
        pieces = sections.get(name.lower()) if value == b"" and name in order else None
        if pieces is None:
            result.append((name, value))
            continue
        pieces.sort(key=lambda piece: piece[0])
        extended = pieces[0][1]
        joined = b"".join(piece[2] for piece in pieces)
        result.append((name + b"*" if extended else name, joined))
    return result


def parse_value(value: bytes | None) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """``(main value, [(parameter name, value), ...])``; main value is e.g. ``b"text/plain"``.

    Read the way Dovecot reads it (our reference for BODYSTRUCTURE): the main value is a token or
    ``token "/" token``; each parameter is ``";" token "=" (token / quoted-string)`` and anything after a
    value up to the next ";" is ignored; an empty or nameless parameter ends the list, and an unclosed
    quoted string or comment ends it too, dropping the value it touches.
    """
    if not value:
        return b"", []
    tokens = _tokens(value)
    n = len(tokens)
    i = 0
    main = b""
    if i < n and tokens[i][0] == "t":
        main = tokens[i][1]
        i += 1
        if i < n and tokens[i] == ("s", b"/"):
            main += b"/"
            i += 1
            if i < n and tokens[i][0] == "t":
                main += tokens[i][1]
                i += 1
    params: list[tuple[bytes, bytes]] = []
    while i < n and tokens[i] != ("s", b";"):
        if tokens[i][0] == "x":
            return main, params
        i += 1
    while i < n:  # at a ";"
        i += 1
        if i >= n or tokens[i][0] != "t":
            break
        name = tokens[i][1]
        i += 1
        if i >= n or tokens[i] != ("s", b"="):
            break
        i += 1
        if i >= n:
            params.append((name, b""))  # "name=" at the very end: an empty value (as Dovecot keeps it)
            break
        if tokens[i][0] not in ("t", "q"):
            break
        item = tokens[i][1]
        i += 1
        if i < n and tokens[i][0] == "x":
            break  # the value runs into an unclosed comment or quote: lost, and the list ends
        params.append((name, item))
        while i < n and tokens[i] != ("s", b";"):
            if tokens[i][0] == "x":
                return main, _merge_rfc2231(params)
            i += 1
    return main, _merge_rfc2231(params)


def main_value_is_clean(value: bytes | None) -> bool:
    """True when the main value (``type/subtype``) is followed by nothing or by ";": anything else
    makes the whole Content-Type invalid for Dovecot (and for us, RFC 2045 §5.2's default applies)."""
    if not value:
        return False
    tokens = _tokens(value)
    i = 0
    if i < len(tokens) and tokens[i][0] == "t":
        i += 1
        if i < len(tokens) and tokens[i] == ("s", b"/"):
            i += 1
            if i < len(tokens) and tokens[i][0] == "t":
                i += 1
    return i == len(tokens) or tokens[i] == ("s", b";")


def single_token(value: bytes | None) -> bytes | None:
    """The value when it is exactly one RFC 2045 token (comments allowed), else None.

    Content-Transfer-Encoding is read this way (RFC 2045 §6.1 ``mechanism`` is a token); Dovecot treats
    anything else ("base64 junk", "8bit:") as absent, i.e. 7bit.
    """
    if not value:
        return None
    tokens = _tokens(value)
    if len(tokens) == 1 and tokens[0][0] == "t":
        return tokens[0][1]
    return None


def decode_rfc2231(value: bytes) -> str:
    """``utf-8'en'%E2%82%AC`` to text (RFC 2231 §4); anything else as an RFC 2047 header value."""
    parts = value.split(b"'", 2)
    if len(parts) == 3:
        charset = parts[0].decode("ascii", "replace")
        return decode_bytes(unquote_to_bytes(parts[2]), charset or None)
    return decode_header_value(value)
