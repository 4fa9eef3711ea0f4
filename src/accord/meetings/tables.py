"""Tables of the meetings feature: meetings, participants, activity summaries, minutes, communiqués, approvals and
the frozen figures of a communiqué.

A frozen figure keeps its query definition (JSON), its value, the ids of the items behind it and a digest of those
ids, so that re-running the definition on the same records can be checked to give the same number and the same
items.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from accord.storage.schema import PK, metadata

__all__ = ["approvals", "communique_contributions", "communique_figures", "communiques", "meeting_members", "meetings",
           "minutes", "summaries"]

meetings = Table(
    "meetings",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("held_on", String(10), nullable=False),  # YYYY-MM-DD
    Column("place", String(300), nullable=False, default=""),
    Column("agenda", Text, nullable=False, default="[]"),  # JSON list of strings
    Column("period_from", String(24), nullable=False),
    Column("period_to", String(24), nullable=False),  # exclusive
    Column("chair_member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("created_by", PK, ForeignKey("users.id"), nullable=True),
    Column("created", String(24), nullable=False),
    Column("status", String(16), nullable=False, default="convened"),  # convened | closed
    # The id pages, the API and the CLI show (0015_public_ids): random, so that it counts nothing.
    Column("public_id", String(24), nullable=True),
    Index("uq_meetings_public_id", "public_id", unique=True),
)

meeting_members = Table(
    "meeting_members",
    metadata,
    Column("meeting_id", PK, ForeignKey("meetings.id"), primary_key=True),
    Column("member_id", PK, ForeignKey("members.id"), primary_key=True),
)

summaries = Table(
    "meeting_summaries",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("meeting_id", PK, ForeignKey("meetings.id"), nullable=False),
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("narrative", Text, nullable=False, default=""),
    Column("figures", Text, nullable=False, default="[]"),  # JSON: the pre-filled figures the member presents
    Column("highlights", Text, nullable=False, default="[]"),  # JSON: [{"item": id, "present": bool}]
    Column("status", String(16), nullable=False, default="draft"),  # draft | final
    Column("updated", String(24), nullable=False),
    Column("updated_by", PK, ForeignKey("users.id"), nullable=True),
    UniqueConstraint("meeting_id", "member_id", name="uq_summaries_meeting_member"),
)

minutes = Table(
    "meeting_minutes",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("meeting_id", PK, ForeignKey("meetings.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # note | decision | action
    Column("text", Text, nullable=False),
    Column("owner_member_id", PK, ForeignKey("members.id"), nullable=True),  # actions: who must do it
    Column("due", String(10), nullable=True),
    Column("status", String(16), nullable=True),  # actions: open | done
    Column("created", String(24), nullable=False),
    Column("created_by", PK, ForeignKey("users.id"), nullable=True),
    Column("closed", String(24), nullable=True),
    Column("closed_by", PK, ForeignKey("users.id"), nullable=True),
    Index("ix_meeting_minutes_meeting", "meeting_id", "id"),
    Column("public_id", String(24), nullable=True),  # as meetings.public_id
    Index("uq_meeting_minutes_public_id", "public_id", unique=True),
)

communiques = Table(
    "communiques",
    metadata,
    Column("meeting_id", PK, ForeignKey("meetings.id"), primary_key=True),
    Column("texts", Text, nullable=False, default="{}"),  # JSON {lang: narrative}
    Column("picks", Text, nullable=False, default="[]"),  # JSON: figure picks as the chair chose them
    Column("status", String(16), nullable=False, default="draft"),  # draft | in-approval | published
    Column("revision", Integer, nullable=False, default=1),
    Column("updated", String(24), nullable=False),
    Column("submitted", String(24), nullable=True),
    Column("published", String(24), nullable=True),
    Column("published_by", PK, ForeignKey("users.id"), nullable=True),
    Column("digest", String(64), nullable=True),  # sha256 over the published text and frozen figures
)

approvals = Table(
    "communique_approvals",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("meeting_id", PK, ForeignKey("meetings.id"), nullable=False),
    Column("member_id", PK, ForeignKey("members.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("decision", String(16), nullable=False),  # approve | changes
    Column("comment", Text, nullable=False, default=""),
    Column("user_id", PK, ForeignKey("users.id"), nullable=True),
    Column("at", String(24), nullable=False),
    Index("ix_communique_approvals_meeting", "meeting_id", "revision"),
)

communique_figures = Table(
    "communique_figures",
    metadata,
    Column("meeting_id", PK, ForeignKey("meetings.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("key", String(48), nullable=False),
    Column("definition", Text, nullable=False),  # JSON, canonical (sorted keys)
    Column("value", Integer, nullable=False),
    Column("items_digest", String(64), nullable=False),  # sha256 of the sorted item ids, one per line
    Column("item_ids", Text, nullable=False),  # JSON list of item ids, sorted
    Column("computed", String(24), nullable=False),
)

# Each participating member's share of a frozen figure (its own items among those counted). Until every participant
# has approved the current revision, a member is shown only its own share of each figure, never the total: the
# total less its own share would be the other members' figures, which they have not yet agreed to give.
communique_contributions = Table(
    "communique_contributions",
    metadata,
    Column("meeting_id", PK, ForeignKey("meetings.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("member_id", PK, ForeignKey("members.id"), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("items_digest", String(64), nullable=False),
    Column("item_ids", Text, nullable=False),  # JSON list of the member's item ids among the figure's, sorted
)
