"""Tokenizer throughput on the recorded client traffic: C (cffi) vs the pure-Python twin.

``python native/bench_tokenizer.py [--rounds N]`` tokenizes every /work/shared/traffic/*/NN.client.imap
stream (literals included; line mode after IDLE and after AUTHENTICATE without initial response, as a
server would), fed whole, in 1460-byte chunks (one TCP segment) and in 64 KiB chunks (a typical
receive size), and prints commands/s and MB/s
for each tokenizer, best of N rounds. Only tokenizing is measured: no parsing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from imapcore.syntax.pytokenizer import Tokenizer as PyTokenizer
from imapcore.syntax.tokens import COMMAND, NEED_MORE, WORD

TRAFFIC = Path("/work/shared/traffic")
TYPICAL = [
    b"A%04d UID FETCH 1:*,5 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date)])\r\n",
    b"A%04d NOOP\r\n",
    b'A%04d SELECT "INBOX"\r\n',
    b"A%04d UID STORE 5 +FLAGS.SILENT (\\Seen)\r\n",
]


def tokenize_stream(cls, chunks) -> int:
    tokenizer = cls()
    commands = 0
    for chunk in chunks:
        tokenizer.feed(chunk)
        while (event := tokenizer.next_event())[0] != NEED_MORE:
            if event[0] == COMMAND:
                commands += 1
                tokens = event[1]
                if len(tokens) > 2 and tokens[2][0] == WORD:
                    name = tokens[2][1].upper()
                    if name == b"IDLE" or (name == b"AUTHENTICATE" and len(tokens) == 5):
                        tokenizer.set_line_mode()
    return commands


def measure(cls, streams, rounds: int):
    best = float("inf")
    commands = 0
    for _ in range(rounds):
        start = time.perf_counter()
        commands = sum(tokenize_stream(cls, chunks) for chunks in streams)
        best = min(best, time.perf_counter() - start)
    return commands, best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    datas = [p.read_bytes() for p in sorted(TRAFFIC.glob("*/*.client.imap"))]
    total = sum(map(len, datas))
    implementations = [("python", PyTokenizer)]
    try:
        from imapcore.syntax.ctokenizer import Tokenizer as CTokenizer
    except ImportError:
        print("C tokenizer not built: python only")
    else:
        implementations.insert(0, ("C", CTokenizer))
    print(f"corpus: {len(datas)} streams, {total / 1e6:.2f} MB")
    results = {}
    for feeding, streams in (
        ("whole", [[d] for d in datas]),
        ("1460-byte chunks", [[d[i : i + 1460] for i in range(0, len(d), 1460)] for d in datas]),
        ("65536-byte chunks", [[d[i : i + 65536] for i in range(0, len(d), 65536)] for d in datas]),
    ):
        for name, cls in implementations:
            commands, seconds = measure(cls, streams, args.rounds)
            results[(feeding, name)] = seconds
            print(
                f"{feeding:17} {name:7} {commands} commands in {seconds * 1e3:7.2f} ms: "
                f"{commands / seconds:>10,.0f} commands/s {total / seconds / 1e6:8.1f} MB/s"
            )
        if len(implementations) == 2:
            print(f"{feeding:17} C is {results[(feeding, 'python')] / results[(feeding, 'C')]:.1f}x faster")
    # The corpus is mostly literal bytes (two messages of 1 MiB and 300 KB): also time typical
    # command lines alone, one feed per command as an interactive client sends them.
    lines = [c % i for i in range(2500) for c in TYPICAL]
    for name, cls in implementations:
        best = float("inf")
        for _ in range(args.rounds):
            tokenizer = cls()
            start = time.perf_counter()
            for line in lines:
                tokenizer.feed(line)
                while tokenizer.next_event()[0] != NEED_MORE:
                    pass
            best = min(best, time.perf_counter() - start)
        results[("typical", name)] = best
        print(f"typical commands  {name:7} {len(lines)} commands, one feed each: {len(lines) / best:>10,.0f} commands/s")
    if len(implementations) == 2:
        print(f"typical commands  C is {results[('typical', 'python')] / results[('typical', 'C')]:.1f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
