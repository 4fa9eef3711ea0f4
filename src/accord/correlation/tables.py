"""Correlation tables. Every row belongs to one item (keys, names) or one item of a pair the hub told two members
about (notices), so storage grows with the number of items, never with the number of correlated pairs: pairs are
found at query time by joining keys on the key index.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    exists,
    select,
)

from accord.storage.schema import PK, items, metadata

__all__ = ["corr_exclusions", "corr_keys", "corr_names", "corr_notices", "notice_other_held"]

# "n:<name key>", "i:<type>:<canonical identifier>", "c:<h3 cell>:<day>", "g:<geonameid>".
corr_keys = Table(
    "corr_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("item_seq", PK, ForeignKey("items.seq"), primary_key=True),
    Index("ix_corr_keys_item", "item_seq"),
)

# The names and aliases of entities, as written, for scoring the candidates the keys found.
corr_names = Table(
    "corr_names",
    metadata,
    Column("item_seq", PK, ForeignKey("items.seq"), primary_key=True),
    Column("ord", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("latin", Text, nullable=False),  # transliterated once, at write time
    Column("script", String(32), nullable=False),
    Column("form", Text, nullable=True),  # the name's analysis (names.dump_form); NULL in stores written before
)

# One row per (recipient's item, other item, kind of match). The other item's id never leaves the server.
corr_notices = Table(
    "corr_notices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("item_seq", PK, ForeignKey("items.seq"), nullable=False),
    Column("other_member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("other_item_seq", PK, ForeignKey("items.seq"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("created", String(24), nullable=False),
    Column("state", String(16), nullable=False),  # open | released
    UniqueConstraint("item_seq", "other_item_seq", "kind", name="uq_corr_notices_pair"),
    Index("ix_corr_notices_member", "member_id", "created"),
    Index("ix_corr_notices_other", "other_item_seq"),
)

# Values that must not correlate (a hotline number, a city centre name), hub-wide, kept by member admins.
corr_exclusions = Table(
    "corr_exclusions",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("created", String(24), nullable=False),
)


def notice_other_held() -> ColumnElement[bool]:
    """Condition on ``corr_notices``: the other member still holds the other item, live and discoverable. A notice
    says that another member holds related information, so it is shown (and counted) only while that holds. Edits
    also withdraw open notices their new version no longer supports (`Correlation._withdraw`); this condition
    covers the notices a member has acted on (released, dismissed), which are kept as the record of that action."""
    other = items.alias("notice_other_item")
    return exists(select(other.c.seq).where(other.c.seq == corr_notices.c.other_item_seq,
                                            other.c.revoked.is_(False), other.c.discoverable.is_(True)))
