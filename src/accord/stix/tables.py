"""Tables of the STIX/TAXII store.

``stix_handles`` holds one row per STIX object id: the handling that decides who may see every version of it.
An object mapped from an Accord item borrows the item's handling (``item_seq`` set: the items row is joined and
``policy.visible`` applied to it); any other object (an unknown type, an indicator, a malware...) carries its own
handling columns, named as on ``items``, with its release rows in ``stix_release``, so ``policy.visible(principal,
stix_handles, stix_release)`` is the very same rule applied in SQL. ``stix_versions`` holds each version's
verbatim JSON, in TAXII ``date_added`` order, with the handling that version was stored under (its own release
rows in ``stix_version_release``): a reader is served a version only when the handle's rule admits them now *and*
the version's own handling does (``policy.visible_version``), so a sanitised or widened object does not open its
earlier versions to readers who could never see them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    false,
    or_,
    text,
)

from accord.sharing.handling import Principal
from accord.sharing.policy import visible
from accord.storage.schema import PK, metadata

__all__ = ["handle_visible", "stix_handles", "stix_release", "stix_version_release", "stix_versions",
           "taxii_collections", "taxii_status"]

stix_handles = Table(
    "stix_handles",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=True),
    Column("stix_id", String(250), nullable=False, unique=True),
    Column("item_seq", PK, ForeignKey("items.seq"), nullable=True),  # set: the item's handling governs
    Column("originator_id", PK, ForeignKey("members.id"), nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("classification", Integer, nullable=False),
    Column("release_scope", String(16), nullable=False),
    Column("release_consumers", Boolean, nullable=False, default=False),
    Index("ix_stix_handles_item", "item_seq"),
)

# Column named ``item_seq`` (it holds a stix_handles.seq) so that policy.visible applies to it unchanged.
stix_release = Table(
    "stix_release",
    metadata,
    Column("member_id", PK, ForeignKey("members.id"), primary_key=True),
    Column("item_seq", PK, ForeignKey("stix_handles.seq"), primary_key=True),
)

stix_versions = Table(
    "stix_versions",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=True),
    Column("handle_seq", PK, ForeignKey("stix_handles.seq"), nullable=False),
    Column("stix_id", String(250), nullable=False),
    Column("stix_type", String(250), nullable=False),
    Column("version", String(40), nullable=False),  # the object's own modified/created text, verbatim
    Column("version_key", String(27), nullable=False),  # the same instant, normalised to microseconds
    Column("date_added", String(27), nullable=False),  # microsecond precision, as TAXII shows it
    Column("spec_version", String(8), nullable=False),
    Column("latest", Boolean, nullable=False),
    Column("first", Boolean, nullable=False),
    Column("body", Text, nullable=False),  # the object's JSON, served back byte for byte
    # This version's own handling (0013_version_handling), named as on ``items``; the strictest by default.
    Column("classification", Integer, nullable=False, server_default=text("4")),
    Column("release_scope", String(16), nullable=False, server_default="originator"),
    Column("release_consumers", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("handle_seq", "version_key", name="uq_stix_versions_handle_version"),
    Index("ix_stix_versions_latest_added", "latest", "date_added", "seq"),
    Index("ix_stix_versions_added", "date_added", "seq"),
    # No index on stix_id here: lookups by id go through stix_handles (unique) and (handle_seq, version_key).
)

# A version's release by name. Its key column is named ``seq`` (it holds a stix_versions.seq), as the version's
# primary key is, so that policy.visible_version applies to it unchanged.
stix_version_release = Table(
    "stix_version_release",
    metadata,
    Column("seq", PK, ForeignKey("stix_versions.seq"), nullable=False),
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    PrimaryKeyConstraint("seq", "member_id"),
    sqlite_with_rowid=False,
)

taxii_collections = Table(
    "taxii_collections",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("alias", String(64), nullable=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("can_write", Boolean, nullable=False, default=True),
    Column("only_own", Boolean, nullable=False, default=False),  # a view of the caller's member's objects only
    Column("default_handling", Text, nullable=False),  # JSON, as the item API's "handling"
    Column("created", String(24), nullable=False),
)

taxii_status = Table(
    "taxii_status",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("user_id", PK, ForeignKey("users.id"), nullable=False),
    Column("request_timestamp", String(27), nullable=False),
    Column("body", Text, nullable=False),  # the status resource's JSON
)


def handle_visible(principal: Principal) -> ColumnElement[bool]:
    """The access rule over ``stix_handles`` (outer-joined to ``items`` on ``item_seq``): a mapped object is seen as
    its item is, a raw one under its own handling columns and ``stix_release`` rows."""
    h = stix_handles
    return or_(and_(h.c.item_seq.is_not(None), visible(principal)),
               and_(h.c.item_seq.is_(None), visible(principal, h, stix_release)))
