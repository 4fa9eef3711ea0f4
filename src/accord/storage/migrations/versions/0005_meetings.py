"""meetings: meetings, participants, activity summaries, minutes, communiqués, approvals, frozen figures

Revision ID: 0005_meetings
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_meetings"
down_revision = "0001"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("held_on", sa.String(10), nullable=False),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("period_from", sa.String(24), nullable=False),
        sa.Column("period_to", sa.String(24), nullable=False),
        sa.Column("chair_member_id", PK, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("created_by", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_table(
        "meeting_members",
        sa.Column("meeting_id", PK, sa.ForeignKey("meetings.id"), primary_key=True),
        sa.Column("member_id", PK, sa.ForeignKey("members.id"), primary_key=True),
    )
    op.create_table(
        "meeting_summaries",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("meeting_id", PK, sa.ForeignKey("meetings.id"), nullable=False),
        sa.Column("member_id", PK, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("highlights", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated", sa.String(24), nullable=False),
        sa.Column("updated_by", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("meeting_id", "member_id", name="uq_summaries_meeting_member"),
    )
    op.create_table(
        "meeting_minutes",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("meeting_id", PK, sa.ForeignKey("meetings.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_member_id", PK, sa.ForeignKey("members.id"), nullable=True),
        sa.Column("due", sa.String(10), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("created", sa.String(24), nullable=False),
        sa.Column("created_by", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("closed", sa.String(24), nullable=True),
        sa.Column("closed_by", PK, sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_index("ix_meeting_minutes_meeting", "meeting_minutes", ["meeting_id", "id"])
    op.create_table(
        "communiques",
        sa.Column("meeting_id", PK, sa.ForeignKey("meetings.id"), primary_key=True),
        sa.Column("texts", sa.Text(), nullable=False),
        sa.Column("picks", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated", sa.String(24), nullable=False),
        sa.Column("submitted", sa.String(24), nullable=True),
        sa.Column("published", sa.String(24), nullable=True),
        sa.Column("published_by", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("digest", sa.String(64), nullable=True),
    )
    op.create_table(
        "communique_approvals",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("meeting_id", PK, sa.ForeignKey("meetings.id"), nullable=False),
        sa.Column("member_id", PK, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("user_id", PK, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("at", sa.String(24), nullable=False),
    )
    op.create_index("ix_communique_approvals_meeting", "communique_approvals", ["meeting_id", "revision"])
    op.create_table(
        "communique_figures",
        sa.Column("meeting_id", PK, sa.ForeignKey("meetings.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(48), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("items_digest", sa.String(64), nullable=False),
        sa.Column("item_ids", sa.Text(), nullable=False),
        sa.Column("computed", sa.String(24), nullable=False),
    )


def downgrade() -> None:
    for name in ("communique_figures", "communique_approvals", "communiques", "meeting_minutes",
                 "meeting_summaries", "meeting_members", "meetings"):
        op.drop_table(name)
