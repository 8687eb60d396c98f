"""Generated messages for the store tests and benchmarks: deterministic, varied, small or ~20 KB.

``make_message(seed, body_kb=...)`` builds an RFC 5322 message from a seeded RNG: a few header fields
(some RFC 2047 encoded, some non-ASCII), a body of words drawn from a small vocabulary (so searches hit
some messages and miss others), sometimes a multipart/alternative or a base64 text part.
"""

from __future__ import annotations

import base64
import random

WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
    "quebec romeo sierra tango uniform victor whiskey xray yankee zulu mailbox server client fetch store "
    "search expunge append flags keyword ipsum lorem dolor café naïve über straße résumé"
).split()
PEOPLE = (
    ("Alice Example", "alice@example.org"),
    ("Bob Builder", "bob@example.net"),
    ("Jürgen Müller", "juergen@beispiel.de"),
    ("Carol O'Neil", "carol@example.com"),
    ("Dmitri", "dmitri@example.ru"),
)


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def make_message(seed: int, *, body_kb: float = 1.0) -> bytes:
    rng = random.Random(seed)
    sender = rng.choice(PEOPLE)
    recipient = rng.choice(PEOPLE)
    subject_words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
    subject = _encoded_word(subject_words) if rng.random() < 0.3 else subject_words
    name = _encoded_word(sender[0]) if not sender[0].isascii() else sender[0]
    day = rng.randint(1, 28)
    month = rng.choice(["Jan", "Feb", "Mar", "Apr", "May", "Jun"])
    target_chars = int(body_kb * 1024)
    words = []
    length = 0
    while length < target_chars:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    lines = []
    line = []
    for word in words:
        line.append(word)
        if len(line) >= 12:
            lines.append(" ".join(line))
            line = []
    if line:
        lines.append(" ".join(line))
    text = "\r\n".join(lines) + f"\r\nseed{seed}\r\n"
    headers = [
        f"From: {name} <{sender[1]}>",
        f"To: {recipient[0] if recipient[0].isascii() else _encoded_word(recipient[0])} <{recipient[1]}>",
        f"Subject: {subject}",
        f"Date: {rng.choice(['Mon', 'Tue', 'Wed'])}, {day:02d} {month} 2024 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00 +0{rng.randint(0, 5)}00",
        f"Message-ID: <gen.{seed}@corpus.example>",
    ]
    if rng.random() < 0.3:
        headers.append(f"X-Tag: {rng.choice(WORDS)}")
    kind = rng.random()
    if kind < 0.6:
        headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        body = text
    elif kind < 0.8:
        headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"]
        encoded = base64.encodebytes(text.encode()).decode().replace("\n", "\r\n")
        body = encoded
    else:
        headers += ["MIME-Version: 1.0", 'Content-Type: multipart/alternative; boundary="b1"']
        body = (
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + text
            + "\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>"
            + rng.choice(WORDS)
            + "</p>\r\n--b1--\r\n"
        )
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("utf-8")
