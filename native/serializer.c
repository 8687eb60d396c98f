/* FETCH response assembly: many messages' FETCH responses written into one buffer.
 *
 * The Python side (imapcore/protocol/fetch.py) hands over the batch *by column*: one int64 array per
 * numeric item and, per byte-string item, one blob with every row's value concatenated plus an int64
 * array of lengths (-1: the row has no such item, or NIL for a body). Building those columns costs a
 * few C-level passes in Python (zip, map(len, ...), b"".join), never a Python loop per field; the
 * per-field work (number formatting, separators, literal headers) is done here.
 *
 * The output is byte for byte what the pure-Python twin (fetch.py, _row_bytes) writes:
 *
 *   * <seq> FETCH (UID <n> FLAGS (<flags>) INTERNALDATE "<date>" RFC822.SIZE <n> MODSEQ (<n>)
 *                  ENVELOPE <env> BODYSTRUCTURE <bs> <extra-name> <extra-value>...
 *                  <body-name> {<len>}\r\n<data> | <body-name> ~{<len>}\r\n<data> | <body-name> NIL...)\r\n
 *
 * items absent from a row are left out (with their separating space). A body containing NUL goes out
 * as a literal8 (RFC 9051 §4.3: a literal is CHAR8, which excludes NUL; BINARY responses use literal8).
 *
 * One function does both passes: with out == NULL it only counts, so the size and the writing can
 * never disagree. Lengths are trusted (the wrapper built them from the blobs); no input can make it
 * write past the counted size.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct imc_fetch_columns {
    const int64_t *seq;
    const int64_t *uid;
    const int64_t *size;
    const int64_t *modseq;
    const char *flags;
    const int64_t *flags_len;
    const char *date;
    const int64_t *date_len;
    const char *envelope;
    const int64_t *envelope_len;
    const char *bodystructure;
    const int64_t *bodystructure_len;
    const int64_t *extra_count;
    const char *extra_names;
    const int64_t *extra_name_len;
    const char *extra_values;
    const int64_t *extra_value_len;
    const int64_t *body_count;
    const char *body_names;
    const int64_t *body_name_len;
    const char *body_data;
    const int64_t *body_data_len;
} imc_fetch_columns;

size_t imc_fetch_assemble(size_t nrows, const imc_fetch_columns *c, char *out);

/* Append `len` bytes (or only count them when out is NULL). */
#define PUT(src, len)                                   \
    do {                                                \
        size_t put_len_ = (size_t)(len);                \
        if (out) memcpy(out + pos, (src), put_len_);    \
        pos += put_len_;                                \
    } while (0)
#define PUTS(lit) PUT((lit), sizeof(lit) - 1)
#define PUTC(ch)                                        \
    do {                                                \
        if (out) out[pos] = (ch);                       \
        pos += 1;                                       \
    } while (0)
#define PUTN(value)                                     \
    do {                                                \
        char num_[24];                                  \
        size_t num_len_ = format_u64(num_, (uint64_t)(value)); \
        PUT(num_, num_len_);                            \
    } while (0)
/* A space before every item but the first of a row. */
#define SEP() do { if (first) first = 0; else PUTC(' '); } while (0)

static size_t format_u64(char *buf, uint64_t value)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    return n;
}

size_t imc_fetch_assemble(size_t nrows, const imc_fetch_columns *c, char *out)
{
    size_t pos = 0;
    size_t flags_off = 0, date_off = 0, env_off = 0, bs_off = 0;
    size_t extra_i = 0, extra_name_off = 0, extra_value_off = 0;
    size_t body_i = 0, body_name_off = 0, body_data_off = 0;

    for (size_t r = 0; r < nrows; r++) {
        int first = 1;
        PUTS("* ");
        PUTN(c->seq[r]);
        PUTS(" FETCH (");
        if (c->uid && c->uid[r] >= 0) {
            SEP();
            PUTS("UID ");
            PUTN(c->uid[r]);
        }
        if (c->flags_len && c->flags_len[r] >= 0) {
            SEP();
            PUTS("FLAGS (");
            PUT(c->flags + flags_off, c->flags_len[r]);
            flags_off += (size_t)c->flags_len[r];
            PUTC(')');
        }
        if (c->date_len && c->date_len[r] >= 0) {
            SEP();
            PUTS("INTERNALDATE \"");
            PUT(c->date + date_off, c->date_len[r]);
            date_off += (size_t)c->date_len[r];
            PUTC('"');
        }
        if (c->size && c->size[r] >= 0) {
            SEP();
            PUTS("RFC822.SIZE ");
            PUTN(c->size[r]);
        }
        if (c->modseq && c->modseq[r] >= 0) {
            SEP();
            PUTS("MODSEQ (");
            PUTN(c->modseq[r]);
            PUTC(')');
        }
        if (c->envelope_len && c->envelope_len[r] >= 0) {
            SEP();
            PUTS("ENVELOPE ");
            PUT(c->envelope + env_off, c->envelope_len[r]);
            env_off += (size_t)c->envelope_len[r];
        }
        if (c->bodystructure_len && c->bodystructure_len[r] >= 0) {
            SEP();
            PUTS("BODYSTRUCTURE ");
            PUT(c->bodystructure + bs_off, c->bodystructure_len[r]);
            bs_off += (size_t)c->bodystructure_len[r];
        }
        if (c->extra_count) {
            for (int64_t k = 0; k < c->extra_count[r]; k++, extra_i++) {
                SEP();
                PUT(c->extra_names + extra_name_off, c->extra_name_len[extra_i]);
                extra_name_off += (size_t)c->extra_name_len[extra_i];
                PUTC(' ');
                PUT(c->extra_values + extra_value_off, c->extra_value_len[extra_i]);
                extra_value_off += (size_t)c->extra_value_len[extra_i];
            }
        }
        if (c->body_count) {
            for (int64_t k = 0; k < c->body_count[r]; k++, body_i++) {
                SEP();
                PUT(c->body_names + body_name_off, c->body_name_len[body_i]);
                body_name_off += (size_t)c->body_name_len[body_i];
                int64_t len = c->body_data_len[body_i];
                if (len < 0) {
                    PUTS(" NIL");
                    continue;
                }
                const char *data = c->body_data + body_data_off;
                body_data_off += (size_t)len;
                if (memchr(data, 0, (size_t)len)) PUTS(" ~{");
                else PUTS(" {");
                PUTN(len);
                PUTS("}\r\n");
                PUT(data, len);
            }
        }
        PUTS(")\r\n");
    }
    return pos;
}
