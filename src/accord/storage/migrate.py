"""Alembic, driven from code: the migrations ship inside the package and run on the Database's writer.

Each feature adds its own migration revising 0001, so the history may have several heads; "heads" applies them
all (features do not depend on each other's tables).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from accord.storage.database import Database

__all__ = ["alembic_config", "revision_module", "upgrade"]


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "accord.storage:migrations")
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database, revision: str = "heads") -> None:
    cfg = alembic_config(db)
    # SQLite's writer begins transactions with BEGIN IMMEDIATE; Alembic runs inside one transaction per upgrade.
    with db.writer.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def revision_module(filename: str) -> ModuleType:
    """A revision file of the versions folder, loaded by path as Alembic loads it (the folder is not a package):
    for a later revision that reruns an earlier one's routine rather than copying it."""
    path = Path(__file__).with_name("migrations") / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"_accord_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
