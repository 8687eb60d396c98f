"""``imapcore parse``: JSON per command or error, literals consumed from the stream."""

import io
import json
import sys
import types
from pathlib import Path

import pytest

from imapcore.cli import main
from imapcore.syntax import grammar


def run_parse(monkeypatch, capsys, data: bytes):
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(data)))
    assert main(["parse"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_commands_errors_and_literals(monkeypatch, capsys):
    data = (b"a1 LOGIN {4}\r\nfred {6}\r\nsecret\r\n"
            b"  bad\r\n"
            b"a2 XKITBOGUS\r\n"
            b"a3 IDLE\r\nDONE\r\n"
            b"a4 APPEND INBOX (\\Seen) {3}\r\nabc\r\n"
            b"a5 FETCH 1 BODY.PEEK[]\x80\r\n")
    assert run_parse(monkeypatch, capsys, data) == [
        {"tag": "a1", "command": "LOGIN", "arguments": {"username": "fred", "password": "secret"}},
        {"tag": None, "error": "missing or invalid tag"},
        {"tag": "a2", "error": "unknown command 'XKITBOGUS'"},
        {"tag": "a3", "command": "IDLE", "arguments": {}},
        {"line": "DONE"},
        {"tag": "a4", "command": "APPEND", "arguments": {"mailbox": "INBOX", "messages": [
            {"flags": ["\\Seen"], "internal_date": None, "data": {"bytes": 3, "text": "abc"}, "kind": "literal", "parts": []}]}},
        {"tag": "a5", "error": "invalid character"},
    ]


def test_too_big_literal_reports_toobig(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(b"a APPEND x {10}\r\n")))
    assert main(["parse", "--max-literal-bytes", "5"]) == 0
    assert json.loads(capsys.readouterr().out) == {"tag": "a", "error": "literal too large", "code": "TOOBIG"}


def test_grammar_comes_from_package_data_when_installed(monkeypatch, tmp_path):
    """An installed copy reads imapcore/_grammar/imap.lark, never the checkout."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "imap.lark").write_text("// the packaged copy\n", encoding="utf-8")
    monkeypatch.setattr(grammar.resources, "files", lambda name: package if name == "imapcore._grammar" else None)
    text, where = grammar.grammar_source()
    assert (text, where) == ("// the packaged copy\n", "imapcore._grammar/imap.lark")


def test_grammar_falls_back_to_the_checkout(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(grammar.resources, "files", missing)
    checkout_grammar = Path(grammar.__file__).resolve().parents[2] / "grammar" / "imap.lark"
    if checkout_grammar.exists():  # an editable install or a plain checkout: the fallback is used
        text, where = grammar.grammar_source()
        assert where.endswith("grammar/imap.lark") and "start: TAG _SP command" in text
    else:  # an installed wheel: there is no checkout to fall back on, and none is looked for elsewhere
        with pytest.raises(FileNotFoundError):
            grammar.grammar_source()
