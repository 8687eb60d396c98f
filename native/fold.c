/* SEARCH's comparison form of a text, in C: casefold, then NFKD (the C twin of ``search_fold_py`` in
 * imapcore/mail/search.py, which is its specification: ``unicodedata.normalize("NFKD", text.casefold())``).
 *
 * Why in C: a delivery folds the decoded text of every message it stores (the ground truth of SEARCH
 * BODY/TEXT), about 0.13 ms of Python for 20 KB, all of it holding the GIL that the other deliveries and
 * the group-commit leader wait for. cffi releases the GIL around the call.
 *
 * How it stays exact. Both steps work character by character, except NFKD's canonical ordering:
 *
 *   * casefold (full case folding, CaseFolding.txt C+F) maps each character on its own, without context;
 *   * NFKD = canonical ordering of the full compatibility decomposition, and the decomposition is per
 *     character; canonical ordering stably sorts every run of characters with a non-zero combining class
 *     by that class.
 *
 * So fold(s) = order(concat(T[c] for c in s)) with T[c] = NFKD(casefold(c)): a stable sort of runs that
 * were each already sorted gives the same result as sorting the raw concatenation. ``build_fold.py``
 * computes T for every code point from the building interpreter's own ``unicodedata`` (the one that will
 * run imapcore: pip builds with it) and the combining classes, and records the Unicode version; the
 * Python wrapper uses this only if the running ``unicodedata`` has that same version. Hangul syllables
 * are decomposed arithmetically (Unicode §3.12) instead of tabled. A test checks every code point alone
 * and random strings against the specification.
 *
 * Input and output are UTF-8 (the wrapper encodes; a string with a lone surrogate goes to the Python
 * twin). ASCII is lower-cased inline: casefold and NFKD of ASCII are plain lower-casing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Generated tables (see build_fold.py), included before this file:
 *   static const uint32_t FOLD_CP[FOLD_N];       sorted code points whose T[c] != c (Hangul excluded)
 *   static const uint32_t FOLD_OFF[FOLD_N + 1];   T[c] is FOLD_POOL[FOLD_OFF[i] .. FOLD_OFF[i + 1]]
 *   static const char FOLD_POOL[];                the UTF-8 of every T[c]
 *   static const uint32_t CCC_CP[CCC_N];         sorted code points with a non-zero combining class
 *   static const uint8_t CCC_VALUE[CCC_N];
 *   static const char FOLD_UNIDATA_VERSION[];
 */

static long find(const uint32_t *table, size_t n, uint32_t cp)
{
    size_t low = 0, high = n;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (table[middle] < cp) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return (low < n && table[low] == cp) ? (long)low : -1;
}

static unsigned combining_class(uint32_t cp)
{
    if (cp < 0x300) {
        return 0; /* the first non-zero class is U+0300 */
    }
    long i = find(CCC_CP, CCC_N, cp);
    return i < 0 ? 0 : CCC_VALUE[i];
}

/* Decode one character of valid UTF-8 (the wrapper's own encoding); returns its length. */
static size_t decode(const unsigned char *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] < 0xE0) {
        *cp = ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (p[0] < 0xF0) {
        *cp = ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        return 3;
    }
    *cp = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) | ((uint32_t)(p[2] & 0x3F) << 6)
          | (p[3] & 0x3F);
    return 4;
}

static size_t encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

#define RUN_MAX 64

/* Canonical ordering of out[0:length] in place: every run of non-zero combining classes is stably
 * sorted by class (the bytes are only permuted, so the length does not change). A run longer than
 * RUN_MAX characters makes the call fail (-1), and the wrapper use the Python twin. */
static int reorder(unsigned char *out, size_t length)
{
    size_t i = 0;
    while (i < length) {
        if (out[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = decode(out + i, &cp);
        unsigned klass = combining_class(cp);
        if (klass == 0) {
            i += n;
            continue;
        }
        /* A run starts at i: collect it. */
        uint32_t cps[RUN_MAX];
        unsigned classes[RUN_MAX];
        size_t count = 0, start = i, sorted = 1;
        while (i < length && out[i] >= 0x80) {
            n = decode(out + i, &cp);
            klass = combining_class(cp);
            if (klass == 0) {
                break;
            }
            if (count == RUN_MAX) {
                return -1;
            }
            if (count && classes[count - 1] > klass) {
                sorted = 0;
            }
            cps[count] = cp;
            classes[count] = klass;
            count++;
            i += n;
        }
        if (sorted) {
            continue;
        }
        for (size_t a = 1; a < count; a++) { /* insertion sort: stable */
            uint32_t c = cps[a];
            unsigned k = classes[a];
            size_t b = a;
            while (b > 0 && classes[b - 1] > k) {
                cps[b] = cps[b - 1];
                classes[b] = classes[b - 1];
                b--;
            }
            cps[b] = c;
            classes[b] = k;
        }
        size_t w = start;
        for (size_t a = 0; a < count; a++) {
            w += encode(cps[a], out + w);
        }
    }
    return 0;
}

const char *imc_fold_unidata_version(void)
{
    return FOLD_UNIDATA_VERSION;
}

/* Fold text[0:length] (valid UTF-8) into out (capacity bytes). Returns the length written, -2 if out
 * is too small (the wrapper retries with FOLD_MAX_GROWTH times the input), -1 on a combining run too
 * long to reorder here (the wrapper uses the Python twin). */
long imc_search_fold(const char *text, size_t length, char *out, size_t capacity)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + length;
    unsigned char *w = (unsigned char *)out;
    unsigned char *limit = w + capacity;
    int non_ascii = 0;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            if (w == limit) {
                return -2;
            }
            *w++ = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
            p++;
            continue;
        }
        non_ascii = 1;
        uint32_t cp;
        size_t n = decode(p, &cp);
        if (cp >= 0xAC00 && cp <= 0xD7A3) { /* Hangul syllable: L V (T), Unicode §3.12 */
            uint32_t s = cp - 0xAC00;
            uint32_t jamo[3] = {0x1100 + s / 588, 0x1161 + (s % 588) / 28, 0x11A7 + s % 28};
            if ((size_t)(limit - w) < 9) {
                return -2;
            }
            w += encode(jamo[0], w);
            w += encode(jamo[1], w);
            if (jamo[2] != 0x11A7) {
                w += encode(jamo[2], w);
            }
        } else {
            long i = find(FOLD_CP, FOLD_N, cp);
            const unsigned char *from = p;
            size_t size = n;
            if (i >= 0) {
                from = (const unsigned char *)FOLD_POOL + FOLD_OFF[i];
                size = FOLD_OFF[i + 1] - FOLD_OFF[i];
            }
            if ((size_t)(limit - w) < size) {
                return -2;
            }
            memcpy(w, from, size);
            w += size;
        }
        p += n;
    }
    size_t written = (size_t)(w - (unsigned char *)out);
    if (non_ascii && reorder((unsigned char *)out, written) != 0) {
        return -1;
    }
    return (long)written;
}
