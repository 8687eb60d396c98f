"""Understanding messages: pure functions over the raw bytes of a message (no I/O, no clock).

``summarize`` computes, once per stored blob, what FETCH and SEARCH need; ``sections`` extracts
BODY[section] and BINARY[section]; ``search`` evaluates a search program against one message.
"""

from .search import SearchableMessage, SearchContext, matches
from .sections import UnknownCTE, apply_partial, binary_size, decode_binary, extract_section
from .summary import MessageSummary, summarize

__all__ = [
    "MessageSummary",
    "SearchContext",
    "SearchableMessage",
    "UnknownCTE",
    "apply_partial",
    "binary_size",
    "decode_binary",
    "extract_section",
    "matches",
    "summarize",
]
