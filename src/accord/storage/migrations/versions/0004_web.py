"""web pages: saved searches, last visits, member default handling, dashboard count index

Revision ID: 0004_web
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_web"
down_revision = "0001"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_saved_searches",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("user_id", PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created", sa.String(24), nullable=False),
    )
    op.create_index("ix_web_saved_searches_user_id", "web_saved_searches", ["user_id"])
    op.create_table(
        "web_visits",
        sa.Column("user_id", PK, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("last", sa.String(24), nullable=False),
        sa.Column("previous", sa.String(24), nullable=True),
    )
    op.create_table(
        "web_member_defaults",
        sa.Column("member_id", PK, sa.ForeignKey("members.id"), primary_key=True),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("release_scope", sa.String(16), nullable=False),
        sa.Column("release_members", sa.Text(), nullable=False),
        sa.Column("release_consumers", sa.Boolean(), nullable=False),
        sa.Column("reliability", sa.String(1), nullable=True),
        sa.Column("credibility", sa.Integer(), nullable=True),
    )
    # Covering index for the dashboard counts (see accord.http.web.tables.stats_index).
    op.create_index("ix_web_items_stats", "items", ["kind", "originator_id", "created", "classification",
                                                    "release_scope", "revoked", "release_consumers"])


def downgrade() -> None:
    op.drop_index("ix_web_items_stats", "items")
    op.drop_table("web_member_defaults")
    op.drop_table("web_visits")
    op.drop_index("ix_web_saved_searches_user_id", "web_saved_searches")
    op.drop_table("web_saved_searches")
