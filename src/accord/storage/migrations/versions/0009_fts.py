"""full text without a second copy: SQLite's FTS5 index becomes contentless; the unused audit time index goes

The items table holds every title and body already; a contentless FTS5 table keeps only the tokens, which
halves the index's cost per written item (accord.storage.search.SqliteFullText explains how entries are
replaced). ``ix_audit_at`` served no query: the audit trail is searched by member, action and item, newest
first by sequence.

Revision ID: 0009_fts
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0009_fts"
down_revision = "0001"
branch_labels = None
depends_on = None

_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"


def _refill() -> None:
    # The stored items are re-indexed with the very function the service indexes with.
    from accord.sharing.items import fts_row

    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.exec_driver_sql("SELECT seq, id, kind, body FROM items WHERE seq > ? ORDER BY seq LIMIT 2000",
                                    (last,)).all()
        if not rows:
            return
        conn.exec_driver_sql("INSERT INTO items_fts(rowid, title, text) VALUES (?, ?, ?)",
                             [fts_row(int(r[0]), r[1], r[2], r[3]) for r in rows])
        last = rows[-1][0]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE items_fts")
        op.execute(f"CREATE VIRTUAL TABLE items_fts USING fts5(title, text, content='', {_TOKENIZE})")
        _refill()
    op.drop_index("ix_audit_at", table_name="audit_log")


def downgrade() -> None:
    op.create_index("ix_audit_at", "audit_log", ["at"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE items_fts")
        op.execute(f"CREATE VIRTUAL TABLE items_fts USING fts5(title, text, {_TOKENIZE})")
        _refill()
