"""Fuzz the whole syntax layer: tokenizer + grammar + command builder, on client-like byte streams.

``python -m fuzz.parser --seconds 60`` runs for that long with hypothesis (mutations of realistic seeds
and IMAP fragments); ``--atheris`` uses atheris (libFuzzer, coverage-guided) instead when it is
importable. Seeds: ``fuzz/corpus/*.imap`` (what Thunderbird, iOS Mail, Outlook, mutt and mbsync send at
login, sync and fetch, plus the extensions) and the commands of ``/work/shared/traffic`` when present.

The property, for every input: reading the stream gives only parsed commands, our syntax errors
(``CommandSyntaxError``), framing errors and raw lines (nothing else may escape), and the same result
whether it is fed whole per line or byte by byte (h11's fuzzing rule). Exit status 0 when clean, 1 with
the failing input printed.
"""

from __future__ import annotations

import argparse
import os
import glob
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from imapcore.syntax.commands import Command
from imapcore.syntax.parser import CommandSyntaxError
from imapcore.syntax.stream import FramingError, StreamLine, iter_stream
from imapcore.syntax.tokens import Limits

CORPUS = Path(__file__).resolve().parent / "corpus"
TRAFFIC = Path(os.environ.get("IMAPCORE_SHARED", "/work/shared")) / "traffic"
LIMITS = Limits(max_line_bytes=512, max_literal_bytes=4096, max_command_bytes=16384, max_literals_per_command=8,
                max_discard_bytes=65536)
ALLOWED = (Command, CommandSyntaxError, FramingError, StreamLine)
FRAGMENTS = [
    b" ", b"  ", b"(", b")", b"[", b"]", b"\r\n", b"\n", b"\r", b"\x00", b"\x80", b"\xff", b'"', b'\\"', b"{", b"}",
    b"{0}\r\n", b"{1+}\r\nx", b"~{2}\r\n\x00\x01", b"{99999999999999999999}\r\n", b"*", b"$", b"%", b"1:*", b"0",
    b"4294967296", b"9223372036854775808", b"NIL", b"UID ", b"BODY[", b"<0.0>", b"\\Seen", b"+FLAGS", b"OR ", b"NOT ",
    b"(CHANGEDSINCE 1)", b"RETURN (", b"CHARSET ", b"1-Feb-2024", b'"31-Feb-2024 99:00:00 +9999"', b"DONE\r\n",
]


def load_seeds() -> list[bytes]:
    seeds = [Path(p).read_bytes() for p in sorted(glob.glob(str(CORPUS / "*.imap")))]
    for path in sorted(glob.glob(str(TRAFFIC / "*" / "*.client.imap"))):
        data = Path(path).read_bytes()
        if len(data) <= 64 * 1024:  # the megabyte APPENDs add nothing but time
            seeds.append(data)
    return seeds or [b"a1 NOOP\r\n"]


def outcome(data: bytes, chunks) -> list:
    return list(iter_stream(data, limits=LIMITS, chunk_sizes=chunks))


def check(data: bytes) -> None:
    """The property; raises AssertionError (or whatever escaped) on a failure."""
    whole = outcome(data, None)
    for item in whole:
        assert isinstance(item, ALLOWED), f"unexpected item {item!r}"
    assert outcome(data, [1]) == whole, "byte-by-byte feeding changed the result"


def mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed[: 4096])
    for _ in range(rng.randint(1, 6)):
        choice = rng.randrange(6)
        position = rng.randint(0, len(data))
        if choice == 0 and data:
            data[min(position, len(data) - 1)] = rng.randrange(256)
        elif choice == 1:
            data[position:position] = rng.choice(FRAGMENTS)
        elif choice == 2 and data:
            del data[position : position + rng.randint(1, 16)]
        elif choice == 3:
            end = min(len(data), position + rng.randint(1, 64))
            data[position:position] = data[position:end]
        elif choice == 4:
            data = data[:position]
        else:
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


def run_hypothesis(seconds: float, seeds: list[bytes]) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    inputs = st.one_of(
        st.builds(lambda i, r: mutate(random.Random(r), seeds[i % len(seeds)]), st.integers(0, 10**6), st.integers()),
        st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(b"".join),
        st.binary(max_size=300),
    )

    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(inputs)
    def batch(data):
        check(data)

    for seed in seeds:  # every seed itself first
        check(seed)
    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        batch()
        rounds += 1
    print(f"fuzz.parser: hypothesis, {rounds} rounds of 200 inputs, {len(seeds)} seeds: clean")
    return 0


def run_atheris(seconds: float, seeds: list[bytes]) -> int:
    import atheris

    # The syntax modules are already imported (this module uses them): instrument what is loaded.
    atheris.instrument_all()

    def one_input(data: bytes) -> None:
        check(data)

    # libFuzzer writes what it finds into its corpus directory: give it a copy of the seeds.
    workdir = Path(tempfile.mkdtemp(prefix="imapcore-fuzz-parser-"))
    try:
        for index, seed in enumerate(seeds):
            (workdir / f"seed-{index:03d}").write_bytes(seed[:8192])
        argv = [sys.argv[0], f"-max_total_time={int(seconds)}", "-max_len=8192", "-timeout=10", str(workdir)]
        atheris.Setup(argv, one_input)
        atheris.Fuzz()  # exits the process (status 0 when clean)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main(argv=None) -> int:
    options = argparse.ArgumentParser(description="Fuzz the IMAP command parser.")
    options.add_argument("--seconds", type=float, default=60.0)
    options.add_argument("--atheris", action="store_true", help="use atheris (libFuzzer) when importable")
    args = options.parse_args(argv)
    seeds = load_seeds()
    try:
        if args.atheris:
            try:
                import atheris  # noqa: F401
            except ImportError:
                print("atheris is not importable; using hypothesis", file=sys.stderr)
            else:
                return run_atheris(args.seconds, seeds)
        return run_hypothesis(args.seconds, seeds)
    except Exception as failure:  # noqa: BLE001 - report anything, with the input hypothesis printed
        print(f"fuzz.parser: FAILED: {failure!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
