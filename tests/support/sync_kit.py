"""Helpers for the two-way sync tests (mbsync, offlineimap): seed a server, read both sides back.

Both sides are reduced to the same shape, ``{folder: sorted [(subject, flags)]}`` with flags as IMAP
system flag names, so "the local Maildir and the server agree" is one equality:

* the server side is read over IMAP (imaplib: LIST, then per folder FETCH FLAGS and the Subject header),
  ignoring ``\\Recent`` (a per-session flag, RFC 3501 §2.3.2);
* the local side is read from the Maildir: a folder is a directory with ``cur``/``new``/``tmp``, a
  message's flags are the letters after ``:2,`` in its file name (D Draft, F Flagged, R Answered,
  S Seen, T Deleted; https://cr.yp.to/proto/maildir.html), its subject the Subject header.
"""

from __future__ import annotations

import email.parser
import imaplib
import os
import re
import subprocess
from pathlib import Path

from support.rawimap import make_message

MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}
FLAG_LETTERS = {v: k for k, v in MAILDIR_FLAGS.items()}

#: The folder tree and messages seeded on the server before the first sync.
SEED = {
    "INBOX": [("inbox one", "(\\Seen)"), ("inbox two", "(\\Flagged)"), ("inbox three", "()")],
    "Work": [("work plan", "(\\Seen \\Answered)"), ("work draft", "(\\Draft)")],
    "Work/Reports": [("report q1", "(\\Seen \\Flagged)")],
    "Personal": [("holiday", "()")],
}


def imap_login(server, user: str, password: str) -> imaplib.IMAP4:
    client = imaplib.IMAP4(server.host, server.port, timeout=20)
    client.login(user, password)
    return client


def seed_server(server, user: str, password: str, seed=SEED) -> None:
    client = imap_login(server, user, password)
    try:
        for folder, messages in seed.items():
            if folder != "INBOX":
                typ, data = client.create(folder)
                assert typ == "OK", data
            for subject, flags in messages:
                typ, data = client.append(folder, flags, None, make_message(subject=subject, body=f"{subject}\r\n"))
                assert typ == "OK", data
    finally:
        client.logout()


def _list_names(client) -> list[str]:
    typ, data = client.list('""', "*")
    assert typ == "OK", data
    names = []
    for line in data:
        if isinstance(line, tuple):
            names.append(line[1].decode())
            continue
        match = re.match(rb'\((.*?)\) (NIL|"[^"]*") (.*)$', line)
        if match and b"\\Noselect" not in match.group(1):
            names.append(match.group(3).strip(b'"').decode())
    return names


def server_state(server, user: str, password: str) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    client = imap_login(server, user, password)
    state = {}
    try:
        for name in _list_names(client):
            typ, data = client.select(f'"{name}"', readonly=True)
            assert typ == "OK", (name, data)
            messages = []
            if int(data[0]) > 0:
                typ, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                assert typ == "OK", data
                for item in data:
                    if not isinstance(item, tuple):
                        continue
                    flags = re.search(rb"FLAGS \((.*?)\)", item[0])
                    if flags is None:  # FLAGS after the literal: look at the next piece
                        index = data.index(item)
                        flags = re.search(rb"FLAGS \((.*?)\)", data[index + 1] if index + 1 < len(data) else b"")
                    subject = email.parser.BytesHeaderParser().parsebytes(item[1]).get("Subject", "")
                    names = tuple(sorted(f for f in flags.group(1).decode().split() if f.upper() != "\\RECENT"))
                    messages.append((subject, names))
            state[name] = sorted(messages)
            client.close()
    finally:
        client.logout()
    return state


def maildir_state(root: Path, folder_name) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Read a Maildir tree; ``folder_name(relative_path)`` maps a directory to the IMAP folder name."""
    state = {}
    for directory, subdirs, _ in os.walk(root):
        path = Path(directory)
        if not {"cur", "new", "tmp"} <= set(subdirs):
            continue
        messages = []
        for sub in ("cur", "new"):
            for entry in sorted((path / sub).iterdir()):
                flags = ""
                if ":2," in entry.name:
                    flags = entry.name.split(":2,", 1)[1]
                names = tuple(sorted(MAILDIR_FLAGS[c] for c in flags if c in MAILDIR_FLAGS))
                with open(entry, "rb") as handle:
                    subject = email.parser.BytesHeaderParser().parse(handle).get("Subject", "")
                messages.append((subject, names))
        state[folder_name(path.relative_to(root))] = sorted(messages)
    return state


def find_local(root: Path, subject: str) -> Path:
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            if path.parent.name in ("cur", "new"):
                with open(path, "rb") as handle:
                    if email.parser.BytesHeaderParser().parse(handle).get("Subject") == subject:
                        return path
    raise FileNotFoundError(subject)


def set_local_flags(path: Path, flags: str) -> Path:
    """Rename a Maildir message so its flags are ``flags`` (letters), moving it to ``cur``."""
    base = path.name.split(":2,", 1)[0]
    target = path.parent.parent / "cur" / f"{base}:2,{''.join(sorted(flags))}"
    path.rename(target)
    return target


def add_local_message(folder_dir: Path, subject: str, flags: str = "") -> Path:
    unique = f"{abs(hash(subject)) % 10**9}.M1P1.testhost"
    path = folder_dir / "cur" / f"{unique}:2,{''.join(sorted(flags))}"
    path.write_bytes(make_message(subject=subject, body=f"{subject}\r\n"))
    return path


def run_tool(argv: list[str], timeout: float = 60.0, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise AssertionError(
            f"{argv[0]} exited {result.returncode}\nstdout:\n{result.stdout.decode(errors='replace')}\n"
            f"stderr:\n{result.stderr.decode(errors='replace')}"
        )
    return result


def server_change(server, user: str, password: str) -> None:
    """The server-side half of the second round: a new message, a flag change and an expunge."""
    client = imap_login(server, user, password)
    try:
        typ, _ = client.append("Work", "(\\Flagged)", None, make_message(subject="work new on server", body="x\r\n"))
        assert typ == "OK"
        typ, _ = client.select("INBOX")
        assert typ == "OK"
        typ, data = client.search(None, "SUBJECT", '"inbox three"')
        number = data[0].split()[0].decode()
        assert client.store(number, "+FLAGS", "(\\Answered)")[0] == "OK"
        typ, data = client.search(None, "SUBJECT", '"inbox two"')
        number = data[0].split()[0].decode()
        assert client.store(number, "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert client.expunge()[0] == "OK"
        client.close()
    finally:
        client.logout()
