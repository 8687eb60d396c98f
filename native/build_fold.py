"""cffi build script of SEARCH's text folding (out-of-line API mode): ``imapcore._cfold``.

The tables (casefold + NFKD of every code point, and the combining classes) are generated here from the
building interpreter's ``unicodedata``, the one pip builds for and imapcore then runs on; the module
records that Unicode version and ``imapcore/mail/search.py`` uses it only when the running interpreter
has the same one (see ``native/fold.c``). ``setup.py`` picks up ``ffibuilder`` from every
``native/build_*.py``; when the build fails the pure-Python twin is used. Run directly
(``python native/build_fold.py``) it builds the extension in place, into ``imapcore/_cfold*.so``.
"""

import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cffi exec()s this file: native/ is not on sys.path
import cffibuild  # noqa: E402

CDEF = """
long imc_search_fold(const char *text, size_t length, char *out, size_t capacity);
const char *imc_fold_unidata_version(void);
"""


def _c_string(data: bytes) -> str:
    return '"' + "".join(f"\\x{byte:02x}" for byte in data) + '"'


def generate_tables() -> str:
    """C definitions of FOLD_CP/FOLD_OFF/FOLD_POOL, CCC_CP/CCC_VALUE and FOLD_UNIDATA_VERSION."""
    fold_cps, offsets, pool = [], [0], bytearray()
    ccc_cps, ccc_values = [], []
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        klass = unicodedata.combining(char)
        if klass:
            ccc_cps.append(cp)
            ccc_values.append(klass)
        if 0xAC00 <= cp <= 0xD7A3:
            continue  # Hangul syllables: decomposed arithmetically in fold.c
        folded = unicodedata.normalize("NFKD", char.casefold())
        if folded != char:
            fold_cps.append(cp)
            pool += folded.encode("utf-8")
            offsets.append(len(pool))
    growth = max(
        len(unicodedata.normalize("NFKD", chr(cp).casefold()).encode("utf-8")) / len(chr(cp).encode("utf-8"))
        for cp in fold_cps
    )

    def numbers(values) -> str:
        return ",".join(map(str, values))

    pool_lines = "\n".join(_c_string(bytes(pool[i:i + 64])) for i in range(0, len(pool), 64))
    return (
        f"#define FOLD_N {len(fold_cps)}\n#define CCC_N {len(ccc_cps)}\n"
        f"#define FOLD_MAX_GROWTH {int(growth) + 1}\n"
        f"static const uint32_t FOLD_CP[FOLD_N] = {{{numbers(fold_cps)}}};\n"
        f"static const uint32_t FOLD_OFF[FOLD_N + 1] = {{{numbers(offsets)}}};\n"
        f"static const char FOLD_POOL[] =\n{pool_lines};\n"
        f"static const uint32_t CCC_CP[CCC_N] = {{{numbers(ccc_cps)}}};\n"
        f"static const uint8_t CCC_VALUE[CCC_N] = {{{numbers(ccc_values)}}};\n"
        f'static const char FOLD_UNIDATA_VERSION[] = "{unicodedata.unidata_version}";\n'
        "int imc_fold_max_growth(void) { return FOLD_MAX_GROWTH; }\n"
    )


def make_builder():
    return cffibuild.inline_extension(
        "_cfold", CDEF + "int imc_fold_max_growth(void);\n",
        "#include <stdint.h>\n" + generate_tables() + '#include "fold.c"\n',
    )


ffibuilder = make_builder()

if __name__ == "__main__":
    cffibuild.main(make_builder, "fold")
