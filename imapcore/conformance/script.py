"""Conformance scripts: the data model and the parser of the text format (documented in ``__init__``)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from enum import Enum

from .pattern import Pattern


class ScriptError(ValueError):
    """A script that does not follow the format (a bug in the suite, reported with its line)."""


class Expect(Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class Check:
    pattern: Pattern
    expect: Expect
    citation: str  # the RFC section this check comes from
    line: int
    also: tuple[Pattern, ...] = ()  # '&' lines: the same response must match these too


class StepKind(Enum):
    COMMAND = "command"  # cN> tag ...: send, wait for the tagged response (or a continuation request)
    SEND = "send"  # cN>> tag ...: send and do not wait (pipelining)
    CONTINUE = "continue"  # cN>+ data: a continuation line (DONE, SASL data) for the command in progress
    WAIT = "wait"  # cN~ pattern: read until an untagged response matches
    SEEN = "seen"  # cN= pattern: some response received on cN since the last '=' step matches
    EOF = "eof"  # cN eof: the server must close the connection
    CLOSE = "close"  # cN close: the client drops the connection
    TLS = "tls"  # cN tls: TLS handshake now (after the script's STARTTLS got its OK)
    GREETING = "greeting"  # expectations before any command on a connection match its greeting


@dataclass(slots=True)
class Step:
    kind: StepKind
    connection: str
    text: str
    line: int
    checks: list[Check] = field(default_factory=list)


@dataclass(slots=True)
class Script:
    name: str
    rfc: str  # "RFC 9051 §6.3.1"
    area: str
    requires: tuple[str, ...] = ()
    connections: dict[str, str] = field(default_factory=dict)  # name -> "user" | "user2" | "noauth"
    setup: list[tuple[str, str, int]] = field(default_factory=list)  # (user, command, line)
    steps: list[Step] = field(default_factory=list)
    dovecot: str = ""  # a documented Dovecot deviation: why this script fails there
    exclusive: bool = False  # touches shared state (INBOX): run alone
    description: str = ""
    source: str = ""  # module the script came from

    @property
    def rfc_number(self) -> str:
        found = re.match(r"(?:RFC\s*)?(\d+)", self.rfc)
        return f"RFC {found.group(1)}" if found else self.rfc

    @property
    def check_count(self) -> int:
        return sum(
            1 + len(check.also) for step in self.steps for check in step.checks if check.expect is not Expect.OPTIONAL
        )

    def needs_user2(self) -> bool:
        return "user2" in self.connections.values() or any(user == "user2" for user, _, _ in self.setup)


#: steps that take no '<' checks: a '<' after them opens a greeting-like step matching what is queued
_NO_CHECKS = (StepKind.WAIT, StepKind.SEEN, StepKind.EOF, StepKind.CLOSE, StepKind.TLS)
_STEP = re.compile(r"^(c\d+)(>>|>\+|>|<|~|=| eof\s*$| close\s*$| tls\s*$)(.*)$")
_HEADER = re.compile(r"^([a-z0-9-]+):\s?(.*)$")


def _citation(text: str, default: str) -> tuple[str, str]:
    body, sep, cite = text.partition(" ;; ")
    return (body.rstrip(), cite.strip() if sep else default)


def _normalise_rfc(value: str) -> str:
    value = value.strip()
    return value if value.upper().startswith("RFC") else f"RFC {value}"


def parse_scripts(text: str, source: str = "") -> list[Script]:
    """Every script in ``text``; each starts with a line ``=== name``."""
    scripts: list[Script] = []
    current: Script | None = None
    last_step: dict[str, Step] = {}
    for number, raw_line in enumerate(text.splitlines(), 1):
        line = raw_line.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("=== "):
            current = Script(name=line[4:].strip(), rfc="", area="", source=source)
            scripts.append(current)
            last_step = {}
            continue
        if current is None:
            raise ScriptError(f"{source}:{number}: text before the first '=== name' line")
        step_match = _STEP.match(line)
        if step_match is not None:
            connection, operator, rest = step_match.groups()
            rest = rest[1:] if rest.startswith(" ") else rest
            current.connections.setdefault(connection, "user")
            if operator == "<":
                step = last_step.get(connection)
                if step is None or step.kind in _NO_CHECKS:
                    step = Step(StepKind.GREETING, connection, "", number)
                    current.steps.append(step)
                    last_step[connection] = step
                body, cite = _citation(rest, current.rfc)
                if body.startswith("& "):
                    if not step.checks or step.checks[-1].expect is not Expect.REQUIRED:
                        raise ScriptError(f"{source}:{number}: '&' must follow a required check")
                    previous = step.checks[-1]
                    step.checks[-1] = dataclasses.replace(previous, also=previous.also + (Pattern(body[2:]),))
                    continue
                expect = Expect.REQUIRED
                if body.startswith("? "):
                    expect, body = Expect.OPTIONAL, body[2:]
                elif body.startswith("! "):
                    expect, body = Expect.FORBIDDEN, body[2:]
                step.checks.append(Check(Pattern(body), expect, cite, number))
                continue
            if operator in ("~", "="):
                body, cite = _citation(rest, current.rfc)
                kind = StepKind.WAIT if operator == "~" else StepKind.SEEN
                step = Step(kind, connection, "", number, [Check(Pattern(body), Expect.REQUIRED, cite, number)])
            elif operator.strip() == "eof":
                step = Step(StepKind.EOF, connection, "", number)
            elif operator.strip() == "close":
                step = Step(StepKind.CLOSE, connection, "", number)
            elif operator.strip() == "tls":
                step = Step(StepKind.TLS, connection, "", number)
            else:
                kind = {">": StepKind.COMMAND, ">>": StepKind.SEND, ">+": StepKind.CONTINUE}[operator]
                if kind is not StepKind.CONTINUE and len(rest.split(" ", 1)) < 1:
                    raise ScriptError(f"{source}:{number}: a command needs a tag")
                step = Step(kind, connection, rest, number)
            current.steps.append(step)
            last_step[connection] = step
            continue
        header = _HEADER.match(line)
        if header is None:
            raise ScriptError(f"{source}:{number}: cannot read {line!r}")
        key, value = header.groups()
        if key == "rfc":
            current.rfc = _normalise_rfc(value)
        elif key == "area":
            current.area = value.strip()
        elif key == "requires":
            current.requires += tuple(value.split())
        elif key == "conn":
            name, _, mode = value.partition(" ")
            if mode.strip() not in ("user", "user2", "noauth"):
                raise ScriptError(f"{source}:{number}: connection mode must be user, user2 or noauth")
            current.connections[name.strip()] = mode.strip()
        elif key == "setup":
            current.setup.append(("user", value, number))
        elif key == "setup2":
            current.setup.append(("user2", value, number))
        elif key == "dovecot":
            current.dovecot = (current.dovecot + " " + value).strip()
        elif key == "exclusive":
            current.exclusive = value.strip().lower() in ("yes", "true", "1")
        elif key == "doc":
            current.description = (current.description + " " + value).strip()
        else:
            raise ScriptError(f"{source}:{number}: unknown header {key!r}")
    for script in scripts:
        if not script.rfc or not script.area:
            raise ScriptError(f"{source}: script {script.name!r} needs 'rfc:' and 'area:'")
        if not script.steps:
            raise ScriptError(f"{source}: script {script.name!r} has no steps")
    return scripts
