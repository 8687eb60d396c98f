"""``imapcore serve`` and ``imapcore user add|passwd|del|list|quota``.

Every subcommand takes ``--config FILE`` (TOML, see ``imapcore.server.config``) and ``--data-dir DIR``
(overrides the file; default ``$IMAPCORE_DATA`` or ``./imapcore-data``), so ``user add`` works before the
server was ever started. ``serve`` prints the addresses it actually listens on (``--listen
127.0.0.1:0`` picks a free port and prints it), one line each::

    listening on 127.0.0.1:1143 (STARTTLS)
    listening on 127.0.0.1:1993 (TLS)

A password comes from ``--password`` or, without it, from the first line of standard input (so it does
not show in the process list): ``printf 'secret\\n' | imapcore user add alice``.

``imapcore user quota NAME [--storage SIZE] [--messages N]`` sets a user's quota (RFC 9208 resources
STORAGE and MESSAGE); a size is bytes with an optional K, M, G or T suffix (powers of 1024), ``none``
removes that limit, an option not given keeps its current value. It prints the usage and limits.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

from .config import ConfigError, load


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument("--data-dir", metavar="DIR", help="data directory (default: $IMAPCORE_DATA or ./imapcore-data)")


def register(subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the IMAP server")
    _add_common(serve)
    serve.add_argument("--listen", metavar="HOST:PORT", action="append",
                       help="cleartext listener with STARTTLS (repeatable; default 127.0.0.1:1143)")
    serve.add_argument("--listen-tls", metavar="HOST:PORT", action="append",
                       help="implicit-TLS listener (repeatable; default 127.0.0.1:1993)")
    serve.add_argument("--workers", metavar="N", type=_workers_option,
                       help="worker processes sharing the listeners and the data directory (default and "
                       "'auto': one per CPU; 1: a single process)")
    serve.set_defaults(func=run_serve)

    from .deliver import register as register_deliver

    register_deliver(subparsers, _add_common)

    user = subparsers.add_parser("user", help="manage users (works with or without a running server)")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    for name, help_text, func in (
        ("add", "create a user with the default mailboxes", run_user_add),
        ("passwd", "change a user's password", run_user_passwd),
        ("del", "delete a user and all their mail", run_user_del),
        ("list", "list users", run_user_list),
        ("quota", "show or set a user's quota (STORAGE, MESSAGE)", run_user_quota),
    ):
        action = actions.add_parser(name, help=help_text)
        _add_common(action)
        if name != "list":
            action.add_argument("name", metavar="NAME")
        if name in ("add", "passwd"):
            action.add_argument("--password", help="the password (default: read one line from stdin)")
        if name == "quota":
            action.add_argument("--storage", metavar="SIZE", type=_size_option,
                                help="storage limit: bytes, or with K/M/G/T (1024-based); 'none' removes it")
            action.add_argument("--messages", metavar="N", type=_count_option,
                                help="message count limit; 'none' removes it")
        action.set_defaults(func=func)


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
#: ``--storage none`` / ``--messages none``: remove the limit (distinct from "option not given", None).
NO_LIMIT = -1


def parse_size(text: str) -> int:
    """``1G`` -> 1073741824; ``512k``, ``10MB``, ``1000``; ``none`` -> ``NO_LIMIT``."""
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    if cleaned in ("NONE", "UNLIMITED"):
        return NO_LIMIT
    unit = cleaned[-1:] if cleaned[-1:] in ("K", "M", "G", "T") else ""
    number = cleaned[: len(cleaned) - len(unit)].strip()
    if not number.isdigit():
        raise ValueError(f"invalid size {text!r}: expected bytes with an optional K, M, G or T")
    return int(number) * _UNITS[unit]


def _size_option(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _workers_option(text: str) -> int:
    if text.strip().lower() == "auto":
        return 0  # Config.worker_count: one per CPU
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"invalid worker count {text!r}: a number from 1, or 'auto'")
    return int(text)


def _count_option(text: str) -> int:
    if text.strip().lower() in ("none", "unlimited"):
        return NO_LIMIT
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"invalid count {text!r}")
    return int(text)


def _config(args):
    try:
        return load(
            args.config,
            data_dir=args.data_dir,
            listen=tuple(args.listen) if getattr(args, "listen", None) else None,
            listen_tls=tuple(args.listen_tls) if getattr(args, "listen_tls", None) else None,
            workers=getattr(args, "workers", None),
        )
    except ConfigError as error:
        print(f"imapcore: {error}", file=sys.stderr)
        return None


def _setup_logging(config) -> None:
    level = getattr(logging, config.logging.level.upper(), logging.INFO)
    handler = logging.FileHandler(config.logging.file) if config.logging.file else logging.StreamHandler(sys.stderr)
    # With several worker processes each line says which process wrote it.
    worker = " [%(process)d]" if config.worker_count > 1 else ""
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s{worker} %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)


def run_serve(args) -> int:
    import trio

    from .app import serve

    config = _config(args)
    if config is None:
        return 2
    _setup_logging(config)
    # The GIL switch interval, said explicitly because it was tuned both ways. With many thread hops per
    # command (an earlier store), 1 ms instead of Python's 5 ms halved the load benchmark's FETCH FLAGS
    # p99. With ~1.65 hops per 9-command cycle now, forced hand-offs cost more than they save: with
    # 5 ms the persistent mix ran ~5,000 instead of ~4,150 commands/s (server CPU ~295 instead of ~358
    # microseconds per command, two workers), FETCH FLAGS p99 ~3 ms either way.
    sys.setswitchinterval(0.005)

    if config.worker_count > 1:
        return _run_workers(args, config)

    failure: list[OSError] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            try:
                bound = await nursery.start(serve, config)
            except OSError as error:  # typically: the address is in use, or a privileged port
                failure.append(error)
                return
            _announce(args, config, [(address.host, address.port, address.kind == "TLS") for address in bound])

    try:
        trio.run(main)
    except KeyboardInterrupt:  # a second Ctrl-C before the signal handler was installed
        return 130
    if failure:
        print(f"imapcore: cannot start: {failure[0]}", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return 0


def _announce(args, config, bound: list[tuple[str, int, bool]]) -> None:
    for host, port, implicit_tls in bound:
        shown = f"[{host}]" if ":" in host else host
        print(f"listening on {shown}:{port} ({'TLS' if implicit_tls else 'STARTTLS'})", flush=True)
    print(f"data directory: {config.data_path.resolve()}", flush=True)
    data_flag = f" --data-dir {args.data_dir}" if args.data_dir else ""
    config_flag = f" --config {args.config}" if args.config else ""
    print(f"add a user with: imapcore user add NAME{config_flag}{data_flag}", flush=True)


def _run_workers(args, config) -> int:
    from .workers import supervise

    try:
        status = supervise(config, config.worker_count, lambda bound: _announce(args, config, bound))
    except OSError as error:  # typically: the address is in use, or a privileged port
        print(f"imapcore: cannot start: {error}", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return status


def _open_store(args):
    config = _config(args)
    if config is None:
        return None
    config.data_path.mkdir(parents=True, exist_ok=True)
    return _store_beside_server(config.data_path)


def _store_beside_server(data_path):
    """The store as the command line uses it while a server may run on the same directory: the writer
    lock shared with the server's processes, and changes written to the change log so that the server's
    sessions are told (``imapcore.store.sharedfeed``)."""
    from imapcore.store import Store
    from imapcore.store.sharedfeed import ChangeLogWriter

    return Store.open(data_path, feed=ChangeLogWriter(data_path), process_shared=True)


def _password(args) -> str | None:
    if args.password is not None:
        return args.password
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            print("imapcore: passwords differ", file=sys.stderr)
            return None
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _run_user(args, action) -> int:
    from imapcore.store import StoreError

    store = _open_store(args)
    if store is None:
        return 2
    try:
        with store:
            return action(store)
    except StoreError as error:
        print(f"imapcore: {error}", file=sys.stderr)
        return 1


def run_user_add(args) -> int:
    from .users import add_user

    password = _password(args)
    if not password:
        print("imapcore: empty password", file=sys.stderr)
        return 2

    def action(store) -> int:
        add_user(store, args.name, password)
        print(f"user {args.name} added")
        return 0

    return _run_user(args, action)


def run_user_passwd(args) -> int:
    from .users import set_password

    password = _password(args)
    if not password:
        print("imapcore: empty password", file=sys.stderr)
        return 2

    def action(store) -> int:
        set_password(store, args.name, password)
        print(f"password of {args.name} changed")
        return 0

    return _run_user(args, action)


def run_user_del(args) -> int:
    from .users import delete_user

    def action(store) -> int:
        delete_user(store, args.name)
        print(f"user {args.name} deleted")
        return 0

    return _run_user(args, action)


def run_user_list(args) -> int:
    from .users import list_users

    def action(store) -> int:
        for name in list_users(store):
            print(name)
        return 0

    return _run_user(args, action)


def run_user_quota(args) -> int:
    def action(store) -> int:
        current = store.quota(args.name)
        if args.storage is not None or args.messages is not None:
            storage = current.quota_storage_bytes if args.storage is None else args.storage
            messages = current.quota_messages if args.messages is None else args.messages
            store.set_quota(
                args.name,
                storage_bytes=None if storage == NO_LIMIT else storage,
                messages=None if messages == NO_LIMIT else messages,
            )
            current = store.quota(args.name)
        storage_limit = "none" if current.quota_storage_bytes is None else str(current.quota_storage_bytes)
        message_limit = "none" if current.quota_messages is None else str(current.quota_messages)
        print(f"user {args.name}: storage {current.used_storage_bytes} of {storage_limit} bytes, "
              f"messages {current.used_messages} of {message_limit}")
        return 0

    return _run_user(args, action)
