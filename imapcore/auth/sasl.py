"""SASL mechanisms for AUTHENTICATE (RFC 9051 §6.2.2): PLAIN (RFC 4616) and LOGIN.

Each mechanism is a small sans-IO state machine. The session feeds it the client's decoded responses
(the SASL-IR initial response, RFC 4959, or each continuation line) and gets back either a challenge to
send (``Challenge``), the credentials to verify (``Credentials``), or raises ``SaslError`` for a
malformed exchange (answered ``tag BAD`` or ``NO``, RFC 9051 §6.2.2).

LOGIN is not standards-track (draft-murchison-sasl-login-00) but Outlook and many phones still use it;
its prompts are the customary ``Username:`` / ``Password:``.
"""

from __future__ import annotations

import stringprep
import unicodedata
from dataclasses import dataclass


class SaslError(Exception):
    """The client's SASL data is malformed (RFC 9051 §6.2.2: the server rejects it)."""


@dataclass(frozen=True, slots=True)
class Challenge:
    data: bytes


@dataclass(frozen=True, slots=True)
class Credentials:
    authcid: str
    password: str
    authzid: str = ""


def saslprep(text: str) -> str:
    """RFC 4013 SASLprep (the stringprep profile for user names and passwords)."""
    # §2.1 mapping: non-ASCII space to SPACE, "commonly mapped to nothing" removed.
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch for ch in text if not stringprep.in_table_b1(ch)
    )
    # §2.2 normalization: NFKC.
    normalized = unicodedata.normalize("NFKC", mapped)
    if not normalized:
        return normalized
    prohibited = (
        stringprep.in_table_c12, stringprep.in_table_c21, stringprep.in_table_c22,
        stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
        stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
        stringprep.in_table_c9,
    )
    for ch in normalized:
        if any(table(ch) for table in prohibited):
            raise SaslError("prohibited character in SASL string")
    # §2.4 bidirectional characters (RFC 3454 §6).
    has_ral = any(stringprep.in_table_d1(ch) for ch in normalized)
    if has_ral:
        if any(stringprep.in_table_d2(ch) for ch in normalized):
            raise SaslError("mixed bidirectional text in SASL string")
        if not (stringprep.in_table_d1(normalized[0]) and stringprep.in_table_d1(normalized[-1])):
            raise SaslError("bidirectional text must start and end with RandALCat")
    return normalized


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SaslError("SASL data is not UTF-8") from None


class PlainMechanism:
    """RFC 4616: one message ``[authzid] NUL authcid NUL passwd``; an empty challenge if none was sent."""

    name = "PLAIN"

    def step(self, response: bytes | None) -> Challenge | Credentials:
        if response is None:  # no initial response: ask for it with an empty challenge (RFC 4959 §3)
            return Challenge(b"")
        parts = response.split(b"\0")
        if len(parts) != 3:
            raise SaslError("PLAIN message must be authzid NUL authcid NUL password")
        authzid, authcid, password = (_utf8(p) for p in parts)
        if not authcid or not password:
            raise SaslError("PLAIN message has an empty user name or password")
        return Credentials(saslprep(authcid), saslprep(password), saslprep(authzid) if authzid else "")


class LoginMechanism:
    """The LOGIN mechanism: the user name, then the password, each after its prompt."""

    name = "LOGIN"

    def __init__(self) -> None:
        self._user: str | None = None

    def step(self, response: bytes | None) -> Challenge | Credentials:
        if self._user is None:
            if response is None:  # no initial response (RFC 4959): prompt for the user name
                return Challenge(b"Username:")
            if not response:
                raise SaslError("LOGIN user name is empty")
            self._user = _utf8(response)
            return Challenge(b"Password:")
        if response is None:
            raise SaslError("LOGIN expected a password")
        return Credentials(self._user, _utf8(response))


MECHANISMS = {"PLAIN": PlainMechanism, "LOGIN": LoginMechanism}


def start(mechanism: str) -> PlainMechanism | LoginMechanism | None:
    """A fresh state machine for ``mechanism`` (case-insensitive), or None if unsupported."""
    factory = MECHANISMS.get(mechanism.upper())
    return factory() if factory else None
