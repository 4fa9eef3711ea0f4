"""Bulk inserts of positional rows, for the ingest path.

SQLAlchemy Core's ``conn.execute(table.insert(), [dict, ...])`` processes every parameter of every row in Python
(key lookup, type processors), which costs more than SQLite's own work for a large batch. Ingest builds plain tuples
in column order and hands them to the driver's ``executemany`` in one call. Only for types the drivers adapt
natively (str, int, float, bool, None), which is all the core's tables use.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table

__all__ = ["delete_where_in", "existing_values", "insert_rows", "rows_where_in"]


@lru_cache(maxsize=64)
def _sql(paramstyle: str, table: str, columns: tuple[str, ...]) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    # Table and column names come from the schema in code, never from input.
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608


def insert_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) into ``table`` with one executemany."""
    if rows:
        conn.exec_driver_sql(_sql(conn.dialect.paramstyle, table.name, columns), rows)


def existing_values(conn: Connection, table: Table, column: str, values: Sequence[Any], chunk: int = 500) -> list[Any]:
    """Which of ``values`` are already stored in ``table.column`` (an indexed column): a uniqueness check for a
    whole batch in a few statements, without SQLAlchemy compiling an IN list of hundreds of parameters each time."""
    return [r[0] for r in rows_where_in(conn, table.name, (column,), column, values, chunk)]


def _marks(conn: Connection, n: int) -> str:
    return ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * n)


def rows_where_in(conn: Connection, table: str, columns: tuple[str, ...], column: str, values: Sequence[Any],
                  chunk: int = 500) -> list[tuple[Any, ...]]:
    """``columns`` of the rows of ``table`` whose ``column`` (indexed) is one of ``values``, as tuples: a batch
    lookup in a few statements, without SQLAlchemy compiling an IN list of hundreds of parameters each time.
    Table and column names must come from the schema in code, never from input."""
    head = f"SELECT {', '.join(columns)} FROM {table} WHERE {column} IN "  # noqa: S608
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), chunk):
        part = tuple(values[start:start + chunk])
        found.extend(tuple(r) for r in conn.exec_driver_sql(head + f"({_marks(conn, len(part))})", part))
    return found


def delete_where_in(conn: Connection, table: str, column: str, values: Sequence[Any], chunk: int = 500) -> None:
    """DELETE the rows of ``table`` whose ``column`` is one of ``values``, in statements of ``chunk`` values (a
    DELETE built by SQLAlchemy for each write cost more to compile than to run). Names come from the schema."""
    for start in range(0, len(values), chunk):
        part = tuple(values[start:start + chunk])
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE {column} IN ({_marks(conn, len(part))})", part)  # noqa: S608
