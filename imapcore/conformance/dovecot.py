"""A private Dovecot for validating the suite: ``imapcore conformance --dovecot``.

The suite's scripts must be right about the RFC, not about imapcore, so each is proven against an
independent server first. This starts Debian's ``dovecot`` binary with a throw-away configuration on a
free 127.0.0.1 port (sdbox under a temporary directory, two users in a passwd-file, STARTTLS with a
throw-away certificate, the quota, ACL, metadata and COMPRESS plugins on so their scripts run too), and stops it and removes the directory after.
Run as root, Dovecot insists on unprivileged accounts for its login, internal and mail processes, so
those are Debian's ``dovenull``, ``dovecot`` and ``nobody`` then.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BINARY = shutil.which("dovecot") or "/usr/sbin/dovecot"
START_TIMEOUT = 15.0

USERS = {"conformance1": "pass-one", "conformance2": "pass-two"}


def account_pairs(count: int) -> list[tuple[str, str, str, str]]:
    """``count`` (user, password, user2, password2) pairs: one per concurrent script. Dovecot 2.3 races
    when many sessions of one user create and delete mailboxes at once (sporadic ALREADYEXISTS for fresh
    names, "Internal quota calculation error"), which the suite is not about; separate accounts avoid it."""
    return [(f"conformance{i}a", f"pass-{i}a", f"conformance{i}b", f"pass-{i}b") for i in range(count)]


def pool_users(count: int) -> dict[str, str]:
    users = dict(USERS)
    for user, password, user2, password2 in account_pairs(count):
        users[user] = password
        users[user2] = password2
    return users

_SPECIAL_USE = "".join(
    f"  mailbox {name} {{\n    special_use = \\{name}\n    auto = subscribe\n  }}\n"
    for name in ("Sent", "Drafts", "Trash", "Junk", "Archive")
)


def available() -> bool:
    return os.path.exists(BINARY) and os.access(BINARY, os.X_OK)


def _account(name: str, fallback: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return fallback
    return name


def _self_signed(cert_path: Path, key_path: Path) -> None:
    """A throw-away certificate for 127.0.0.1, so STARTTLS scripts run on the private Dovecot too."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)


def free_port() -> int:
    """A loopback port free right now (the caller retries on the race with other processes)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_greeting(host: str, port: int, process: subprocess.Popen | None, deadline: float) -> bool:
    """True once a server on ``host:port`` sends its ``* OK`` greeting; False if ``process`` exits or the
    monotonic ``deadline`` passes. Shared by every private Dovecot this project starts."""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                sock.settimeout(2.0)
                if sock.recv(100).startswith(b"* OK"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


class Dovecot:
    host = "127.0.0.1"

    def __init__(self, users: dict[str, str] = USERS) -> None:
        self.users = dict(users)
        self.port = 0
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None

    def _config(self, root: Path) -> Path:
        uid, gid = os.getuid(), os.getgid()
        login_user = internal_user = pwd.getpwuid(uid).pw_name
        if uid == 0:
            login_user = _account("dovenull", login_user)
            internal_user = _account("dovecot", internal_user)
            entry = pwd.getpwnam(_account("nobody", login_user))
            uid, gid = entry.pw_uid, entry.pw_gid
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(exist_ok=True)
        os.chown(root / "mail", uid, gid)
        (root / "passwd").write_text(
            "".join(f"{name}:{{PLAIN}}{password}::::{root}/mail/{name}\n" for name, password in self.users.items())
        )
        root.chmod(0o755)
        (root / "passwd").chmod(0o644)
        _self_signed(root / "cert.pem", root / "key.pem")
        config = f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.0/8
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 0
first_valid_gid = 0
mail_location = sdbox:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
mail_max_userip_connections = 1000
# With Maildir, Dovecot 2.3 answers ALREADYEXISTS for fresh names now and then when sessions of one
# user create and delete mailboxes concurrently; sdbox plus one account per concurrent script (see
# account_pairs) showed none in repeated runs. The mailbox list index stays on: NOTIFY needs it.
mail_plugins = $mail_plugins acl quota
mail_attribute_dict = file:%h/dovecot-attributes
protocol imap {{
  mail_plugins = $mail_plugins imap_acl imap_quota imap_zlib
  imap_metadata = yes
}}
plugin {{
  acl = vfile
  quota = count:User quota
  quota_rule = *:storage=1G
  quota_vsizes = yes
}}
namespace inbox {{
  inbox = yes
  separator = /
{_SPECIAL_USE}
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
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
  process_min_avail = 2
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
"""
        path = root / "dovecot.conf"
        path.write_text(config)
        return path

    def log(self) -> str:
        path = self.root / "dovecot.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def _ready(self, deadline: float) -> bool:
        return wait_for_greeting(self.host, self.port, self.process, deadline)

    def start(self) -> Dovecot:
        self.root = Path(tempfile.mkdtemp(prefix="imapcore-conformance-dovecot-"))
        for _attempt in range(3):  # bounded retry for the free-port race
            self.port = free_port()
            config = self._config(self.root)
            with open(self.root / "stderr.log", "wb") as stderr:
                self.process = subprocess.Popen(
                    [BINARY, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr,
                    start_new_session=True,  # its own process group: stop() reaches every child
                )
            if self._ready(time.monotonic() + START_TIMEOUT):
                return self
            self._terminate()
        message = (self.root / "stderr.log").read_text(errors="replace") + self.log()
        self.stop()
        raise RuntimeError(f"dovecot did not start:\n{message}")

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        self._terminate()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
