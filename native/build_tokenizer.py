"""cffi build script of the C tokenizer (out-of-line API mode): ``imapcore._ctokenizer``.

``setup.py`` picks up ``ffibuilder`` from every ``native/build_*.py``, so ``pip install .`` compiles
``native/tokenizer.c`` into the package (and falls back to the pure-Python twin when that fails).
Run directly (``python native/build_tokenizer.py``) it builds the extension in place, into
``imapcore/_ctokenizer*.so``, for an editable checkout.
"""

import os
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

# The subset of tokenizer.h the wrapper uses; `...;` lets cffi take the real layout from the header.
CDEF = """
typedef struct imap_tok {
    uint8_t *arena;
    char *out;
    size_t arena_len;
    uint8_t *kinds;
    uint64_t *ends;
    size_t ntokens;
    size_t tag_len;
    int has_tag;
    uint64_t literal_size;
    int literal_sync;
    int literal8;
    int error;
    int fatal;
    int64_t max_line_bytes;
    int64_t max_literal_bytes;
    int64_t max_command_bytes;
    int64_t max_literals_per_command;
    int64_t max_discard_bytes;
    int utf8;
    ...;
} imap_tok;

imap_tok *imap_tok_new(void);
void imap_tok_free(imap_tok *t);
int imap_tok_feed(imap_tok *t, const char *data, size_t len);
int imap_tok_next(imap_tok *t);
void imap_tok_set_line_mode(imap_tok *t);
size_t imap_tok_buffered(const imap_tok *t);
size_t imap_tok_memory(const imap_tok *t);
"""


def _relative(path: Path) -> str:
    # setuptools wants source paths relative to the project root (the current directory when
    # setup.py runs); fall back to the absolute path when built from elsewhere.
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def make_builder(absolute_paths: bool = False) -> FFI:
    where = str if absolute_paths else _relative
    builder = FFI()
    builder.cdef(CDEF)
    builder.set_source(
        "imapcore._ctokenizer",
        '#include "tokenizer.h"',
        sources=[where(HERE / "tokenizer.c")],
        include_dirs=[where(HERE)],
        depends=[where(HERE / "tokenizer.h")],
        extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    )
    return builder


ffibuilder = make_builder()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    import cffibuild

    cffibuild.main(lambda: make_builder(absolute_paths=True), "tokenizer")
