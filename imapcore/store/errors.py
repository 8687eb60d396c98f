"""Typed failures of the store, each naming the response code the server sends with its ``NO``.

The server has one place that maps an exception to the wire (STYLE §3): it reads ``code`` (an RFC 5530 /
RFC 9051 §7.1 response code, or ``None`` for a plain ``NO``) and ``str(error)`` for the human text. The
store never formats responses itself. Anything that is not a ``StoreError`` is a bug or an I/O failure and
is reported by the server as ``[SERVERBUG]``.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class: a refusal the client can be told about."""

    code: str | None = None


class MailboxNotFound(StoreError):
    """The named mailbox does not exist (NONEXISTENT; TRYCREATE for APPEND/COPY/MOVE targets).

    RFC 9051 §6.3.12 (APPEND) and §6.4.7 (COPY): when the destination does not exist the server sends
    ``[TRYCREATE]``; ``target`` is true in that case so the server can pick the code.
    """

    code = "NONEXISTENT"

    def __init__(self, name: str, *, target: bool = False):
        super().__init__(f"mailbox does not exist: {name!r}")
        self.name = name
        self.target = target
        if target:
            self.code = "TRYCREATE"


class MailboxExists(StoreError):
    code = "ALREADYEXISTS"

    def __init__(self, name: str):
        super().__init__(f"mailbox already exists: {name!r}")
        self.name = name


class InvalidMailboxName(StoreError):
    code = "CANNOT"

    def __init__(self, name: str, reason: str):
        super().__init__(f"invalid mailbox name {name!r}: {reason}")
        self.name = name
        self.reason = reason


class HasChildren(StoreError):
    """RFC 9051 §6.3.5: DELETE of a name with inferiors is refused with HASCHILDREN."""

    code = "HASCHILDREN"

    def __init__(self, name: str):
        super().__init__(f"mailbox has inferior hierarchical names: {name!r}")
        self.name = name


class CannotDeleteInbox(StoreError):
    """RFC 9051 §6.3.5: it is an error to delete INBOX."""

    code = "CANNOT"

    def __init__(self) -> None:
        super().__init__("INBOX cannot be deleted")


class InvalidSpecialUse(StoreError):
    """RFC 6154 §3 CREATE (USE (...)) with an attribute the server does not know: ``NO [USEATTR]``."""

    code = "USEATTR"

    def __init__(self, attribute: str):
        super().__init__(f"unknown special-use attribute: {attribute!r}")
        self.attribute = attribute


class OverQuota(StoreError):
    """RFC 9208 §4.3 / RFC 5530: the operation would exceed a storage or message-count limit."""

    code = "OVERQUOTA"

    def __init__(self, user: str, resource: str, limit: int, would_use: int):
        super().__init__(f"over quota: {resource} would be {would_use}, limit {limit}")
        self.user = user
        self.resource = resource
        self.limit = limit
        self.would_use = would_use


class UserNotFound(StoreError):
    code = "AUTHENTICATIONFAILED"

    def __init__(self, user: str):
        super().__init__(f"no such user: {user!r}")
        self.user = user


class UserExists(StoreError):
    code = "ALREADYEXISTS"

    def __init__(self, user: str):
        super().__init__(f"user already exists: {user!r}")
        self.user = user


class InvalidBlobId(StoreError):
    """A blob id that is not 64 lower-case hex digits: refused before any path is built from it."""

    code = "CANNOT"

    def __init__(self, blob_id: object):
        super().__init__(f"invalid blob id: {blob_id!r}")
        self.blob_id = blob_id


class BlobMissing(StoreError):
    code = "CORRUPTION"

    def __init__(self, blob_id: str):
        super().__init__(f"message data missing for blob {blob_id}")
        self.blob_id = blob_id


class BlobCorrupt(StoreError):
    """A blob whose bytes no longer hash to its name (checked when verification is asked)."""

    code = "CORRUPTION"

    def __init__(self, blob_id: str, actual: str):
        super().__init__(f"blob {blob_id} is corrupt: content hashes to {actual}")
        self.blob_id = blob_id
        self.actual = actual


class InvalidFlag(StoreError):
    code = "CANNOT"

    def __init__(self, flag: str):
        super().__init__(f"invalid flag: {flag!r}")
        self.flag = flag


class SchemaTooNew(StoreError):
    """The database was written by a newer imapcore: refuse rather than guess."""

    code = "UNAVAILABLE"

    def __init__(self, found: int, supported: int):
        super().__init__(f"metadata schema version {found} is newer than this program's {supported}")
        self.found = found
        self.supported = supported
