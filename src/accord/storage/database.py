"""Engines and transactions.

SQLite (the embedded store): one writer connection, taken with ``BEGIN IMMEDIATE`` so a write transaction holds
the database's write lock from its first statement (no upgrade deadlocks), and a pool of readers; WAL lets the
readers run while the writer writes. PostgreSQL: one pooled engine for both; the audit chain's head row is
locked by each writing transaction, which is what serialises the chain across processes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from accord.config import Settings
from accord.storage.search import FullText, full_text_for

__all__ = ["Database"]


def _sqlite_engine(url: str, *, writer: bool, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=1 if writer else pool_size,
        max_overflow=0,
        pool_timeout=60,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off; SQLAlchemy's "begin" event emits ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        if not writer:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    """Owns the engines. ``write()`` yields a connection inside a transaction that commits on success and rolls
    back on any exception, so a service's unit of work never half-applies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.url
        self.dialect = "sqlite" if settings.is_sqlite else "postgresql"
        if self.dialect == "sqlite":
            path = self.url.split("sqlite:///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.writer = _sqlite_engine(self.url, writer=True, pool_size=1)
            self.reader = _sqlite_engine(self.url, writer=False, pool_size=settings.read_pool_size)
        else:
            url = self.url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            self.writer = create_engine(url, pool_size=settings.read_pool_size, max_overflow=8, pool_pre_ping=True)
            self.reader = self.writer
        self.full_text: FullText = full_text_for(self.dialect)
        self.writers_waiting = 0  # in this process, for write_background
        self.last_write = 0.0  # time.monotonic() of the last foreground write() in this process
        self._waiting_lock = threading.Lock()

    @contextlib.contextmanager
    def write(self, *, background: bool = False) -> Iterator[Connection]:
        if not background:
            self.last_write = time.monotonic()
        with contextlib.ExitStack() as stack:
            with self._waiting_lock:
                self.writers_waiting += 1
            try:
                conn = stack.enter_context(self.writer.begin())
            finally:
                with self._waiting_lock:
                    self.writers_waiting -= 1
            yield conn

    @contextlib.contextmanager
    def write_background(self) -> Iterator[Connection]:
        """``write()`` for background work: on SQLite (one writer at a time) it first lets writers of this
        process that are waiting go ahead, so background work never holds up a request for long."""
        if self.dialect == "sqlite":
            for _ in range(200):
                if not self.writers_waiting:
                    break
                time.sleep(0.005)
        with self.write(background=True) as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.reader.connect() as conn, conn.begin():
            yield conn

    def migrate(self) -> None:
        from accord.storage.migrate import upgrade

        upgrade(self)

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
