"""QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA over the store's per-user quota.

Every mailbox of a user shares one quota root, ``""`` (the user's whole account), whose resources are
STORAGE (in units of 1024 octets, RFC 9208 §5.1) and MESSAGE (§5.2). A resource without a limit is not
listed (§4.1.1: the server reports only resources that have a limit). SETQUOTA is an administrator's
operation here (``imapcore user`` on the command line sets limits): a user changing their own limits is
refused with ``NO [NOPERM]``, as RFC 9208 §4.1.3 allows and Dovecot does for ordinary users.
"""

from __future__ import annotations

from imapcore.protocol.codes import Code, ResponseCode
from imapcore.protocol.errors import CommandFailed
from imapcore.protocol.responses import AString, Atom, DataResponse
from imapcore.store import QuotaUsage
from imapcore.syntax import commands as c

from .context import SessionContext
from .mailboxes import store_name, wire_name
from .registry import Completion, handles

#: The single quota root of every user.
QUOTA_ROOT = ""


def quota_response(usage: QuotaUsage) -> DataResponse:
    """``* QUOTA "" (STORAGE used limit MESSAGE used limit)`` (RFC 9208 §5.1, §7.1)."""
    resources: list = []
    if usage.quota_storage_bytes is not None:
        # RFC 9208 §5.1: STORAGE is counted in units of 1024 octets, rounded up.
        resources += [Atom("STORAGE"), -(-usage.used_storage_bytes // 1024), usage.quota_storage_bytes // 1024]
    if usage.quota_messages is not None:
        resources += [Atom("MESSAGE"), usage.used_messages, usage.quota_messages]
    return DataResponse((Atom("QUOTA"), AString(QUOTA_ROOT), tuple(resources)))


@handles(c.GetQuota)
async def getquota(ctx: SessionContext, cmd: c.GetQuota) -> Completion:
    """RFC 9208 §4.1.1."""
    if cmd.root != QUOTA_ROOT:
        raise CommandFailed(ResponseCode(Code.NONEXISTENT), "No such quota root")
    usage = await ctx.run_store(ctx.store.quota, ctx.user)
    ctx.untagged(quota_response(usage))
    return Completion(text="GETQUOTA completed")


@handles(c.GetQuotaRoot)
async def getquotaroot(ctx: SessionContext, cmd: c.GetQuotaRoot) -> Completion:
    """RFC 9208 §4.1.2: ``* QUOTAROOT mailbox ""`` then the root's QUOTA response."""
    name = store_name(ctx, cmd.mailbox)
    info = await ctx.run_store(ctx.store.mailbox, ctx.user, name)  # NO [NONEXISTENT] if missing
    usage = await ctx.run_store(ctx.store.quota, ctx.user)
    ctx.untagged(DataResponse((Atom("QUOTAROOT"), wire_name(ctx, info.name), AString(QUOTA_ROOT))))
    ctx.untagged(quota_response(usage))
    return Completion(text="GETQUOTAROOT completed")


@handles(c.SetQuota)
async def setquota(ctx: SessionContext, cmd: c.SetQuota) -> Completion:
    """RFC 9208 §4.1.3: limits are set by the administrator, not by the user (module docstring)."""
    raise CommandFailed(ResponseCode(Code.NOPERM), "Quota limits are set by the administrator")
