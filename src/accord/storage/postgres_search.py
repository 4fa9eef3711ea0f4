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

import unicodedata
from collections.abc import Iterable

from sqlalchemy import BigInteger, Connection, Select, column, false, func, select, table, text

from accord.storage.search import query_terms

__all__ = ["MAX_INDEXED_CHARS", "PostgresFullText", "fold"]

# A tsvector is limited to 1 MB; a report body may be up to a million characters of varied words. The first
# 250,000 characters of the text (the title always) are indexed, which covers every realistic report.
MAX_INDEXED_CHARS = 250_000

_TATWEEL = "\u0640"
# Arabic and Persian spell the same names with different yeh and kaf letters; one form matches both.
_LETTERS = str.maketrans({"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"})
# Russian й is a letter of its own, not и with an accent: it is kept (ё still folds to е, as Russian writing does).
_KEEP = frozenset("йЙ")

fts = table("items_fts", column("seq", BigInteger), column("doc"))


def fold(value: str) -> str:
    """Lower-case, strip combining marks (Latin accents, ё, Arabic harakat and hamza seats) and tatweel, and unify
    Arabic/Persian yeh and kaf."""
    if value.isascii():
        return value.lower()
    out = []
    for ch in value:
        if ch in _KEEP or ch.isascii():
            out.append(ch)
            continue
        for part in unicodedata.normalize("NFKD", ch):
            if not unicodedata.combining(part) and part != _TATWEEL:
                out.append(part)
    return "".join(out).translate(_LETTERS).casefold()


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

    def index(self, conn: Connection, rows: Iterable[tuple[int, str, str]]) -> None:
        rows = list(rows)
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
