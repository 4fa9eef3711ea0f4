"""derived work queue: items whose deferrable hooks run after a large import commits

Revision ID: 0007_derive
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_derive"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_derive",
        sa.Column("item_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hooks", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["item_seq"], ["items.seq"]),
        sa.PrimaryKeyConstraint("item_seq"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("item_derive")
