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
    """Sizes and counts enforced by the server (the framing ones are passed to the tokenizer)."""

    max_line_bytes: int = 64 * 1024
    max_literal_bytes: int = 64 * 1024 * 1024  # also the advertised APPENDLIMIT (RFC 7889)
    max_command_bytes: int = 65 * 1024 * 1024
    max_literals_per_command: int = 1000
    max_connections: int = 10_000
    max_connections_per_ip: int = 50
    max_sessions_per_user: int = 100
    max_mailbox_name_bytes: int = 1000
    max_mailbox_depth: int = 50


@dataclass(frozen=True)
class Timeouts:
    tls_handshake_s: float = 30.0
    pre_login_s: float = 60.0
    # RFC 9051 §5.4: the autologout timer of an authenticated session is at least 30 minutes.
    idle_timeout_s: float = 30 * 60.0
    idle_rearm_s: float = 29 * 60.0
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
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    logging: Logging = field(default_factory=Logging)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)


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
