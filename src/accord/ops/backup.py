"""``accord backup`` / ``accord restore`` for both backends.

Formats, told apart by their first bytes on restore:
- ``sqlite``: a SQLite database file. For the embedded store it is made with SQLite's online backup API (a
  consistent copy while the hub keeps serving). For PostgreSQL it is the *portable* logical dump: every table
  copied into a fresh SQLite store by ``transfer.copy_store``; it restores into either backend.
- ``pg_dump``: PostgreSQL's custom format (``pg_dump -Fc``), the default for PostgreSQL when ``pg_dump`` is
  installed; restored with ``pg_restore --clean --if-exists --single-transaction``. Its major version must
  not be older than the server's.

Restoring replaces everything in the target store. Stop the hub's workers first (``restore`` does not coordinate
with running servers; their pooled connections would see the store change under them).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path

from accord.config import Settings
from accord.errors import ConfigError, ValidationFailed
from accord.ops.transfer import copy_store
from accord.storage.database import Database

__all__ = ["backup", "detect_format", "restore"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"


def _sqlite_path(url: str) -> str:
    return url.split("sqlite:///", 1)[-1]


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def detect_format(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_PGDUMP_MAGIC):
        return "pg_dump"
    raise ValidationFailed.one("file", f"{path} is neither a SQLite file nor a pg_dump custom-format archive")


def _sqlite_copy(src_path: str, dst_path: str) -> None:
    src = sqlite3.connect(src_path)
    dst = sqlite3.connect(dst_path)
    try:
        with dst:
            src.backup(dst, pages=4096)
    finally:
        dst.close()
        src.close()


def _portable(db: Database, out: Path) -> None:
    settings: Settings = replace(db.settings, database_url=f"sqlite:///{out}")
    target = Database(settings)
    try:
        target.migrate()
        copy_store(db, target)
    finally:
        target.dispose()


def backup(db: Database, out: Path, fmt: str = "auto") -> str:
    """Write a backup of ``db`` to ``out``; returns the format used."""
    out = out.resolve()
    if out.exists():
        raise ValidationFailed.one("output", f"{out} exists; choose a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    if db.dialect == "sqlite":
        if fmt not in ("auto", "sqlite"):
            raise ValidationFailed.one("format", "the embedded store backs up as sqlite")
        _sqlite_copy(_sqlite_path(db.url), str(out))
        return "sqlite"
    if fmt == "auto":
        fmt = "pg_dump" if shutil.which("pg_dump") else "sqlite"
    if fmt == "pg_dump":
        if not shutil.which("pg_dump"):
            raise ConfigError("pg_dump is not installed; use --format sqlite for the portable dump")
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(out),  # noqa: S603,S607
                        "--dbname", _libpq_url(db.url)], check=True, capture_output=True)
        return "pg_dump"
    if fmt == "sqlite":
        _portable(db, out)
        return "sqlite"
    raise ValidationFailed.one("format", "must be auto, pg_dump or sqlite")


def restore(db: Database, path: Path) -> str:
    """Replace everything in ``db`` with the backup at ``path``; returns the backup's format."""
    fmt = detect_format(path)
    if fmt == "pg_dump":
        if db.dialect != "postgresql":
            raise ValidationFailed.one("file", "a pg_dump archive restores into PostgreSQL only; for the embedded "
                                       "store, back up with --format sqlite")
        if not shutil.which("pg_restore"):
            raise ConfigError("pg_restore is not installed")
        db.dispose()
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",  # noqa: S603,S607
                        "--single-transaction", "--dbname", _libpq_url(db.url), str(path)],
                       check=True, capture_output=True)
        return fmt
    if db.dialect == "sqlite":
        db.dispose()
        _sqlite_copy(str(path), _sqlite_path(db.url))
        db.migrate()  # a backup made by an older version is brought up to this version's schema
        return fmt
    source = Database(replace(db.settings, database_url=f"sqlite:///{path}"))
    try:
        source.migrate()
        copy_store(source, db, replace=True)
    finally:
        source.dispose()
    return fmt
