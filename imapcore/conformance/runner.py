"""Runs conformance scripts against a server over TCP (Trio), each in its own mailbox tree.

One task per script, at most ``jobs`` at a time; scripts marked ``exclusive`` run alone at the end.
Every script gets a unique root mailbox (``{$box}``) created before its setup lines and deleted, with
everything under it, after it ran, whatever the outcome. Every read has a deadline and every script has
one too, so a server that disconnects, sends garbage, never ends a response or never answers fails that
script with a clear message and the run goes on.
"""

from __future__ import annotations

import base64
import re
import secrets
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import trio

from . import fixtures
from .pattern import UnboundVariable, substitute
from .reader import Kind, Response, ResponseReader, ResponseTooLarge
from .script import Check, Expect, Script, Step, StepKind


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    user: str
    password: str
    user2: str = ""
    password2: str = ""
    tls: bool = False
    starttls: bool = False
    ssl_context: ssl.SSLContext | None = None


@dataclass(frozen=True, slots=True)
class Timeouts:
    response: float = 10.0  # one command's responses, one wait
    script: float = 30.0  # a whole script, setup and steps
    connect: float = 10.0


class Status(Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(slots=True)
class ScriptResult:
    script: Script
    status: Status
    message: str = ""
    checks: int = 0  # checks that were evaluated and held
    seconds: float = 0.0
    transcript: list[str] = field(default_factory=list)


class ScriptFailure(Exception):
    pass


class ServerClosed(ScriptFailure):
    pass


def insecure_context() -> ssl.SSLContext:
    """TLS without certificate checks: a conformance run tests IMAP, not the test server's PKI."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_TAG = re.compile(r"[^\x00-\x20\x7f(){%*\"\\+]+")


def _transcript_line(prefix: str, data: bytes, limit: int = 300) -> str:
    text = data.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
    if len(text) > limit:
        text = text[:limit] + f"... ({len(data)} bytes)"
    return prefix + text


class Connection:
    """One client connection: a stream, a response reader, unassigned responses and a transcript."""

    def __init__(self, name: str, stream: trio.abc.Stream, transcript: list[str], timeouts: Timeouts) -> None:
        self.name = name
        self.stream = stream
        self.reader = ResponseReader()
        self.buffered: list[Response] = []
        self.transcript = transcript
        self.timeouts = timeouts
        self.closed = False
        self.pending_tag = ""
        self.history: list[Response] = []  # every response, for '=' steps
        self.seen_mark = 0
        self.deflate = None  # zlib objects once COMPRESS DEFLATE is active (RFC 4978)
        self.inflate = None

    def start_compression(self) -> None:
        """RFC 4978 §3: after the tagged OK both directions are raw DEFLATE streams."""
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflate = zlib.decompressobj(-15)
        leftover = self.reader.take_pending()
        if leftover:
            self.reader.feed(self.inflate.decompress(leftover))

    @classmethod
    async def open(cls, name: str, target: Target, transcript: list[str], timeouts: Timeouts) -> Connection:
        with trio.fail_after(timeouts.connect):
            stream: trio.abc.Stream = await trio.open_tcp_stream(target.host, target.port)
            if target.tls:
                stream = trio.SSLStream(stream, target.ssl_context or insecure_context(), server_hostname=target.host)
                await stream.do_handshake()
        connection = cls(name, stream, transcript, timeouts)
        greeting = await connection.receive()
        connection.buffered.append(greeting)
        if target.starttls:
            responses = await connection.command("starttls0 STARTTLS")
            if responses[-1].status != "OK":
                raise ScriptFailure(f"{name}: STARTTLS refused: {responses[-1].text}")
            await connection.start_tls(target)
        return connection

    async def start_tls(self, target: Target) -> None:
        """Wrap the stream in TLS (after a STARTTLS OK): nothing may have followed the OK in clear."""
        if self.reader.pending:
            raise ScriptFailure(f"{self.name}: data after the STARTTLS reply (RFC 9051 §6.2.1 forbids it)")
        self.stream = trio.SSLStream(self.stream, target.ssl_context or insecure_context(), server_hostname=target.host)
        try:
            with trio.fail_after(self.timeouts.connect):
                await self.stream.do_handshake()
        except (trio.BrokenResourceError, ssl.SSLError, OSError) as exc:
            raise ScriptFailure(f"{self.name}: TLS handshake failed: {exc!r}") from None

    async def send(self, data: bytes) -> None:
        for line in data.split(b"\r\n")[:-1] if data.endswith(b"\r\n") else [data]:
            self.transcript.append(_transcript_line(f"{self.name} C: ", line))
        if self.deflate is not None:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        try:
            with trio.fail_after(self.timeouts.response):
                await self.stream.send_all(data)
        except trio.TooSlowError:
            raise ScriptFailure(f"{self.name}: the server stopped reading (send timed out)") from None
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise ServerClosed(f"{self.name}: connection lost while sending: {exc!r}") from None

    async def receive(self, timeout: float | None = None) -> Response:
        """The next response; ServerClosed at EOF, ScriptFailure on timeout or a response too large."""
        limit = self.timeouts.response if timeout is None else timeout
        deadline = trio.current_time() + limit
        while True:
            try:
                response = self.reader.next_response()
            except ResponseTooLarge as exc:
                raise ScriptFailure(f"{self.name}: {exc}") from None
            if response is not None:
                self.transcript.append(_transcript_line(f"{self.name} S: ", response.raw))
                self.history.append(response)
                return response
            if self.closed:
                raise ServerClosed(f"{self.name}: the server closed the connection")
            try:
                with trio.fail_at(deadline):
                    data = await self.stream.receive_some(65536)
            except trio.TooSlowError:
                raise ScriptFailure(f"{self.name}: no response within {limit:g} s") from None
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ssl.SSLError) as exc:
                self.closed = True
                self.transcript.append(f"{self.name} S: <connection error {exc!r}>")
                continue
            if not data:
                self.closed = True
                self.transcript.append(f"{self.name} S: <connection closed>")
                continue
            if self.inflate is not None:
                try:
                    data = self.inflate.decompress(data)
                except zlib.error as exc:
                    raise ScriptFailure(f"{self.name}: bad DEFLATE data from the server: {exc}") from None
            self.reader.feed(data)

    async def read_until(
        self, tag: str, stop_on_continuation: bool = True, stop_on_bad: bool = False
    ) -> list[Response]:
        """Responses up to and including the tagged one for ``tag`` (or a continuation request)."""
        collected: list[Response] = []
        said_bye = False
        while True:
            try:
                response = await self.receive()
            except ServerClosed as exc:
                if said_bye:  # BYE then close: the command's answer is the BYE (RFC 9051 §7.1.5)
                    return collected
                got = [r.text[:120] for r in collected]
                raise ServerClosed(f"{exc} before the reply to {tag!r}; got {got}") from None
            except ScriptFailure:
                if said_bye:  # a BYE and then silence: a server that stays open after BYE is not our problem here
                    return collected
                raise
            collected.append(response)
            if response.kind is Kind.TAGGED and response.tag == tag:
                return collected
            if stop_on_continuation and response.kind is Kind.CONTINUATION:
                return collected
            if response.kind is Kind.UNTAGGED and response.status == "BYE":
                said_bye = True
            if stop_on_bad and response.kind is Kind.UNTAGGED and response.status == "BAD":
                return collected

    async def command(self, line: str) -> list[Response]:
        """Send a whole command (synchronizing literals waited for) and collect its responses."""
        tag = line.split(" ", 1)[0]
        collected: list[Response] = []
        chunks = fixtures.command_chunks(line)
        for chunk in chunks:
            await self.send(chunk.data)
            if chunk.wait:
                got = await self.read_until(tag)
                collected += got
                if got[-1].kind is not Kind.CONTINUATION:
                    return collected  # refused before the literal was sent
        collected += await self.read_until(tag, stop_on_bad=_TAG.fullmatch(tag) is None)
        words = line.split()
        final = collected[-1]
        if (len(words) >= 2 and words[1].upper() == "COMPRESS" and final.kind is Kind.TAGGED
                and final.tag == tag and final.status == "OK" and self.deflate is None):
            self.start_compression()
        return collected

    async def aclose(self) -> None:
        with trio.move_on_after(2, shield=True) as scope:
            scope.shield = True
            try:
                await self.stream.aclose()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ssl.SSLError):
                pass
        self.closed = True


def _render(responses: list[Response], limit: int = 12) -> str:
    shown = [f"    {r.text[:400]}" for r in responses[:limit]]
    if len(responses) > limit:
        shown.append(f"    ... and {len(responses) - limit} more")
    return "\n".join(shown) if shown else "    (nothing)"


def _match_all(check: Check, text: str, bound: dict[str, str]) -> dict[str, str] | None:
    captured = check.pattern.match(text, bound)
    if captured is None:
        return None
    for extra in check.also:
        more = extra.match(text, {**bound, **captured})
        if more is None:
            return None
        captured = {**captured, **more}
    return captured


def match_checks(checks: list[Check], responses: list[Response], variables: dict[str, str]) -> int:
    """Match a step's checks against its responses (unordered); bind variables; raise on failure.

    Required checks take distinct responses, in the order written; a backtracking search (bounded)
    finds an assignment when a greedy one would not. Returns the number of checks that held.
    """
    required = [c for c in checks if c.expect is Expect.REQUIRED]
    budget = [20000]

    def assign(index: int, used: frozenset[int], bound: dict[str, str]) -> dict[str, str] | None:
        if index == len(required):
            return bound
        check = required[index]
        for position, response in enumerate(responses):
            if position in used:
                continue
            budget[0] -= 1
            if budget[0] < 0:
                return None
            captured = _match_all(check, response.text, bound)
            if captured is None:
                continue
            found = assign(index + 1, used | {position}, {**bound, **captured})
            if found is not None:
                return found
        return None

    try:
        result = assign(0, frozenset(), dict(variables))
    except UnboundVariable as exc:
        raise ScriptFailure(f"line {required[0].line if required else '?'}: variable {exc} is not bound") from None
    if result is None:
        # name the first check that cannot be satisfied on its own, for a readable message
        bound = dict(variables)
        for check in required:
            matched = [r for r in responses if _match_all(check, r.text, bound) is not None]
            if not matched:
                break
            bound.update(_match_all(check, matched[0].text, bound) or {})
        else:
            check = required[-1] if required else None
        where = f"line {check.line} ({check.citation})" if check else "?"
        pattern = " & ".join([check.pattern.source, *(p.source for p in check.also)]) if check else "?"
        raise ScriptFailure(f"{where}: expected  {pattern}\n  got:\n{_render(responses)}")
    variables.update(result)
    held = sum(1 + len(check.also) for check in required)
    for check in checks:
        if check.expect is Expect.OPTIONAL:
            for response in responses:
                captured = check.pattern.match(response.text, variables)
                if captured is not None:
                    variables.update(captured)
                    break
        elif check.expect is Expect.FORBIDDEN:
            for response in responses:
                if check.pattern.match(response.text, variables) is not None:
                    raise ScriptFailure(
                        f"line {check.line} ({check.citation}): forbidden response  {check.pattern.source}\n"
                        f"  got:  {response.text[:400]}"
                    )
            held += 1
    return held


class ScriptRun:
    """The execution of one script: its connections, variables and transcript."""

    def __init__(self, script: Script, target: Target, timeouts: Timeouts, box: str) -> None:
        self.script = script
        self.target = target
        self.timeouts = timeouts
        self.connections: dict[str, Connection] = {}
        self.transcript: list[str] = []
        self.checks = 0
        self.variables: dict[str, str] = {
            "box": box,
            "user": target.user,
            "password": target.password,
            "user2": target.user2,
            "password2": target.password2,
            # SASL PLAIN (RFC 4616) and LOGIN initial responses, base64 (RFC 9051 §6.2.2)
            "plain": _b64(f"\0{target.user}\0{target.password}"),
            "plain2": _b64(f"\0{target.user2}\0{target.password2}"),
            "user_b64": _b64(target.user),
            "password_b64": _b64(target.password),
            "badplain": _b64(f"\0{target.user}\0{target.password}-wrong"),
        }

    def credentials(self, mode: str) -> tuple[str, str]:
        if mode == "user2":
            return self.target.user2, self.target.password2
        return self.target.user, self.target.password

    async def login(self, name: str, mode: str) -> Connection:
        connection = await Connection.open(name, self.target, self.transcript, self.timeouts)
        if mode == "noauth":
            return connection
        connection.buffered.clear()  # the greeting is not part of any step
        user, password = self.credentials(mode)
        responses = await connection.command(f"{name}login LOGIN {_astring(user)} {_astring(password)}")
        if responses[-1].status != "OK":
            raise ScriptFailure(f"{name}: LOGIN as {user!r} failed: {responses[-1].text}")
        return connection

    async def connection(self, name: str) -> Connection:
        if name not in self.connections:
            self.connections[name] = await self.login(name, self.script.connections.get(name, "user"))
        return self.connections[name]

    async def setup(self) -> None:
        for mode in ("user", "user2"):
            lines = [(command, line) for user, command, line in self.script.setup if user == mode]
            if mode == "user2" and not lines:
                continue
            connection = await self.login(f"setup-{mode}", mode)
            try:
                for command, line in [("CREATE {$box}", 0)] + lines:
                    text = substitute(f"s{line} {command}", self.variables)
                    responses = await connection.command(text)
                    if responses[-1].status != "OK":
                        raise ScriptFailure(f"setup line {line}: {command!r} answered {responses[-1].text[:300]}")
            finally:
                await connection.aclose()

    async def teardown(self) -> None:
        modes = ["user"] + (["user2"] if self.script.needs_user2() and self.target.user2 else [])
        for mode in modes:
            connection = await self.login(f"teardown-{mode}", mode)
            try:
                box = self.variables["box"]
                names: set[str] = set()
                for verb in ("LSUB", "LIST"):
                    responses = await connection.command(f'td {verb} "" {box}*')
                    found = {_mailbox_name(r.text) for r in responses if r.text.upper().startswith(f"* {verb} ")}
                    found.discard(None)
                    if verb == "LSUB":
                        for name in found:
                            await connection.command(f"tu UNSUBSCRIBE {_astring(name)}")
                    names |= found if verb == "LIST" else set()
                for name in sorted(names, key=lambda n: (-len(n), n)):
                    await connection.command(f"tx DELETE {_astring(name)}")
            finally:
                await connection.aclose()

    async def run_step(self, step: Step) -> None:
        script = self.script
        if step.kind is StepKind.CLOSE:
            connection = await self.connection(step.connection)
            await connection.aclose()
            return
        if step.kind is StepKind.TLS:
            connection = await self.connection(step.connection)
            await connection.start_tls(self.target)
            return
        connection = await self.connection(step.connection)
        if step.kind is StepKind.GREETING:
            responses, connection.buffered = connection.buffered, []
        elif step.kind is StepKind.EOF:
            try:
                while True:
                    connection.buffered.append(await connection.receive())
            except ServerClosed:
                return
            except ScriptFailure:
                raise ScriptFailure(f"line {step.line}: the server did not close {step.connection}") from None
        elif step.kind is StepKind.SEEN:
            check = step.checks[0]
            for position in range(connection.seen_mark, len(connection.history)):
                captured = check.pattern.match(connection.history[position].text, self.variables)
                if captured is not None:
                    connection.seen_mark = position + 1
                    self.variables.update(captured)
                    self.checks += 1
                    return
            raise ScriptFailure(
                f"line {step.line} ({check.citation}): no response so far on {step.connection} matches  "
                f"{check.pattern.source}\n  got:\n{_render(connection.history[connection.seen_mark:], 20)}"
            )
        elif step.kind is StepKind.WAIT:
            check = step.checks[0]
            for position, response in enumerate(connection.buffered):
                captured = check.pattern.match(response.text, self.variables)
                if captured is not None:
                    del connection.buffered[: position + 1]
                    self.variables.update(captured)
                    self.checks += 1
                    return
            while True:
                try:
                    response = await connection.receive()
                except ScriptFailure as exc:
                    raise ScriptFailure(
                        f"line {step.line} ({check.citation}): waited for  {check.pattern.source}\n  {exc}\n"
                        f"  got:\n{_render(connection.buffered)}"
                    ) from None
                captured = check.pattern.match(response.text, self.variables)
                if captured is not None:
                    connection.buffered.clear()
                    self.variables.update(captured)
                    self.checks += 1
                    return
                connection.buffered.append(response)
        else:
            try:
                text = substitute(step.text, self.variables)
            except UnboundVariable as exc:
                raise ScriptFailure(f"line {step.line}: variable {exc} is not bound") from None
            responses, connection.buffered = connection.buffered, []
            if step.kind is StepKind.SEND:
                tag = text.split(" ", 1)[0]
                for chunk in fixtures.command_chunks(text):
                    await connection.send(chunk.data)
                    if chunk.wait:
                        got = await connection.read_until(tag)
                        connection.buffered += got
                connection.pending_tag = tag
            elif step.kind is StepKind.CONTINUE:
                await connection.send(fixtures.command_chunks(text)[0].data)
                responses += await connection.read_until(connection.pending_tag)
            else:
                tag = text.split(" ", 1)[0]
                connection.pending_tag = tag
                try:
                    responses += await connection.command(text)
                except ScriptFailure as exc:
                    raise ScriptFailure(f"line {step.line}: {text[:200]!r}: {exc}") from None
            if step.kind is StepKind.SEND and step.checks:
                raise ScriptFailure(f"line {step.line}: a '>>' step cannot carry checks")
        if step.checks:
            try:
                self.checks += match_checks(step.checks, responses, self.variables)
            except ScriptFailure as exc:
                raise ScriptFailure(f"after {step.connection} {step.text[:160]!r}: {exc}") from None

    async def run(self) -> None:
        await self.setup()
        for step in self.script.steps:
            await self.run_step(step)

    async def close_all(self) -> None:
        for connection in self.connections.values():
            if not connection.closed:
                await connection.aclose()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _astring(value: str) -> str:
    if value and re.fullmatch(r"[A-Za-z0-9_.@/&+,=-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mailbox_name(text: str) -> str | None:
    """The mailbox of a canonical ``* LIST (...) "/" name`` response."""
    found = re.match(r'\* (?:LIST|LSUB) \([^)]*\) (?:NIL|"(?:[^"\\]|\\.)*") (.*)$', text, re.IGNORECASE)
    if found is None:
        return None
    name = found.group(1).strip()
    if name.startswith('"'):
        end = re.match(r'"((?:[^"\\]|\\.)*)"', name)
        if end is None:
            return None
        return fixtures.unescape(end.group(1)).decode("utf-8", errors="replace")
    return name.split(" ", 1)[0]


@dataclass(frozen=True, slots=True)
class ServerInfo:
    greeting: str
    capabilities: frozenset[str]  # upper-case, pre- and post-login together


async def probe(target: Target, timeouts: Timeouts) -> ServerInfo:
    """Connect, read the capabilities before and after login (RFC 9051 §6.1.1)."""
    transcript: list[str] = []
    connection = await Connection.open("probe", target, transcript, timeouts)
    try:
        greeting = connection.buffered[0].text
        capabilities: set[str] = set()
        for line in ("p1 CAPABILITY", f"p2 LOGIN {_astring(target.user)} {_astring(target.password)}", "p3 CAPABILITY"):
            responses = await connection.command(line)
            if responses[-1].status != "OK":
                raise ScriptFailure(f"probe: {line.split()[1]} failed: {responses[-1].text}\n" + "\n".join(transcript))
            for response in responses:
                if response.text.upper().startswith("* CAPABILITY "):
                    capabilities |= set(response.text.upper().split()[2:])
        return ServerInfo(greeting, frozenset(capabilities))
    finally:
        await connection.aclose()


def skip_reason(script: Script, info: ServerInfo, target: Target) -> str:
    missing = [name for name in script.requires if name.upper() not in info.capabilities]
    if missing:
        return "server lacks " + " ".join(missing)
    if script.needs_user2() and not target.user2:
        return "needs --user2"
    return ""


async def run_script(script: Script, target: Target, timeouts: Timeouts, box: str) -> ScriptResult:
    run = ScriptRun(script, target, timeouts, box)
    started = time.monotonic()
    status, message = Status.PASSED, ""
    try:
        with trio.move_on_after(timeouts.script) as scope:
            try:
                await run.run()
            except ScriptFailure as exc:
                status, message = Status.FAILED, str(exc)
            except (OSError, trio.TooSlowError, ssl.SSLError, trio.BrokenResourceError) as exc:
                status, message = Status.FAILED, f"connection failure: {exc!r}"
        if scope.cancelled_caught:
            status, message = Status.FAILED, f"script timed out after {timeouts.script:.0f} s"
    finally:
        with trio.move_on_after(timeouts.response, shield=True):
            await run.close_all()
    with trio.move_on_after(timeouts.response * 2) as scope:
        try:
            await run.teardown()
        except (ScriptFailure, OSError, trio.TooSlowError, ssl.SSLError) as exc:
            run.transcript.append(f"teardown failed: {exc}")
    return ScriptResult(script, status, message, run.checks, time.monotonic() - started, run.transcript)


async def run_suite(
    scripts: list[Script],
    target: Target,
    info: ServerInfo,
    jobs: int = 8,
    timeouts: Timeouts = Timeouts(),
    progress: Callable[[ScriptResult], None] | None = None,
    pool: list[Target] | None = None,
) -> list[ScriptResult]:
    """Run every script (skipping those the server cannot take); results in script order.

    ``pool``: accounts to spread the scripts over (one per concurrent script, so ``jobs`` becomes its
    length); without it every script uses ``target``. Scripts never share mailboxes either way.
    """
    run_id = secrets.token_hex(3)
    results: dict[int, ScriptResult] = {}
    targets = list(pool) if pool else [target] * max(1, jobs)
    send_channel, receive_channel = trio.open_memory_channel[Target](len(targets))
    for each in targets:
        send_channel.send_nowait(each)

    async def one(index: int, script: Script) -> None:
        reason = skip_reason(script, info, target)
        if reason:
            result = ScriptResult(script, Status.SKIPPED, reason)
        else:
            slot = await receive_channel.receive()
            try:
                result = await run_script(script, slot, timeouts, f"ct{run_id}-{index:03d}")
            finally:
                send_channel.send_nowait(slot)
        results[index] = result
        if progress is not None:
            progress(result)

    async with trio.open_nursery() as nursery:
        for index, script in enumerate(scripts):
            if not script.exclusive:
                nursery.start_soon(one, index, script)
    for index, script in enumerate(scripts):
        if script.exclusive:
            await one(index, script)
    return [results[index] for index in range(len(scripts))]
