"""Debian's Dovecot as a reference IMAP server for tests (an oracle to compare our answers with).

``DovecotServer`` writes a throw-away configuration into a temporary directory (mail in Maildir under
it, users in a passwd-file, logs to a file), starts ``dovecot -F`` on a free 127.0.0.1 port as the current
user when it is not root (as root, Dovecot's own rules force its "dovenull"/"dovecot" accounts for
login and internal processes and "nobody" for mail access), waits until the greeting
arrives, and on exit terminates the process group and removes the directory, even when the test failed.

    with DovecotServer(users={"alice": "secret"}) as d:
        imap = imaplib.IMAP4(d.host, d.port)
        imap.login("alice", "secret")

Tests that need it call ``require_dovecot()`` (a pytest skip when the binary is missing, for example on a
developer machine without Debian's package; ``tests/run.sh`` installs it in CI).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from imapcore.conformance.dovecot import free_port, wait_for_greeting

DOVECOT_BINARY = shutil.which("dovecot") or "/usr/sbin/dovecot"

#: How long the server may take to accept connections before we give up.
START_TIMEOUT = 15.0


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT_BINARY) and os.access(DOVECOT_BINARY, os.X_OK)


def require_dovecot() -> None:
    import pytest

    if not dovecot_available():
        pytest.skip("dovecot is not installed (tests/run.sh installs dovecot-imapd)")


def _existing_user(name: str, fallback: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return fallback
    return name


class DovecotServer:
    """A private Dovecot instance; use as a context manager. ``host``/``port`` are valid inside it."""

    host = "127.0.0.1"

    def __init__(self, users: dict[str, str], extra_config: str = "", namespace_config: str = "") -> None:
        self.users = dict(users)
        self.extra_config = extra_config
        # Lines placed inside ``namespace inbox { ... }`` (for example ``mailbox Sent { ... }`` blocks).
        self.namespace_config = namespace_config
        self.port = 0
        self.directory: Path | None = None
        self._process: subprocess.Popen | None = None

    # -- configuration -------------------------------------------------------------------------------

    def _write_config(self, root: Path, port: int) -> Path:
        uid, gid = os.getuid(), os.getgid()
        user = pwd.getpwuid(uid).pw_name
        login_user = internal_user = user
        if uid == 0:
            # Dovecot refuses to run its login processes as root: use the unprivileged accounts Debian's
            # package creates for login and internal processes.
            login_user = _existing_user("dovenull", user)
            internal_user = _existing_user("dovecot", user)
            # ... and it refuses mail access as root: mail processes run as "nobody", who owns the maildirs.
            mail_user = _existing_user("nobody", user)
            entry = pwd.getpwnam(mail_user)
            uid, gid = entry.pw_uid, entry.pw_gid
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(exist_ok=True)
        os.chown(root / "mail", uid, gid)
        # passwd-file: user:{PLAIN}password:uid:gid::home. uid/gid stay empty; the global mail_uid/mail_gid
        # make every mailbox belong to one account (the current user, or "nobody" when we are root).
        lines = []
        for name, password in self.users.items():
            home = root / "mail" / name
            lines.append(f"{name}:{{PLAIN}}{password}::::{home}\n")
        (root / "passwd").write_text("".join(lines))
        # The auth process runs as the internal user (not root): it must be able to read the passwd-file.
        root.chmod(0o755)
        (root / "passwd").chmod(0o644)
        config = f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.0/8
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
namespace inbox {{
  inbox = yes
  separator = /
{self.namespace_config}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
{self.extra_config}
"""
        path = root / "dovecot.conf"
        path.write_text(config)
        return path

    # -- life cycle ----------------------------------------------------------------------------------

    def log(self) -> str:
        if self.directory is None:
            return ""
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _wait_ready(self, deadline: float) -> bool:
        return wait_for_greeting(self.host, self.port, self._process, deadline)

    def start(self) -> DovecotServer:
        self.directory = Path(tempfile.mkdtemp(prefix="dovecot-oracle-"))
        for attempt in range(3):  # a bounded retry covers the free-port race
            self.port = free_port()
            config = self._write_config(self.directory, self.port)
            self._process = subprocess.Popen(
                [DOVECOT_BINARY, "-F", "-c", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=open(self.directory / "stderr.log", "wb"),
                start_new_session=True,  # its own process group, so stop() reaches every child
            )
            if self._wait_ready(time.monotonic() + START_TIMEOUT):
                return self
            self._terminate()
        stderr = (self.directory / "stderr.log").read_text(errors="replace")
        log = self.log()
        self.stop()
        raise RuntimeError(f"dovecot did not start:\n{stderr}\n{log}")

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)

    def stop(self) -> None:
        self._terminate()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


#: ``namespace_config`` giving Dovecot the special-use mailboxes imapcore creates for every new user
#: (``imapcore.store.DEFAULT_MAILBOXES``), auto-created and subscribed (INBOX too), so LIST answers compare.
SPECIAL_USE_MAILBOXES = "  mailbox INBOX {\n    auto = subscribe\n  }\n" + "".join(
    f"  mailbox {name} {{\n    special_use = \\{name}\n    auto = subscribe\n  }}\n"
    for name in ("Sent", "Drafts", "Trash", "Junk", "Archive")
)


# -- reading Dovecot's answers -------------------------------------------------------------------------


def login(server: DovecotServer, user: str, password: str):
    """An ``imaplib.IMAP4`` client logged in to ``server``."""
    import imaplib

    client = imaplib.IMAP4(server.host, server.port, timeout=30)
    client.login(user, password)
    return client


def fetch_response(client, sequence: int, items: str) -> bytes:
    """The raw bytes of the FETCH response for one message (literals re-assembled), without ``* ``."""
    # Drop FETCH data left over from earlier commands (a failed FETCH may still have sent "* n FETCH").
    client.untagged_responses.pop("FETCH", None)
    typ, data = client.fetch(str(sequence), items)
    if typ != "OK":
        raise RuntimeError(f"FETCH {sequence} {items} failed: {data!r}")
    return join_fetch_data(data)


def join_fetch_data(data) -> bytes:
    """imaplib's FETCH data (bytes and (prefix, literal) tuples) back into the response bytes."""
    pieces = []
    for item in data:
        if isinstance(item, tuple):
            pieces.append(item[0] + b"\r\n" + item[1])
        elif item is not None:
            pieces.append(item)
    return b"".join(pieces)


class ParseError(ValueError):
    pass


def parse_value(data: bytes, position: int = 0):
    """Parse one IMAP value: list -> list, quoted/literal -> bytes, NIL -> None, atom/number -> str.

    Atoms may contain a bracketed section with spaces (``BODY[HEADER.FIELDS (A B)]<0>``). Returns
    ``(value, next_position)``. Quoted strings and literals compare equal when their content is: tests
    compare meaning, not the server's quoting choice.
    """
    n = len(data)
    while position < n and data[position] == 0x20:
        position += 1
    if position >= n:
        raise ParseError("unexpected end")
    c = data[position]
    if c == 0x28:  # (
        items = []
        position += 1
        while True:
            while position < n and data[position] == 0x20:
                position += 1
            if position >= n:
                raise ParseError("unterminated list")
            if data[position] == 0x29:
                return items, position + 1
            value, position = parse_value(data, position)
            items.append(value)
    if c == 0x22:  # quoted
        out = bytearray()
        position += 1
        while position < n and data[position] != 0x22:
            if data[position] == 0x5C:
                position += 1
            out.append(data[position])
            position += 1
        return bytes(out), position + 1
    if c == 0x7B or (c == 0x7E and data[position + 1 : position + 2] == b"{"):  # literal / literal8
        close = data.index(b"}", position)
        size = int(data[position + (2 if c == 0x7E else 1) : close].rstrip(b"+"))
        start = close + 3  # "}\r\n"
        return data[start : start + size], start + size
    start = position
    depth = 0
    while position < n:
        ch = data[position]
        if ch == 0x5B:
            depth += 1
        elif ch == 0x5D:
            depth -= 1
        elif depth == 0 and ch in (0x20, 0x28, 0x29):
            if ch == 0x28 and position > start:
                break
            if ch != 0x28:
                break
        position += 1
    atom = data[start:position].decode("latin-1")
    return (None if atom.upper() == "NIL" else atom), position


def fetch_items(client, sequence: int, items: str) -> dict:
    """``{ITEM-NAME: parsed value}`` of one message's FETCH response (names upper-cased)."""
    raw = fetch_response(client, sequence, items)
    number, _, rest = raw.partition(b" ")
    values, _ = parse_value(rest)
    return {values[i].upper(): values[i + 1] for i in range(0, len(values) - 1, 2)}
