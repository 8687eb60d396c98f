"""The capability list, in one place (RFC 9051 §6.1.1, §7.2.2).

What is advertised depends on the session: ``STARTTLS`` and ``LOGINDISABLED`` only before TLS and before
login (RFC 9051 §6.2.1, §7.2.2), the ``AUTH=`` mechanisms only before login. Everything else is listed
only if its commands are implemented: ``ADVERTISED`` maps each capability to the command classes it
needs, and a test checks them against the handler registry, so a capability never outlives its code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imapcore.syntax import commands as c

from .registry import HANDLERS

if TYPE_CHECKING:
    from .context import SessionContext

#: capability -> command classes whose handlers it needs (empty: a behaviour of existing commands).
ADVERTISED: dict[str, tuple[type, ...]] = {
    "IMAP4rev1": (c.Capability, c.Noop, c.Logout, c.Login, c.Select, c.Fetch, c.Store, c.Search, c.Copy,
                  c.Expunge, c.Check, c.Close, c.Lsub, c.List, c.Status, c.Append, c.Create, c.Delete,
                  c.Rename, c.Subscribe, c.Unsubscribe, c.Examine),
    "IMAP4rev2": (c.Capability, c.Noop, c.Logout, c.Login, c.Enable, c.Select, c.Examine, c.Fetch,
                  c.Store, c.Search, c.Copy, c.Move, c.Expunge, c.Close, c.Unselect, c.List, c.Status,
                  c.Append, c.Create, c.Delete, c.Rename, c.Subscribe, c.Unsubscribe, c.Namespace,
                  c.Idle),
    "LITERAL+": (),  # RFC 7888: the tokenizer accepts {n+}
    "SASL-IR": (c.Authenticate,),
    "ID": (c.Id,),
    "ENABLE": (c.Enable,),
    "IDLE": (c.Idle,),
    "NAMESPACE": (c.Namespace,),
    "UNSELECT": (c.Unselect,),
    "UIDPLUS": (c.Expunge, c.Append, c.Copy),
    "ESEARCH": (c.Search,),
    "SEARCHRES": (c.Search,),
    "LIST-EXTENDED": (c.List,),
    "LIST-STATUS": (c.List, c.Status),
    "SPECIAL-USE": (c.List,),
    "CREATE-SPECIAL-USE": (c.Create,),
    "MOVE": (c.Move,),
    "CONDSTORE": (c.Select, c.Fetch, c.Store),
    "QRESYNC": (c.Select, c.Fetch, c.Enable),
    "BINARY": (c.Fetch, c.Append),
    "STATUS=SIZE": (c.Status,),
    "MULTIAPPEND": (c.Append,),
    "UNAUTHENTICATE": (c.Unauthenticate,),
    "SAVEDATE": (c.Fetch, c.Search),
    "PREVIEW": (c.Fetch,),
    "OBJECTID": (c.Fetch, c.Search),
    "WITHIN": (c.Search,),
    "CHILDREN": (c.List,),
    "UTF8=ACCEPT": (c.Enable,),
    "SORT": (c.Sort,),  # RFC 5256
    "SORT=DISPLAY": (c.Sort,),  # RFC 5957
    "THREAD=ORDEREDSUBJECT": (c.Thread,),  # RFC 5256
    "THREAD=REFERENCES": (c.Thread,),
    "CATENATE": (c.Append,),  # RFC 4469: text parts and URLs to this user's own messages
    "QUOTA": (c.GetQuota, c.GetQuotaRoot, c.SetQuota),  # RFC 9208
    "QUOTA=RES-STORAGE": (c.GetQuota, c.GetQuotaRoot),
    "QUOTA=RES-MESSAGE": (c.GetQuota, c.GetQuotaRoot),
}

AUTH_MECHANISMS = ("PLAIN", "LOGIN")


#: The protocol itself: always advertised (clients refuse a server without IMAP4rev1), so a test checks
#: that every command these need has a handler.
BASE = ("IMAP4rev1", "IMAP4rev2")


def implemented(capability: str) -> bool:
    if capability in BASE:
        return True
    return all(command in HANDLERS for command in ADVERTISED.get(capability, (None,)))


_implemented_cache: tuple[int, tuple[str, ...]] | None = None


def _implemented_names() -> tuple[str, ...]:
    # Computed once per registry size: the registry is filled at import and then never changes.
    global _implemented_cache
    if _implemented_cache is None or _implemented_cache[0] != len(HANDLERS):
        _implemented_cache = (len(HANDLERS), tuple(name for name in ADVERTISED if implemented(name)))
    return _implemented_cache[1]


def capabilities(ctx: SessionContext) -> tuple[str, ...]:
    """The capability list for this session right now."""
    names = list(_implemented_names())
    # RFC 7889: APPENDLIMIT=n, the largest message APPEND accepts (the tokenizer's literal limit).
    if implemented("MULTIAPPEND"):
        names.append(f"APPENDLIMIT={ctx.config.limits.max_literal_bytes}")
    # RFC 9208 §4.1.3: SETQUOTA needs QUOTASET; only administrators may set limits (commands/quota.py).
    if ctx.user is not None and ctx.user in ctx.config.admin_users and implemented("QUOTA"):
        names.append("QUOTASET")
    if ctx.user is None:
        if not ctx.tls:
            names.append("STARTTLS")  # RFC 9051 §6.2.1
        if ctx.cleartext_auth_allowed:
            names.extend(f"AUTH={mechanism}" for mechanism in AUTH_MECHANISMS)
        else:
            names.append("LOGINDISABLED")  # RFC 9051 §6.2.3: LOGIN and cleartext SASL refused here
    return tuple(names)
