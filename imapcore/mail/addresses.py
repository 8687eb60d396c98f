"""RFC 5322 §3.4 address lists as the IMAP ENVELOPE wants them (RFC 9051 §7.5.2).

``parse_address_list`` yields ``Address(name, adl, mailbox, host)`` tuples of raw bytes (or None), with
RFC 5322 groups bracketed the IMAP way: ``(NIL NIL "group" NIL)`` opens one and ``(NIL NIL NIL NIL)``
closes it. Display names stay undecoded (RFC 9051 leaves encoded words to the client); quotes are
removed from phrases and kept on quoted local parts, runs of whitespace become one space.

Malformed addresses get Dovecot's answers: a missing local part or domain is reported as
``MISSING_MAILBOX`` / ``MISSING_DOMAIN``, an address without "@" keeps its word as mailbox, a broken
angle address gets the host ``SYNTAX_ERROR`` (and a broken route the adl ``INVALID_ROUTE``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .headers import comment_end

MISSING_MAILBOX = b"MISSING_MAILBOX"
MISSING_DOMAIN = b"MISSING_DOMAIN"
SYNTAX_ERROR = b"SYNTAX_ERROR"
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
    """("a", atom) ("q", quoted content) ("c", comment content) ("s", special char) ("w", whitespace),
    and a final ("x", '"') or ("x", "(") when a quoted string or a comment is never closed."""
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
            if i >= n:
                tokens.append(("x", b'"'))  # unclosed quoted string: a syntax error
                break
            i += 1
            tokens.append(("q", bytes(out)))
        elif c == 0x28:
            end = comment_end(value, i)
            if end is None:
                tokens.append(("x", b"("))  # unclosed comment: a syntax error
                break
            tokens.append(("c", value[i + 1 : end - 1]))
            i = end
        elif c in _SPECIALS:
            tokens.append(("s", value[i : i + 1]))
            i += 1
        else:
            start = i
            while i < n and value[i] not in _SPECIALS and value[i] not in _WHITESPACE:
                i += 1
            tokens.append(("a", value[start:i]))
    return tokens


class _Parser:
    """Recursive descent over the tokens, after Dovecot's message-address parser (the reference our
    ENVELOPE is compared with): a failed angle address keeps what was read and reports the host as
    ``SYNTAX_ERROR`` (an unreadable route as ``INVALID_ROUTE``); after any address, whatever is left up to
    the next comma is skipped, so one broken address does not swallow the rest of the list."""

    def __init__(self, tokens: list[tuple[str, bytes]]) -> None:
        self.tokens = tokens
        self.i = 0
        self.last_comment: bytes | None = None

    # -- token helpers --------------------------------------------------------------------------------

    def skip_cfws(self) -> None:
        tokens, n = self.tokens, len(self.tokens)
        while self.i < n and tokens[self.i][0] in ("w", "c"):
            if tokens[self.i][0] == "c":
                self.last_comment = b" ".join(tokens[self.i][1].split()) or None
            self.i += 1

    def peek(self) -> tuple[str, bytes] | None:
        self.skip_cfws()
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def at_unclosed_comment(self) -> bool:
        token = self.peek()
        return token == ("x", b"(")

    def at_special(self, char: bytes) -> bool:
        token = self.peek()
        return token is not None and token == ("s", char)

    def phrase(self) -> bytes | None:
        """RFC 5322 phrase (with obs-phrase dots): words joined by single spaces where spaces were."""
        words: list[bytes] = []
        space = False
        tokens, n = self.tokens, len(self.tokens)
        while self.i < n:
            kind, text = tokens[self.i]
            if kind in ("w", "c"):
                space = bool(words)
                self.i += 1
                continue
            if kind in ("a", "q") or (kind == "s" and text == b"." and words):
                if space:
                    words.append(b" ")
                words.append(text)
                space = False
                self.i += 1
                continue
            break
        return b"".join(words) if words else None

    def dot_words(self, allow_quoted: bool) -> bytes | None:
        """``word *("." word)``: a local part or a domain (domain literals kept with their brackets)."""
        pieces: list[bytes] = []
        while True:
            token = self.peek()
            if token is None:
                break
            kind, text = token
            if kind == "a" or (kind == "q" and allow_quoted):
                pieces.append(text)
                self.i += 1
            elif kind == "s" and text == b"[" and not allow_quoted:
                literal = [b"["]
                self.i += 1
                while self.i < len(self.tokens) and self.tokens[self.i] != ("s", b"]"):
                    literal.append(self.tokens[self.i][1])
                    self.i += 1
                if self.i < len(self.tokens):
                    self.i += 1
                    literal.append(b"]")
                pieces.append(b"".join(literal))
            else:
                break
            if self.at_unclosed_comment():
                # A word running into an unclosed comment is lost (Dovecot's reading).
                return None
            if self.at_special(b"."):
                pieces.append(b".")
                self.i += 1
                continue
            break
        if pieces and pieces[-1] == b"." and not allow_quoted:
            return None  # "example." is no domain (Dovecot reports it missing)
        return b"".join(pieces) or None

    # -- grammar --------------------------------------------------------------------------------------

    def addr_spec(self) -> Address:
        """``local-part "@" domain``; a lone word followed by more words is a display name (Dovecot)."""
        self.last_comment = None
        mailbox = self.dot_words(allow_quoted=True)
        host = None
        has_at = self.at_special(b"@")
        if has_at:
            self.i += 1
            host = self.dot_words(allow_quoted=False)
        name = self.last_comment
        if not has_at and mailbox is not None and name is None:
            rest = self.phrase()
            if rest is not None:
                return Address(mailbox + b" " + rest, None, MISSING_MAILBOX, MISSING_DOMAIN)
        return Address(name, None, mailbox or MISSING_MAILBOX, host or MISSING_DOMAIN)

    def route(self) -> bytes | None:
        """RFC 5322 §4.4 obs-route ``@a,@b:``; None when it cannot be read."""
        pieces: list[bytes] = []
        while self.at_special(b"@"):
            self.i += 1
            domain = self.dot_words(allow_quoted=False)
            if domain is None:
                return None
            pieces.append(b"@" + domain)
            while self.at_special(b","):
                self.i += 1
            if not self.at_special(b"@"):
                break
        if not self.at_special(b":"):
            return None
        self.i += 1
        return b",".join(pieces)

    def angle_addr(self, name: bytes | None) -> Address:
        self.i += 1  # "<"
        adl = None
        if self.at_special(b"@"):
            adl = self.route()
            if adl is None:
                return Address(name, b"INVALID_ROUTE", MISSING_MAILBOX, SYNTAX_ERROR)
        if self.at_special(b">"):
            self.i += 1
            return Address(name, adl, b"", b"")  # "<>", the null return path
        mailbox = self.dot_words(allow_quoted=True)
        host = None
        if mailbox is not None and self.at_special(b">"):
            self.i += 1
            return Address(name, adl, mailbox, MISSING_DOMAIN)  # "<user>": no domain, not an error
        ok = mailbox is not None and self.at_special(b"@")
        if ok:
            self.i += 1
            host = self.dot_words(allow_quoted=False)
            ok = host is not None and self.at_special(b">")
        if not ok:
            return Address(name, adl, mailbox or MISSING_MAILBOX, SYNTAX_ERROR)
        self.i += 1  # ">"
        return Address(name, adl, mailbox, host)

    def mailbox(self) -> Address:
        start = self.i
        name = self.phrase()
        if self.at_special(b"<"):
            return self.angle_addr(name)
        self.i = start
        return self.addr_spec()

    def address_list(self) -> list[Address]:
        """Addresses separated by commas. An empty element between commas is an empty address; after an
        element anything but a comma (or a group's ";") ends the list, as Dovecot stops there too."""
        result: list[Address] = []
        in_group = False
        while True:
            token = self.peek()
            if token is None or token[0] == "x" and not result:
                if token is not None:
                    result.append(Address(None, None, MISSING_MAILBOX, MISSING_DOMAIN))
                break
            if token == ("s", b","):
                result.append(Address(None, None, MISSING_MAILBOX, MISSING_DOMAIN))
                self.i += 1
                continue
            if token == ("s", b";") and in_group:
                self.i += 1
                result.append(GROUP_END)
                in_group = False
            else:
                start = self.i
                name = self.phrase()
                if not in_group and self.at_special(b":"):
                    # RFC 5322 §3.4 group: display-name ":" [group-list] ";"
                    self.i += 1
                    result.append(Address(None, None, name or b"", None))
                    in_group = True
                    if self.at_special(b";"):
                        continue
                    continue
                self.i = start
                result.append(self.mailbox())
                if in_group and self.at_special(b";"):
                    continue
            if self.at_special(b","):
                self.i += 1
                continue
            break
        if in_group:
            result.append(GROUP_END)
        return result


def parse_address_list(value: bytes | None) -> list[Address]:
    if not value:
        return []
    return _Parser(_tokenize(value)).address_list()
