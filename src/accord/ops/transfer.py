"""Moving a whole hub between stores: ``accord migrate`` (SQLite -> PostgreSQL, or back) and the portable backup.

Why generic: every feature adds its own tables to the one ``metadata``; copying ``metadata.sorted_tables`` (parents
before children, so foreign keys hold at every insert) moves them all without this module knowing them. What is
not in ``metadata`` is derived data, rebuilt rather than copied: the full-text index (FTS5 on SQLite, tsvector on
PostgreSQL), re-indexed from each item's stored body with the same code that indexes a new item.

Guarantees:
- the source is read in one snapshot (SQLite read transaction; PostgreSQL REPEATABLE READ), so a hub that is
  still serving copies consistently, though writes made after the snapshot are not copied;
- the target is written in one transaction: a failure leaves it as it was;
- the audit chain is copied record for record with its head, so it verifies on the target; one more record,
  ``hub.migrated``, is then appended to the target's chain;
- PostgreSQL sequences are moved past the copied keys, so new rows do not collide.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, inspect, select, text

import accord
from accord.audit.chain import AuditEvent, AuditLog
from accord.errors import Conflict
from accord.sharing.items import fts_row
from accord.storage.database import Database
from accord.storage.schema import items, members, metadata, users

__all__ = ["CopyReport", "all_tables", "copy_store", "index_rows"]

# Tables that exist in a store but are derived or bookkeeping, never copied row by row.
_NOT_COPIED = {"alembic_version", "items_fts", "sqlite_sequence", "sqlite_stat1"}


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    indexed: int = 0
    not_copied: list[str] = field(default_factory=list)  # tables found in the source that no module declares


def all_tables() -> list[Table]:
    """Every table in ``metadata``, parents first, after importing each feature's ``tables`` module."""
    for mod in pkgutil.walk_packages(accord.__path__, "accord."):
        if mod.name.endswith(".tables"):
            importlib.import_module(mod.name)
    return list(metadata.sorted_tables)


def _rows(conn: Connection, table: Table, batch: int) -> Iterator[list[dict[str, Any]]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(yield_per=batch).execute(select(table).order_by(*order))
    for part in result.partitions(batch):
        yield [r._asdict() for r in part]


def index_rows(conn: Connection, after: int = 0, batch: int = 2000) -> Iterator[list[tuple[int, str, str]]]:
    """(seq, title, text) for every item, as the full-text index wants them, derived from the stored body."""
    last = after
    while True:
        rows = conn.execute(select(items.c.seq, items.c.id, items.c.kind, items.c.body)
                            .where(items.c.seq > last).order_by(items.c.seq).limit(batch)).all()
        if not rows:
            return
        out = [fts_row(int(r.seq), r.id, r.kind, r.body) for r in rows]
        yield out
        last = rows[-1].seq


def _snapshot(db: Database) -> Any:
    conn = db.reader.connect()
    if db.dialect == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    for t in tables:
        col = t.autoincrement_column
        if col is None:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": col.name}).scalar()
        if seq:
            top = conn.execute(select(func.max(col))).scalar()
            conn.execute(text("SELECT setval(:s, :v, :called)"),
                         {"s": seq, "v": int(top) if top is not None else 1, "called": top is not None})


def target_is_empty(db: Database) -> bool:
    with db.read() as conn:
        return all(conn.execute(select(func.count()).select_from(t)).scalar_one() == 0 for t in (members, users, items))


def copy_store(source: Database, target: Database, *, batch: int = 5000, replace: bool = False,
               progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy every table from ``source`` to ``target`` (both already migrated to the same heads)."""
    if not replace and not target_is_empty(target):
        raise Conflict("the target store already holds members, users or items; refusing to overwrite it")
    tables = all_tables()
    report = CopyReport()
    known = {t.name for t in tables} | _NOT_COPIED
    src_names = inspect(source.reader).get_table_names()
    report.not_copied = sorted(n for n in src_names if n not in known and not n.startswith("items_fts_"))
    with _snapshot(source) as src, src.begin(), target.write() as dst:
        target.full_text.clear(dst)  # first: on PostgreSQL it references items
        for t in reversed(tables):
            dst.execute(t.delete())
        for t in tables:
            n = 0
            for rows in _rows(src, t, batch):
                dst.execute(t.insert(), rows)
                n += len(rows)
                if progress:
                    progress(t.name, len(rows))
            report.rows[t.name] = n
        for chunk in index_rows(src):
            target.full_text.insert(dst, chunk)
            report.indexed += len(chunk)
            if progress:
                progress("items_fts", len(chunk))
        if target.dialect == "postgresql":
            _reset_sequences(dst, tables)
        AuditLog(target).append(dst, [AuditEvent("hub.migrated", detail={
            "from": source.dialect, "rows": sum(report.rows.values()), "items": report.rows.get("items", 0)})])
    if target.dialect == "postgresql":
        # Fresh statistics, or the planner guesses from an empty table until autovacuum gets round to it.
        with target.writer.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return report
