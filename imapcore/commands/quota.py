"""QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA over the store's per-user quota.

Every mailbox of a user shares one quota root, the user's whole account, whose resources are STORAGE (in
units of 1024 octets, RFC 9208 §5.1) and MESSAGE (§5.2). A user names their own root ``""`` (the root
GETQUOTAROOT reports). A resource without a limit is not listed (§4.1.1: the server reports only
resources that have a limit).

Administrators are the users listed in the configuration's ``admin_users`` (``imapcore.server.config``):
only they may run SETQUOTA (others get ``NO [NOPERM]``, as RFC 9208 §4.1.3 allows and Dovecot does for
ordinary users), and only to them is ``QUOTASET`` advertised. An administrator also names any user's
root as ``"#user/NAME"`` (the form of RFC 9208's own examples), in GETQUOTA and SETQUOTA. SETQUOTA
replaces all the root's limits (§4.1.3: limits not listed are removed); STORAGE is given in KiB and
stored in bytes; a resource other than STORAGE and MESSAGE is refused with ``NO`` and nothing is changed.
The command line does the same: ``imapcore user quota NAME --storage 1G --messages 100000``.

APPEND, COPY (and MOVE, where the store counts it) beyond a limit are refused by the store with
``NO [OVERQUOTA]`` and change nothing (§4.3.1). MOVE between two mailboxes of one user does not change
the user's usage (one root for the whole account), so it is never over quota.
"""

from __future__ import annotations

from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import CommandFailed
from imapcore.protocol.responses import AString, Atom, DataResponse
from imapcore.store import QuotaUsage, UserNotFound
from imapcore.syntax import commands as c

from .context import SessionContext
from .mailboxes import store_name, wire_name
from .registry import Completion, handles

#: The quota root of the logged-in user, as GETQUOTAROOT reports it.
QUOTA_ROOT = ""
#: An administrator's name for another user's root: ``#user/NAME``.
USER_ROOT_PREFIX = "#user/"
#: Resources SETQUOTA may set (RFC 9208 §5.1, §5.2).
SETTABLE = ("STORAGE", "MESSAGE")


def is_admin(ctx: SessionContext) -> bool:
    return ctx.user is not None and ctx.user in ctx.config.admin_users


def quota_response(usage: QuotaUsage, root: str = QUOTA_ROOT) -> DataResponse | None:
    """``* QUOTA root (STORAGE used limit MESSAGE used limit)`` (RFC 9208 §5.1, §7.1), or None when the
    root has no limit at all: a quota-list holds at least one resource, each with its limit (§6)."""
    resources: list = []
    if usage.quota_storage_bytes is not None:
        # RFC 9208 §5.1: STORAGE is counted in units of 1024 octets, rounded up.
        resources += [Atom("STORAGE"), -(-usage.used_storage_bytes // 1024), usage.quota_storage_bytes // 1024]
    if usage.quota_messages is not None:
        resources += [Atom("MESSAGE"), usage.used_messages, usage.quota_messages]
    if not resources:
        return None
    return DataResponse((Atom("QUOTA"), AString(root), tuple(resources)))


def _queue_quota(ctx: SessionContext, usage: QuotaUsage, root: str = QUOTA_ROOT) -> None:
    response = quota_response(usage, root)
    if response is not None:
        ctx.untagged(response)


def _root_owner(ctx: SessionContext, root: str) -> str:
    """The user whose account ``root`` names, or ``NO [NONEXISTENT]``."""
    if root == QUOTA_ROOT:
        assert ctx.user is not None
        return ctx.user
    if root.startswith(USER_ROOT_PREFIX):
        owner = root[len(USER_ROOT_PREFIX):]
        if owner and (owner == ctx.user or is_admin(ctx)):
            return owner
    raise CommandFailed(ResponseCode(Code.NONEXISTENT), "No such quota root")


async def _usage(ctx: SessionContext, owner: str) -> QuotaUsage:
    try:
        return await ctx.run_store(ctx.store.quota, owner)
    except UserNotFound:
        raise CommandFailed(ResponseCode(Code.NONEXISTENT), "No such quota root") from None


@handles(c.GetQuota)
async def getquota(ctx: SessionContext, cmd: c.GetQuota) -> Completion:
    """RFC 9208 §4.1.1."""
    owner = _root_owner(ctx, cmd.root)
    _queue_quota(ctx, await _usage(ctx, owner), cmd.root)
    return Completion(text="GETQUOTA completed")


@handles(c.GetQuotaRoot)
async def getquotaroot(ctx: SessionContext, cmd: c.GetQuotaRoot) -> Completion:
    """RFC 9208 §4.1.2: ``* QUOTAROOT mailbox ""`` then the root's QUOTA response. The mailbox "doesn't
    have to reference an existing mailbox": every name of the account, present or future, is under the
    account's one root."""
    name = store_name(ctx, cmd.mailbox)
    if name.upper() == "INBOX":
        name = "INBOX"  # RFC 9051 §5.1: INBOX is case-insensitive
    usage = await ctx.run_store(ctx.store.quota, ctx.user)
    ctx.untagged(DataResponse((Atom("QUOTAROOT"), wire_name(ctx, name), AString(QUOTA_ROOT))))
    _queue_quota(ctx, usage)
    return Completion(text="GETQUOTAROOT completed")


@handles(c.SetQuota)
async def setquota(ctx: SessionContext, cmd: c.SetQuota) -> Completion:
    """RFC 9208 §4.1.3, for administrators (module docstring)."""
    if not is_admin(ctx):
        raise CommandFailed(ResponseCode(Code.NOPERM), "Quota limits are set by the administrator")
    owner = _root_owner(ctx, cmd.root)
    limits: dict[str, int] = {}
    for resource, value in cmd.limits:
        resource = resource.upper()
        if resource not in SETTABLE:
            raise CommandFailed(None, f"Cannot set a limit on the resource {resource}")
        if resource in limits:
            raise CommandFailed(None, f"Resource {resource} given twice")
        limits[resource] = value
    storage = limits.get("STORAGE")
    try:
        await ctx.run_store(
            ctx.store.set_quota, owner,
            storage_bytes=None if storage is None else storage * 1024,
            messages=limits.get("MESSAGE"),
        )
    except UserNotFound:
        raise CommandFailed(ResponseCode(Code.NONEXISTENT), "No such quota root") from None
    _queue_quota(ctx, await _usage(ctx, owner), cmd.root)
    return Completion(text="SETQUOTA completed")
