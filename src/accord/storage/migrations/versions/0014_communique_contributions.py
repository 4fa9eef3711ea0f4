"""communiqué contributions: each participating member's share of every frozen figure

A submitted communiqué shows each member only its own contribution to every figure until every participant has
approved the revision; the totals are shown from then on (see docs/arch/meetings.md, "Approval before totals").
Communiqués frozen before this revision have no contributions: their members' shares are computed from the
frozen item ids on upgrade, so their figures stay hidden until approved exactly as new ones are.

Revision ID: 0014_communique_contributions
Revises: 0005_meetings
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0014_communique_contributions"
down_revision = "0005_meetings"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def upgrade() -> None:
    op.create_table(
        "communique_contributions",
        sa.Column("meeting_id", PK, sa.ForeignKey("meetings.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("member_id", PK, sa.ForeignKey("members.id"), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("items_digest", sa.String(64), nullable=False),
        sa.Column("item_ids", sa.Text(), nullable=False),
    )
    conn = op.get_bind()
    frozen = conn.execute(sa.text("SELECT meeting_id, position, item_ids FROM communique_figures")).all()
    if not frozen:
        return
    rows = []
    for meeting_id, position, item_ids in frozen:
        ids = json.loads(item_ids)
        parts: dict[int, list[str]] = {m: [] for (m,) in conn.execute(sa.text(
            "SELECT member_id FROM meeting_members WHERE meeting_id = :m"), {"m": meeting_id})}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for item_id, member_id in conn.execute(
                    sa.text("SELECT id, originator_id FROM items WHERE id IN :ids")
                    .bindparams(sa.bindparam("ids", expanding=True)), {"ids": chunk}):
                parts.setdefault(member_id, []).append(item_id)
        for member_id, own in parts.items():
            own.sort()
            rows.append({"meeting_id": meeting_id, "position": position, "member_id": member_id, "value": len(own),
                         "items_digest": _digest(own), "item_ids": json.dumps(own, separators=(",", ":"))})
    conn.execute(sa.text("INSERT INTO communique_contributions VALUES "
                         "(:meeting_id, :position, :member_id, :value, :items_digest, :item_ids)"), rows)


def downgrade() -> None:
    op.drop_table("communique_contributions")
