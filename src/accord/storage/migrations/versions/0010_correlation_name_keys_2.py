"""correlation: recompute name keys under the second revision of the name analysis

The name analysis changed again (Latin names get a Spanish reading, ll as y and j as kh, with its own keys; a
vowel key of the shape without unwritten short e; "district" and "city" as written in Urdu are generic words),
so the stored name keys no longer match what queries compute. Same recompute as 0007 (its routine, not a copy).
The stored Latin form does not change. Nothing to undo on downgrade: the keys are derived data.

Revision ID: 0010_correlation_name_keys_2
Revises: 0007_correlation_name_keys
"""

from __future__ import annotations

revision = "0010_correlation_name_keys_2"
down_revision = "0007_correlation_name_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from accord.storage.migrate import revision_module

    revision_module("0007_correlation_name_keys.py").rekey()


def downgrade() -> None:
    pass
