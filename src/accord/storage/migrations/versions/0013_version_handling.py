"""each stored version keeps its own handling: item_versions and stix_versions get the handling columns, with
release rows in item_version_release and stix_version_release

Earlier versions were filtered by the item's (or STIX handle's) current handling only, so sanitising an item (a
SECRET version edited down to UNCLASSIFIED) or widening its release opened every earlier version to the new
readers. A reader now sees an old version only when its own handling admits them too (``policy.visible_version``).

Existing rows are filled from what is stored: an item version from the handling in its JSON snapshot; a raw STIX
object's versions from their handle (the one handling they were ever served under); a version of an item's STIX
object from the Accord extension in its body when that names classification and release (always so for the
objects the hub generates, including the revoked copies of objects an item no longer maps to, which carry the
content, and so the handling, of the version they copy), otherwise from the item version in effect at its time.
A row that cannot be read keeps the strictest defaults (classification 4, originator only).

Revision ID: 0013_version_handling
Revises: 0011_stix_versions_by_handle
"""

from __future__ import annotations

import bisect
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0013_version_handling"
down_revision = "0011_stix_versions_by_handle"  # needs the STIX tables (0003_taxii) as well as item_versions (0001)
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 2000
EXTENSION_ID = "extension-definition--3c1b7a4e-5d2f-4c8e-9a61-0b7d6e2f4a11"  # accord.stix.mapping, frozen here

# classification, release scope, consumers flag, member codes (scope "members" only)
Handling = tuple[int, str, bool, list[str]]


def _handling_columns() -> list[sa.Column[Any]]:
    return [sa.Column("classification", sa.Integer(), nullable=False, server_default=sa.text("4")),
            sa.Column("release_scope", sa.String(16), nullable=False, server_default="originator"),
            sa.Column("release_consumers", sa.Boolean(), nullable=False, server_default=sa.false())]


def upgrade() -> None:
    for col in _handling_columns():
        op.add_column("item_versions", col)
    op.create_table(
        "item_version_release",
        sa.Column("item_seq", PK, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member_id", PK, sa.ForeignKey("members.id"), nullable=False),
        sa.ForeignKeyConstraint(["item_seq", "version"], ["item_versions.item_seq", "item_versions.version"]),
        sa.PrimaryKeyConstraint("item_seq", "version", "member_id"),
        sqlite_with_rowid=False,
    )
    for col in _handling_columns():
        op.add_column("stix_versions", col)
    op.create_table(
        "stix_version_release",
        sa.Column("seq", PK, sa.ForeignKey("stix_versions.seq"), nullable=False),
        sa.Column("member_id", PK, sa.ForeignKey("members.id"), nullable=False),
        sa.PrimaryKeyConstraint("seq", "member_id"),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    member_ids = {code: mid for code, mid in conn.execute(sa.text("SELECT code, id FROM members"))}
    _fill_item_versions(conn, member_ids)
    _fill_raw_stix_versions(conn)
    _fill_item_stix_versions(conn, member_ids)


def downgrade() -> None:
    op.drop_table("stix_version_release")
    op.drop_table("item_version_release")
    for table in ("stix_versions", "item_versions"):
        for name in ("release_consumers", "release_scope", "classification"):
            op.drop_column(table, name)


def _parse(handling: Any) -> Handling | None:
    """An API-shaped handling (``{"classification": n, "release": {"scope", "members", "consumers"}}``), or None
    when it does not name a classification and a release scope."""
    if not isinstance(handling, dict):
        return None
    cls, rel = handling.get("classification"), handling.get("release")
    if not isinstance(cls, int) or isinstance(cls, bool) or not isinstance(rel, dict):
        return None
    scope = rel.get("scope")
    if scope not in ("originator", "members", "all"):
        return None
    members = rel.get("members") if scope == "members" else []
    codes = sorted({m for m in members if isinstance(m, str)}) if isinstance(members, list) else []
    return cls, scope, rel.get("consumers") is True, codes


def _fill_item_versions(conn: sa.Connection, member_ids: dict[str, int]) -> None:
    last = (0, 0)
    while True:
        rows = conn.execute(sa.text(
            "SELECT item_seq, version, snapshot FROM item_versions WHERE item_seq > :s OR (item_seq = :s AND "
            "version > :v) ORDER BY item_seq, version LIMIT :n"), {"s": last[0], "v": last[1], "n": BATCH}).all()
        if not rows:
            return
        updates: list[dict[str, Any]] = []
        releases: list[dict[str, Any]] = []
        for seq, version, snapshot in rows:
            try:
                h = _parse(orjson.loads(snapshot).get("handling"))
            except (orjson.JSONDecodeError, AttributeError):
                h = None
            if h is None:
                continue  # the strictest defaults stay
            updates.append({"c": h[0], "r": h[1], "k": h[2], "s": seq, "v": version})
            releases.extend({"s": seq, "v": version, "m": member_ids[c]} for c in h[3] if c in member_ids)
        if updates:
            conn.execute(sa.text("UPDATE item_versions SET classification = :c, release_scope = :r, "
                                 "release_consumers = :k WHERE item_seq = :s AND version = :v"), updates)
        if releases:
            conn.execute(sa.text("INSERT INTO item_version_release (item_seq, version, member_id) "
                                 "VALUES (:s, :v, :m)"), releases)
        last = (rows[-1][0], rows[-1][1])


def _fill_raw_stix_versions(conn: sa.Connection) -> None:
    """Objects not mapped from items: their handle's handling never changed, so every version was stored under it."""
    for col in ("classification", "release_scope", "release_consumers"):
        conn.execute(sa.text(
            f"UPDATE stix_versions SET {col} = (SELECT h.{col} FROM stix_handles h "  # noqa: S608 (own names)
            "WHERE h.seq = stix_versions.handle_seq) "
            "WHERE handle_seq IN (SELECT seq FROM stix_handles WHERE item_seq IS NULL)"))
    conn.execute(sa.text(
        "INSERT INTO stix_version_release (seq, member_id) SELECT v.seq, r.member_id FROM stix_versions v "
        "JOIN stix_handles h ON h.seq = v.handle_seq JOIN stix_release r ON r.item_seq = h.seq "
        "WHERE h.item_seq IS NULL"))


def _item_timelines(conn: sa.Connection, item_seqs: list[int]) -> dict[int, tuple[list[str], list[Handling]]]:
    """Per item, the STIX version keys of its versions' ``modified`` (ascending) and each version's handling."""
    from accord.stix.mapping import version_key

    seqs: sa.BindParameter[list[int]] = sa.bindparam("seqs", expanding=True)
    rows = conn.execute(sa.text(
        "SELECT item_seq, version, modified, classification, release_scope, release_consumers FROM item_versions "
        "WHERE item_seq IN :seqs UNION ALL SELECT seq, version, modified, classification, release_scope, "
        "release_consumers FROM items WHERE seq IN :seqs").bindparams(seqs), {"seqs": item_seqs}).all()
    named: dict[tuple[int, int], list[str]] = {}
    for s, v, code in conn.execute(sa.text(
            "SELECT r.item_seq, r.version, m.code FROM item_version_release r JOIN members m ON m.id = r.member_id "
            "WHERE r.item_seq IN :seqs").bindparams(seqs), {"seqs": item_seqs}):
        named.setdefault((s, v), []).append(code)
    current = {s: v for s, v in conn.execute(sa.text("SELECT seq, version FROM items WHERE seq IN :seqs")
                                             .bindparams(seqs), {"seqs": item_seqs})}
    for s, code in conn.execute(sa.text(
            "SELECT r.item_seq, m.code FROM item_release r JOIN members m ON m.id = r.member_id "
            "WHERE r.item_seq IN :seqs").bindparams(seqs), {"seqs": item_seqs}):
        named.setdefault((s, current[s]), []).append(code)
    out: dict[int, tuple[list[str], list[Handling]]] = {}
    for s, v, modified, cls, scope, consumers in sorted(rows, key=lambda r: (r[0], r[1])):
        keys, handlings = out.setdefault(s, ([], []))
        keys.append(version_key(modified))
        handlings.append((cls, scope, bool(consumers), named.get((s, v), []) if scope == "members" else []))
    return out


def _fill_item_stix_versions(conn: sa.Connection, member_ids: dict[str, int]) -> None:
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT v.seq, v.version_key, v.body, h.item_seq FROM stix_versions v JOIN stix_handles h "
            "ON h.seq = v.handle_seq WHERE h.item_seq IS NOT NULL AND v.seq > :last ORDER BY v.seq LIMIT :n"),
            {"last": last, "n": BATCH}).all()
        if not rows:
            return
        timelines: dict[int, tuple[list[str], list[Handling]]] | None = None
        updates: list[dict[str, Any]] = []
        releases: list[dict[str, Any]] = []
        for seq, key, body, item_seq in rows:
            try:
                ext = (orjson.loads(body).get("extensions") or {}).get(EXTENSION_ID)
            except (orjson.JSONDecodeError, AttributeError):
                ext = None
            h = _parse(ext)
            if h is None:
                if timelines is None:
                    timelines = _item_timelines(conn, sorted({r[3] for r in rows}))
                keys, handlings = timelines.get(item_seq, ([], []))
                if not keys:
                    continue
                h = handlings[max(bisect.bisect_right(keys, key) - 1, 0)]  # in effect then; else the first
            updates.append({"c": h[0], "r": h[1], "k": h[2], "s": seq})
            releases.extend({"s": seq, "m": member_ids[c]} for c in h[3] if c in member_ids)
        if updates:
            conn.execute(sa.text("UPDATE stix_versions SET classification = :c, release_scope = :r, "
                                 "release_consumers = :k WHERE seq = :s"), updates)
        if releases:
            conn.execute(sa.text("INSERT INTO stix_version_release (seq, member_id) VALUES (:s, :m)"), releases)
        last = rows[-1][0]
