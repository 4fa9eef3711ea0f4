"""STIX store and TAXII collections and status

Revision ID: 0003_taxii
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_taxii"
down_revision = "0001"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Two views every hub starts with; administrators may add more (TaxiiService.add_collection).
DEFAULT_COLLECTIONS = [
    ("5f9c2e9c-7e57-4c1b-9d43-2b7c3a0c0001", "hub", "Shared with you",
     "Every object you may see. Objects you add are released to all members, TLP:AMBER.", False,
     '{"tlp": "amber", "classification": 0, "release": {"scope": "all", "consumers": false}}'),
    ("5f9c2e9c-7e57-4c1b-9d43-2b7c3a0c0002", "own", "Your member's objects",
     "Objects your member originated. Objects you add stay within your member, TLP:AMBER+STRICT.", True,
     '{"tlp": "amber+strict", "classification": 0, "release": {"scope": "originator"}}'),
]


def upgrade() -> None:
    op.create_table(
        "stix_handles",
        sa.Column("seq", PK, primary_key=True, autoincrement=True),
        sa.Column("stix_id", sa.String(250), nullable=False, unique=True),
        sa.Column("item_seq", PK, sa.ForeignKey("items.seq"), nullable=True),
        sa.Column("originator_id", PK, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("classification", sa.Integer, nullable=False),
        sa.Column("release_scope", sa.String(16), nullable=False),
        sa.Column("release_consumers", sa.Boolean, nullable=False),
    )
    op.create_index("ix_stix_handles_item", "stix_handles", ["item_seq"])
    op.create_table(
        "stix_release",
        sa.Column("member_id", PK, sa.ForeignKey("members.id"), primary_key=True),
        sa.Column("item_seq", PK, sa.ForeignKey("stix_handles.seq"), primary_key=True),
    )
    op.create_table(
        "stix_versions",
        sa.Column("seq", PK, primary_key=True, autoincrement=True),
        sa.Column("handle_seq", PK, sa.ForeignKey("stix_handles.seq"), nullable=False),
        sa.Column("stix_id", sa.String(250), nullable=False),
        sa.Column("stix_type", sa.String(250), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("version_key", sa.String(27), nullable=False),
        sa.Column("date_added", sa.String(27), nullable=False),
        sa.Column("spec_version", sa.String(8), nullable=False),
        sa.Column("latest", sa.Boolean, nullable=False),
        sa.Column("first", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("handle_seq", "version_key", name="uq_stix_versions_handle_version"),
    )
    op.create_index("ix_stix_versions_latest_added", "stix_versions", ["latest", "date_added", "seq"])
    op.create_index("ix_stix_versions_added", "stix_versions", ["date_added", "seq"])
    op.create_index("ix_stix_versions_id", "stix_versions", ["stix_id", "version_key"])
    collections = op.create_table(
        "taxii_collections",
        sa.Column("seq", PK, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("alias", sa.String(64), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("can_write", sa.Boolean, nullable=False),
        sa.Column("only_own", sa.Boolean, nullable=False),
        sa.Column("default_handling", sa.Text, nullable=False),
        sa.Column("created", sa.String(24), nullable=False),
    )
    op.create_table(
        "taxii_status",
        sa.Column("seq", PK, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("user_id", PK, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("request_timestamp", sa.String(27), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.bulk_insert(collections, [
        {"id": cid, "alias": alias, "title": title, "description": desc, "can_write": True, "only_own": own,
         "default_handling": handling, "created": "2026-01-01T00:00:00.000Z"}
        for cid, alias, title, desc, own, handling in DEFAULT_COLLECTIONS
    ])


def downgrade() -> None:
    for name in ("taxii_status", "taxii_collections", "stix_versions", "stix_release", "stix_handles"):
        op.drop_table(name)
