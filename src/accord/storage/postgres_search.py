"""Full-text search on PostgreSQL: a ``tsvector`` per item in ``items_fts(seq, doc)`` with a GIN index.

Why the ``simple`` configuration and folding in Python: the hub's text is Arabic, Persian, Russian, French and
English, often mixed in one item, and no single stemming dictionary is right for all of them (an English stemmer
mangles transliterated Arabic names; there is no Persian one). ``simple`` only lower-cases, which is what SQLite's
FTS5 ``unicode61`` tokenizer does too, so both backends find the same items for the same query. Accents and Arabic
diacritics (harakat, tatweel) are folded here before the text reaches PostgreSQL, the equivalent of FTS5's
``remove_diacritics 2``; doing it in Python rather than with the ``unaccent`` extension keeps the index
independent of which contrib modules a server has, and the fold applies identically to documents and queries.

Queries are user text, never tsquery syntax: every word becomes a quoted lexeme (``'word'``, or ``'word':*`` for a
trailing ``*``), all ANDed, so punctuation can neither break nor widen a query.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from sqlalchemy import BigInteger, Connection, Select, column, false, func, select, table, text

from accord.storage.search import query_terms

__all__ = ["MAX_INDEXED_CHARS", "PostgresFullText", "fold"]

# A tsvector is limited to 1 MB; a report body may be up to a million characters of varied words. The first
# 250,000 characters of the text (the title always) are indexed, which covers every realistic report.
MAX_INDEXED_CHARS = 250_000

_TATWEEL = "\u0640"
# Arabic and Persian spell the same names with different yeh and kaf letters; one form (the Persian) matches both.
# Russian й is a letter of its own, not и with an accent: it is kept (ё still folds to е, as Russian writing does).
_HIDE_KEEP = str.maketrans({"й": "\ue000", "Й": "\ue001"})

fts = table("items_fts", column("seq", BigInteger), column("doc"))


@functools.cache
def _strip_table() -> dict[int, int | None]:
    """str.translate table: every code point with a combining class (accents, harakat, ...) and tatweel removed,
    Arabic yeh and kaf mapped to the Persian forms, й's stand-ins put back. Built on first use."""
    out: dict[int, int | None] = {c: None for c in range(0x300, 0x20000) if unicodedata.combining(chr(c))}
    out[ord(_TATWEEL)] = None
    out.update({0x064A: 0x06CC, 0x0649: 0x06CC, 0x0643: 0x06A9, 0xE000: ord("й"), 0xE001: ord("Й")})
    return out


def fold(value: str) -> str:
    """Lower-case, strip combining marks (Latin accents, ё, Arabic harakat and hamza seats) and tatweel, and unify
    Arabic/Persian yeh and kaf."""
    if value.isascii():
        return value.lower()
    kept = value.translate(_HIDE_KEEP)  # й survives decomposition as a private-use stand-in
    return unicodedata.normalize("NFKD", kept).translate(_strip_table()).casefold()


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_text(query: str) -> str | None:
    """The tsquery source for user text, or None when it has no words."""
    parts = []
    for word, prefix in query_terms(query):
        w = fold(word)
        if w:
            parts.append(_lexeme(w) + (":*" if prefix else ""))
    return " & ".join(parts) if parts else None


# The title weighs more than the body; both go through the same 'simple' configuration as the queries.
_INSERT = ("INSERT INTO items_fts (seq, doc) "
           "VALUES (:s, setweight(to_tsvector('simple', :t), 'A') || to_tsvector('simple', :x))")
_UPSERT = _INSERT + " ON CONFLICT (seq) DO UPDATE SET doc = EXCLUDED.doc"


class PostgresFullText:
    def insert(self, conn: Connection, rows: list[tuple[int, str, str]]) -> None:
        if rows:
            conn.execute(
                text(_INSERT),
                [{"s": seq, "t": fold(title), "x": fold(body[:MAX_INDEXED_CHARS])} for seq, title, body in rows],
            )

    def clear(self, conn: Connection) -> None:
        conn.execute(text("DELETE FROM items_fts"))

    def index(self, conn: Connection, rows: Iterable[tuple[int, str, str]],
              old: Iterable[tuple[int, str, str]] = ()) -> None:
        rows = list(rows)  # an upsert: the old entry needs no naming
        if rows:
            conn.execute(
                text(_UPSERT),
                [{"s": seq, "t": fold(title), "x": fold(body[:MAX_INDEXED_CHARS])} for seq, title, body in rows],
            )

    def matching(self, query: str) -> Select[tuple[int]]:
        q = tsquery_text(query)
        if q is None:
            return select(fts.c.seq).where(false())
        return select(fts.c.seq).where(fts.c.doc.op("@@")(func.to_tsquery("simple", q)))
