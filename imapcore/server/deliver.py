"""``imapcore deliver USER [--mailbox NAME] [--create] [--flag FLAG]...``: the local delivery agent.

An MTA hands a message to it on standard input, the way Postfix's ``mailbox_command`` or an Exim pipe
transport calls dovecot-lda; it is stored with the same durability as an IMAP APPEND (blob and metadata
on disk before the exit status says so), with or without a server running on the data directory. The
change reaches the server's sessions through the change log (``imapcore.store.sharedfeed``): at their
next command, or in IDLE within a fraction of a second.

What arrives on stdin is turned into what IMAP requires of a stored message (RFC 9051 §2.2: lines end
in CRLF): a leading mbox ``From `` separator line, which some MTAs prepend and which is never a header
(RFC 5322 header names end at a colon), is dropped, and bare LF or CR line ends become CRLF.

Exit status, in the sysexits(3) terms MTAs act on:

* 0: stored;
* 67 (EX_NOUSER): no such user: the MTA bounces the message;
* 75 (EX_TEMPFAIL): over quota, or the store failed: the MTA keeps it and retries later;
* 65 (EX_DATAERR): an empty message, or one over the server's ``max_literal_bytes`` (what APPEND accepts);
* 64 (EX_USAGE) / 78 (EX_CONFIG): a bad option or configuration.

``--mailbox`` names the target (default INBOX); if it does not exist the message goes to INBOX and the
log says so, unless ``--create`` asks for the mailbox to be created first (as dovecot-lda's
``lda_mailbox_autocreate``).
"""

from __future__ import annotations

import logging
import re
import sys

log = logging.getLogger(__name__)

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOUSER = 67
EX_TEMPFAIL = 75
EX_CONFIG = 78

_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


def normalize(raw: bytes) -> bytes:
    """What stdin gives -> the message as stored: no mbox ``From `` line, CRLF line ends."""
    if raw.startswith(b"From "):
        end = raw.find(b"\n")
        raw = b"" if end < 0 else raw[end + 1:]
    return _LINE_ENDS.sub(b"\r\n", raw)


def register(subparsers, add_common) -> None:
    deliver = subparsers.add_parser(
        "deliver", help="store a message from stdin in a user's mailbox (local delivery agent for an MTA)"
    )
    add_common(deliver)
    deliver.add_argument("name", metavar="USER")
    deliver.add_argument("--mailbox", "-m", default="INBOX", help="target mailbox (default INBOX)")
    deliver.add_argument("--create", action="store_true", help="create the mailbox if it does not exist")
    deliver.add_argument("--flag", action="append", default=[], metavar="FLAG",
                         help="a flag or keyword to set on the message (repeatable), e.g. \\\\Flagged")
    deliver.set_defaults(func=run_deliver)


def run_deliver(args) -> int:
    from imapcore.store import InvalidFlag, InvalidMailboxName, MailboxExists, MailboxNotFound, OverQuota, UserNotFound

    from .cli import _config, _store_beside_server

    config = _config(args)
    if config is None:
        return EX_CONFIG
    limit = config.limits.max_literal_bytes
    raw = sys.stdin.buffer.read(limit + 1)
    if len(raw) > limit:
        print(f"imapcore deliver: message over {limit} bytes", file=sys.stderr)
        return EX_DATAERR
    message = normalize(raw)
    if not message.strip():
        print("imapcore deliver: empty message", file=sys.stderr)
        return EX_DATAERR
    config.data_path.mkdir(parents=True, exist_ok=True)
    try:
        store = _store_beside_server(config.data_path)
    except Exception as error:  # an unreadable data directory, a database from a newer version
        print(f"imapcore deliver: cannot open the store: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    try:
        with store:
            try:
                store.user(args.name)
            except UserNotFound:
                print(f"imapcore deliver: no such user {args.name!r}", file=sys.stderr)
                return EX_NOUSER
            mailbox = args.mailbox
            if mailbox.upper() != "INBOX":
                try:
                    store.mailbox(args.name, mailbox)
                except MailboxNotFound:
                    if args.create:
                        try:
                            store.create_mailbox(args.name, mailbox)
                        except MailboxExists:
                            pass  # created meanwhile by a session
                        except InvalidMailboxName as error:
                            print(f"imapcore deliver: {error}; delivering to INBOX", file=sys.stderr)
                            mailbox = "INBOX"
                    else:
                        print(f"imapcore deliver: no mailbox {mailbox!r}; delivering to INBOX", file=sys.stderr)
                        mailbox = "INBOX"
            try:
                result = store.append(args.name, mailbox, message, args.flag)
            except InvalidFlag as error:
                print(f"imapcore deliver: {error}", file=sys.stderr)
                return EX_USAGE
            except OverQuota as error:
                print(f"imapcore deliver: {error}", file=sys.stderr)
                return EX_TEMPFAIL
    except Exception as error:  # the store failed (disk full, I/O error): the MTA must retry
        log.exception("delivery to %s failed", args.name)
        print(f"imapcore deliver: delivery failed: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    print(f"delivered to {args.name}/{mailbox} as UID {result.uids[0]} (UIDVALIDITY {result.uid_validity})")
    return EX_OK
