r"""Expected-response patterns: how a script says what a response must look like.

A pattern is compared with the whole canonical text of one response (see ``reader``), ignoring case
(RFC 9051 §9: atoms, flags and keywords are case-insensitive; strings compared case-insensitively is a
small price for one simple rule). Everything is literal except these brace forms:

``{...}``        any text (possibly empty; shortest match)
``{#}``          a number (one or more digits)
``{=name}``      capture one token (no space, parenthesis, bracket or quote) into variable ``name``
``{$name}``      the value of a variable bound earlier (``{$name+1}``, ``{$name-2}`` for arithmetic)
``{A|B|C}``      one of the alternatives, each literal (``{OK|NO}``)
``{astr:NAME}``  NAME as an atom or a quoted string (servers choose; mailbox names, RFC 9051 §4.3)
``{set:A B}``    a space-separated list holding exactly these items, in any order (no parentheses)
``{flags:A B}``  the same for flag lists, where ``\Recent`` may also appear (RFC 3501 §2.3.2: a
                 session may see messages as recent; IMAP4rev2 dropped the flag, RFC 9051 appendix E)

Braces of any other shape are literal text (canonical responses never contain a literal's ``{n}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BRACE = re.compile(r"\{(\.\.\.|#|(?:set|flags|astr):[^{}]*|=[A-Za-z_][A-Za-z0-9_]*|\$[A-Za-z_][A-Za-z0-9_]*(?:[+-]\d+)?|[^{}]*\|[^{}]*)\}")
_VARIABLE = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)(?:([+-])(\d+))?\}")


class UnboundVariable(KeyError):
    pass


def variable_value(name: str, sign: str | None, amount: str | None, variables: dict[str, str]) -> str:
    if name not in variables:
        raise UnboundVariable(name)
    value = variables[name]
    if sign:
        number = int(value) + (int(amount) if sign == "+" else -int(amount))
        return str(number)
    return value


def substitute(text: str, variables: dict[str, str]) -> str:
    """Replace every ``{$name}`` / ``{$name+N}`` in ``text`` (command lines use this)."""
    return _VARIABLE.sub(lambda m: variable_value(m.group(1), m.group(2), m.group(3), variables), text)


@dataclass(frozen=True, slots=True)
class Pattern:
    source: str

    def compile(self, variables: dict[str, str]) -> tuple[re.Pattern[str], tuple[tuple[str, str, frozenset[str]], ...]]:
        source = substitute(self.source, variables)  # variables first: they may sit inside {astr:...}
        pieces: list[str] = []
        position = 0
        seen: set[str] = set()
        sets: list[tuple[str, str, frozenset[str]]] = []
        for match in _BRACE.finditer(source):
            pieces.append(re.escape(source[position : match.start()]))
            body = match.group(1)
            if body == "...":
                pieces.append(".*?")
            elif body == "#":
                pieces.append(r"\d+")
            elif body.startswith("="):
                name = body[1:]
                if name in seen:  # a second capture of the same name must equal the first
                    pieces.append(f"(?P={name})")
                else:
                    seen.add(name)
                    pieces.append(f'(?P<{name}>[^\\s()\\[\\]"]+)')
            elif body.startswith("astr:"):
                name = body[5:]
                quoted = name.replace("\\", "\\\\").replace('"', '\\"')
                pieces.append(f"(?:{re.escape(name)}|{re.escape(chr(34) + quoted + chr(34))})")
            elif body.startswith(("set:", "flags:")):
                kind, _, items = body.partition(":")
                group = f"_set{len(sets)}"
                sets.append((group, kind, frozenset(item.upper() for item in items.split())))
                pieces.append(f"(?P<{group}>[^()]*?)")
            elif body.startswith("$"):
                inner = _VARIABLE.fullmatch(match.group(0))
                assert inner is not None
                pieces.append(re.escape(variable_value(inner.group(1), inner.group(2), inner.group(3), variables)))
            else:
                pieces.append("(?:" + "|".join(re.escape(part) for part in body.split("|")) + ")")
            position = match.end()
        pieces.append(re.escape(source[position:]))
        return re.compile("".join(pieces), re.IGNORECASE | re.DOTALL), tuple(sets)

    def match(self, text: str, variables: dict[str, str]) -> dict[str, str] | None:
        """The captured variables when ``text`` matches the whole pattern, else None."""
        regex, sets = self.compile(variables)
        found = regex.fullmatch(text)
        if found is None:
            return None
        for group, kind, wanted in sets:
            items = found.group(group).upper().split()
            if kind == "flags":
                items = [item for item in items if item != "\\RECENT"]
            if len(items) != len(set(items)) or set(items) != wanted:
                return None
        return {
            name: value for name, value in found.groupdict().items()
            if value is not None and not name.startswith("_set")
        }

    def captures(self) -> tuple[str, ...]:
        return tuple(m.group(1)[1:] for m in _BRACE.finditer(self.source) if m.group(1).startswith("="))
