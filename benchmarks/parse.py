"""Command parsing speed on real client traffic: C tokenizer, Python tokenizer, plain Lark, in one run.

``python -m benchmarks.parse [--repeat 7]``

The workload is every client->server stream of ``/work/shared/traffic/*/NN.client.imap`` (all commands,
literals included: APPENDs of up to 1 MiB, LOGIN literals, IDLE's DONE...). Three ways are timed, best
of ``--repeat`` runs each, on one core:

* imapcore with the C tokenizer: bytes -> tokenizer (framing, literals, lexing) -> ``parse_command``
  (the grammar of ``grammar/imap.lark`` through the bridge lexer and replayed LALR plans) -> typed
  ``Command`` objects.
* the same with the pure-Python tokenizer.
* plain Lark as the baseline: the SAME grammar file, ``parser="lalr"``, Lark's own contextual lexer, no
  C, building Lark's parse tree. Lark cannot count literal bytes, so it is fed each command already
  framed as one string, its literal data inlined between the NUL (literal) or SOH (literal8) bytes that
  the grammar's LITERAL / LITERAL8 patterns match, quoted strings re-quoted. The framing work is thus
  NOT counted for the baseline (generous to it). For Lark's longest-match lexer to see words as IMAP
  does, every word terminal gets a "not followed by a word byte" look-ahead and keywords become
  case-insensitive regexes with a higher priority (the bridge's keyword-first rule); nothing else of the
  grammar changes.

Printed: commands, commands/s for each, and the ratios to plain Lark.
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
import time
from pathlib import Path

from lark import Lark
from lark.lexer import PatternRE, PatternStr

from imapcore.syntax import pytokenizer
from imapcore.syntax.grammar import grammar_text
from imapcore.syntax.parser import CommandSyntaxError, parse_command
from imapcore.syntax.tokens import COMMAND, LBRACKET, LITERAL, LITERAL8, LPAREN, NEED_MORE, QUOTED, RBRACKET, RPAREN, SP, WORD

TRAFFIC = Path("/work/shared/traffic")
_WORD_END = r"(?![!#$%&'*+,\-./0-9:;<=>?@A-Z\\^_`a-z|}~])"


def load_streams() -> list[bytes]:
    return [Path(p).read_bytes() for p in sorted(glob.glob(str(TRAFFIC / "*" / "*.client.imap")))]


def run_imapcore(streams, tokenizer_class) -> int:
    """Tokenize and parse every stream; returns the number of commands (parsed or BAD)."""
    count = 0
    for data in streams:
        tokenizer = tokenizer_class()
        tokenizer.feed(data)
        while True:
            event = tokenizer.next_event()
            kind = event[0]
            if kind == NEED_MORE:
                break
            if kind == COMMAND:
                count += 1
                try:
                    command = parse_command(event[1])
                except CommandSyntaxError:
                    continue
                if command.name == "IDLE":
                    tokenizer.set_line_mode()
    return count


def count_rejected(streams) -> int:
    """How many commands imapcore answers BAD (the SASL lines are fed as commands here, as to Lark)."""
    rejected = 0
    for data in streams:
        tokenizer = pytokenizer.Tokenizer()
        tokenizer.feed(data)
        while (event := tokenizer.next_event())[0] != NEED_MORE:
            if event[0] == COMMAND:
                try:
                    command = parse_command(event[1])
                except CommandSyntaxError:
                    rejected += 1
                    continue
                if command.name == "IDLE":
                    tokenizer.set_line_mode()
    return rejected


def framed_commands(streams) -> list[str]:
    """Each command as one string for plain Lark (literal data inlined; see the module docstring)."""
    texts = []
    for data in streams:
        tokenizer = pytokenizer.Tokenizer()
        tokenizer.feed(data)
        while (event := tokenizer.next_event())[0] != NEED_MORE:
            if event[0] != COMMAND:
                continue
            pieces = []
            for kind, value in event[1]:
                if kind == WORD:
                    pieces.append(value.decode("latin-1"))
                elif kind == QUOTED:
                    pieces.append('"' + value.decode("latin-1").replace("\\", "\\\\").replace('"', '\\"') + '"')
                elif kind == LITERAL:
                    pieces.append("\x00" + value.decode("latin-1") + "\x00")
                elif kind == LITERAL8:
                    pieces.append("\x01" + value.decode("latin-1") + "\x01")
                else:
                    pieces.append({SP: " ", LPAREN: "(", RPAREN: ")", LBRACKET: "[", RBRACKET: "]"}[kind])
            texts.append("".join(pieces))
            if event[1][-1] == (WORD, b"IDLE"):
                tokenizer.set_line_mode()
    return texts


def _word_terminals(term) -> None:
    """edit_terminals hook: make Lark's longest-match lexer treat IMAP words as whole words."""
    if term.name in ("QUOTED", "LITERAL", "LITERAL8", "LBRACKET", "RBRACKET"):
        return
    pattern = term.pattern
    if isinstance(pattern, PatternStr):
        if pattern.value in (" ", "(", ")", "[", "]"):
            return
        term.pattern = PatternRE("(?i:" + re.escape(pattern.value) + ")" + _WORD_END)
        term.priority = 20
    else:
        term.pattern = PatternRE("(?:" + pattern.value + ")" + _WORD_END, pattern.flags)


def plain_lark() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="contextual", edit_terminals=_word_terminals)


def run_plain_lark(parser: Lark, texts) -> tuple[int, int]:
    failures = 0
    for text in texts:
        try:
            parser.parse(text)
        except Exception:  # noqa: BLE001 - a baseline failure is counted, not fatal
            failures += 1
    return len(texts), failures


def best_rate(function, repeat: int) -> float:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = function()
        best = min(best, time.perf_counter() - start)
    return count / best


def main(argv=None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--repeat", type=int, default=7)
    args = options.parse_args(argv)
    streams = load_streams()
    if not streams:
        print("no traffic corpus in", TRAFFIC, file=sys.stderr)
        return 1
    texts = framed_commands(streams)
    baseline = plain_lark()
    commands, failures = run_plain_lark(baseline, texts)
    results = {}
    try:
        from imapcore.syntax.ctokenizer import Tokenizer as CTokenizer
    except ImportError:
        CTokenizer = None
    if CTokenizer is not None:
        run_imapcore(streams, CTokenizer)  # warm the plan and word caches, as a running server has them
        results["imapcore, C tokenizer"] = best_rate(lambda: run_imapcore(streams, CTokenizer), args.repeat)
    run_imapcore(streams, pytokenizer.Tokenizer)
    results["imapcore, Python tokenizer"] = best_rate(lambda: run_imapcore(streams, pytokenizer.Tokenizer), args.repeat)
    run_plain_lark(baseline, texts)
    lark_rate = best_rate(lambda: run_plain_lark(baseline, texts)[0], args.repeat)
    print(f"corpus: {len(streams)} streams, {commands} commands, {sum(map(len, streams)) / 1e6:.1f} MB")
    print(f"rejected as syntax errors: {failures} by plain Lark, {count_rejected(streams)} by imapcore "
          "(the deliberate XKITBOGUS and the SASL response lines, fed as commands to both)")
    for name, rate in results.items():
        print(f"{name:32s} {rate:10,.0f} commands/s   {rate / lark_rate:5.2f}x plain Lark")
    print(f"{'plain Lark (contextual lexer)':32s} {lark_rate:10,.0f} commands/s   1.00x")
    if CTokenizer is None:
        print("(C tokenizer not built: no C figure)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
