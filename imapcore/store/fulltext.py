"""The full-text index behind SEARCH BODY and TEXT: the folded text once, and a trigram index of its words.

Two tables per blob (schema version 2):

* ``blob_fulltext(num, header, body)``: the search-folded text (``imapcore.mail.search.search_fold``) of
  the decoded header lines and of the decoded text parts, exactly as before. It is the ground truth a
  candidate is checked against with ``instr`` (IMAP's substring semantics).
* ``blob_terms``: a contentless FTS5 table with the trigram tokenizer over the *distinct words* of those
  two texts (``index_terms``: whitespace-separated words, first occurrences in order, joined by one space).

Why distinct words: building the trigram index was the largest cost of a delivery (1.3 ms of SQLite
time for a 20 KB text, more than parsing, hashing and the fsyncs together) and it grows with every
occurrence of a trigram. A needle piece without whitespace can only occur inside one word of the text, so
an index of each word once still finds it; the phrase query on the piece's trigrams (detail=full keeps
their order) matches exactly "the piece is a substring of some indexed word", because a run of trigrams
without a space cannot straddle the single spaces joining the words. Hence:

* a needle that is one piece of three or more characters: the index alone answers, exactly;
* a needle with whitespace: every piece of three or more characters must match (the index narrows the
  candidates), then ``instr`` over the stored folded text checks the whole needle;
* a needle whose pieces are all shorter than three characters: ``instr`` over the stored text.

Why contentless: the text is already stored once in ``blob_fulltext``; an FTS5 content table would store
it a second time. A contentless row is removed with FTS5's ``'delete'`` command, which must be given the
indexed values: they are recomputed from ``blob_fulltext`` (``index_terms`` is a pure function of it), so
removal (``delete``) always reads the stored text first. Should the two ever disagree (a crash cannot
cause it: both change in one transaction), the index only returns extra candidates, never misses one
that ``insert`` indexed.

Deferred indexing (schema version 4, ``fulltext_pending``): a delivery stores the folded text
(``blob_fulltext``) and records the blob as pending, in its own transaction; the trigram index of its
words is built later, in batches, by ``index_pending`` (as Dovecot's full-text indexing is lazy). Why,
measured (20 KB generated messages, the shared 2-core machine): ``index_terms`` of a 20 KB text is
0.2 ms of Python per delivery, paid holding the GIL that every other delivery (and the group-commit
leader) waits for; and an FTS5 insert per transaction writes about 11 WAL pages (a new segment and its
merges), where a batch of 20 documents writes 1.4 per document at a fifth of the CPU (0.03 instead of
0.16 ms). Deliveries get cheaper, and the index is cheaper to build in batches.

The words are extracted by ``native/terms.c`` where it is built (``index_terms_c``; cffi releases the
GIL, so the indexer runs beside the deliveries' parsing), and the indexer reads the stored texts and
hands the words to SQLite as UTF-8 bytes (``index_terms_utf8``, CAST to TEXT in SQL): no conversion of
20 KB texts in Python. ``index_terms_py`` is the specification both twins are tested against.

SEARCH stays exact at every moment, with no catch-up: ``condition`` adds to the index's answer the
pending blobs whose stored text contains the needle (``instr``, the check used everywhere else), in the
same read snapshot. A crash loses no work: the pending row commits with the delivery, the index rows
with the pending row's removal. Who runs ``index_pending``: the delivering thread that finds, after its
acknowledgement, ``DeliveryOperations.fulltext_batch`` blobs waiting (so the backlog stays bounded and
the batches efficient, with no thread of its own), and anyone through ``Store.index_pending()``.
"""

from __future__ import annotations

from imapcore._native import use_c


#: The schema of version 2 (see schema.py), also used by the migration from version 1.
SCHEMA = (
    "CREATE TABLE blob_fulltext (num INTEGER PRIMARY KEY, header TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE VIRTUAL TABLE blob_terms USING fts5(header, body, content = '', tokenize = 'trigram case_sensitive 1')",
)

#: The trigram tokenizer needs three characters for a token.
MIN_PIECE = 3


def index_terms_py(folded: str) -> str:
    """The text the trigram index gets for ``folded``: each word once, in order. Words are separated by
    whitespace (``str.split()``) and by NUL (FTS5 stops reading a string at a NUL). The specification of
    the C twin ``native/terms.c``."""
    if "\0" in folded:
        folded = folded.replace("\0", " ")
    return " ".join(dict.fromkeys(folded.split()))


try:
    from imapcore._cterms import ffi as _ffi, lib as _lib
except ImportError:  # not built (no compiler at install time)
    _ffi = _lib = None

#: Below this many characters the Python twin is as fast as the trip through cffi.
_C_FROM = 256


def index_terms_c(folded: str) -> str:
    """``index_terms_py`` computed by ``native/terms.c`` with the GIL released (cffi drops it for the
    call), so the deferred indexer's word extraction runs beside the deliveries' parsing."""
    if _lib is None:
        raise RuntimeError("imapcore._cterms is not built")
    try:
        data = folded.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8, the twin handles it
        return index_terms_py(folded)
    return _index_terms_utf8_c(data).decode("utf-8")


def _index_terms_utf8_c(folded: bytes) -> bytes:
    out = _ffi.new("char[]", len(folded) or 1)
    written = _lib.imc_index_terms(folded, len(folded), out)
    if written < 0:  # out of memory, or over 2 GiB: the twin
        return index_terms_py(folded.decode("utf-8", "surrogatepass")).encode("utf-8", "surrogatepass")
    return _ffi.unpack(out, written)


def index_terms_utf8(folded: bytes) -> bytes:
    """``index_terms`` of a text given and returned as UTF-8 bytes (the deferred indexer reads the stored
    text as bytes and hands the words back to SQLite as bytes: no decoding and re-encoding of a 20 KB
    text twice per message while holding the GIL)."""
    if not use_c(_lib):
        return index_terms_py(folded.decode("utf-8", "surrogatepass")).encode("utf-8", "surrogatepass")
    return _index_terms_utf8_c(folded)


def _index_terms_fast(folded: str) -> str:
    return index_terms_c(folded) if len(folded) >= _C_FROM else index_terms_py(folded)


if use_c(_lib):
    index_terms = _index_terms_fast
    TERMS_IMPLEMENTATION = "C (cffi)"
else:
    index_terms = index_terms_py
    TERMS_IMPLEMENTATION = "python"


def insert(conn, num: int, header: str | bytes, body: str | bytes, header_terms: str | bytes | None = None,
           body_terms: str | bytes | None = None) -> None:
    """Index blob ``num`` now; ``header``/``body`` are search-folded, as str or as UTF-8 bytes (what
    ``delivery.prepare_blob`` gives), stored as TEXT either way. The terms may be computed beforehand
    (outside the writer lock) with ``index_terms``/``index_terms_utf8``."""

    def terms(text):
        return index_terms_utf8(text) if isinstance(text, bytes) else index_terms(text)

    conn.execute("INSERT INTO blob_fulltext (num, header, body) VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT))",
                 (num, header, body))
    conn.execute(
        "INSERT INTO blob_terms (rowid, header, body) VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT))",
        (num, terms(header) if header_terms is None else header_terms,
         terms(body) if body_terms is None else body_terms),
    )


def insert_pending(conn, num: int, header: bytes, body: bytes) -> None:
    """Store blob ``num``'s search-folded texts (UTF-8, stored as TEXT) and leave its words to
    ``index_pending`` (what a delivery does, "Deferred indexing")."""
    conn.execute("INSERT INTO blob_fulltext (num, header, body) VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT))",
                 (num, header, body))
    conn.execute("INSERT INTO fulltext_pending (num) VALUES (?)", (num,))


def delete(conn, num: int) -> bool:
    """Remove blob ``num`` from both tables; False if it had no full-text row.

    A pending blob is not in the trigram index (and a contentless FTS5 'delete' of values never inserted
    corrupts the index): removing its pending row is all the index needs, and its text is not even read
    (a message expunged soon after delivery, the common case, is still pending). An indexed blob's
    words are recomputed from its stored text for the FTS5 'delete' (bytes in, bytes out, as the
    indexer inserted them)."""
    if conn.execute("DELETE FROM fulltext_pending WHERE num = ?", (num,)).rowcount:
        return conn.execute("DELETE FROM blob_fulltext WHERE num = ?", (num,)).rowcount > 0
    row = conn.execute(
        "SELECT CAST(header AS BLOB), CAST(body AS BLOB) FROM blob_fulltext WHERE num = ?", (num,)
    ).fetchone()
    if row is None:
        return False
    conn.execute(
        "INSERT INTO blob_terms (blob_terms, rowid, header, body) "
        "VALUES ('delete', ?, CAST(? AS TEXT), CAST(? AS TEXT))",
        (num, index_terms_utf8(row[0]), index_terms_utf8(row[1])),
    )
    conn.execute("DELETE FROM blob_fulltext WHERE num = ?", (num,))
    return True


def delete_many(conn, nums: list[int]) -> None:
    """``delete`` for several blobs, with one statement per table for those still pending (the common
    case: a collection of messages expunged soon after delivery); indexed ones one by one."""
    for start in range(0, len(nums), 500):
        chunk = nums[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        pending = {num for (num,) in conn.execute(
            f"DELETE FROM fulltext_pending WHERE num IN ({marks}) RETURNING num", chunk)}
        for num in chunk:
            if num not in pending:
                delete(conn, num)  # indexed (or no text): its words go out of the index
        conn.execute(f"DELETE FROM blob_fulltext WHERE num IN ({marks})", chunk)


#: The largest blob number SQLite can give (a rowid), for "no bound" in ``up_to``.
MAX_NUM = 2**63 - 1


def index_pending(store, limit: int = 256, up_to: int | None = None) -> int:
    """Index up to ``limit`` pending blobs (oldest first; only numbers up to ``up_to`` if given) in one
    transaction; how many were indexed.

    The texts are read and their words computed outside the writer lock. Under it, only blobs still
    pending *and still the same blob* (a collected blob's number may be given again) are indexed, and
    their pending rows removed, in a relaxed transaction: nothing can be lost, since until it is on disk
    the pending rows are not removed either. Safe to call from several threads.
    """
    # The texts as UTF-8 bytes and the words back as bytes, made TEXT again by CAST in SQL (the same
    # value FTS5 gets from a str, without two conversions in Python per text).
    rows = store._reader().execute(
        "SELECT p.num, b.id, CAST(c.header AS BLOB), CAST(c.body AS BLOB) FROM fulltext_pending p "
        "JOIN blobs b ON b.num = p.num JOIN blob_fulltext c ON c.num = p.num WHERE p.num <= ? "
        "ORDER BY p.num LIMIT ?",
        (MAX_NUM if up_to is None else up_to, limit),
    ).fetchall()
    if not rows:
        return 0
    values = [
        (num, blob_id, index_terms_utf8(header), index_terms_utf8(body)) for num, blob_id, header, body in rows
    ]
    indexed = 0
    with store._transaction(durable=False) as tx:
        conn = tx.conn
        for start in range(0, len(values), 200):
            chunk = values[start:start + 200]
            source = (
                "FROM (VALUES " + ", ".join(["(?, ?, ?, ?)"] * len(chunk)) + ") AS v JOIN fulltext_pending p "
                "ON p.num = v.column1 JOIN blobs b ON b.num = v.column1 AND b.id = v.column2"
            )
            params = [value for row in chunk for value in row]
            conn.execute(
                "INSERT INTO blob_terms (rowid, header, body) "
                f"SELECT v.column1, CAST(v.column3 AS TEXT), CAST(v.column4 AS TEXT) {source}", params
            )
            indexed += conn.execute(
                f"DELETE FROM fulltext_pending WHERE num IN (SELECT v.column1 {source})", params
            ).rowcount
    return indexed


def pending_count(conn) -> int:
    """Blobs not in the trigram index yet."""
    return conn.execute("SELECT count(*) FROM fulltext_pending").fetchone()[0]


def _phrase(piece: str) -> str:
    return '"' + piece.replace('"', '""') + '"'


def condition(needle: str, *, body_only: bool, param) -> str:
    """An SQL condition on ``m.blob`` for BODY (``body_only``) or TEXT with the search-folded ``needle``.

    ``param(value)`` registers a parameter and returns its placeholder, in the order of the SQL text.
    """
    if needle == "":
        return "1"
    # FTS5 query strings end at a NUL, so a NUL splits pieces too (the text check still sees it).
    pieces = list(
        dict.fromkeys(piece for word in needle.split() for piece in word.split("\0") if len(piece) >= MIN_PIECE)
    )
    exact = len(pieces) == 1 and pieces[0] == needle  # one word: the index answers exactly
    column = "body : " if body_only else ""

    def check() -> str:
        if body_only:
            return f"instr(c.body, {param(needle)}) > 0"
        first = param(needle)
        return f"(instr(c.header, {first}) > 0 OR instr(c.body, {param(needle)}) > 0)"

    if not pieces:  # the stored texts alone, pending blobs included
        return f"m.blob IN (SELECT c.num FROM blob_fulltext c WHERE {check()})"
    query = param(" AND ".join(column + _phrase(piece) for piece in pieces))
    if exact:
        indexed = f"m.blob IN (SELECT rowid FROM blob_terms WHERE blob_terms MATCH {query})"
    else:
        indexed = (
            "m.blob IN (SELECT c.num FROM blob_terms t CROSS JOIN blob_fulltext c ON c.num = t.rowid "
            f"WHERE blob_terms MATCH {query} AND {check()})"
        )
    # Blobs not in the trigram index yet: their stored text, checked the same way ("Deferred indexing").
    # CROSS JOIN makes SQLite walk the (short) pending list and look each text up: left to itself the
    # planner scanned every stored text and probed the pending list, 60 ms over 100,000 messages with
    # nothing pending, ten times the index lookup itself.
    pending = (
        f"m.blob IN (SELECT c.num FROM fulltext_pending p CROSS JOIN blob_fulltext c ON c.num = p.num "
        f"WHERE {check()})"
    )
    return f"({indexed} OR {pending})"
