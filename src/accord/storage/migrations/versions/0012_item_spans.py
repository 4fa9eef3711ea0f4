"""observation windows through the t_from index: the longest stored observation interval, kept in item_spans

A window's test on the end of an interval (``coalesce(t_to, t_from) >= after``) had no index, so a window matching
few observations read every item. With the longest interval stored (one row, raised by every write that stores a
longer one, never lowered), a list adds ``t_from >= after - max_span_s``, a bound the t_from index serves and that
excludes nothing the test admits.

Revision ID: 0012_item_spans
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_item_spans"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from accord.sharing.items import span_seconds

    op.create_table("item_spans", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("max_span_s", sa.BigInteger(), nullable=False))
    conn = op.get_bind()
    longest, last = 0, 0
    while True:  # the stored intervals, in batches (a large hub holds millions of observations)
        rows = conn.execute(sa.text("SELECT seq, t_from, t_to FROM items WHERE seq > :last AND t_to IS NOT NULL "
                                    "ORDER BY seq LIMIT 10000"), {"last": last}).all()
        if not rows:
            break
        longest = max(longest, span_seconds((r.t_from, r.t_to) for r in rows))
        last = rows[-1].seq
    conn.execute(sa.text("INSERT INTO item_spans (id, max_span_s) VALUES (1, :s)"), {"s": longest})


def downgrade() -> None:
    op.drop_table("item_spans")
