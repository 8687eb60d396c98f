"""Messages the scripts append (``{msg:NAME}``) and the literal forms of a command line.

Fixtures are fixed bytes, so a script can state exactly what FETCH must return: sizes, sections,
envelopes. ``{big:N}`` builds a plain message of exactly N bytes for the huge-literal cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


MESSAGES: dict[str, bytes] = {
    # 7 header lines, a two-line body. RFC 5322 basics for ENVELOPE and header searches.
    "plain": _crlf(
        "From: Alice Example <alice@example.org>\n"
        "To: Bob <bob@example.net>\n"
        "Cc: carol@example.com\n"
        "Subject: Hello world\n"
        "Date: Mon, 07 Feb 1994 21:52:25 -0800\n"
        "Message-ID: <plain-1@example.org>\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n"
        "Hello Bob,\n"
        "the quick brown fox jumps over the lazy dog.\n"
    ),
    # a second, different message for searches that must tell messages apart.
    "second": _crlf(
        "From: Bob <bob@example.net>\n"
        "To: Alice Example <alice@example.org>\n"
        "Subject: Re: Hello world\n"
        "Date: Tue, 08 Feb 1994 10:00:00 +0000\n"
        "Message-ID: <second-1@example.net>\n"
        "In-Reply-To: <plain-1@example.org>\n"
        "\n"
        "Hi Alice, zebra crossing tomorrow.\n"
    ),
    "third": _crlf(
        "From: Dave <dave@example.com>\n"
        "To: Alice Example <alice@example.org>\n"
        "Subject: Meeting agenda\n"
        "Date: Wed, 09 Feb 1994 12:00:00 +0100\n"
        "Message-ID: <third-1@example.com>\n"
        "X-Priority: 1\n"
        "\n"
        "Agenda: budget, hiring, lunch.\n"
        "A longer body line so that this message is larger than the others, for SMALLER and LARGER.\n"
        "Another line of padding text to make the size difference obvious to any search.\n"
    ),
    # multipart/mixed: text part and a base64 attachment (BODYSTRUCTURE, BODY[1], BODY[2], BINARY[2]).
    "multipart": _crlf(
        "From: Alice Example <alice@example.org>\n"
        "To: Bob <bob@example.net>\n"
        "Subject: With attachment\n"
        "Date: Thu, 10 Feb 1994 08:30:00 +0000\n"
        "Message-ID: <multi-1@example.org>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="XYZ"\n'
        "\n"
        "preamble\n"
        "--XYZ\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        "Part one text.\n"
        "--XYZ\n"
        "Content-Type: application/octet-stream; name=\"a.bin\"\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=\"a.bin\"\n"
        "\n"
        "SGVsbG8gYmluYXJ5IQ==\n"
        "--XYZ--\n"
    ),
    # RFC 2047 encoded subject and a UTF-8 body (SEARCH with CHARSET UTF-8, ENVELOPE strings).
    "encoded": _crlf(
        "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>\n"
        "To: Alice Example <alice@example.org>\n"
        "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\n"
        "Date: Fri, 11 Feb 1994 09:00:00 +0100\n"
        "Message-ID: <enc-1@example.de>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "Schöne Grüße.\n"
    ),
    # message/rfc822 inside multipart (BODY[2.HEADER], nested ENVELOPE).
    "nested": _crlf(
        "From: Alice Example <alice@example.org>\n"
        "To: Bob <bob@example.net>\n"
        "Subject: Fwd: inner\n"
        "Date: Sat, 12 Feb 1994 08:00:00 +0000\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="OUT"\n'
        "\n"
        "--OUT\n"
        "Content-Type: text/plain\n"
        "\n"
        "See below.\n"
        "--OUT\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "From: Inner <inner@example.org>\n"
        "Subject: inner\n"
        "\n"
        "Inner body.\n"
        "--OUT--\n"
    ),
    # the smallest useful message.
    "tiny": _crlf("Subject: tiny\n\nx\n"),
}


def big_message(size: int) -> bytes:
    """A plain-text message of exactly ``size`` bytes (at least 64)."""
    header = b"Subject: big\r\nContent-Type: text/plain\r\n\r\n"
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl\r\n"
    body_size = max(0, size - len(header))
    body = (line * (body_size // len(line) + 1))[:body_size]
    if body_size >= 2:
        body = body[:-2] + b"\r\n"
    return header + body


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "\\": "\\", "}": "}", "{": "{"}


def unescape(text: str) -> bytes:
    """``\\r \\n \\t \\\\ \\} \\xNN`` in a script's literal text, UTF-8 otherwise."""
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        out += text[position : match.start()].encode("utf-8")
        code = match.group(1)
        if code.startswith("x") and len(code) == 3:
            out.append(int(code[1:], 16))
        else:
            out += _SIMPLE_ESCAPES.get(code, "\\" + code).encode("utf-8")
        position = match.end()
    out += text[position:].encode("utf-8")
    return bytes(out)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes to send; ``wait`` when they end with a synchronizing literal's ``{n}\\r\\n``."""

    data: bytes
    wait: bool


_LITERAL_FORM = re.compile(r"\{(msg\+?|lit\+?|lit8|big\+?):((?:\\.|[^}\\])*)\}")


def literal_data(kind: str, argument: str) -> bytes:
    if kind.startswith("msg"):
        if argument not in MESSAGES:
            raise KeyError(f"no fixture message {argument!r}")
        return MESSAGES[argument]
    if kind.startswith("big"):
        return big_message(int(argument))
    return unescape(argument)


def command_chunks(line: str) -> list[Chunk]:
    """A command line with its literal forms expanded into what goes on the wire, CRLF added."""
    chunks: list[Chunk] = []
    pending = bytearray()
    position = 0
    for match in _LITERAL_FORM.finditer(line):
        pending += line[position : match.start()].encode("utf-8")
        kind, argument = match.groups()
        data = literal_data(kind, argument)
        if kind == "lit8":
            chunks.append(Chunk(bytes(pending) + b"~{%d}\r\n" % len(data), True))
            pending = bytearray(data)
        elif kind.endswith("+"):
            pending += b"{%d+}\r\n" % len(data) + data
        else:
            chunks.append(Chunk(bytes(pending) + b"{%d}\r\n" % len(data), True))
            pending = bytearray(data)
        position = match.end()
    pending += line[position:].encode("utf-8") + b"\r\n"
    chunks.append(Chunk(bytes(pending), False))
    return chunks
