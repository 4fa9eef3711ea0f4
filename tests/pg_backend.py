"""The PostgreSQL half of the test suite: one database per pytest-xdist worker, migrated once, reset per test.

Why reset by TRUNCATE rather than a database per test: creating a database from a template costs a few hundred
milliseconds, a TRUNCATE of every table well under a hundred, and the suite runs every test on both backends.
Rows that the migrations themselves insert (the audit chain's head, anything a feature seeds) are read once after
migrating and put back after each TRUNCATE, so features need not tell this module about their tables.

Environment:
  ACCORD_TEST_POSTGRES_URL  server to use (default postgresql://postgres@127.0.0.1:5432/test); the per-worker
                            databases are created through it and dropped at the end of the run
  ACCORD_TEST_BACKENDS      comma-separated subset of "sqlite,postgres" (default both)
  CI=true                   an unreachable server fails the run instead of skipping the postgres half
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

__all__ = ["BACKENDS", "PgTestDatabase", "admin_url", "worker_database_name"]

BACKENDS = [b.strip() for b in os.environ.get("ACCORD_TEST_BACKENDS", "sqlite,postgres").split(",") if b.strip()]


def admin_url() -> str:
    return os.environ.get("ACCORD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def worker_database_name(worker_id: str, root: Path) -> str:
    """Unique per checkout and worker, so several checkouts can run their suites against one server at once."""
    tag = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]
    return f"accord_test_{tag}_{worker_id}".lower()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _connect_admin(url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        # Some machines run the server with a "root" role instead of "postgres".
        if "postgres@" in url:
            return psycopg.connect(url.replace("postgres@", "root@"), autocommit=True, connect_timeout=3)
        raise


class PgTestDatabase:
    """A database of its own for one test worker."""

    def __init__(self, server_url: str, name: str) -> None:
        self.server_url = server_url
        self.name = name
        self.url = ""
        self._tables: list[str] = []
        self._seed: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        self._reset_sql: sql.Composed | None = None

    def create(self) -> None:
        with _connect_admin(self.server_url) as admin:
            user = admin.info.user
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
            try:
                # Bytewise text order, as SQLite's, so tests that sort names agree on both backends.
                admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' "
                                      "LC_CTYPE 'C.UTF-8'").format(sql.Identifier(self.name)))
            except psycopg.errors.DatabaseError:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.url = _with_database(self.server_url.replace("postgres@", f"{user}@", 1), self.name)
        self._migrate()

    def _migrate(self) -> None:
        from accord.config import load_settings
        from accord.storage.database import Database

        db = Database(load_settings(env={}, data="/nonexistent-accord-test", database_url=self.url,
                                    secret_key="t" * 40))
        try:
            db.migrate()
        finally:
            db.dispose()
        with psycopg.connect(self.url) as conn:
            self._tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
                "ORDER BY tablename")]
            for t in self._tables:
                cur = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(t)))
                rows = cur.fetchall()
                if rows:
                    self._seed[t] = ([d.name for d in cur.description or []], rows)

    def reset(self) -> None:
        """Empty every table, restart every sequence and put the migrations' own rows back, in one round trip.

        DELETE with foreign-key triggers off (``session_replication_role = replica``) is several times faster
        than TRUNCATE on tables this small; TRUNCATE is the fallback for a role that may not switch triggers."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            # A test that leaked a connection (a server thread, an unclosed engine) would block the reset.
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
                "ORDER BY tablename")]
            if tables != self._tables or self._reset_sql is None:
                self._tables = tables
                self._reset_sql = self._build_reset(conn, tables)
            conn.execute(self._reset_sql)

    def _build_reset(self, conn: psycopg.Connection[Any], tables: list[str]) -> sql.Composed:
        seqs = [r[0] for r in conn.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences "
            "WHERE schemaname = 'public'")]
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        parts: list[sql.Composable] = [sql.SQL("BEGIN")]
        if superuser and superuser[0]:
            parts.append(sql.SQL("SET LOCAL session_replication_role = replica"))
            parts += [sql.SQL("DELETE FROM {}").format(sql.Identifier(t)) for t in tables]
            parts += [sql.SQL("SELECT setval({}, 1, false)").format(sql.Literal(q)) for q in seqs]
        elif tables:
            parts.append(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in tables)))
        for t, (cols, rows) in self._seed.items():
            parts.append(sql.SQL("INSERT INTO {} ({}) VALUES {}").format(
                sql.Identifier(t), sql.SQL(", ").join(sql.Identifier(c) for c in cols),
                sql.SQL(", ").join(sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(v) for v in row))
                                   for row in rows)))
        parts.append(sql.SQL("COMMIT"))
        return sql.SQL("; ").join(parts)

    def drop(self) -> None:
        with _connect_admin(self.server_url) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
