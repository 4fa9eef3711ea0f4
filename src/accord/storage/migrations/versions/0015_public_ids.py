"""public ids for meetings, minute entries and API tokens

A meeting and a minute entry were named by their row number, a counter shared by the whole hub: a member
shown meetings 3 and 7 learnt that three meetings it is not part of were convened between them, and a minute
numbered 40 told how many entries the other meetings hold. Each now has a random public id (``mtg_...``,
``min_...``), the only id pages, the API, the CLI and new audit records show; the row number stays internal.
API tokens alike (``tok_...``): a member administrator lists its users' tokens and reads their ids in the trail.
Rows written before this revision get theirs here; audit records written before keep the row numbers they hold.

Revision ID: 0015_public_ids
Revises: 0014_communique_contributions
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0015_public_ids"
down_revision = "0014_communique_contributions"
branch_labels = None
depends_on = None

TABLES = {"meetings": "mtg_", "meeting_minutes": "min_", "tokens": "tok_"}


def upgrade() -> None:
    conn = op.get_bind()
    for table, prefix in TABLES.items():
        op.add_column(table, sa.Column("public_id", sa.String(24), nullable=True))
        ids = [r[0] for r in conn.execute(sa.text(f"SELECT id FROM {table}"))]  # noqa: S608 - constant names
        if ids:
            conn.execute(sa.text(f"UPDATE {table} SET public_id = :p WHERE id = :i"),  # noqa: S608
                         [{"p": prefix + secrets.token_urlsafe(12), "i": i} for i in ids])
        op.create_index(f"uq_{table}_public_id", table, ["public_id"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"uq_{table}_public_id", table)
        op.drop_column(table, "public_id")
