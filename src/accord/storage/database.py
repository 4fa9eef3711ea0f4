"""Engines and transactions.

SQLite (the embedded store): one writer connection, taken with ``BEGIN IMMEDIATE`` so a write transaction holds
the database's write lock from its first statement (no upgrade deadlocks), and a pool of readers; WAL lets the
readers run while the writer writes. PostgreSQL: one pooled engine for both; the audit chain's head row is
locked by each writing transaction, which is what serialises the chain across processes.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from accord.config import Settings
from accord.errors import ConfigError
from accord.storage.search import FullText, full_text_for

__all__ = ["Database"]

log = logging.getLogger("accord.storage")

# Pages the WAL may hold before the writer copies it into the database itself. SQLite's default (1,000 pages,
# 4 MB) made every few commits of a bulk write pay for a checkpoint: the random-key index pages each commit
# dirties were copied and synced again and again. The checkpointer thread below does that copying, off the
# writer's path; this is the bound if it falls behind or is not running.
WAL_AUTOCHECKPOINT_PAGES = 16384
WAL_SIZE_LIMIT_BYTES = 64 << 20  # the WAL file is truncated back to this after a checkpoint empties it


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
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        if not writer:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class _Checkpointer:
    """Copies the WAL into the database file from a thread of its own, shortly after writes commit.

    A passive checkpoint never takes the write lock, so the writer goes on committing while it runs, and SQLite
    leaves Python's GIL released while it copies and syncs pages: on a machine with a second core, the copying
    costs the writer nothing. Frames written again before the next checkpoint are copied once."""

    def __init__(self, path: str, interval_s: float = 0.25) -> None:
        self.path = path
        self.interval_s = interval_s
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def kick(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(target=self._run, name="accord-checkpoint", daemon=True)
                    self._thread.start()
        self._kick.set()

    def _run(self) -> None:
        con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._kick.wait()
                if self._stop.is_set():
                    return
                self._kick.clear()
                try:
                    con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # the writer's own autocheckpoint stays as the bound
                    log.warning("WAL checkpoint failed", exc_info=True)
                self._stop.wait(self.interval_s)  # at most one checkpoint per interval during a stream of writes
        finally:
            con.close()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(30)


class Database:
    """Owns the engines. ``write()`` yields a connection inside a transaction that commits on success and rolls
    back on any exception, so a service's unit of work never half-applies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.url
        self.dialect = "sqlite" if settings.is_sqlite else "postgresql"
        if not self.url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
            raise ConfigError("setting database_url (ACCORD_DATABASE_URL): must be a sqlite:///... or "
                              "postgresql://... URL")
        if self.dialect == "sqlite":
            path = self.url.split("sqlite:///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.writer = _sqlite_engine(self.url, writer=True, pool_size=1)
            self.reader = _sqlite_engine(self.url, writer=False, pool_size=settings.read_pool_size)
            self._checkpointer = _Checkpointer(path) if path and path != ":memory:" else None
        else:
            url = self.url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            self.writer = create_engine(url, pool_size=settings.read_pool_size, max_overflow=8, pool_pre_ping=True)
            self.reader = self.writer
            self._checkpointer = None
        self.full_text: FullText = full_text_for(self.dialect)
        self.writers_waiting = 0  # in this process, for write_background
        self.last_write = 0.0  # time.monotonic() of the last start or end of a foreground write() in this process
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
        if not background:
            self.last_write = time.monotonic()  # end too: a long write is activity until it ends
        if self._checkpointer is not None:
            self._checkpointer.kick()

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
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
