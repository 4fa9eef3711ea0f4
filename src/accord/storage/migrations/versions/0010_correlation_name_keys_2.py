"""correlation: recompute name keys under the second revision of the name analysis

The name analysis changed again (Latin names get a Spanish reading, ll as y and j as kh, with its own keys; a
vowel key of the shape without unwritten short e; "district" and "city" as written in Urdu are generic words),
so the stored name keys no longer match what queries compute. Same recompute as 0007 (its routine, not a copy).
The stored Latin form does not change. Nothing to undo on downgrade: the keys are derived data.

Revision ID: 0010_correlation_name_keys_2
Revises: 0007_correlation_name_keys
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

revision = "0010_correlation_name_keys_2"
down_revision = "0007_correlation_name_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Alembic loads revision files by path (the versions folder is not a package): load 0007 the same way.
    path = Path(__file__).with_name("0007_correlation_name_keys.py")
    spec = importlib.util.spec_from_file_location("_accord_migration_0007", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.upgrade()


def downgrade() -> None:
    pass
