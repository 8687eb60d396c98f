/* The C twin of imapcore/syntax/pytokenizer.py: a resumable IMAP command framer and lexer.
 *
 * The contract (lexical rules, events, limits, error resynchronisation) is the docstring of
 * imapcore/syntax/tokens.py, made precise by the docstring of pytokenizer.py; this header fixes the C
 * side of the bridge to the cffi wrapper imapcore/syntax/ctokenizer.py.
 *
 * imap_tok_feed() appends input to a buffer the tokenizer owns; imap_tok_next() consumes from its
 * front and returns at most one event. The results of an event are in the public fields below and
 * stay valid until the next call. For a COMMAND, `arena` holds the tag, a NUL, then the value of
 * each WORD/QUOTED/LITERAL/LITERAL8 token followed by a NUL, then the kinds of all tokens (bytes 1-9):
 * as no value but a literal8 can hold NUL, one bytes.split(b"\0") yields the tag, the values and the
 * "shape" of the command. Value token i ends at ends[i] and starts after the previous value's NUL.
 * For NEED_LITERAL and ERROR the tag is arena[0:tag_len]; for a LINE the data is the whole arena.
 */
#ifndef IMAPCORE_TOKENIZER_H
#define IMAPCORE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

/* Event kinds: the values of imapcore.syntax.tokens.EventKind. */
#define IMAP_EV_NEED_MORE 0
#define IMAP_EV_NEED_LITERAL 1
#define IMAP_EV_COMMAND 2
#define IMAP_EV_LINE 3
#define IMAP_EV_ERROR 4
/* A COMMAND whose values may contain NUL (a literal8): the wrapper must slice by `ends`, not split. */
#define IMAP_EV_COMMAND_RAW 5

/* Error numbers of ERROR events; the wrapper maps them to the texts and codes of pytokenizer.py. */
#define IMAP_ERR_EMPTY 1
#define IMAP_ERR_LINE_TOO_LONG 2
#define IMAP_ERR_CHAR 3
#define IMAP_ERR_QUOTED_END 4
#define IMAP_ERR_QUOTED_ESCAPE 5
#define IMAP_ERR_QUOTED_CHAR 6
#define IMAP_ERR_QUOTED_8BIT 7
#define IMAP_ERR_QUOTED_UTF8 8
#define IMAP_ERR_MARKER 9
#define IMAP_ERR_LITERAL_NUL 10
#define IMAP_ERR_LITERAL_TOOBIG 11
#define IMAP_ERR_COMMAND_TOOBIG 12
#define IMAP_ERR_LINE_NUL 13
#define IMAP_ERR_NO_MEMORY 14

typedef struct imap_tok {
    /* ---- results of the last imap_tok_next(), read by the wrapper ---- */
    uint8_t *arena;          /* tag, then token values (or LINE data) */
    char *out;               /* == arena, typed for ffi.unpack (which makes bytes from char *) */
    size_t arena_len;
    uint8_t *kinds;          /* TokenKind of each token */
    uint64_t *ends;          /* end offset in arena of each token's value */
    size_t ntokens;
    size_t tag_len;
    int has_tag;
    int has_literal8;        /* this command has a LITERAL8 token (see IMAP_EV_COMMAND_RAW) */
    uint64_t literal_size;   /* NEED_LITERAL */
    int literal_sync;
    int literal8;
    int error;               /* ERROR: an IMAP_ERR_* number */
    int fatal;

    /* ---- configuration (limits are clamped to 2^63-1 by the wrapper) ---- */
    int64_t max_line_bytes;
    int64_t max_literal_bytes;
    int64_t max_command_bytes;
    int64_t max_literals_per_command;
    int64_t max_discard_bytes;
    int utf8;

    /* ---- private state ---- */
    int state;
    uint8_t *in;             /* input buffer: in[in_start:in_end] is fed and not yet consumed */
    size_t in_start, in_end, in_cap;
    size_t scan;             /* bytes after in_start already searched for LF */
    size_t arena_cap;
    size_t tokens_cap;
    size_t tokens_base;      /* arena offset where this command's token values begin (== tag_len) */
    uint64_t command_bytes;
    uint64_t literal_count;
    uint64_t literal_need;   /* literal bytes still to take, or to discard when skipping */
    size_t literal_start;    /* arena offset of the literal being taken */
    int literal_kind;
    int skip_error;          /* the error of the command being skipped */
    int skip_reported;       /* ...already returned (literal too large) */
    int skip_in_line_mode;   /* the skipped line is a too-long LINE */
    uint8_t skip_tail[32];   /* last bytes of the line being skipped: may hold a {n+} marker */
    size_t skip_tail_len;
} imap_tok;

imap_tok *imap_tok_new(void);
void imap_tok_free(imap_tok *t);
/* Returns 0, or -1 when memory is exhausted (the data is then dropped). */
int imap_tok_feed(imap_tok *t, const char *data, size_t len);
int imap_tok_next(imap_tok *t);
void imap_tok_set_line_mode(imap_tok *t);
/* Bytes fed and not yet consumed. */
size_t imap_tok_buffered(const imap_tok *t);
/* Bytes of memory the tokenizer holds (the struct and its buffers). */
size_t imap_tok_memory(const imap_tok *t);

#endif
