"""The grammar itself: where it is loaded from, that it is complete for the builder, and unambiguous for
the bridge lexer."""

import re
from pathlib import Path

from imapcore.syntax import build, grammar, parser

REPO_GRAMMAR = Path(__file__).resolve().parents[2] / "grammar" / "imap.lark"


def test_grammar_text_is_the_shipped_file():
    text, where = grammar.grammar_source()
    assert where.endswith("imap.lark")
    if REPO_GRAMMAR.exists() and "imapcore._grammar" not in where:
        assert text == REPO_GRAMMAR.read_text(encoding="utf-8")


def test_every_rule_cites_its_abnf_source():
    text = REPO_GRAMMAR.read_text(encoding="utf-8") if REPO_GRAMMAR.exists() else grammar.grammar_text()
    rule_lines = [line for line in text.splitlines() if re.match(r"[?!]?[a-z_]+:", line)]
    assert len(rule_lines) > 80
    uncited = [line for line in rule_lines if "//" not in line]
    assert uncited == []


def test_every_rule_has_a_builder_callback():
    lark = parser.get_parser()
    missing = set()
    for rule in lark.rules:
        name = rule.alias or rule.origin.name
        if name.startswith("__") or rule.options.expand1:
            continue
        if not hasattr(build.Builder, name):
            missing.add(name)
    assert missing == set()


def test_no_state_accepts_a_keyword_that_an_acceptable_pattern_also_matches_differently():
    """Keywords win over patterns in the bridge; that is only safe where no word terminal also fits."""
    lark = parser.get_parser()
    fast = parser._fast()
    lexer = fast.lexer
    problems = []
    for state in fast.parse_table.states:
        table = lexer.table_for(state, fast.parse_table)
        for keyword, name in table.keywords.items():
            for other, fullmatch in table.patterns:
                if fullmatch(keyword):
                    problems.append((state, keyword, name, other))
    assert problems == []
    assert lark.options.parser == "lalr"


def test_only_the_first_state_accepts_a_tag():
    fast = parser._fast()
    states = [s for s, actions in fast.parse_table.states.items() if "TAG" in actions]
    assert states == [fast.start_state]
