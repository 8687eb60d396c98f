"""Scripted IMAP sessions run against two servers, and the normalisation that makes answers comparable.

The transcript format (files ``tests/oracle/scripts/*.txt``), one step per line::

    # comment (also used for the notes that document an allowed difference)
    A: SELECT INBOX                      session A sends "<tag> SELECT INBOX", reads to its tagged answer
    A: APPEND INBOX (\\Seen) {msg:plain}  {msg:NAME} is a synchronizing literal from MESSAGES
    A: SEARCH SUBJECT {lit:café}          {lit:TEXT} sends TEXT (UTF-8) as a synchronizing literal
    A> hms = HIGHESTMODSEQ (\\d+)         capture group 1 from A's last answer into ${hms}
    A: FETCH 1:* (FLAGS) (CHANGEDSINCE ${hms})
    A: IDLE                              sends IDLE, waits for the "+" continuation only
    A? \\* \\d+ EXISTS                     waits (bounded) until A receives a response matching the regex
    A: DONE                              ends IDLE and reads the IDLE command's tagged answer
    A! FETCH 99 (FLAGS)                  a command sent on purpose to be rejected (BAD is expected)

Sessions (any capital letter) are opened on first use and logged in as the script's user (not part of
the transcript). Tags are ``<session><n>`` so they are the same on both servers. A step's result is the
list of normalised responses it produced; two servers agree when every step's result is equal.

Normalisation (what legitimately differs between two correct servers, each rule with its RFC basis):

* human-readable text after a status response and its code is dropped (RFC 9051 §7.1: "human-readable
  text" whose content is not specified); untagged ``OK`` without a code is pure information and dropped;
* ``CAPABILITY`` lists (response and code) become ``<caps>``: each server advertises its own extensions
  (RFC 9051 §7.2.2); ``* ID`` parameters become ``<id>`` (RFC 2971 §3.3: server-specific);
* ``UIDVALIDITY`` values (also inside ``APPENDUID``/``COPYUID`` and ``QRESYNC`` arguments) become
  ``<uidvalidity>``: any unique non-zero value is right (RFC 9051 §2.3.1.1);
* ``MODSEQ``/``HIGHESTMODSEQ`` values become ``<modseq>``: only their order is defined, not the numbers
  (RFC 7162 §3.1.1 "the exact value... is not specified"); which messages a CHANGEDSINCE returns, and
  MODIFIED sets, are still compared;
* ``MAILBOXID``/``EMAILID``/``THREADID`` values become ``<objectid>`` (RFC 8474 §4: server-assigned);
  the untagged ``OK [MAILBOXID]`` of SELECT is dropped (it exists only with OBJECTID, which Dovecot 2.3
  does not implement); a tagged ``[CLIENTBUG]`` (Dovecot, informational, RFC 5530 §3) is dropped;
* order inside a FETCH response, inside flag and attribute lists, and between untagged responses of one
  command is not compared (RFC 9051 §7.5.2 items "in any order"; §7 untagged data arrive in no fixed
  order), except EXPUNGE: a run of EXPUNGE responses is replaced by the set of message numbers they
  removed counted in the numbering before the run, since "4, 4" and "5, 4" remove the same two messages
  (RFC 9051 §7.5.1);
* with two sessions on one mailbox, \\Recent and RECENT counts are not compared: which session is
  "the first session to have been notified" (RFC 3501 §2.3.2) is a race; a FETCH for a message expunged
  later in the same step's responses is not compared (a server may coalesce it into the EXPUNGE);
* INTERNALDATE compares as the UTC instant (Dovecot's Maildir keeps no zone; RFC 9051 §2.3.3);
* in an extended LIST, \\HasChildren/\\HasNoChildren and special-use attributes compare only when
  requested (RFC 5258 §4 "MAY", RFC 6154 §2); unrequested MODSEQ in a FETCH answer and UID in an
  unsolicited FETCH before CONDSTORE is enabled are ignored (RFC 7162 §3.2.4 requires them only after);
* a tagged NO without a code on Dovecot's side matches a NO with a code (RFC 5530 codes are optional);
  BADCHARSET's optional charset list is not compared (RFC 9051 §7.1); HIGHESTMODSEQ codes are compared
  only where RFC 7162 requires them (SELECT/EXAMINE after CONDSTORE is enabled, §3.1.2.1; EXPUNGE's
  tagged OK after QRESYNC is, §3.2.7), not where Dovecot adds them (NOOP, IDLE);
* quoted string, literal and atom forms of the same value compare equal (RFC 9051 §4.3: "a string is in
  one of three forms"); UID and sequence sets compare as the sets they denote (``1:3`` = ``1,2,3``).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from support.dovecot import ParseError, parse_value
from support.rawimap import RawSession, make_message

MESSAGES: dict[str, bytes] = {
    "plain": make_message(
        subject="Plain note", body="Hello Bob,\r\nthe quick brown fox jumps.\r\n", message_id="<plain@example.org>"
    ),
    "second": make_message(
        subject="Second message",
        sender="Carol <carol@example.net>",
        to="Alice Example <alice@example.org>, Bob <bob@example.org>",
        date="Tue, 02 Jan 2024 11:00:00 +0100",
        body="Lorem ipsum dolor sit amet.\r\n",
        message_id="<second@example.net>",
        extra_headers="Cc: Dave <dave@example.com>\r\nIn-Reply-To: <plain@example.org>\r\n",
    ),
    "multipart": (
        b"From: Alice Example <alice@example.org>\r\n"
        b"To: Bob <bob@example.org>\r\n"
        b"Subject: =?UTF-8?Q?Caf=C3=A9?= report\r\n"
        b"Date: Wed, 03 Jan 2024 09:15:00 -0500\r\n"
        b"Message-ID: <multi@example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n'
        b"\r\n"
        b"preamble\r\n"
        b"--XYZ\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"Caf=C3=A9 numbers are up.\r\n"
        b"--XYZ\r\n"
        b'Content-Type: application/octet-stream; name="data.bin"\r\n'
        b'Content-Disposition: attachment; filename="data.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n"
        b"AAECAwQFBgcICQ==\r\n"
        b"--XYZ--\r\n"
    ),
    "big": make_message(subject="Big one", body="".join(f"line {i:04d} of the big body\r\n" for i in range(400))),
}


# -- scripts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    session: str
    kind: str  # "command", "capture", "wait"
    text: str
    line_number: int
    expect_bad: bool = False


def parse_script(text: str) -> list[Step]:
    steps = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not line or line.lstrip().startswith("#"):
            continue
        match = re.match(r"^([A-Z])([:>?!]) ?(.*)$", line)
        if not match:
            raise ValueError(f"line {number}: expected 'A: command', 'A> name = regex' or 'A? regex': {raw!r}")
        session, marker, rest = match.groups()
        kind = {":": "command", "!": "command", ">": "capture", "?": "wait"}[marker]
        steps.append(Step(session, kind, rest, number, expect_bad=marker == "!"))
    return steps


@dataclass
class StepResult:
    step: Step
    sent: str
    responses: list[bytes]


@dataclass
class _Session:
    raw: RawSession
    counter: int = 0
    idle_tag: str | None = None
    idle_responses: list[bytes] = field(default_factory=list)
    last: list[bytes] = field(default_factory=list)


def run_script(host: str, port: int, user: str, password: str, steps: list[Step], timeout: float = 10.0):
    """Run ``steps`` against host:port; returns the raw ``StepResult`` list (responses not normalised)."""
    sessions: dict[str, _Session] = {}
    variables: dict[str, str] = {}
    results: list[StepResult] = []
    try:
        for step in steps:
            session = sessions.get(step.session)
            if session is None:
                raw = RawSession(host, port, timeout=timeout, tag_prefix=step.session)
                _, tagged = raw.command(f'LOGIN "{user}" "{password}"')
                if b" OK" not in tagged:
                    raise RuntimeError(f"LOGIN failed: {tagged!r}")
                raw._counter = 0
                session = sessions[step.session] = _Session(raw)
            text = re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], step.text)
            if step.kind == "capture":
                name, _, pattern = (part.strip() for part in text.partition("="))
                joined = b"\n".join(session.last)
                match = re.search(pattern.encode(), joined)
                if not match:
                    raise AssertionError(f"line {step.line_number}: {pattern!r} not found in {joined!r}")
                variables[name] = match.group(1).decode()
                continue
            if step.kind == "wait":
                session.idle_responses += session.raw.wait_for(text.encode(), timeout)
                continue
            results.append(_run_command(session, step, text, timeout))
    finally:
        for session in sessions.values():
            session.raw.close()
    return results


def _run_command(session: _Session, step: Step, text: str, timeout: float) -> StepResult:
    raw = session.raw
    if text.upper() == "DONE":
        if session.idle_tag is None:
            raise ValueError(f"line {step.line_number}: DONE outside IDLE")
        raw.send(b"DONE\r\n")
        untagged, tagged = raw.collect(session.idle_tag, timeout)
        responses = session.idle_responses + untagged + [tagged]
        session.idle_tag, session.idle_responses = None, []
        session.last = responses
        return StepResult(step, "DONE", responses)
    literals = []

    def literal(match: re.Match) -> str:
        literals.append(MESSAGES[match.group(1)])
        return "{}"

    def inline_literal(match: re.Match) -> str:
        literals.append(match.group(1).encode())
        return "{}"

    wire = re.sub(r"\{msg:(\w+)\}", literal, text)
    wire = re.sub(r"\{lit:([^}]*)\}", inline_literal, wire)
    tag = raw.send_command(wire.encode(), tuple(literals))
    sent = f"{tag} {text}"
    if text.upper() == "IDLE":
        first = raw.read_response(timeout)
        if not first.startswith(b"+"):
            raise AssertionError(f"line {step.line_number}: IDLE answered {first!r}")
        session.idle_tag, session.idle_responses = tag, []
        session.last = []
        return StepResult(step, sent, [b"+ idling"])
    untagged, tagged = raw.collect(tag, timeout)
    session.last = untagged + [tagged]
    return StepResult(step, sent, untagged + [tagged])


# -- normalisation -----------------------------------------------------------------------------------

#: ``* OK [MAILBOXID (...)]`` on SELECT comes with OBJECTID (RFC 8474 §4.2), which Dovecot 2.3 lacks.
_DROPPED_UNTAGGED_CODES = {"MAILBOXID"}
#: Dovecot's informational ``[CLIENTBUG]`` (RFC 5530 §3: "the server has detected a client bug") on
#: a tagged OK, e.g. STATUS of the selected mailbox: the command's outcome is the same.
#: ``[MAILBOXID (...)]`` on CREATE's tagged OK comes with OBJECTID (RFC 8474 §4.1), absent in Dovecot 2.3.
_DROPPED_TAGGED_CODES = {"CLIENTBUG", "MAILBOXID"}

_CODE = re.compile(rb"^\[([^\]]*(?:\[[^\]]*\][^\]]*)*)\]")


def _render(value) -> str:
    if value is None:
        return "NIL"
    if isinstance(value, list):
        return "(" + " ".join(_render(v) for v in value) + ")"
    if isinstance(value, bytes):
        return repr(value.decode("utf-8", "backslashreplace"))
    return repr(value) if not re.fullmatch(r"[^\s()\"]+", value) else _canonical_atom(value)


def _canonical_atom(atom: str) -> str:
    # Atoms and strings with the same text are the same value (RFC 9051 §4.3).
    if atom.startswith("\\") or "[" in atom or atom.upper() in {"NIL"}:
        return atom
    return repr(atom)


def _parse_all(data: bytes) -> list:
    values, position = [], 0
    while position < len(data):
        while position < len(data) and data[position] == 0x20:
            position += 1
        if position >= len(data):
            break
        value, position = parse_value(data, position)
        values.append(value)
    return values


def expand_set(text: str) -> list[int]:
    numbers: list[int] = []
    for part in text.split(","):
        if ":" in part:
            low, high = sorted(int(x) for x in part.split(":"))
            numbers.extend(range(low, high + 1))
        elif part:
            numbers.append(int(part))
    return sorted(set(numbers))


def _normalise_set(text: str) -> str:
    try:
        return "{" + ",".join(str(n) for n in expand_set(text)) + "}"
    except ValueError:
        return text


def _normalise_code(code: bytes) -> str:
    name, _, args = code.decode("utf-8", "backslashreplace").partition(" ")
    upper = name.upper()
    if upper == "CAPABILITY":
        return "CAPABILITY <caps>"
    if upper == "UIDVALIDITY":
        return "UIDVALIDITY <uidvalidity>"
    if upper in ("HIGHESTMODSEQ",):
        return f"{upper} <modseq>"
    if upper in ("MAILBOXID",):
        return f"{upper} <objectid>"
    if upper == "APPENDUID":
        parts = args.split()
        return f"APPENDUID <uidvalidity> {_normalise_set(parts[1]) if len(parts) > 1 else ''}"
    if upper == "COPYUID":
        parts = args.split()
        return "COPYUID <uidvalidity> " + " ".join(_normalise_set(p) for p in parts[1:])
    if upper == "BADCHARSET":
        return "BADCHARSET"  # the charset list is optional (RFC 9051 §7.1)
    if upper == "MODIFIED":
        return f"MODIFIED {_normalise_set(args)}"
    if upper in ("PERMANENTFLAGS",):
        try:
            flags = _parse_all(args.encode())[0]
            return f"PERMANENTFLAGS ({' '.join(sorted(flags, key=str.upper))})"
        except (ParseError, IndexError, TypeError):
            return code.decode()
    return (upper + (" " + args if args else "")).strip()


def _utc_instant(value) -> str:
    text = value.decode() if isinstance(value, bytes) else str(value)
    try:
        moment = datetime.datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return repr(text)
    return moment.astimezone(datetime.timezone.utc).strftime("'%Y-%m-%dT%H:%M:%SZ'")


@dataclass(frozen=True)
class Context:
    """What the normaliser must know about the command a response answers."""

    command: str = ""
    condstore: bool = False  # a CONDSTORE-enabling command was issued in this session (RFC 7162 §3.1)
    qresync: bool = False  # ENABLE QRESYNC was issued in this session (RFC 7162 §3.2.3)

    def keeps_highestmodseq(self) -> bool:
        """Where HIGHESTMODSEQ is required, so compared: SELECT/EXAMINE once CONDSTORE is enabled
        (RFC 7162 §3.1.2.1), EXPUNGE's tagged OK once QRESYNC is (§3.2.7). Elsewhere it is optional
        (Dovecot adds it to NOOP and IDLE answers) and not compared."""
        if self.verb in ("SELECT", "EXAMINE"):
            return self.condstore
        if self.verb in ("EXPUNGE", "MOVE"):
            return self.qresync
        return False

    @property
    def verb(self) -> str:
        words = self.command.upper().split()
        if words[:1] == ["UID"]:
            words = words[1:]
        return words[0] if words else ""


def _normalise_fetch(number: str, data: bytes, context: Context = Context()) -> str:
    items = _parse_all(data)[0]
    pairs = []
    solicited = context.verb == "FETCH"
    asked = context.command.upper()
    for i in range(0, len(items) - 1, 2):
        name, value = items[i].upper(), items[i + 1]
        if name == "MODSEQ" and solicited and "MODSEQ" not in asked and "CHANGEDSINCE" not in asked:
            continue  # an unrequested extra item (RFC 7162 §3.2.4 neither requires nor forbids it)
        if name == "UID" and not solicited and not context.condstore:
            continue  # UID in an unsolicited FETCH is optional before CONDSTORE (RFC 7162 §3.2.4)
        if name == "INTERNALDATE":
            pairs.append(f"INTERNALDATE {_utc_instant(value)}")
        elif name == "FLAGS":
            value = sorted(value, key=str.upper)
            pairs.append(f"FLAGS ({' '.join(value)})")
        elif name == "MODSEQ":
            pairs.append("MODSEQ (<modseq>)")
        elif name in ("EMAILID", "THREADID"):
            pairs.append(f"{name} (<objectid>)")
        else:
            pairs.append(f"{name} {_render(value)}")
    return f"* {number} FETCH (" + " ".join(sorted(pairs)) + ")"


def normalise_response(response: bytes, context: Context = Context()) -> str | None:
    """One response in canonical form, or None when it carries nothing comparable."""
    if response.startswith(b"+"):
        return "+"
    if response.startswith(b"* "):
        body = response[2:]
        head, _, rest = body.partition(b" ")
        upper = head.upper()
        if upper in (b"OK", b"NO", b"BAD", b"BYE", b"PREAUTH"):
            match = _CODE.match(rest)
            if not match:
                return None if upper == b"OK" else f"* {head.decode()}"
            code = _normalise_code(match.group(1))
            if upper == b"OK" and code.split()[0] in _DROPPED_UNTAGGED_CODES:
                return None
            if code.startswith("HIGHESTMODSEQ") and not context.keeps_highestmodseq():
                return None
            return f"* {upper.decode()} [{code}]"
        if upper == b"CAPABILITY":
            return "* CAPABILITY <caps>"
        if upper == b"ID":
            return "* ID <id>"
        if upper == b"FLAGS":
            flags = _parse_all(rest)[0]
            return f"* FLAGS ({' '.join(sorted(flags, key=str.upper))})"
        if upper in (b"LIST", b"LSUB"):
            values = _parse_all(rest)
            attributes = " ".join(sorted((a for a in values[0]), key=str.upper))
            extra = " ".join(_render(v) for v in values[3:])
            return f"* {upper.decode()} ({attributes}) {_render(values[1])} {_render(values[2])} {extra}".rstrip()
        if upper == b"STATUS":
            values = _parse_all(rest)
            items = values[1]
            pairs = []
            for i in range(0, len(items) - 1, 2):
                name = items[i].upper()
                value = items[i + 1]
                if name == "HIGHESTMODSEQ":
                    value = "<modseq>"
                elif name == "UIDVALIDITY":
                    value = "<uidvalidity>"
                elif name == "MAILBOXID":
                    value = "<objectid>"
                pairs.append(f"{name} {value if isinstance(value, str) else _render(value)}")
            return f"* STATUS {_render(values[0])} ({' '.join(sorted(pairs))})"
        if upper == b"SEARCH":
            text = rest.decode()
            text = re.sub(r"\(MODSEQ \d+\)", "(MODSEQ <modseq>)", text)
            numbers = [t for t in text.split() if t.isdigit()]
            tail = " (MODSEQ <modseq>)" if "MODSEQ" in text else ""
            return "* SEARCH " + " ".join(str(n) for n in sorted(int(x) for x in numbers)) + tail
        if upper == b"ESEARCH":
            text = rest.decode()
            text = re.sub(r"MODSEQ \d+", "MODSEQ <modseq>", text)
            text = re.sub(r"\b(ALL|PARTIAL) ([\d:,]+)", lambda m: f"{m.group(1)} {_normalise_set(m.group(2))}", text)
            return "* ESEARCH " + text
        if upper == b"VANISHED":
            text = rest.decode()
            earlier = text.upper().startswith("(EARLIER)")
            uids = text.split()[-1]
            return f"* VANISHED {'(EARLIER) ' if earlier else ''}{_normalise_set(uids)}"
        second, _, tail = rest.partition(b" ")
        if head.isdigit() and second.upper() == b"FETCH":
            return _normalise_fetch(head.decode(), tail, context)
        if head.isdigit():
            return f"* {head.decode()} {second.upper().decode()}"
        return "* " + body.decode("utf-8", "backslashreplace")
    tag, _, rest = response.partition(b" ")
    status, _, text = rest.partition(b" ")
    match = _CODE.match(text)
    code = f" [{_normalise_code(match.group(1))}]" if match else ""
    if match and _normalise_code(match.group(1)).split()[0] in _DROPPED_TAGGED_CODES:
        code = ""
    if code.startswith(" [HIGHESTMODSEQ") and not context.keeps_highestmodseq():
        code = ""
    return f"{tag.decode()} {status.upper().decode()}{code}"


def _drop_fetch_of_expunged(untagged: list[bytes]) -> list[bytes]:
    """Drop a FETCH for a message that a later EXPUNGE of the same step removes.

    A server may report a flag change and then the expunge of that message, or coalesce both into the
    expunge (Dovecot does when it notices both at once): the client ends in the same state either way
    (RFC 9051 §7.5.1: the expunged message is gone, its flags with it).
    """
    pending: dict[int, list[int]] = {}  # current message number -> indices of FETCH responses
    by_uid: dict[int, list[int]] = {}  # UID (when the FETCH carries one) -> indices
    dropped: set[int] = set()
    for index, response in enumerate(untagged):
        fetch = re.match(rb"^\* (\d+) FETCH ", response)
        if fetch:
            pending.setdefault(int(fetch.group(1)), []).append(index)
            uid = re.search(rb"\bUID (\d+)", response)
            if uid:
                by_uid.setdefault(int(uid.group(1)), []).append(index)
            continue
        vanished = re.match(rb"^\* VANISHED (\d[\d:,]*)$", response)  # not (EARLIER): RFC 7162 §3.2.10
        if vanished:
            for uid in expand_set(vanished.group(1).decode()):
                dropped.update(by_uid.pop(uid, []))
            continue
        expunge = re.match(rb"^\* (\d+) EXPUNGE$", response)
        if expunge:
            number = int(expunge.group(1))
            dropped.update(pending.pop(number, []))
            pending = {(n - 1 if n > number else n): v for n, v in pending.items()}
    return [r for i, r in enumerate(untagged) if i not in dropped]


def _original_numbers(expunges: list[int]) -> list[int]:
    """EXPUNGE n, in order, -> the message numbers they removed in the numbering before the first one."""
    removed: list[int] = []
    for number in expunges:
        original = number
        for gone in sorted(removed):  # shift past every message already removed below it
            if gone <= original:
                original += 1
        removed.append(original)
    return sorted(removed)


def normalise_step(responses: list[bytes], context: Context = Context()) -> list[str]:
    """The comparable form of one step: sorted untagged (EXPUNGE runs as sets), tagged line last."""
    if not responses:
        return []
    *untagged, last = responses
    is_tagged = not last.startswith((b"*", b"+"))
    if not is_tagged:
        untagged.append(last)
    untagged = _drop_fetch_of_expunged(untagged)
    lines, expunges = [], []
    for response in untagged:
        match = re.match(rb"^\* (\d+) EXPUNGE$", response)
        if match:
            expunges.append(int(match.group(1)))
            continue
        normal = normalise_response(response, context)
        if normal is not None:
            lines.append(_list_attributes(normal, context))
    if expunges:
        lines.append("* EXPUNGE removed " + ",".join(str(n) for n in _original_numbers(expunges)))
    out = sorted(lines)
    if is_tagged:
        out.append(normalise_response(last, context))
    return out


_CHILD_INFO = {"\\HASCHILDREN", "\\HASNOCHILDREN"}
_SPECIAL_USE = {"\\ALL", "\\ARCHIVE", "\\DRAFTS", "\\FLAGGED", "\\JUNK", "\\SENT", "\\TRASH"}


def _list_attributes(line: str, context: Context) -> str:
    """In an extended LIST, child and special-use attributes are compared only when asked for.

    RFC 5258 §4: without the CHILDREN return option the server "MAY" still return \\HasChildren /
    \\HasNoChildren; RFC 6154 §2: special-use attributes may be returned in any LIST. Dovecot omits them
    in LIST (SUBSCRIBED ...) and imapcore includes them; a plain LIST compares them all.
    """
    if not line.startswith(("* LIST (", "* LSUB (")) or context.verb not in ("LIST", "LSUB"):
        return line
    command = context.command.upper()
    extended = "RETURN" in command or command.split()[1:2] and command.split()[1].startswith("(")
    if not extended:
        return line
    head, _, rest = line.partition("(")
    attributes, _, tail = rest.partition(")")
    kept = []
    for attribute in attributes.split():
        upper = attribute.upper()
        if upper in _CHILD_INFO and "CHILDREN" not in command:
            continue
        if upper in _SPECIAL_USE and "SPECIAL-USE" not in command:
            continue
        kept.append(attribute)
    return f"{head}({' '.join(kept)}){tail}"


_CONDSTORE_ENABLING = re.compile(r"\b(CONDSTORE|QRESYNC|MODSEQ|CHANGEDSINCE|UNCHANGEDSINCE)\b", re.I)


def normalised(results: list[StepResult]) -> list[tuple[str, list[str]]]:
    """(script line, normalised responses) per command; the script line has ${variables} unexpanded."""
    out = []
    condstore: set[str] = set()
    qresync: set[str] = set()
    commands: dict[str, str] = {}
    shared = len({r.step.session for r in results}) > 1
    for r in results:
        command = r.step.text
        if command.upper() == "DONE":
            command = commands.get(r.step.session, "IDLE")
        else:
            commands[r.step.session] = command
        if _CONDSTORE_ENABLING.search(command):
            condstore.add(r.step.session)
        if re.search(r"\bQRESYNC\b", command, re.I):
            qresync.add(r.step.session)
        context = Context(command, r.step.session in condstore, r.step.session in qresync)
        lines = normalise_step(r.responses, context)
        if shared:
            lines = [_without_recent(line) for line in lines if not re.fullmatch(r"\* \d+ RECENT", line)]
        out.append((f"{r.step.session}: {r.step.text}", lines))
    return out


def _without_recent(line: str) -> str:
    """With two sessions on one mailbox, which one sees a new message as \\Recent is a race: RFC 3501
    §2.3.2 gives it to "the first session to have been notified". Such scripts compare without it."""
    return re.sub(r" ?\\Recent\b", "", line).replace("( ", "(")


def _line_matches(want: str, got: str) -> bool:
    """Equal, or a tagged NO without a code on the reference side against a NO with one (RFC 5530 codes
    are optional: Dovecot sends none on SELECT/STATUS of a missing mailbox or DELETE INBOX)."""
    if want == got:
        return True
    match = re.fullmatch(r"(\S+) NO", want)
    return bool(match) and got.startswith(f"{match.group(1)} NO [")


def steps_match(want: list[str], got: list[str]) -> bool:
    return len(want) == len(got) and all(_line_matches(w, g) for w, g in zip(want, got))


def answers_match(expected, actual) -> bool:
    return len(expected) == len(actual) and all(steps_match(w, g) for (_, w), (_, g) in zip(expected, actual))


def differences(expected: list[tuple[str, list[str]]], actual: list[tuple[str, list[str]]]) -> str:
    """A readable report of the steps whose normalised answers differ (empty when none)."""
    out = []
    for index, ((command, want), (_, got)) in enumerate(zip(expected, actual)):
        if steps_match(want, got):
            continue
        out.append(f"step {index + 1}: {command}")
        out.extend(f"    - {line}" for line in want if line not in got)
        out.extend(f"    + {line}" for line in got if line not in want)
        if sorted(want) == sorted(got) or not [l for l in want if l not in got] + [l for l in got if l not in want]:
            out.append("    (same lines, different multiplicity or order)")
    if len(expected) != len(actual):
        out.append(f"step count differs: {len(expected)} vs {len(actual)}")
    return "\n".join(out)


def transcript(results: list[StepResult]) -> str:
    """Readable raw transcript for failure messages."""
    out = []
    for r in results:
        out.append(f"C: {r.sent}")
        out.extend(f"S: {resp.decode('utf-8', 'backslashreplace')[:300]}" for resp in r.responses)
    return "\n".join(out)


def load_scripts(folder: Path) -> dict[str, list[Step]]:
    return {path.stem: parse_script(path.read_text()) for path in sorted(folder.glob("*.txt"))}

