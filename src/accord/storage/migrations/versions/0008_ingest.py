"""ingest: leaner secondary structures for bulk writes

- item_release keyed (item_seq, member_id): an item's release rows are one key range, which serves both the
  policy's probe (item, member) and listing an item's release; on SQLite a WITHOUT ROWID table (one B-tree).
- item_tags a WITHOUT ROWID table on SQLite (one B-tree instead of a table and its primary-key index).
- the position and observation-time indexes only hold observations (partial indexes): other kinds have no
  position, and every NULL entry was a cost on each write and a waste of space.

Revision ID: 0008_ingest
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ingest"
down_revision = "0001"
branch_labels = None
depends_on = None


def _sqlite_rebuild(table: str, columns: str, pk: str, copy: str, rowid: bool) -> None:
    op.execute(f"CREATE TABLE {table}_new ({columns}, PRIMARY KEY ({pk})){'' if rowid else ' WITHOUT ROWID'}")
    op.execute(f"INSERT INTO {table}_new ({copy}) SELECT {copy} FROM {table}")  # noqa: S608 - names in code
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_new RENAME TO {table}")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _sqlite_rebuild("item_release", "member_id INTEGER NOT NULL REFERENCES members (id), "
                        "item_seq INTEGER NOT NULL REFERENCES items (seq)", "item_seq, member_id",
                        "member_id, item_seq", rowid=False)
        _sqlite_rebuild("item_tags", "tag VARCHAR(200) NOT NULL, item_seq INTEGER NOT NULL REFERENCES items (seq)",
                        "tag, item_seq", "tag, item_seq", rowid=False)
    else:
        op.drop_constraint("item_release_pkey", "item_release", type_="primary")
        op.create_primary_key("item_release_pkey", "item_release", ["item_seq", "member_id"])
    op.drop_index("ix_items_position", table_name="items")
    op.drop_index("ix_items_t_from", table_name="items")
    op.create_index("ix_items_position", "items", ["lat", "lon"], sqlite_where=sa.text("lat IS NOT NULL"),
                    postgresql_where=sa.text("lat IS NOT NULL"))
    op.create_index("ix_items_t_from", "items", ["t_from"], sqlite_where=sa.text("t_from IS NOT NULL"),
                    postgresql_where=sa.text("t_from IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_items_t_from", table_name="items")
    op.drop_index("ix_items_position", table_name="items")
    op.create_index("ix_items_position", "items", ["lat", "lon"])
    op.create_index("ix_items_t_from", "items", ["t_from"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _sqlite_rebuild("item_release", "member_id INTEGER NOT NULL REFERENCES members (id), "
                        "item_seq INTEGER NOT NULL REFERENCES items (seq)", "member_id, item_seq",
                        "member_id, item_seq", rowid=True)
        _sqlite_rebuild("item_tags", "tag VARCHAR(200) NOT NULL, item_seq INTEGER NOT NULL REFERENCES items (seq)",
                        "tag, item_seq", "tag, item_seq", rowid=True)
    else:
        op.drop_constraint("item_release_pkey", "item_release", type_="primary")
        op.create_primary_key("item_release_pkey", "item_release", ["member_id", "item_seq"])
