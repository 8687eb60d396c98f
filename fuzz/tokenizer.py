"""Fuzz the C tokenizer against its executable specification, the pure-Python twin.

``python -m fuzz.tokenizer --seconds N`` runs for N seconds with atheris (libFuzzer, guided by the
coverage of the Python twin, which mirrors the C state machine) when it is importable, otherwise with
hypothesis (``--hypothesis`` forces it). Each input is split into a configuration (limits, UTF-8 mode,
chunk boundaries, when to switch line mode on) and a byte stream; both tokenizers are driven the same
way and must produce exactly the same events. Any difference or any exception other than the
tokenizer's own behaviour is a failure (exit status 1, with the input printed). Seeds come from the
recorded client traffic in /work/shared/traffic when it is there.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imapcore.syntax.pytokenizer import Tokenizer as PyTokenizer
from imapcore.syntax.tokens import COMMAND, ERROR, LINE, NEED_MORE, Limits

try:
    from imapcore.syntax.ctokenizer import Tokenizer as CTokenizer
except ImportError:  # pragma: no cover - reported by main()
    CTokenizer = None

TRAFFIC = Path(os.environ.get("IMAPCORE_SHARED", "/work/shared")) / "traffic"
MAX_EVENTS = 100_000


def drive(cls, chunks, limits, utf8, schedule):
    """Feed chunks, draining events; after the i-th command-ending event apply schedule[i]."""
    tokenizer = cls(limits, utf8=utf8)
    events = []
    ended = 0
    for chunk in chunks:
        tokenizer.feed(chunk)
        while True:
            event = tokenizer.next_event()
            events.append(event)
            if len(events) > MAX_EVENTS:
                raise AssertionError("no NEED_MORE after %d events" % MAX_EVENTS)
            if event[0] == NEED_MORE:
                break
            if event[0] in (COMMAND, LINE, ERROR) and schedule:
                action = schedule[ended % len(schedule)]
                if action == 1:
                    tokenizer.set_line_mode()
                elif action == 2:
                    tokenizer.set_utf8(not tokenizer.utf8)
                ended += 1
    return events


def decode_case(data: bytes):
    """Configuration from the first 8 bytes, the stream from the rest (so every input is valid)."""
    head = data[:8].ljust(8, b"\0")
    stream = data[8:]
    if head[0] & 1:
        limits = Limits()
    else:
        limits = Limits(
            max_line_bytes=head[1] % 64,
            max_literal_bytes=head[2] % 48,
            max_command_bytes=head[3] % 160,
            max_literals_per_command=head[4] % 5,
            max_discard_bytes=head[5] % 80,
        )
    utf8 = bool(head[0] & 2)
    schedule = [(head[6] >> (2 * i)) & 3 for i in range(head[0] >> 6)]
    rng = random.Random(head[7])
    cuts = sorted(rng.randrange(len(stream) + 1) for _ in range(rng.randrange(8)))
    bounds = [0, *cuts, len(stream)]
    chunks = [stream[a:b] for a, b in zip(bounds, bounds[1:])]
    if head[7] & 0x80:  # sometimes byte by byte
        chunks = [stream[i : i + 1] for i in range(len(stream))]
    return chunks, limits, utf8, schedule


def check(data: bytes) -> None:
    chunks, limits, utf8, schedule = decode_case(data)
    expected = drive(PyTokenizer, chunks, limits, utf8, schedule)
    actual = drive(CTokenizer, chunks, limits, utf8, schedule)
    if actual != expected:
        for i, (a, b) in enumerate(zip(actual, expected)):
            if a != b:
                raise AssertionError(f"event {i}: C {a!r} != Python {b!r} (limits={limits}, utf8={utf8})")
        raise AssertionError(f"C gave {len(actual)} events, Python {len(expected)}")


def seeds() -> list[bytes]:
    """Pieces of real client traffic, with a default-limits header and with small limits."""
    out = []
    for path in sorted(TRAFFIC.glob("*/*.client.imap")):
        data = path.read_bytes()[:2048]
        out.append(b"\x01\0\0\0\0\0\0\0" + data)
        out.append(b"\x42\x20\x10\x50\x02\x30\x55\x03" + data[:300])
    return out


def run_atheris(seconds: int) -> int:
    """libFuzzer ends the process when it is done, so it runs in a child; the parent owns the seed
    corpus directory and removes it afterwards."""
    corpus = tempfile.mkdtemp(prefix="imapcore-fuzz-tokenizer-")
    try:
        for i, seed in enumerate(seeds()):
            Path(corpus, f"seed{i:03}").write_bytes(seed)
        child = [sys.executable, "-m", "fuzz.tokenizer", "--atheris-child", corpus, "--seconds", str(seconds)]
        return subprocess.run(child, timeout=seconds + 120).returncode
    finally:
        shutil.rmtree(corpus, ignore_errors=True)


def atheris_child(corpus: str, seconds: int) -> int:
    import atheris

    argv = [sys.argv[0], f"-max_total_time={seconds}", "-max_len=4096", "-rss_limit_mb=2048", corpus]
    # Coverage feedback comes from the Python twin (the C extension is not built for libFuzzer); its
    # branches mirror the C state machine's.
    atheris.instrument_all()
    atheris.Setup(argv, check)
    atheris.Fuzz()  # exits the process: 0 when the time is up, non-zero on a failure
    return 0


def run_hypothesis(seconds: int) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    pieces = st.one_of(
        st.sampled_from(
            [b"a1 ", b"A001 ", b"* ", b"+ ", b" ", b"(", b")", b"[", b"]", b"LOGIN", b"FETCH", b"1:*", b"BODY[]",
             b"\\Seen", b'"x"', b'"\\"\\\\"', b'"\\q"', b'"', b"\xc3\xa9", b"\xed\xa0\x80", b"\xff", b"\x00", b"\r",
             b"\n", b"\r\n", b"{0}\r\n", b"{3}\r\nabc", b"{3+}\r\nabc", b"~{2}\r\n\x00\x01", b"{5+}\r\n",
             b"{99999999999999999999+}\r\n", b"{9223372036854775808}\r\n", b"{", b"~{", b"}", b"DONE\r\n", b"~"]
        ),
        st.binary(max_size=8),
    )
    case = st.tuples(st.binary(min_size=8, max_size=8), st.lists(pieces, max_size=40).map(b"".join))
    deadline = time.monotonic() + seconds
    rounds = 0

    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case)
    def property_(head_and_stream):
        head, stream = head_and_stream
        check(head + stream)

    for seed in seeds():
        check(seed)
    while time.monotonic() < deadline:
        property_()
        rounds += 1
    print(f"hypothesis: {rounds * 200} cases, C and Python tokenizers agree")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the C tokenizer against the Python twin.")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--hypothesis", action="store_true", help="use hypothesis even if atheris is there")
    parser.add_argument("--atheris-child", metavar="CORPUS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.atheris_child:
        return atheris_child(args.atheris_child, args.seconds)
    if CTokenizer is None:
        print("the C tokenizer is not built (imapcore._ctokenizer): nothing to fuzz", file=sys.stderr)
        return 1
    if not args.hypothesis:
        try:
            import atheris  # noqa: F401
        except ImportError:
            print("atheris not importable: fuzzing with hypothesis", file=sys.stderr)
        else:
            return run_atheris(args.seconds)
    try:
        return run_hypothesis(args.seconds)
    except AssertionError as exc:
        print(f"MISMATCH: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
