"""ENABLE (RFC 5161; RFC 9051 §6.3.1): IMAP4rev2, CONDSTORE, QRESYNC (RFC 7162), UTF8=ACCEPT (RFC 6855).

Only extensions this server implements can be enabled; others are ignored, as RFC 5161 §3.1 asks. The
``* ENABLED`` response lists what this command newly enabled, and is sent even when that is nothing
(RFC 5161 §3.2). Sending it switches the connection to UTF-8 mode when IMAP4rev2 or UTF8=ACCEPT is in it
(``imapcore.protocol.connection``).
"""

from __future__ import annotations

from imapcore.protocol.responses import Enabled
from imapcore.syntax import commands as c

from .capabilities import implemented
from .context import ENABLEABLE, SessionContext
from .registry import Completion, handles

#: Canonical spelling of each ENABLE-able capability (as listed in CAPABILITY).
_SPELLING = {"CONDSTORE": "CONDSTORE", "QRESYNC": "QRESYNC", "IMAP4REV2": "IMAP4rev2", "UTF8=ACCEPT": "UTF8=ACCEPT"}


@handles(c.Enable)
async def enable(ctx: SessionContext, cmd: c.Enable) -> Completion:
    newly: list[str] = []
    for requested in cmd.capabilities:
        name = requested.upper()
        if name not in ENABLEABLE or name in ctx.enabled or not implemented(_SPELLING[name]):
            continue
        ctx.enabled.add(name)
        newly.append(_SPELLING[name])
    ctx.untagged(Enabled(tuple(newly)))
    return Completion(text="Enabled")
