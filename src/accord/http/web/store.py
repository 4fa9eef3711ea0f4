"""What the pages keep for themselves (saved searches, last visits, member default handling) and the few lookups
the core services do not offer (notes about an item, relationships of an entity).

The lookups return item ids only, chosen under ``policy.visible``; the pages then load each item through
``Items.get``, so the content read is audited by the core exactly as for any other read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import and_, case, delete, func, insert, or_, select, update

from accord import clock
from accord.errors import NotFound, PermissionDenied, ValidationFailed
from accord.http.web.tables import member_defaults, saved_searches, visits
from accord.sharing.handling import ADMIN_ROLES, CLASSIFICATIONS, RELEASE_SCOPES, RELIABILITY, TLP, Principal
from accord.sharing.policy import visible
from accord.storage.database import Database
from accord.storage.schema import item_versions, items, members

__all__ = ["Defaults", "WebStore"]

_VISIT_GAP = timedelta(hours=1)


@dataclass
class Defaults:
    tlp: str = "amber"
    classification: int = 0
    release_scope: str = "members"
    release_members: list[str] | None = None
    release_consumers: bool = False
    reliability: str | None = None
    credibility: int | None = None


class WebStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._counts: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    # ----- visits ------------------------------------------------------------------------------------------
    def visit(self, principal: Principal) -> str | None:
        """Record a dashboard visit; returns the time of the previous visit (what "new since" is measured from)."""
        now = clock.now()
        with self.db.write() as conn:
            row = conn.execute(select(visits).where(visits.c.user_id == principal.user_id)).first()
            if row is None:
                conn.execute(insert(visits).values(user_id=principal.user_id, last=now, previous=None))
                return None
            if clock.parse_ts(now) - clock.parse_ts(row.last) > _VISIT_GAP:
                conn.execute(update(visits).where(visits.c.user_id == principal.user_id)
                             .values(last=now, previous=row.last))
                return str(row.last)
            conn.execute(update(visits).where(visits.c.user_id == principal.user_id).values(last=now))
            return str(row.previous) if row.previous else None

    # ----- saved searches ----------------------------------------------------------------------------------
    def saved(self, principal: Principal) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute(select(saved_searches).where(saved_searches.c.user_id == principal.user_id)
                                .order_by(saved_searches.c.name))
            return [r._asdict() for r in rows]

    def save_search(self, principal: Principal, name: str, query: str) -> None:
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationFailed.one("name", "must be 1-100 characters")
        if len(query) > 4000:
            raise ValidationFailed.one("query", "is too long")
        with self.db.write() as conn:
            conn.execute(insert(saved_searches).values(user_id=principal.user_id, name=name, query=query,
                                                       created=clock.now()))

    def delete_search(self, principal: Principal, search_id: int) -> None:
        with self.db.write() as conn:
            n = conn.execute(delete(saved_searches).where(saved_searches.c.id == search_id,
                                                          saved_searches.c.user_id == principal.user_id)).rowcount
        if not n:
            raise NotFound("no such saved search")

    # ----- member default handling -------------------------------------------------------------------------
    def defaults(self, member_id: int) -> Defaults:
        with self.db.read() as conn:
            row = conn.execute(select(member_defaults).where(member_defaults.c.member_id == member_id)).first()
        if row is None:
            return Defaults(release_members=[])
        return Defaults(row.tlp, row.classification, row.release_scope, orjson.loads(row.release_members),
                        bool(row.release_consumers), row.reliability, row.credibility)

    def set_defaults(self, principal: Principal, member_code: str, d: Defaults) -> None:
        errors = []
        if d.tlp not in TLP:
            errors.append(("tlp", f"must be one of {', '.join(TLP)}"))
        if not 0 <= d.classification < len(CLASSIFICATIONS):
            errors.append(("classification", "is not a level"))
        if d.release_scope not in RELEASE_SCOPES:
            errors.append(("release_scope", f"must be one of {', '.join(RELEASE_SCOPES)}"))
        if d.reliability is not None and d.reliability not in RELIABILITY:
            errors.append(("reliability", "must be A-F"))
        if d.credibility is not None and not 1 <= d.credibility <= 6:
            errors.append(("credibility", "must be 1-6"))
        if errors:
            from accord.errors import FieldError

            raise ValidationFailed([FieldError(f, m) for f, m in errors])
        with self.db.write() as conn:
            m = conn.execute(select(members.c.id).where(members.c.code == member_code.upper())).first()
            if m is None:
                raise NotFound(f"no member {member_code}")
            if not (principal.role == "hub-admin" or
                    (principal.role in ADMIN_ROLES and principal.member_id == m.id)):
                raise PermissionDenied("only the member's administrator sets its default handling")
            values = {"tlp": d.tlp, "classification": d.classification, "release_scope": d.release_scope,
                      "release_members": orjson.dumps(d.release_members or []).decode(),
                      "release_consumers": d.release_consumers, "reliability": d.reliability,
                      "credibility": d.credibility}
            conn.execute(delete(member_defaults).where(member_defaults.c.member_id == m.id))
            conn.execute(insert(member_defaults).values(member_id=m.id, **values))

    # ----- counts under the policy -------------------------------------------------------------------------
    def dashboard_counts(self, principal: Principal, period_start: str, new_since: str) -> list[dict[str, Any]]:
        """Per (kind, originator): items created since ``period_start`` and since ``new_since``, in ONE pass.

        Two ``Items.stats`` calls would scan the table twice; this reads the covering index ``ix_web_items_stats``
        (migration 0004_web) once. Counts only, no content, so, like ``Items.stats``, nothing to audit.

        Results are remembered per visibility class (what ``visible()`` depends on: member, clearance, consumer or
        not) together with two marks of the store (largest item seq, number of stored versions): any share, edit,
        release or revocation moves a mark, so a remembered answer is never stale."""
        marks = self._marks()
        key = (principal.member_id, principal.clearance, principal.is_consumer, principal.role, period_start,
               new_since, marks)
        with self._lock:
            hit = self._counts.get(key)
        if hit is not None:
            return [dict(r) for r in hit]
        rows = self._dashboard_counts(principal, period_start, new_since)
        with self._lock:
            if len(self._counts) > 512:
                self._counts.clear()
            self._counts[key] = rows
        return [dict(r) for r in rows]

    def _marks(self) -> tuple[Any, Any]:
        # New items raise the largest seq; every change to an item (edit, release, revocation) stores a row in
        # item_versions in the same transaction. Together they move on every write that could change a count.
        with self.db.read() as conn:
            top = conn.execute(select(func.max(items.c.seq))).scalar()
            versions = conn.execute(select(func.count()).select_from(item_versions)).scalar()
        return top, versions

    def _dashboard_counts(self, principal: Principal, period_start: str, new_since: str) -> list[dict[str, Any]]:
        lower = min(period_start, new_since)
        q = (select(items.c.kind, members.c.code.label("originator"),
                    func.sum(case((items.c.created >= period_start, 1), else_=0)).label("in_period"),
                    func.sum(case((items.c.created >= new_since, 1), else_=0)).label("new"))
             .select_from(items).join(members, members.c.id == items.c.originator_id)
             .where(visible(principal), items.c.revoked.is_(False), items.c.created >= lower)
             .group_by(items.c.kind, members.c.code).order_by(items.c.kind, members.c.code))
        with self.db.read() as conn:
            return [{"kind": r.kind, "originator": r.originator, "count": int(r.in_period or 0), "new": int(r.new or 0)}
                    for r in conn.execute(q)]

    def capped_count(self, query: Any, cap: int = 1000) -> int:
        """How many rows a filtered item query (already built on ``visible``) matches, counting at most ``cap``
        + 1: a search page says "more than 1,000" rather than paying for an exact count of a broad match."""
        inner = query.with_only_columns(items.c.seq).order_by(None).limit(cap + 1).subquery()
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())

    # ----- lookups under the policy ------------------------------------------------------------------------
    def _ids(self, principal: Principal, *conditions: Any, limit: int = 100) -> list[str]:
        q = (select(items.c.id).where(visible(principal), items.c.revoked.is_(False), *conditions)
             .order_by(items.c.seq.desc()).limit(limit))
        with self.db.read() as conn:
            return [str(r) for r in conn.execute(q).scalars()]

    def notes_about(self, principal: Principal, item_id: str) -> list[str]:
        """Visible notes whose object_refs name the item (matched in the stored JSON, then checked by the page)."""
        return self._ids(principal, items.c.kind == "note", items.c.body.contains(f'"{item_id}"'))

    def relationships_of(self, principal: Principal, item_id: str) -> list[str]:
        return self._ids(principal, items.c.kind == "relationship", items.c.body.contains(f'"{item_id}"'))

    def later_names(self, principal: Principal, entity_id: str) -> list[str]:
        """Visible entities that list this one among their former names."""
        return self._ids(principal, and_(items.c.kind == "entity",
                                         or_(items.c.body.contains(f'"{entity_id}"'))))
