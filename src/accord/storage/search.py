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
    def index(self, conn: Connection, rows: Iterable[tuple[int, str, str]],
              old: Iterable[tuple[int, str, str]] = ()) -> None:
        """(item seq, title, text) rows, replacing what was indexed for those items; ``old`` are the rows as they
        were indexed before (SQLite's contentless index needs them to remove an entry)."""

    def clear(self, conn: Connection) -> None:
        """Remove every entry."""

    def insert(self, conn: Connection, rows: list[tuple[int, str, str]]) -> None:
        """Rows for items indexed for the first time (fast path for bulk ingest)."""

    def matching(self, query: str) -> Select[tuple[int]]:
        """A SELECT of the item seqs whose text matches the query."""


fts = table("items_fts", column("rowid"), column("title"), column("text"))


class SqliteFullText:
    """FTS5 contentless (``content=''``, migration 0009_fts): the index keeps tokens only, not a second copy of
    every title and text (the items table has them), which halves its cost per write. SQLite before 3.43 removes
    an entry of a contentless table only when given the values it was indexed with, hence ``old``."""

    def insert(self, conn: Connection, rows: list[tuple[int, str, str]]) -> None:
        if rows:
            conn.exec_driver_sql("INSERT INTO items_fts(rowid, title, text) VALUES (?, ?, ?)", rows)

    def index(self, conn: Connection, rows: Iterable[tuple[int, str, str]],
              old: Iterable[tuple[int, str, str]] = ()) -> None:
        rows, old = list(rows), list(old)
        if {r[0] for r in rows} - {o[0] for o in old}:
            raise ValueError("replacing an entry of the contentless index needs the values it was indexed with")
        if old:
            conn.exec_driver_sql("INSERT INTO items_fts(items_fts, rowid, title, text) VALUES ('delete', ?, ?, ?)",
                                 old)
        self.insert(conn, rows)

    def clear(self, conn: Connection) -> None:
        conn.exec_driver_sql("INSERT INTO items_fts(items_fts) VALUES ('delete-all')")

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
