"""Header bytes to text: RFC 2047 encoded words and raw 8-bit header bytes.

``decode_header_value`` turns an unfolded header value into ``str`` for search, SORT and the decoded
header index. Encoded words (``=?charset?B|Q?...?=``) are decoded with their charset; whitespace between
two adjacent encoded words disappears (RFC 2047 §6.2). Raw 8-bit bytes (RFC 6532 headers, or plain
mistakes) are read as UTF-8 and, failing that, as Windows-1252, the usual guess of mail clients. Unknown
charsets and broken encodings never raise: the encoded word is kept as written.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

# RFC 2047 §2 encoded-word, with the RFC 2231 §5 language suffix ("=?utf-8*en?Q?...?=").
_ENCODED_WORD = re.compile(rb"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_SPACE_BETWEEN = re.compile(rb"[ \t\r\n]+")
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")

#: Charset labels mail uses that Python knows under another name (or not at all).
_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "latin-1",
    "unknown-8bit": "latin-1",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "x-mac-roman": "mac-roman",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
}


def python_codec(charset: str) -> str | None:
    """The Python codec for a MIME charset label, or None if unknown."""
    label = charset.strip().strip('"').lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode text bytes with ``charset`` (a MIME label); unknown or absent: UTF-8, else Windows-1252."""
    if charset:
        codec = python_codec(charset)
        if codec is not None:
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                pass
            except Exception:  # some codecs (utf-7) raise other errors on bad input
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _decode_word(charset: bytes, encoding: bytes, text: bytes) -> str | None:
    try:
        if encoding in (b"B", b"b"):
            padded = text + b"=" * (-len(text) % 4)
            data = base64.b64decode(padded, validate=False)
        else:
            # RFC 2047 §4.2: "_" is a space, =XX an octet.
            data = _Q_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), text.replace(b"_", b" "))
    except (binascii.Error, ValueError):
        return None
    codec = python_codec(charset.decode("ascii", "replace"))
    if codec is None:
        return None
    try:
        return data.decode(codec, errors="replace")
    except Exception:
        return None


def decode_header_value(value: bytes) -> str:
    """Decoded text of an unfolded header value (RFC 2047), never raising."""
    if b"=?" not in value:
        return decode_bytes(value)
    pieces: list[str] = []
    position = 0
    previous_was_word = False
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        decoded = _decode_word(match.group(1), match.group(2), match.group(3))
        if decoded is None:
            pieces.append(decode_bytes(value[position : match.end()]))
            previous_was_word = False
        else:
            # RFC 2047 §6.2: linear white space between adjacent encoded words is ignored.
            if not (previous_was_word and _SPACE_BETWEEN.fullmatch(between)):
                pieces.append(decode_bytes(between))
            pieces.append(decoded)
            previous_was_word = True
        position = match.end()
    pieces.append(decode_bytes(value[position:]))
    return "".join(pieces)
