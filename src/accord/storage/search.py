"""Full-text search behind a small interface: SQLite FTS5 here; PostgreSQL supplies its own implementation.

Queries are user text, never FTS syntax: each word becomes a quoted phrase term (a trailing ``*`` keeps prefix
search), so punctuation in a query can neither break nor widen the match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import Connection, Select, column, select, table, text

__all__ = ["FullText", "SqliteFullText", "full_text_for", "query_terms"]

_WORD = re.compile(r"[\w\u0600-\u06ff\u0400-\u04ff*]+", re.UNICODE)


def query_terms(query: str) -> list[tuple[str, bool]]:
    """Split user text into (word, is_prefix) terms."""
    terms = []
    for raw in _WORD.findall(query):
        prefix = raw.endswith("*")
        word = raw.strip("*")
        if word:
            terms.append((word, prefix))
    return terms[:32]


class FullText(Protocol):
    def index(self, conn: Connection, rows: Iterable[tuple[int, str, str]]) -> None:
        """(item seq, title, text) rows, replacing what was indexed for those items."""

    def insert(self, conn: Connection, rows: list[tuple[int, str, str]]) -> None:
        """Rows for items indexed for the first time (fast path for bulk ingest)."""

    def matching(self, query: str) -> Select[tuple[int]]:
        """A SELECT of the item seqs whose text matches the query."""


fts = table("items_fts", column("rowid"), column("title"), column("text"))


class SqliteFullText:
    def insert(self, conn: Connection, rows: list[tuple[int, str, str]]) -> None:
        if rows:
            conn.exec_driver_sql("INSERT INTO items_fts(rowid, title, text) VALUES (?, ?, ?)", rows)

    def index(self, conn: Connection, rows: Iterable[tuple[int, str, str]]) -> None:
        rows = list(rows)
        if rows:
            conn.exec_driver_sql("DELETE FROM items_fts WHERE rowid = ?", [(r[0],) for r in rows])
            self.insert(conn, rows)

    def matching(self, query: str) -> Select[tuple[int]]:
        terms = query_terms(query)
        if not terms:
            return select(fts.c.rowid).where(text("0"))
        expr = " ".join('"' + w.replace('"', '""') + '"' + ("*" if p else "") for w, p in terms)
        return select(fts.c.rowid).where(text("items_fts MATCH :fts_q").bindparams(fts_q=expr))


def full_text_for(dialect: str) -> FullText:
    if dialect == "sqlite":
        return SqliteFullText()
    from accord.storage.postgres_search import PostgresFullText  # type: ignore[import-not-found,unused-ignore]

    return PostgresFullText()  # type: ignore[no-any-return,unused-ignore]
