"""Helpers to drive a tokenizer over bytes: all events, whole or chunked (shared by syntax tests)."""

from imapcore.syntax.tokens import COMMAND, NEED_MORE


def events(tokenizer, data: bytes, chunks=None, *, line_mode_after=(b"IDLE",)):
    """Feed ``data`` (whole, or cut at ``chunks`` sizes cycled) and return every event but NEED_MORE.

    After a COMMAND whose last token is one of ``line_mode_after`` the tokenizer is put in line mode,
    as the protocol layer does after IDLE.
    """
    out = []
    pieces = [data] if not chunks else list(_cut(data, chunks))
    for piece in pieces:
        tokenizer.feed(piece)
        while True:
            event = tokenizer.next_event()
            if event[0] == NEED_MORE:
                break
            out.append(event)
            if event[0] == COMMAND and event[1] and event[1][-1][1] in line_mode_after:
                tokenizer.set_line_mode()
    return out


def _cut(data: bytes, sizes):
    sizes = list(sizes)
    start = index = 0
    while start < len(data):
        size = max(1, sizes[index % len(sizes)])
        yield data[start : start + size]
        start += size
        index += 1
