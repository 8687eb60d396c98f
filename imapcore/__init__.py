"""imapcore: an IMAP4rev2 (RFC 9051) mail server on Trio.

Layers (imports flow downward only; see ARCHITECTURE.md):
server -> commands -> auth -> store -> mail -> protocol -> syntax.
"""

__version__ = "0.1.0"
