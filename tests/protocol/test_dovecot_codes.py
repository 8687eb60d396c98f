"""Response codes rebuilt from the values in Dovecot's recorded answers come out byte for byte the same.

Every status response with a response code in ``/work/shared/traffic/*/NN.server.imap`` is split into
its parts; the numbers and flags are parsed back out of the code's arguments and the response is built
again with this package's objects and typed builders (``codes.copyuid`` from lists of UIDs, and so on).
"""

import re
from pathlib import Path

import pytest

from imapcore.protocol import codes
from imapcore.protocol.codes import ResponseCode
from imapcore.protocol.responses import Status, StatusResponse, TaggedResponse

from support.shared import TRAFFIC  # noqa: E402
_STATUS_LINE = re.compile(rb"^(\*|[!-~]+) (OK|NO|BAD|BYE|PREAUTH) \[([A-Z0-9.-]+)(?: ([^\]\r\n]*))?\] ([^\r\n]*)\r$", re.M)


def _recorded_lines():
    found = {}
    for path in sorted(TRAFFIC.glob("*/*.server.imap")) if TRAFFIC.is_dir() else []:
        for match in _STATUS_LINE.finditer(path.read_bytes()):
            found.setdefault(match.group(0), match)
    return list(found.values())


LINES = _recorded_lines()


def _uids(text: str) -> list[int]:
    uids = []
    for piece in text.split(","):
        low, _, high = piece.partition(":")
        uids.extend(range(int(low), int(high or low) + 1))
    return uids


def _typed_code(name: str, args: str) -> ResponseCode:
    if name == "COPYUID":
        validity, source, destination = args.split(" ")
        return codes.copyuid(int(validity), _uids(source), _uids(destination))
    if name == "APPENDUID":
        validity, uids = args.split(" ")
        return codes.appenduid(int(validity), _uids(uids))
    if name == "PERMANENTFLAGS":
        return codes.permanentflags(args.strip("()").split())
    if name == "CAPABILITY":
        return codes.capability(args.split(" "))
    numeric = {"UIDNEXT": codes.uidnext, "UIDVALIDITY": codes.uidvalidity, "HIGHESTMODSEQ": codes.highestmodseq}
    if name in numeric:
        return numeric[name](int(args))
    if name == "BADCHARSET" and args:
        return codes.badcharset(args.strip("()").split())
    return ResponseCode(name, args)


@pytest.mark.skipif(not LINES, reason="traffic corpus not available")
def test_corpus_has_the_interesting_codes():
    names = {m.group(3).decode() for m in LINES}
    assert {"COPYUID", "APPENDUID", "PERMANENTFLAGS", "UIDNEXT", "UIDVALIDITY", "CAPABILITY"} <= names


@pytest.mark.parametrize("match", LINES, ids=lambda m: m.group(0)[:60].decode("ascii", "replace"))
def test_rebuilt_response_matches_dovecot(match):
    tag, status, name, args, text = (g.decode() if g is not None else "" for g in match.groups())
    code = _typed_code(name, args)
    if tag == "*":
        response = StatusResponse(Status(status), text, code)
    else:
        response = TaggedResponse(tag, Status(status), text, code)
    assert response.to_bytes() == match.group(0) + b"\n"
