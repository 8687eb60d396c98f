"""One typed configuration object, read from TOML (``--config``) and command-line overrides.

Units are in the names (``idle_timeout_s``, ``max_literal_bytes``). Every field has the embedded
default, so ``imapcore serve`` with no configuration runs: data in ``./imapcore-data`` (or
``$IMAPCORE_DATA``), STARTTLS on 127.0.0.1:1143 and implicit TLS on 127.0.0.1:1993.

A TOML file mirrors the structure::

    data_dir = "/var/lib/imapcore"
    listen = ["0.0.0.0:143"]            # cleartext with STARTTLS
    listen_tls = ["0.0.0.0:993"]        # implicit TLS
    tls_cert = "/etc/imapcore/cert.pem"
    tls_key = "/etc/imapcore/key.pem"
    admin_users = ["postmaster"]        # may use SETQUOTA (RFC 9208)
    workers = 2                         # worker processes; 0 (the default): one per CPU
    [limits]
    max_literal_bytes = 67108864
    [timeouts]
    idle_timeout_s = 1800
    [logging]
    level = "info"

Unknown keys are an error: a typo in a limit must not silently leave the default in force.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """The configuration file or an option is invalid; the message says which key and why."""


@dataclass(frozen=True)
class Limits:
    """Sizes, counts and rates enforced by the server (the framing ones are passed to the tokenizer).

    Why these defaults (abuse resistance, issue 5):

    * connections: 10,000 in total, 50 per client address (an IPv4 address or an IPv6 /64) and 100 per
      user. A flood from one address fills its own 50 slots long before the global 10,000, so other
      addresses are still served; 50 is far above what one household or office NAT needs for IMAP
      (a client keeps 1-5 connections per account);
    * framing: 64 KiB lines, 64 MiB literals (the advertised APPENDLIMIT), but only 8 KiB literals
      before login, where nothing legitimate is bigger than a user name or password;
    * shape: 1000-byte mailbox names at most 50 levels deep, 10,000 mailboxes per user, 1000 keywords
      per mailbox, SEARCH programs nested at most 32 deep (the grammar refuses more than 64 anyway);
    * work: at most ``max_heavy_commands`` expensive commands (text SEARCH or SORT/THREAD over a large
      mailbox, FETCH of many bodies, big APPEND) run at once, ``max_heavy_per_user`` per user; each
      session may burst ``command_burst`` commands and then ``commands_per_s`` a second (set well above
      what a pipelining sync tool sends — a busy benchmark session runs ~300/s — so only a runaway or
      hostile client meets it; the per-address and per-user limits bound how many such sessions exist);
    * authentication: after ``auth_free_failures`` failures from an address (or for a user name), each
      further attempt waits ``auth_delay_s`` doubling up to ``auth_delay_max_s`` (Dovecot's auth
      penalty: 2 s doubling to 15 s), so one address gets at most ~4 answers a minute however many
      connections it opens; attempts in flight at once beyond ``auth_parallel_free`` count as failures
      (raise it for a large NAT); ``auth_ban_failures`` failures from one address refuse it for
      ``auth_ban_s``. Failures are forgotten after ``auth_failure_memory_s`` without a new one. One
      argon2 verification (64 MiB) runs at a time per address.
    """

    max_line_bytes: int = 64 * 1024
    max_literal_bytes: int = 64 * 1024 * 1024  # also the advertised APPENDLIMIT (RFC 7889)
    max_literal_bytes_before_login: int = 8 * 1024
    max_command_bytes: int = 65 * 1024 * 1024
    max_literals_per_command: int = 1000
    max_connections: int = 10_000
    max_connections_per_ip: int = 50
    max_sessions_per_user: int = 100
    max_mailbox_name_bytes: int = 1000
    max_mailbox_depth: int = 50
    max_mailboxes_per_user: int = 10_000
    max_keywords_per_mailbox: int = 1000
    max_search_depth: int = 32
    max_heavy_commands: int = 0  # 0: the number of cores, at least 2
    max_heavy_per_user: int = 2
    heavy_mailbox_messages: int = 1000  # text SEARCH, SORT, THREAD over more messages than this are heavy
    heavy_fetch_bodies: int = 100  # FETCH of bodies of more messages than this is heavy
    heavy_append_bytes: int = 1024 * 1024  # APPEND of more bytes than this is heavy
    command_burst: int = 5000
    commands_per_s: float = 2000.0
    auth_free_failures: int = 3
    auth_parallel_free: int = 4  # attempts at once from an address without failures before they queue
    auth_delay_s: float = 2.0
    auth_delay_max_s: float = 15.0
    auth_ban_failures: int = 30
    auth_ban_s: float = 600.0
    auth_failure_memory_s: float = 3600.0
    auth_tracked_keys: int = 100_000  # addresses and user names remembered (oldest forgotten first)


@dataclass(frozen=True)
class Timeouts:
    tls_handshake_s: float = 30.0
    # Between two reads before login, and from the greeting to a successful login in total (a slowloris
    # sending one byte every few seconds never logs in).
    pre_login_s: float = 60.0
    login_deadline_s: float = 120.0
    # RFC 9051 §5.4: the autologout timer of an authenticated session is at least 30 minutes.
    idle_timeout_s: float = 30 * 60.0
    # IDLE: RFC 9051 §6.3.13 asks clients to re-issue IDLE at least every 29 minutes; the server keeps an
    # IDLE open this long without any line from the client (re-arming with DONE + IDLE resets it).
    idle_rearm_s: float = 31 * 60.0
    # A write that makes no progress for this long ends the session (a client that stops reading).
    send_stall_s: float = 60.0
    shutdown_grace_s: float = 5.0


@dataclass(frozen=True)
class Logging:
    level: str = "info"
    file: str | None = None


def _default_data_dir() -> str:
    return os.environ.get("IMAPCORE_DATA") or "./imapcore-data"


@dataclass(frozen=True)
class Config:
    data_dir: str = field(default_factory=_default_data_dir)
    listen: tuple[str, ...] = ("127.0.0.1:1143",)
    listen_tls: tuple[str, ...] = ("127.0.0.1:1993",)
    tls_cert: str | None = None
    tls_key: str | None = None
    # SQLite durability of the metadata (imapcore.store): FULL survives power loss; NORMAL (WAL) survives
    # a process crash (kill -9) and is faster for flag changes and expunges.
    store_synchronous: str = "FULL"
    # Worker processes sharing the listeners and the data directory (workers.py): 0 means one per CPU
    # (``worker_count``); 1 runs everything in one process.
    workers: int = 0
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    logging: Logging = field(default_factory=Logging)
    # RFC 9208 §4.1.3: users allowed to run SETQUOTA (on any user's root, ``"user"``; their own is ``""``).
    admin_users: tuple[str, ...] = ()

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def worker_count(self) -> int:
        """How many worker processes ``imapcore serve`` runs."""
        return self.workers or os.cpu_count() or 1


_SECTIONS = {"limits": Limits, "timeouts": Timeouts, "logging": Logging}


def _coerce(key_path: str, value, expected: str):
    """Check a TOML value against the field's (string) annotation; ints are accepted for floats."""
    if expected == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{key_path}: expected a non-negative integer, got {value!r}")
    elif expected == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{key_path}: expected a non-negative number, got {value!r}")
        value = float(value)
    elif expected in ("str", "str | None"):
        if not isinstance(value, str):
            raise ConfigError(f"{key_path}: expected a string, got {value!r}")
    elif expected == "tuple[str, ...]":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key_path}: expected a list of strings, got {value!r}")
        value = tuple(value)
    return value


def _build(cls, table: dict, prefix: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in table.items():
        key_path = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(f"unknown configuration key {key_path!r}")
        if key in _SECTIONS and cls is Config:
            if not isinstance(value, dict):
                raise ConfigError(f"{key_path}: expected a table")
            kwargs[key] = _build(_SECTIONS[key], value, key_path + ".")
        else:
            kwargs[key] = _coerce(key_path, value, fields[key].type)
    return cls(**kwargs)


def load(path: str | os.PathLike | None = None, **overrides) -> Config:
    """Read ``path`` (TOML) if given, then apply non-None ``overrides`` (command-line flags)."""
    config = Config()
    if path is not None:
        try:
            with open(path, "rb") as f:
                table = tomllib.load(f)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        config = _build(Config, table, "")
    changes = {k: v for k, v in overrides.items() if v is not None}
    if changes:
        config = dataclasses.replace(config, **changes)
    for address in (*config.listen, *config.listen_tls):
        parse_address(address)
    if not 0 <= config.workers <= 256:
        raise ConfigError(f"workers: expected 0 (one per CPU) to 256, got {config.workers!r}")
    if config.store_synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
        raise ConfigError(f"store_synchronous: expected FULL, NORMAL or EXTRA, got {config.store_synchronous!r}")
    return config


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[v6]:PORT`` -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"invalid listen address {address!r}: expected HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ConfigError(f"invalid listen address {address!r}: missing host")
    return host, int(port)
