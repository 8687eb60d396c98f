"""Reads a recorded client byte stream into commands, with no server to talk to.

Used by ``imapcore parse``, the corpus tests, the fuzzer and the parse benchmark. It does what the
protocol layer does around the tokenizer, minus the answers: it parses each ``COMMAND`` event, turns on
UTF-8 quoted strings after ``ENABLE UTF8=ACCEPT`` / ``IMAP4rev2``, and reads the lines that are not
commands in line mode: the ``DONE`` after IDLE (RFC 9051 §6.3.13) and the SASL responses after an
AUTHENTICATE (§6.2.2). Since nobody answers, it cannot know how many SASL lines follow; it takes lines
that cannot be a command (no SP in them) as responses, which is what base64 and ``*`` look like.
Synchronizing literals are simply consumed: the stream already holds their bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from . import commands as c
from .parser import CommandSyntaxError, parse_command
from .tokens import COMMAND, ERROR, LINE, NEED_MORE, Limits


@dataclass(frozen=True, slots=True)
class StreamLine:
    """A line read in line mode (IDLE's DONE, a SASL response)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class FramingError:
    """An ERROR event of the tokenizer (the connection answers BAD, or BYE when ``fatal``)."""

    tag: str | None
    message: str
    code: str | None
    fatal: bool


def _make_tokenizer(limits: Limits | None, tokenizer_class):
    if tokenizer_class is None:
        from .tokenizer import Tokenizer as tokenizer_class
    return tokenizer_class(limits)


def iter_stream(
    data: bytes,
    *,
    tokenizer_class=None,
    limits: Limits | None = None,
    chunk_sizes=None,
) -> Iterator[c.Command | CommandSyntaxError | StreamLine | FramingError]:
    """Yield what a server would see, in order: commands, syntax errors, raw lines, framing errors.

    The stream is fed line by line (so a SASL response can be recognised before it is fed), each line
    cut further into pieces of ``chunk_sizes`` (positive ints, cycled) when given; the result must not
    depend on that.
    """
    session = _Session(_make_tokenizer(limits, tokenizer_class))
    for line in _lines(data):
        if session.pending_sasl and b" " not in line:
            session.tokenizer.set_line_mode()
        session.pending_sasl = False
        for piece in _chunks(line, chunk_sizes):
            session.tokenizer.feed(piece)
            yield from session.events()
            if session.closed:
                return


class _Session:
    """What the protocol layer would remember between events: UTF-8 mode, an AUTHENTICATE underway."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.pending_sasl = False
        self.utf8 = False
        self.closed = False

    def events(self):
        tokenizer = self.tokenizer
        while not self.closed:
            event = tokenizer.next_event()
            kind = event[0]
            if kind == NEED_MORE:
                return
            if kind == COMMAND:
                try:
                    command = parse_command(event[1], utf8=self.utf8)
                except CommandSyntaxError as error:
                    yield error
                    continue
                yield command
                if isinstance(command, c.Idle):
                    tokenizer.set_line_mode()
                elif isinstance(command, c.Authenticate) and command.initial_response is None:
                    self.pending_sasl = True
                elif isinstance(command, c.Enable) and {"UTF8=ACCEPT", "IMAP4REV2"} & set(command.capabilities):
                    self.utf8 = True
                    tokenizer.set_utf8(True)
            elif kind == LINE:
                yield StreamLine(event[1])
            elif kind == ERROR:
                tag = event[1]
                yield FramingError(None if tag is None else tag.decode("ascii"), event[2], event[3], event[4])
                self.closed = event[4]
            # NEED_LITERAL: the literal's bytes are already in the stream.


def _lines(data: bytes):
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        yield data[start:end]
        start = end


def _chunks(line: bytes, chunk_sizes):
    if not chunk_sizes:
        yield line
        return
    sizes = list(chunk_sizes)
    start = 0
    index = 0
    while start < len(line):
        size = max(1, sizes[index % len(sizes)])
        yield line[start : start + size]
        start += size
        index += 1
