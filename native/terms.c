/* The words of a search-folded text for the trigram index: each distinct word once, in order.
 *
 * The C twin of ``index_terms`` in imapcore/store/fulltext.py, which is its specification:
 *
 *     " ".join(dict.fromkeys(folded.replace("\0", " ").split()))
 *
 * Why in C: on a 20 KB message that line is about 0.1 ms of Python per text, all of it holding the GIL
 * that every other delivery waits for (the largest single cost of the deferred indexer). cffi releases
 * the GIL around the call, so here it runs on another core while deliveries parse.
 *
 * The text arrives as UTF-8. A word is a maximal run of bytes that are not separators; separators are
 * NUL and the UTF-8 encodings of exactly the code points for which Python's str.isspace() is true (the
 * set str.split() splits on):
 *
 *     U+0009..U+000D, U+001C..U+001F, U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029,
 *     U+202F, U+205F, U+3000
 *
 * Every multi-byte separator starts with a lead byte (C2, E1, E2, E3) that never occurs inside another
 * character's encoding, so matching at a lead byte cannot split a character. Distinct words are kept in
 * an open-addressing hash set of (offset, length) pairs into the input; the output is at most as long as
 * the input (words are copied once, joined by one space), so the caller sizes it to the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the separator starting at p (0 if none), p < end. */
static size_t separator_at(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        return (c == 0 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) ? 1 : 0;
    }
    size_t left = (size_t)(end - p);
    if (c == 0xC2) {
        return (left >= 2 && (p[1] == 0x85 || p[1] == 0xA0)) ? 2 : 0;
    }
    if (left < 3) {
        return 0;
    }
    if (c == 0xE1) {
        return (p[1] == 0x9A && p[2] == 0x80) ? 3 : 0; /* U+1680 */
    }
    if (c == 0xE2) {
        if (p[1] == 0x80) {
            unsigned char d = p[2];
            /* U+2000..U+200A, U+2028, U+2029, U+202F */
            return ((d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF) ? 3 : 0;
        }
        return (p[1] == 0x81 && p[2] == 0x9F) ? 3 : 0; /* U+205F */
    }
    if (c == 0xE3) {
        return (p[1] == 0x80 && p[2] == 0x80) ? 3 : 0; /* U+3000 */
    }
    return 0;
}

typedef struct {
    uint32_t offset;
    uint32_t length; /* 0: empty slot (a word is never empty) */
} slot_t;

static uint64_t hash_word(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static int grow(slot_t **slots, size_t *capacity, const unsigned char *start)
{
    size_t bigger = *capacity << 1;
    slot_t *fresh = calloc(bigger, sizeof(slot_t));
    if (fresh == NULL) {
        return -1;
    }
    for (size_t k = 0; k < *capacity; k++) {
        slot_t slot = (*slots)[k];
        if (slot.length == 0) {
            continue;
        }
        size_t i = (size_t)hash_word(start + slot.offset, slot.length) & (bigger - 1);
        while (fresh[i].length != 0) {
            i = (i + 1) & (bigger - 1);
        }
        fresh[i] = slot;
    }
    free(*slots);
    *slots = fresh;
    *capacity = bigger;
    return 0;
}

/* Byte classes: 0 inside a word, 1 an ASCII separator, 2 the lead byte of a possible multi-byte one. */
static unsigned char byte_class[256];
static int classes_ready;

static void init_classes(void)
{
    for (int c = 0; c < 256; c++) {
        unsigned char p[1] = {(unsigned char)c};
        byte_class[c] = c < 0x80 ? (unsigned char)separator_at(p, p + 1) : 0;
    }
    byte_class[0xC2] = byte_class[0xE1] = byte_class[0xE2] = byte_class[0xE3] = 2;
    classes_ready = 1; /* idempotent: a race between two first calls writes the same values */
}

/* Write the distinct words of text[0:length] into out (capacity >= length), joined by one space.
 * Returns the number of bytes written, or -1 if memory ran out or the text is 2 GiB or more (the caller
 * then uses the Python twin). The hash set starts at about one slot per four bytes and doubles at half
 * full; the word's hash is computed while it is scanned. */
long imc_index_terms(const char *text, size_t length, char *out)
{
    const unsigned char *start = (const unsigned char *)text;
    const unsigned char *end = start + length;
    if (length > 0x7FFFFFFFu) {
        return -1;
    }
    if (!classes_ready) {
        init_classes();
    }
    size_t capacity = 64;
    while (capacity < length / 4) {
        capacity <<= 1;
    }
    size_t used = 0;
    slot_t *slots = calloc(capacity, sizeof(slot_t));
    if (slots == NULL) {
        return -1;
    }
    char *w = out;
    const unsigned char *p = start;
    while (p < end) {
        unsigned char k = byte_class[*p];
        if (k == 1) {
            p++;
            continue;
        }
        if (k == 2) {
            size_t sep = separator_at(p, end);
            if (sep) {
                p += sep;
                continue;
            }
        }
        const unsigned char *word = p;
        uint64_t h = 1469598103934665603ULL; /* FNV-1a, as hash_word */
        while (p < end) {
            k = byte_class[*p];
            if (k == 1 || (k == 2 && separator_at(p, end))) {
                break;
            }
            h = (h ^ *p) * 1099511628211ULL;
            p++;
        }
        h ^= h >> 29;
        size_t n = (size_t)(p - word);
        size_t i = (size_t)h & (capacity - 1);
        for (;;) {
            slot_t *slot = &slots[i];
            if (slot->length == 0) {
                slot->offset = (uint32_t)(word - start);
                slot->length = (uint32_t)n;
                if (w != out) {
                    *w++ = ' ';
                }
                memcpy(w, word, n);
                w += n;
                if (++used * 2 > capacity && grow(&slots, &capacity, start) != 0) {
                    free(slots);
                    return -1;
                }
                break;
            }
            if (slot->length == n && memcmp(start + slot->offset, word, n) == 0) {
                break; /* seen before */
            }
            i = (i + 1) & (capacity - 1);
        }
    }
    free(slots);
    return (long)(w - out);
}
