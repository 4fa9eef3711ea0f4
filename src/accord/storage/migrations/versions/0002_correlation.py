"""correlation keys, names, deconfliction notices, exclusions

Revision ID: 0002_correlation
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_correlation"
down_revision = "0001"
branch_labels = ("correlation",)
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "corr_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("item_seq", _PK, sa.ForeignKey("items.seq"), primary_key=True),
    )
    op.create_index("ix_corr_keys_item", "corr_keys", ["item_seq"])
    op.create_table(
        "corr_names",
        sa.Column("item_seq", _PK, sa.ForeignKey("items.seq"), primary_key=True),
        sa.Column("ord", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("latin", sa.Text(), nullable=False),
        sa.Column("script", sa.String(32), nullable=False),
    )
    op.create_table(
        "corr_notices",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("member_id", _PK, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("item_seq", _PK, sa.ForeignKey("items.seq"), nullable=False),
        sa.Column("other_member_id", _PK, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("other_item_seq", _PK, sa.ForeignKey("items.seq"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created", sa.String(24), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.UniqueConstraint("item_seq", "other_item_seq", "kind", name="uq_corr_notices_pair"),
    )
    op.create_index("ix_corr_notices_member", "corr_notices", ["member_id", "created"])
    op.create_index("ix_corr_notices_other", "corr_notices", ["other_item_seq"])
    op.create_table(
        "corr_exclusions",
        sa.Column("id", _PK, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("member_id", _PK, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("created", sa.String(24), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("corr_exclusions")
    op.drop_table("corr_notices")
    op.drop_table("corr_names")
    op.drop_index("ix_corr_keys_item", "corr_keys")
    op.drop_table("corr_keys")
