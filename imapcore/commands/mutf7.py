"""Mailbox names on the wire: modified UTF-7 for IMAP4rev1 sessions, UTF-8 after rev2 / UTF8=ACCEPT.

The store keeps names as Unicode text. What the client sends and sees depends on the session:

* an IMAP4rev1 session (nothing enabled) speaks modified UTF-7 (RFC 3501 §5.1.3, RFC 9051 §5.1.3 and
  Appendix A): printable US-ASCII stands for itself except ``&``, which is written ``&-``; any other run
  of characters is UTF-16 encoded in modified BASE64 (``,`` instead of ``/``, no padding) between ``&``
  and ``-``. A rev1 client that sends 8-bit bytes or a broken ``&`` sequence sent a name that cannot be
  decoded: the command is refused (Dovecot does the same) rather than guessing;
* after ``ENABLE IMAP4rev2`` or ``ENABLE UTF8=ACCEPT`` (RFC 9051 §6.3.1, RFC 6855 §3) names travel as
  UTF-8 verbatim, ``&`` included.

``encode``/``decode`` are the pure codec; ``from_client``/``to_client`` pick by the session's mode.
"""

from __future__ import annotations

import base64
import functools
import re

from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import CommandFailed

# RFC 3501 §5.1.3: characters 0x20-0x7e represent themselves (except "&").
_DIRECT = re.compile(r"[\x20-\x25\x27-\x7e]+")
_SHIFTED = re.compile(r"&([A-Za-z0-9+,]*)-")


class InvalidModifiedUtf7(ValueError):
    """The text is not valid modified UTF-7."""


# Both are pure and a client sends the same few names at every check (STATUS, SELECT, LIST): kept.
@functools.lru_cache(maxsize=1024)
def encode(name: str) -> str:
    """Modified UTF-7 of ``name`` (RFC 3501 §5.1.3)."""
    out: list[str] = []
    index = 0
    length = len(name)
    while index < length:
        direct = _DIRECT.match(name, index)
        if direct:
            out.append(direct.group())
            index = direct.end()
            continue
        if name[index] == "&":
            out.append("&-")
            index += 1
            continue
        end = index
        while end < length and not ("\x20" <= name[end] <= "\x7e"):
            end += 1
        utf16 = name[index:end].encode("utf-16-be", "surrogatepass")
        encoded = base64.b64encode(utf16).decode("ascii").rstrip("=").replace("/", ",")
        out.append(f"&{encoded}-")
        index = end
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def decode(text: str) -> str:
    """The Unicode name behind modified UTF-7 ``text``; ``InvalidModifiedUtf7`` if it is not valid.

    Strict as RFC 3501 §5.1.3 asks: only printable US-ASCII outside shifts, no shifted run that encodes
    printable US-ASCII (it must be written directly), no empty ``&-`` misuse, no non-zero padding bits,
    and the result must be well-formed UTF-16 (no lone surrogates).
    """
    out: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char != "&":
            if not "\x20" <= char <= "\x7e":
                raise InvalidModifiedUtf7(f"character {char!r} must be encoded")
            out.append(char)
            index += 1
            continue
        shifted = _SHIFTED.match(text, index)
        if shifted is None:
            raise InvalidModifiedUtf7("unterminated or invalid '&' sequence")
        payload = shifted.group(1)
        index = shifted.end()
        if payload == "":
            out.append("&")
            continue
        out.append(_decode_shifted(payload))
        # Two shifted runs back to back would have been one run (RFC 3501 §5.1.3 "&...-&...-" is not
        # canonical); refusing it keeps the encoding of a name unique.
        if text.startswith("&", index) and not text.startswith("&-", index):
            raise InvalidModifiedUtf7("adjacent encoded runs")
    return "".join(out)


def _decode_shifted(payload: str) -> str:
    bits = len(payload) * 6
    if bits % 16 >= 6:  # more than padding left over: a truncated UTF-16 unit
        raise InvalidModifiedUtf7("truncated UTF-16 in an encoded run")
    padded = payload.replace(",", "/") + "=" * (-len(payload) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except ValueError:
        raise InvalidModifiedUtf7("bad modified BASE64") from None
    # The unused low bits of the last base64 character must be zero.
    leftover = bits % 16
    if leftover and _B64_INDEX[payload[-1]] & ((1 << leftover) - 1):
        raise InvalidModifiedUtf7("non-zero padding bits")
    raw = raw[: len(raw) - len(raw) % 2]
    try:
        decoded = raw.decode("utf-16-be")
    except UnicodeDecodeError:
        raise InvalidModifiedUtf7("broken UTF-16 surrogate pair") from None
    if any("\x20" <= ch <= "\x7e" for ch in decoded):
        raise InvalidModifiedUtf7("printable US-ASCII must not be encoded")
    return decoded


_B64_INDEX = {ch: value for value, ch in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"
)}


def from_client(name: str, utf8: bool) -> str:
    """The store's name for ``name`` as the client sent it; ``NO [CANNOT]`` if it cannot be decoded.

    ``name`` is what the parser produced (``str`` decoded from UTF-8 with ``surrogateescape``).
    """
    if utf8:
        if _has_surrogates(name):
            raise CommandFailed(ResponseCode(Code.CANNOT), "Mailbox name is not valid UTF-8")
        return name
    try:
        return decode(name)
    except InvalidModifiedUtf7 as error:
        raise CommandFailed(ResponseCode(Code.CANNOT), f"Mailbox name is not valid mUTF-7: {error}") from None


def to_client(name: str, utf8: bool) -> str:
    """How the client of this session must see the store's ``name``."""
    return name if utf8 else encode(name)


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)
