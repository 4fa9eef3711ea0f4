"""The relational schema, as SQLAlchemy Core tables. Alembic migrations create it; services query it.

Times are stored as ISO-8601 UTC strings with millisecond precision (``2026-11-23T10:00:00.000Z``): they sort
lexically, match STIX timestamps exactly and read the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

__all__ = [
    "audit_head",
    "audit_log",
    "consumers",
    "item_derive",
    "item_release",
    "item_spans",
    "item_tags",
    "item_version_release",
    "item_versions",
    "items",
    "members",
    "metadata",
    "sessions",
    "tokens",
    "users",
]

metadata = MetaData()

# BigInteger autoincrement keys map to INTEGER PRIMARY KEY (the rowid) on SQLite, BIGSERIAL on PostgreSQL.
PK = BigInteger().with_variant(Integer(), "sqlite")


def public_id(prefix: str) -> str:
    """The id a row is shown by (``public_id`` columns: meetings, minute entries, tokens): ``prefix`` and 16 random
    characters. Row numbers are a counter of the whole hub, whose gaps would count what other members did."""
    return prefix + secrets.token_urlsafe(12)

members = Table(
    "members",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # member | chair | observer
    Column("created", String(24), nullable=False),
)

consumers = Table(
    "consumers",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created", String(24), nullable=False),
    UniqueConstraint("member_id", "code", name="uq_consumers_member_code"),
)

users = Table(
    "users",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("consumer_id", PK, ForeignKey("consumers.id"), nullable=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # hub-admin | member-admin | analyst | reader | consumer
    Column("clearance", Integer, nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("language", String(8), nullable=False, default="en"),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", String(24), nullable=True),
    Column("last_seen", String(24), nullable=True),
    Column("created", String(24), nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("user_id", PK, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),  # shown in listings so a user can tell tokens apart
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex of the secret
    Column("created", String(24), nullable=False),
    Column("expires", String(24), nullable=True),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("last_used", String(24), nullable=True),
    # The id listings and the audit trail show (0015_public_ids): random, so that it counts nothing.
    Column("public_id", String(24), nullable=True),
    Index("uq_tokens_public_id", "public_id", unique=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", PK, ForeignKey("users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created", String(24), nullable=False),
    Column("expires", String(24), nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=True),
    Column("id", String(80), nullable=False, unique=True),  # STIX-style "kind--uuid"
    Column("kind", String(16), nullable=False),
    Column("originator_id", PK, ForeignKey("members.id"), nullable=False),
    Column("author_id", PK, ForeignKey("users.id"), nullable=True),
    Column("created", String(24), nullable=False),
    Column("modified", String(24), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("language", String(8), nullable=True),
    Column("reliability", String(1), nullable=True),
    Column("credibility", Integer, nullable=True),
    Column("tlp", String(16), nullable=False),
    Column("classification", Integer, nullable=False),
    Column("release_scope", String(16), nullable=False),  # originator | members | all
    Column("release_consumers", Boolean, nullable=False, default=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("discoverable", Boolean, nullable=False, default=True),
    Column("title", Text, nullable=False, default=""),  # display line: report title, entity name, place...
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("t_from", String(24), nullable=True),
    Column("t_to", String(24), nullable=True),
    Column("body", Text, nullable=False),  # JSON: tags, content, identifiers, extensions
    Index("ix_items_kind_seq", "kind", "seq"),
    Index("ix_items_originator_seq", "originator_id", "seq"),
    Index("ix_items_modified", "modified"),
    Index("ix_items_created", "created"),
    # Partial: only observations have a position and an observation time (0008_ingest).
    Index("ix_items_position", "lat", "lon", sqlite_where=text("lat IS NOT NULL"),
          postgresql_where=text("lat IS NOT NULL")),
    Index("ix_items_t_from", "t_from", sqlite_where=text("t_from IS NOT NULL"),
          postgresql_where=text("t_from IS NOT NULL")),
)

# One row: the longest observation interval stored (seconds from t_from to t_to), never lowered (0012_item_spans).
# An observation window's test on an interval's end, coalesce(t_to, t_from) >= after, has no index; with it, the
# list adds the equivalent bound t_from >= after - max_span_s, which the t_from index serves.
item_spans = Table(
    "item_spans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("max_span_s", BigInteger, nullable=False),
)

# Keyed (item, member): an item's release is one key range (policy probe and listing alike); see 0008_ingest.
item_release = Table(
    "item_release",
    metadata,
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("item_seq", PK, ForeignKey("items.seq"), nullable=False),
    PrimaryKeyConstraint("item_seq", "member_id"),
    sqlite_with_rowid=False,
)

item_tags = Table(
    "item_tags",
    metadata,
    Column("tag", String(200), primary_key=True),
    Column("item_seq", PK, ForeignKey("items.seq"), primary_key=True),
    sqlite_with_rowid=False,
)

# Items whose deferrable hooks (STIX objects, correlation) are still to run: see accord.sharing.derived.
item_derive = Table(
    "item_derive",
    metadata,
    Column("item_seq", PK, ForeignKey("items.seq"), primary_key=True),
    Column("hooks", String(200), nullable=False),  # comma-separated hook names
    sqlite_with_rowid=False,
)

item_versions = Table(
    "item_versions",
    metadata,
    Column("item_seq", PK, ForeignKey("items.seq"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("modified", String(24), nullable=False),
    Column("snapshot", Text, nullable=False),  # JSON of the item as it was at that version
    # The version's own handling, as on ``items`` (0013_version_handling; TLP is not part of the rule): a reader
    # sees an old version only when it admits them as well as the item's current handling does
    # (``policy.visible_version``). The defaults are the strictest values, so a row written without them fails
    # closed.
    Column("classification", Integer, nullable=False, server_default=text("4")),
    Column("release_scope", String(16), nullable=False, server_default="originator"),
    Column("release_consumers", Boolean, nullable=False, server_default=false()),
)

# The members an old version was released to by name (its scope "members"), as item_release is for the item now.
item_version_release = Table(
    "item_version_release",
    metadata,
    Column("item_seq", PK, nullable=False),
    Column("version", Integer, nullable=False),
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    ForeignKeyConstraint(["item_seq", "version"], ["item_versions.item_seq", "item_versions.version"]),
    PrimaryKeyConstraint("item_seq", "version", "member_id"),
    sqlite_with_rowid=False,
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=False),
    Column("at", String(24), nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("user_id", PK, nullable=True),
    Column("member", String(32), nullable=True),
    Column("action", String(48), nullable=False),
    Column("item_id", String(80), nullable=True),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_item", "item_id"),
)

# One row: the chain's head. Every append locks and updates it in the writer's transaction, which serialises
# appends on every backend (SQLite's single writer, PostgreSQL row lock) without a process-local cache.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", PK, nullable=False),
    Column("hash", String(64), nullable=False),
)
