"""RFC 5322 §3.4 address lists as the IMAP ENVELOPE wants them (RFC 9051 §7.5.2).

``parse_address_list`` yields ``Address(name, adl, mailbox, host)`` tuples of raw bytes (or None), with
RFC 5322 groups bracketed the IMAP way: ``(NIL NIL "group" NIL)`` opens one and ``(NIL NIL NIL NIL)``
closes it. Display names stay undecoded (RFC 9051 leaves encoded words to the client); quotes are
removed from phrases and kept on quoted local parts, runs of whitespace become one space.

Malformed addresses get Dovecot's answers: a missing local part or domain is reported as
``MISSING_MAILBOX`` / ``MISSING_DOMAIN``, and an address without "@" keeps the whole text as mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass

MISSING_MAILBOX = b"MISSING_MAILBOX"
MISSING_DOMAIN = b"MISSING_DOMAIN"
_SPECIALS = b'()<>@,;:\\".[]'
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class Address:
    name: bytes | None
    adl: bytes | None
    mailbox: bytes | None
    host: bytes | None


GROUP_END = Address(None, None, None, None)


def _tokenize(value: bytes) -> list[tuple[str, bytes]]:
    """("a", atom) ("q", quoted content) ("c", comment content) ("s", special char) ("w", whitespace)."""
    tokens: list[tuple[str, bytes]] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in _WHITESPACE:
            while i < n and value[i] in _WHITESPACE:
                i += 1
            tokens.append(("w", b" "))
        elif c == 0x22:
            i += 1
            out = bytearray()
            while i < n and value[i] != 0x22:
                if value[i] == 0x5C and i + 1 < n:
                    i += 1
                out.append(value[i])
                i += 1
            i += 1
            tokens.append(("q", bytes(out)))
        elif c == 0x28:
            depth, i0 = 0, i
            while i < n:
                ch = value[i]
                if ch == 0x5C:
                    i += 2
                    continue
                if ch == 0x28:
                    depth += 1
                elif ch == 0x29:
                    depth -= 1
                    if depth == 0:
                        i += 1
                        break
                i += 1
            tokens.append(("c", value[i0 + 1 : max(i0 + 1, i - 1)]))
        elif c in _SPECIALS:
            tokens.append(("s", value[i : i + 1]))
            i += 1
        else:
            start = i
            while i < n and value[i] not in _SPECIALS and value[i] not in _WHITESPACE:
                i += 1
            tokens.append(("a", value[start:i]))
    return tokens


def _phrase(tokens: list[tuple[str, bytes]]) -> bytes | None:
    """Display name: words joined by single spaces, quotes removed, comments dropped."""
    words: list[bytes] = []
    pending_space = False
    for kind, text in tokens:
        if kind == "w" or kind == "c":
            pending_space = bool(words)
            continue
        if pending_space and words:
            words.append(b" ")
        words.append(text)
        pending_space = False
    if not words:
        return None
    return b"".join(words)


def _addr_spec(tokens: list[tuple[str, bytes]]) -> tuple[bytes | None, bytes | None]:
    """``local@domain`` -> (mailbox, host); whitespace and comments are not part of either."""
    local: list[bytes] = []
    domain: list[bytes] = []
    target = local
    seen_at = False
    for kind, text in tokens:
        if kind in ("w", "c"):
            continue
        if kind == "s" and text == b"@" and not seen_at:
            seen_at = True
            target = domain
            continue
        if kind == "q":
            target.append(text)  # Dovecot reports a quoted local part without its quotes
        else:
            target.append(text)
    mailbox = b"".join(local) or None
    host = b"".join(domain) or None
    if not seen_at:
        return mailbox, None
    return mailbox, host


def _last_comment(tokens: list[tuple[str, bytes]]) -> bytes | None:
    for kind, text in reversed(tokens):
        if kind == "c":
            return b" ".join(text.split()) or None
    return None


def _make(name: bytes | None, adl: bytes | None, mailbox: bytes | None, host: bytes | None) -> Address:
    return Address(name, adl, mailbox or MISSING_MAILBOX, host or MISSING_DOMAIN)


def parse_address_list(value: bytes | None) -> list[Address]:
    if not value:
        return []
    tokens = _tokenize(value)
    result: list[Address] = []
    in_group = False
    pending: list[tuple[str, bytes]] = []
    i, n = 0, len(tokens)

    def flush_spec() -> None:
        if any(kind in ("a", "q", "s") for kind, _ in pending):
            mailbox, host = _addr_spec(pending)
            if mailbox is None and host is None:
                pending.clear()
                return
            result.append(_make(_last_comment(pending), None, mailbox, host))
        pending.clear()

    while i < n:
        kind, text = tokens[i]
        if kind == "s" and text == b"<":
            name = _phrase(pending)
            pending.clear()
            j = i + 1
            inner: list[tuple[str, bytes]] = []
            while j < n and tokens[j] != ("s", b">"):
                inner.append(tokens[j])
                j += 1
            adl = None
            # RFC 5322 §4.4 obs-route: "@a,@b:" before the addr-spec.
            colon = next((k for k, tok in enumerate(inner) if tok == ("s", b":")), None)
            if colon is not None and inner and any(t == ("s", b"@") for t in inner[:colon]):
                adl = b"".join(t for kind2, t in inner[:colon] if kind2 not in ("w", "c")) or None
                inner = inner[colon + 1 :]
            mailbox, host = _addr_spec(inner)
            if mailbox is None and host is None and adl is None:
                # "<>" (an empty return path): Dovecot still reports an address.
                result.append(Address(name, None, b"", b""))
            else:
                result.append(_make(name, adl, mailbox, host))
            i = j + 1
            # Skip anything up to the next separator.
            while i < n and tokens[i] not in (("s", b","), ("s", b";")):
                i += 1
            continue
        if kind == "s" and text == b":" and not in_group:
            result.append(Address(None, None, _phrase(pending) or b"", None))
            pending.clear()
            in_group = True
        elif kind == "s" and text == b";" and in_group:
            flush_spec()
            result.append(GROUP_END)
            in_group = False
        elif kind == "s" and text == b",":
            flush_spec()
        else:
            pending.append((kind, text))
        i += 1
    flush_spec()
    if in_group:
        result.append(GROUP_END)
    return result
