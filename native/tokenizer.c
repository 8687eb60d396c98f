/* The C IMAP tokenizer: frames a client stream into commands and splits them into lexical tokens.
 *
 * It is the exact twin of imapcore/syntax/pytokenizer.py, the executable specification of the
 * contract in imapcore/syntax/tokens.py (RFC 9051 §9 lexical rules, RFC 7888 literals, the size
 * limits, error resynchronisation). Like the Python twin it works a whole line at a time: a line is
 * tokenized only once its LF is buffered, so the result never depends on how the stream was chunked,
 * and the first offending byte of a line decides its error. Literal bytes are taken by count, in as
 * many pieces as they arrive. The states, checks and their order follow pytokenizer.py one for one;
 * read its docstring for the precise rules. See tokenizer.h for the bridge to Python.
 *
 * Memory: the input buffer holds what was fed and not consumed; a line is never held beyond
 * max_line_bytes + 1 bytes (a longer one is discarded as it arrives); the arena holds the current
 * command (bounded by max_command_bytes). Buffers are released when a command ends and they are big,
 * so an idle tokenizer is small.
 */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

enum {
    ST_LINE_START,   /* waiting for the first line of a command */
    ST_CONTINUATION, /* waiting for the line that follows a literal */
    ST_LITERAL,      /* taking literal bytes */
    ST_SKIP_LINE,    /* discarding to the end of a line */
    ST_SKIP_BYTES,   /* discarding a non-synchronizing literal */
    ST_LINE_MODE,    /* the next line is returned raw */
    ST_FATAL,
};

/* Token kinds: the values of imapcore.syntax.tokens.TokenKind. */
enum { K_SP = 1, K_LPAREN, K_RPAREN, K_LBRACKET, K_RBRACKET, K_WORD, K_QUOTED, K_LITERAL, K_LITERAL8 };

/* What a byte does at a token boundary. */
enum { C_BAD = 0, C_WORD, C_SP, C_LPAREN, C_RPAREN, C_LBRACKET, C_RBRACKET, C_QUOTE, C_BRACE, C_TILDE };

#define MAX_NUMBER64 UINT64_C(0x7fffffffffffffff)
/* Buffers bigger than these are freed between commands: an idle tokenizer holds at most
 * sizeof(imap_tok) + 512 + 32 * 9 + 256 bytes (about 1.3 KiB; 0.3 KiB before its first command). */
#define ARENA_KEEP 512
#define TOKENS_KEEP 32
#define INPUT_KEEP 256

static uint8_t byte_class[256];
static uint8_t word_byte[256];    /* RFC 9051 ATOM-CHAR plus ']' '%' '*' '\': continues a WORD */
static uint8_t tag_byte[256];     /* a WORD byte other than '+' (RFC 9051 tag) */
static uint8_t quoted_plain[256]; /* copied as it is inside a quoted string */
static int tables_ready;

static void init_tables(void)
{
    int c;
    for (c = 0x21; c <= 0x7e; c++)
        word_byte[c] = 1;
    word_byte['"'] = word_byte['('] = word_byte[')'] = word_byte['['] = word_byte[']'] = word_byte['{'] = 0;
    for (c = 0; c < 256; c++) {
        tag_byte[c] = word_byte[c] && c != '+';
        byte_class[c] = word_byte[c] ? C_WORD : C_BAD;
        quoted_plain[c] = c != 0 && c != '"' && c != '\\' && c != '\r' && c < 0x80;
    }
    byte_class[' '] = C_SP;
    byte_class['('] = C_LPAREN;
    byte_class[')'] = C_RPAREN;
    byte_class['['] = C_LBRACKET;
    byte_class[']'] = C_RBRACKET;
    byte_class['"'] = C_QUOTE;
    byte_class['{'] = C_BRACE;
    byte_class['~'] = C_TILDE;
    tables_ready = 1;
}

imap_tok *imap_tok_new(void)
{
    imap_tok *t;
    if (!tables_ready)
        init_tables();
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->state = ST_LINE_START;
    t->max_line_bytes = 64 * 1024;
    t->max_literal_bytes = 64 * 1024 * 1024;
    t->max_command_bytes = 65 * 1024 * 1024;
    t->max_literals_per_command = 1000;
    t->max_discard_bytes = 256 * 1024 * 1024;
    return t;
}

void imap_tok_free(imap_tok *t)
{
    if (!t)
        return;
    free(t->in);
    free(t->arena);
    free(t->kinds);
    free(t->ends);
    free(t);
}

size_t imap_tok_buffered(const imap_tok *t)
{
    return t->in_end - t->in_start;
}

/* ---- buffers ------------------------------------------------------------------------------------ */

static int grow(void **buf, size_t *cap, size_t need, size_t elem, size_t first)
{
    size_t c = *cap ? *cap : first;
    void *p;
    while (c < need) {
        if (c > ((size_t)-1) / 4 / elem)
            return 0;
        c *= 2;
    }
    p = realloc(*buf, c * elem);
    if (!p)
        return 0;
    *buf = p;
    *cap = c;
    return 1;
}

static inline int arena_reserve(imap_tok *t, size_t extra)
{
    if (t->arena_len + extra <= t->arena_cap)
        return 1;
    if (extra > ((size_t)-1) / 4)
        return 0;
    return grow((void **)&t->arena, &t->arena_cap, t->arena_len + extra, 1, 256);
}

static inline int push_token(imap_tok *t, int kind)
{
    if (t->ntokens == t->tokens_cap) {
        size_t cap = t->tokens_cap ? t->tokens_cap * 2 : 32;
        uint8_t *kinds;
        uint64_t *ends;
        if (cap > ((size_t)-1) / 4 / sizeof *ends)
            return 0;
        kinds = realloc(t->kinds, cap);
        if (!kinds)
            return 0;
        t->kinds = kinds;
        ends = realloc(t->ends, cap * sizeof *ends);
        if (!ends)
            return 0;
        t->ends = ends;
        t->tokens_cap = cap;
    }
    t->kinds[t->ntokens] = (uint8_t)kind;
    t->ends[t->ntokens] = t->arena_len;
    t->ntokens++;
    if (kind >= K_WORD)
        t->arena[t->arena_len++] = 0; /* separator; the caller reserved room for it */
    if (kind == K_LITERAL8)
        t->has_literal8 = 1;
    return 1;
}

int imap_tok_feed(imap_tok *t, const char *data, size_t len)
{
    size_t have;
    if (t->state == ST_FATAL || len == 0)
        return 0;
    have = t->in_end - t->in_start;
    if (t->in_end + len > t->in_cap) {
        /* Compact first: consumed bytes at the front are dead. */
        if (t->in_start) {
            memmove(t->in, t->in + t->in_start, have);
            t->in_start = 0;
            t->in_end = have;
        }
        if (have + len > t->in_cap) {
            if (len > ((size_t)-1) / 4 - have)
                return -1;
            if (!grow((void **)&t->in, &t->in_cap, have + len, 1, 256))
                return -1;
        }
    }
    memcpy(t->in + t->in_end, data, len);
    t->in_end += len;
    return 0;
}

/* Drop n bytes from the front of the input (the memory stays valid until imap_tok_next returns). */
static inline void consume(imap_tok *t, size_t n)
{
    t->in_start += n;
}

/* When everything fed was consumed, start the buffer afresh, and free it if it grew big. */
static void settle_input(imap_tok *t)
{
    if (t->in_start != t->in_end)
        return;
    t->in_start = t->in_end = 0;
    t->scan = 0;
    if (t->in_cap > INPUT_KEEP) {
        free(t->in);
        t->in = NULL;
        t->in_cap = 0;
    }
}

/* Index (from in_start) of the next LF, or -1; remembers how far it looked. */
static ptrdiff_t find_line_end(imap_tok *t)
{
    const uint8_t *base = t->in + t->in_start;
    size_t avail = t->in_end - t->in_start;
    const uint8_t *lf;
    if (t->scan >= avail) {
        t->scan = avail;
        return -1;
    }
    lf = memchr(base + t->scan, '\n', avail - t->scan);
    if (!lf) {
        t->scan = avail;
        return -1;
    }
    t->scan = 0;
    return lf - base;
}

static inline int too_long_now(const imap_tok *t)
{
    return (uint64_t)(t->in_end - t->in_start) > (uint64_t)t->max_line_bytes + 1;
}

/* ---- events ------------------------------------------------------------------------------------- */

static int error_event(imap_tok *t, int err, int with_tag, int fatal)
{
    t->error = err;
    t->has_tag = with_tag && t->has_tag;
    t->fatal = fatal;
    t->ntokens = 0;
    return IMAP_EV_ERROR;
}

/* Forget the command's tokens; release big buffers (an idle connection must be small). */
static void clear_tokens(imap_tok *t)
{
    t->ntokens = 0;
    t->arena_len = t->tag_len + 1;
    t->has_literal8 = 0;
}

static void release_big(imap_tok *t)
{
    if (t->arena_cap > ARENA_KEEP) {
        free(t->arena);
        t->arena = NULL;
        t->arena_cap = 0;
    }
    if (t->tokens_cap > TOKENS_KEEP) {
        free(t->kinds);
        free(t->ends);
        t->kinds = NULL;
        t->ends = NULL;
        t->tokens_cap = 0;
    }
}

/* The tag: a word without '+' at the start of the first line, followed by SP or the line end (RFC
 * 9051 `tag`). From the whole line when its LF is within max_line_bytes + 2 bytes, otherwise from that
 * head only, where the tag must be followed by SP. */
static int read_tag(imap_tok *t, ptrdiff_t lf)
{
    const uint8_t *s = t->in + t->in_start;
    size_t avail = t->in_end - t->in_start;
    uint64_t head_limit = (uint64_t)t->max_line_bytes + 2;
    size_t n, i = 0;
    int complete, found = 0;
    if (lf >= 0 && (uint64_t)lf < head_limit) {
        complete = 1;
        n = (size_t)lf;
    } else {
        complete = 0;
        n = (uint64_t)avail < head_limit ? avail : (size_t)head_limit;
    }
    while (i < n && tag_byte[s[i]])
        i++;
    if (i > 0) {
        if (i < n && s[i] == ' ')
            found = 1;
        else if (complete && (i == n || (i + 1 == n && s[i] == '\r')))
            found = 1;
    }
    t->ntokens = 0;
    t->arena_len = 0;
    t->tag_len = 0;
    t->has_tag = 0;
    t->has_literal8 = 0;
    if (!arena_reserve(t, i + 1)) {
        i = 0; /* out of memory: treated as no tag */
        found = 0;
        if (!arena_reserve(t, 1))
            return 0;
    }
    if (found) {
        memcpy(t->arena, s, i);
        t->tag_len = i;
        t->has_tag = 1;
    }
    t->arena[t->tag_len] = 0;
    t->arena_len = t->tag_len + 1;
    return 1;
}

/* Does the line content end with '{' 1*20DIGIT '+}'? (a non-synchronizing literal that the client
 * sends without waiting, RFC 7888 §4). Sizes too big for 64 bits saturate: they exceed every limit. */
static int skip_marker(const uint8_t *s, size_t n, uint64_t *size)
{
    size_t i, d;
    uint64_t v = 0;
    if (n < 4 || s[n - 1] != '}' || s[n - 2] != '+')
        return 0;
    i = n - 2;
    d = 0;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9' && d <= 20) {
        i--;
        d++;
    }
    if (d == 0 || d > 20 || i == 0 || s[i - 1] != '{')
        return 0;
    for (; i < n - 2; i++) {
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            v = UINT64_MAX;
        else
            v = v * 10 + digit;
    }
    *size = v;
    return 1;
}

static void start_skip_line(imap_tok *t, int err)
{
    t->skip_error = err;
    t->skip_reported = 0;
    t->skip_tail_len = 0;
    t->state = ST_SKIP_LINE;
}

/* Returns an event, or -1 to go on (the skip continues). */
static int discard_literal(imap_tok *t, uint64_t size, int err, int reported)
{
    clear_tokens(t);
    if (size > (uint64_t)t->max_discard_bytes) {
        /* RFC 7888 §4: too much to discard, the stream cannot be resynchronised. */
        t->state = ST_FATAL;
        t->in_start = t->in_end = 0;
        t->scan = 0;
        return error_event(t, err, 1, 1);
    }
    t->literal_need = size;
    t->skip_error = err;
    t->skip_reported = reported;
    t->state = ST_SKIP_BYTES;
    return -1;
}

/* A whole offending line was read: skip what its end announces, or end the skip. */
static int finish_skipped_line(imap_tok *t, const uint8_t *content, size_t n, int err, int reported)
{
    uint64_t size;
    clear_tokens(t);
    if (!skip_marker(content, n, &size)) {
        t->state = ST_LINE_START;
        return reported ? -1 : error_event(t, err, 1, 0);
    }
    return discard_literal(t, size, err, reported);
}

/* Strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
static int valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        int need;
        uint8_t lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else
            return 0;
        if (n - i <= (size_t)need)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (int k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return 0;
        i += (size_t)need + 1;
    }
    return 1;
}

/* A quoted string from s[pos] (just after the opening DQUOTE); RFC 9051 §4.3, §9 `quoted`.
 * Returns the position after the closing quote, or -err. */
static ptrdiff_t scan_quoted(imap_tok *t, const uint8_t *s, size_t n, size_t pos)
{
    uint8_t *out = t->arena + t->arena_len; /* reserved by the caller */
    size_t start = t->arena_len;
    int high = 0;
    while (pos < n) {
        size_t run = pos;
        uint8_t c;
        while (run < n && quoted_plain[s[run]])
            run++;
        if (run > pos) {
            memcpy(out, s + pos, run - pos);
            out += run - pos;
            pos = run;
            if (pos == n)
                break;
        }
        c = s[pos];
        if (c == '"') {
            t->arena_len = (size_t)(out - t->arena);
            if (high && !valid_utf8(t->arena + start, t->arena_len - start))
                return -IMAP_ERR_QUOTED_UTF8;
            if (!push_token(t, K_QUOTED))
                return -IMAP_ERR_NO_MEMORY;
            return (ptrdiff_t)(pos + 1);
        }
        if (c == '\\') {
            if (pos + 1 < n && (s[pos + 1] == '"' || s[pos + 1] == '\\')) {
                *out++ = s[pos + 1];
                pos += 2;
                continue;
            }
            return -IMAP_ERR_QUOTED_ESCAPE;
        }
        if (c == '\r' || c == 0)
            return -IMAP_ERR_QUOTED_CHAR;
        /* c >= 0x80 */
        if (!t->utf8)
            return -IMAP_ERR_QUOTED_8BIT;
        high = 1;
        *out++ = c;
        pos++;
    }
    return -IMAP_ERR_QUOTED_END;
}

/* Tokenize one line's content, appending its tokens. Returns 0 (no marker: the command is complete),
 * 1 (the line ends in a literal marker: literal8/size/sync filled in) or -err. */
static int tokenize(imap_tok *t, const uint8_t *s, size_t n, int *lit8, uint64_t *size, int *sync)
{
    size_t pos = 0;
    /* Values take at most n bytes, and at most n separators. */
    if (n > ((size_t)-1) / 4 || !arena_reserve(t, 2 * n))
        return -IMAP_ERR_NO_MEMORY;
    while (pos < n) {
        uint8_t c = s[pos];
        switch (byte_class[c]) {
        case C_SP:
        case C_LPAREN:
        case C_RPAREN:
        case C_LBRACKET:
        case C_RBRACKET:
            if (!push_token(t, byte_class[c] - C_SP + K_SP))
                return -IMAP_ERR_NO_MEMORY;
            pos++;
            break;
        case C_TILDE:
            if (pos + 1 < n && s[pos + 1] == '{')
                goto marker;
            /* a word that starts with '~' */
            /* fall through */
        case C_WORD: {
            size_t run = pos + 1;
            while (run < n && word_byte[s[run]])
                run++;
            memcpy(t->arena + t->arena_len, s + pos, run - pos);
            t->arena_len += run - pos;
            if (!push_token(t, K_WORD))
                return -IMAP_ERR_NO_MEMORY;
            pos = run;
            break;
        }
        case C_QUOTE: {
            ptrdiff_t r = scan_quoted(t, s, n, pos + 1);
            if (r < 0)
                return (int)r;
            pos = (size_t)r;
            break;
        }
        case C_BRACE:
            goto marker;
        default:
            return -IMAP_ERR_CHAR;
        }
    }
    return 0;

marker: {
    /* RFC 7888 / RFC 9051 §4.3: ~?{ 1*20DIGIT [+] } ending the line, value below 2^63. */
    size_t i = pos + (s[pos] == '~' ? 2 : 1), d = 0;
    uint64_t v = 0;
    int overflow = 0;
    *lit8 = s[pos] == '~';
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (v > (MAX_NUMBER64 - digit) / 10)
            overflow = 1;
        else
            v = v * 10 + digit;
        i++;
        d++;
    }
    if (d == 0 || d > 20)
        return -IMAP_ERR_MARKER;
    *sync = 1;
    if (i < n && s[i] == '+') {
        *sync = 0;
        i++;
    }
    if (i + 1 != n || s[i] != '}' || overflow)
        return -IMAP_ERR_MARKER;
    *size = v;
    return 1;
}
}

/* The marker's line is complete: RFC 7889 / RFC 9051 §7.1 TOOBIG checks, then NEED_LITERAL. */
static int begin_literal(imap_tok *t, int lit8, uint64_t size, int sync)
{
    if (size > (uint64_t)t->max_literal_bytes) {
        int r;
        if (sync) {
            t->state = ST_LINE_START;
            clear_tokens(t);
            return error_event(t, IMAP_ERR_LITERAL_TOOBIG, 1, 0);
        }
        r = discard_literal(t, size, IMAP_ERR_LITERAL_TOOBIG, 1);
        return r >= 0 ? r : error_event(t, IMAP_ERR_LITERAL_TOOBIG, 1, 0);
    }
    t->literal_count++;
    if (t->literal_count > (uint64_t)t->max_literals_per_command ||
        t->command_bytes + size > (uint64_t)t->max_command_bytes) {
        if (sync) {
            t->state = ST_LINE_START;
            clear_tokens(t);
            return error_event(t, IMAP_ERR_COMMAND_TOOBIG, 1, 0);
        }
        return discard_literal(t, size, IMAP_ERR_COMMAND_TOOBIG, 0);
    }
    t->command_bytes += size;
    t->literal_need = size;
    t->literal_start = t->arena_len;
    t->literal_kind = lit8 ? K_LITERAL8 : K_LITERAL;
    t->state = ST_LITERAL;
    t->literal_size = size;
    t->literal_sync = sync;
    t->literal8 = lit8;
    return IMAP_EV_NEED_LITERAL;
}

static int line_event(imap_tok *t)
{
    int first = t->state == ST_LINE_START;
    ptrdiff_t lf = find_line_end(t);
    const uint8_t *line;
    size_t n, line_bytes;
    int lit8 = 0, sync = 0, r;
    uint64_t size = 0;

    if (lf < 0 && !too_long_now(t))
        return IMAP_EV_NEED_MORE;
    if (first) {
        read_tag(t, lf);
        t->command_bytes = 0;
        t->literal_count = 0;
    }
    if (lf < 0) {
        /* Too long and still no line end: discard what we have and skip the rest of it. */
        start_skip_line(t, IMAP_ERR_LINE_TOO_LONG);
        return -1;
    }
    line = t->in + t->in_start;
    line_bytes = (size_t)lf + 1;
    n = (size_t)lf;
    if (n && line[n - 1] == '\r')
        n--;
    /* The line stays in the input buffer until this function returns: nothing is fed meanwhile. */
    consume(t, line_bytes);
    if ((uint64_t)n > (uint64_t)t->max_line_bytes)
        return finish_skipped_line(t, line, n, IMAP_ERR_LINE_TOO_LONG, 0);
    if (first && n == 0)
        return error_event(t, IMAP_ERR_EMPTY, 0, 0);
    t->command_bytes += line_bytes;
    if (t->command_bytes > (uint64_t)t->max_command_bytes)
        return finish_skipped_line(t, line, n, IMAP_ERR_COMMAND_TOOBIG, 0);
    r = tokenize(t, line, n, &lit8, &size, &sync);
    if (r < 0)
        return finish_skipped_line(t, line, n, -r, 0);
    if (r == 0) {
        t->state = ST_LINE_START;
        /* The kinds go after the last separator (they are never 0): one split gives everything. */
        if (!arena_reserve(t, t->ntokens)) {
            clear_tokens(t);
            return error_event(t, IMAP_ERR_NO_MEMORY, 1, 0);
        }
        memcpy(t->arena + t->arena_len, t->kinds, t->ntokens);
        t->arena_len += t->ntokens;
        return t->has_literal8 ? IMAP_EV_COMMAND_RAW : IMAP_EV_COMMAND;
    }
    return begin_literal(t, lit8, size, sync);
}

static int literal_event(imap_tok *t)
{
    size_t avail = t->in_end - t->in_start;
    size_t take = (uint64_t)avail < t->literal_need ? avail : (size_t)t->literal_need;
    if (take) {
        if (!arena_reserve(t, take + 1)) {
            /* out of memory: give up this command, discarding the rest of the literal */
            clear_tokens(t);
            t->skip_error = IMAP_ERR_NO_MEMORY;
            t->skip_reported = 1;
            t->state = ST_SKIP_BYTES;
            return error_event(t, IMAP_ERR_NO_MEMORY, 1, 0);
        }
        memcpy(t->arena + t->arena_len, t->in + t->in_start, take);
        t->arena_len += take;
        consume(t, take);
        t->literal_need -= take;
        t->scan = 0;
    }
    if (t->literal_need)
        return IMAP_EV_NEED_MORE;
    if (t->literal_kind == K_LITERAL) {
        /* RFC 9051 CHAR8: no NUL in a literal (a literal8 may hold one). */
        size_t start = (size_t)t->literal_start;
        if (memchr(t->arena + start, 0, t->arena_len - start)) {
            start_skip_line(t, IMAP_ERR_LITERAL_NUL);
            return -1;
        }
    }
    if (!arena_reserve(t, 1) || !push_token(t, t->literal_kind)) {
        start_skip_line(t, IMAP_ERR_NO_MEMORY);
        return -1;
    }
    t->state = ST_CONTINUATION;
    return -1;
}

static int skip_bytes_event(imap_tok *t)
{
    size_t avail = t->in_end - t->in_start;
    size_t take = (uint64_t)avail < t->literal_need ? avail : (size_t)t->literal_need;
    if (take) {
        consume(t, take);
        t->literal_need -= take;
        t->scan = 0;
    }
    if (t->literal_need)
        return IMAP_EV_NEED_MORE;
    t->skip_tail_len = 0;
    t->state = ST_SKIP_LINE;
    return -1;
}

/* Keep the last 32 bytes of the skipped line: enough to hold a marker (at most 24 bytes and a CR). */
static void tail_append(imap_tok *t, const uint8_t *s, size_t n)
{
    size_t keep = sizeof t->skip_tail;
    if (n >= keep) {
        memcpy(t->skip_tail, s + n - keep, keep);
        t->skip_tail_len = keep;
        return;
    }
    if (t->skip_tail_len + n > keep) {
        size_t drop = t->skip_tail_len + n - keep;
        memmove(t->skip_tail, t->skip_tail + drop, t->skip_tail_len - drop);
        t->skip_tail_len -= drop;
    }
    memcpy(t->skip_tail + t->skip_tail_len, s, n);
    t->skip_tail_len += n;
}

static int skip_line_event(imap_tok *t)
{
    ptrdiff_t lf = find_line_end(t);
    size_t n;
    if (lf < 0) {
        /* Never buffer the skipped line: only its tail could matter. */
        tail_append(t, t->in + t->in_start, t->in_end - t->in_start);
        consume(t, t->in_end - t->in_start);
        t->scan = 0;
        return IMAP_EV_NEED_MORE;
    }
    tail_append(t, t->in + t->in_start, (size_t)lf);
    consume(t, (size_t)lf + 1);
    n = t->skip_tail_len;
    t->skip_tail_len = 0;
    if (n && t->skip_tail[n - 1] == '\r')
        n--;
    if (t->skip_in_line_mode) {
        /* A too-long LINE: nothing it announces is a literal (it was not a command). */
        t->skip_in_line_mode = 0;
        t->state = ST_LINE_START;
        return error_event(t, t->skip_error, 0, 0);
    }
    return finish_skipped_line(t, t->skip_tail, n, t->skip_error, t->skip_reported);
}

static int line_mode_event(imap_tok *t)
{
    ptrdiff_t lf = find_line_end(t);
    const uint8_t *line;
    size_t n;
    if (lf < 0) {
        if (too_long_now(t)) {
            start_skip_line(t, IMAP_ERR_LINE_TOO_LONG);
            t->skip_in_line_mode = 1;
            return -1;
        }
        return IMAP_EV_NEED_MORE;
    }
    line = t->in + t->in_start;
    n = (size_t)lf;
    if (n && line[n - 1] == '\r')
        n--;
    t->state = ST_LINE_START;
    t->ntokens = 0;
    t->tag_len = 0;
    t->arena_len = 0;
    if ((uint64_t)n > (uint64_t)t->max_line_bytes) {
        consume(t, (size_t)lf + 1);
        return error_event(t, IMAP_ERR_LINE_TOO_LONG, 0, 0);
    }
    if (memchr(line, 0, n)) {
        consume(t, (size_t)lf + 1);
        return error_event(t, IMAP_ERR_LINE_NUL, 0, 0);
    }
    if (!arena_reserve(t, n)) {
        consume(t, (size_t)lf + 1);
        return error_event(t, IMAP_ERR_NO_MEMORY, 0, 0);
    }
    memcpy(t->arena, line, n);
    t->arena_len = n;
    consume(t, (size_t)lf + 1);
    return IMAP_EV_LINE;
}

void imap_tok_set_line_mode(imap_tok *t)
{
    /* Between commands (IDLE's DONE, AUTHENTICATE responses). */
    if (t->state != ST_FATAL)
        t->state = ST_LINE_MODE;
}

size_t imap_tok_memory(const imap_tok *t)
{
    return sizeof *t + t->in_cap + t->arena_cap + t->tokens_cap * (1 + sizeof(uint64_t));
}

int imap_tok_next(imap_tok *t)
{
    /* Between commands the previous one's values were read by the wrapper: big buffers can go. */
    if ((t->state == ST_LINE_START || t->state == ST_LINE_MODE) &&
        (t->arena_cap > ARENA_KEEP || t->tokens_cap > TOKENS_KEEP))
        release_big(t);
    for (;;) {
        int ev;
        switch (t->state) {
        case ST_LINE_START:
        case ST_CONTINUATION:
            ev = line_event(t);
            break;
        case ST_LITERAL:
            ev = literal_event(t);
            break;
        case ST_SKIP_LINE:
            ev = skip_line_event(t);
            break;
        case ST_SKIP_BYTES:
            ev = skip_bytes_event(t);
            break;
        case ST_LINE_MODE:
            ev = line_mode_event(t);
            break;
        default:
            settle_input(t);
            return IMAP_EV_NEED_MORE;
        }
        if (ev >= 0) {
            settle_input(t);
            t->out = (char *)t->arena;
            return ev;
        }
    }
}
