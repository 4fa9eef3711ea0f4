"""Activity statistics for a viewer: counts by member and kind with the previous period for trend, who items were
released to, observation positions for the density map, and drill-down to the items behind any figure.

Everything here is a query over ``items`` built on ``policy.visible`` for the viewer (basis ``viewer``), or on the
member-as-a-whole principal for what a member presents about itself (basis ``members-own``, see figures.py).
Drill-down always adds the viewer's own ``visible``: a figure may count items the viewer cannot see (a communiqué's
agreed aggregate), but the list behind it only ever shows the viewer's share of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from accord import clock
from accord.audit.chain import AuditEvent, AuditLog
from accord.errors import PermissionDenied, ValidationFailed
from accord.meetings import figures as F
from accord.sharing.handling import ITEM_KINDS, Principal
from accord.sharing.items import decode_cursor, encode_cursor
from accord.sharing.policy import visible
from accord.storage.database import Database
from accord.storage.schema import items, members

__all__ = ["ActivityRow", "Statistics"]

GROUPS = ("member", "kind")
# The built-in figures first, in the order the centre reads them; registered ones follow.
_ORDER = {"items": 0, "observations": 1, "information": 2, "reports": 3, "entities": 4}
# A highlight source proposes items for a member's summary: (conn, member principal, start, end) -> item ids.
HighlightSource = Callable[[Connection, Principal, str, str], list[str]]


@dataclass
class ActivityRow:
    member: str | None
    kind: str | None
    count: int
    previous: int

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.member is not None:
            out["member"] = self.member
        if self.kind is not None:
            out["kind"] = self.kind
        out.update(count=self.count, previous=self.previous, change=self.count - self.previous)
        return out


def previous_period(start: str, end: str) -> tuple[str, str]:
    a, b = clock.parse_ts(start), clock.parse_ts(end)
    return clock.format_ts(a - (b - a)), start


def parse_period(start: Any, end: Any) -> tuple[str, str]:
    d = F.check_definition({"figure": "items", "from": start, "to": end})
    return d["from"], d["to"]


def _notable_entities(conn: Connection, member: Principal, start: str, end: str) -> list[str]:
    q = (select(items.c.id).where(items.c.originator_id == member.member_id, items.c.kind == "entity",
                                  visible(member), F.period_condition(start, end))
         .order_by(items.c.created.desc()).limit(5))
    return list(conn.execute(q).scalars())


@dataclass
class Statistics:
    db: Database
    audit: AuditLog
    highlight_sources: list[HighlightSource] = field(default_factory=lambda: [_notable_entities])

    # ----- grouped counts --------------------------------------------------------------------------------
    def activity(self, viewer: Principal, start: str, end: str, by: Sequence[str] = GROUPS,
                 member: str | None = None, audience: str = "any") -> dict[str, Any]:
        """Items shared in ``[start, end)`` that ``viewer`` may see, grouped by originating member and/or kind,
        with the previous period of the same length for trend."""
        start, end = parse_period(start, end)
        for b in by:
            if b not in GROUPS:
                raise ValidationFailed.one("by", "must be member and/or kind")
        base = F.check_definition({"figure": "items", "from": start, "to": end, "audience": audience,
                                   "members": [member] if member else []})
        prev_start, prev_end = previous_period(start, end)
        cols = {"member": members.c.code.label("member"), "kind": items.c.kind.label("kind")}
        group = [cols[b] for b in by]
        rows: dict[tuple[Any, ...], list[int]] = {}
        with self.db.read() as conn:
            for idx, (a, b) in enumerate(((start, end), (prev_start, prev_end))):
                d = {**base, "from": a, "to": b}
                q = (select(*group, func.count().label("n")).select_from(items)
                     .join(members, members.c.id == items.c.originator_id)
                     .where(F.selection(conn, d, viewer)))
                if group:
                    q = q.group_by(*group)
                for r in conn.execute(q):
                    key = tuple(r[: len(group)])
                    rows.setdefault(key, [0, 0])[idx] = int(r[-1])
        out = []
        for key in sorted(rows, key=lambda k: tuple(str(x) for x in k)):
            named = dict(zip(by, key, strict=True))
            out.append(ActivityRow(named.get("member"), named.get("kind"), *rows[key]).as_dict())
        total = sum(r["count"] for r in out)
        return {"from": start, "to": end, "previous": {"from": prev_start, "to": prev_end}, "by": list(by),
                "audience": base["audience"], "member": member.upper() if member else None, "groups": out,
                "total": total, "previous_total": sum(r["previous"] for r in out)}

    def released_to(self, viewer: Principal, start: str, end: str, member: str | None = None) -> dict[str, Any]:
        """For the viewer's share of the period's items: how many were released to each member (other than the
        originator) and how many on to consumers."""
        start, end = parse_period(start, end)
        with self.db.read() as conn:
            base = F.selection(conn, F.check_definition({"figure": "items", "from": start, "to": end,
                                                         "members": [member] if member else []}), viewer)
            out: dict[str, int] = {}
            for code in conn.execute(select(members.c.code).order_by(members.c.code)).scalars():
                cond = F.audience_condition(conn, f"member:{code}")
                n = conn.execute(select(func.count()).select_from(items).where(base, cond)).scalar_one()
                out[code] = int(n)
            consumers = conn.execute(select(func.count()).select_from(items)
                                     .where(base, F.audience_condition(conn, "consumers"))).scalar_one()
            shared = conn.execute(select(func.count()).select_from(items)
                                  .where(base, F.audience_condition(conn, "members"))).scalar_one()
        return {"members": out, "consumers": int(consumers), "released": int(shared)}

    def positions(self, viewer: Principal, start: str, end: str,
                  member: str | None = None) -> list[tuple[float, float]]:
        """(lon, lat) of the observations behind the period's figures that the viewer may see."""
        start, end = parse_period(start, end)
        with self.db.read() as conn:
            d = F.check_definition({"figure": "observations", "from": start, "to": end,
                                    "members": [member] if member else []})
            q = select(items.c.lon, items.c.lat).where(F.selection(conn, d, viewer), items.c.lat.is_not(None))
            return [(float(lon), float(lat)) for lon, lat in conn.execute(q)]

    def weekly(self, viewer: Principal, start: str, end: str, member: str | None = None,
               max_buckets: int = 26) -> list[dict[str, Any]]:
        """Counts per bucket from ``start`` (observations vs information items), for the trend chart. Buckets are
        a week long, or longer (whole days) when a long period would need more than ``max_buckets``."""
        start, end = parse_period(start, end)
        a, b = clock.parse_ts(start), clock.parse_ts(end)
        size = timedelta(days=max(7, math.ceil((b - a) / timedelta(days=1) / max_buckets)))
        out = []
        with self.db.read() as conn:
            cur = a
            while cur < b:
                nxt = min(cur + size, b)
                if b - nxt < size * 3 / 7:  # a stub of a last bucket joins the one before it
                    nxt = b
                row: dict[str, Any] = {"from": clock.format_ts(cur), "days": size.days}
                for key in ("observations", "information"):
                    d = F.check_definition({"figure": key, "from": clock.format_ts(cur), "to": clock.format_ts(nxt),
                                            "members": [member] if member else []})
                    row[key] = int(conn.execute(select(func.count()).select_from(items)
                                                .where(F.selection(conn, d, viewer))).scalar_one())
                out.append(row)
                cur = nxt
        return out

    def figure_table(self, viewer: Principal, start: str, end: str, member: str | None = None,
                     kind: str | None = None, audience: str = "any") -> dict[str, Any]:
        """Every registered figure (that applies to ``kind``) for the viewer, this period and the previous one of
        the same length: counts only, each with the canonical definition its drill-down link is made from."""
        start, end = parse_period(start, end)
        if kind is not None and kind not in ITEM_KINDS:
            raise ValidationFailed.one("kind", f"must be one of {', '.join(ITEM_KINDS)}")
        prev_start, prev_end = previous_period(start, end)
        out = []
        with self.db.read() as conn:
            for key, fig in sorted(F.FIGURES.items(), key=lambda kv: _ORDER.get(kv[0], len(_ORDER))):
                if kind is not None and kind not in fig.kinds:
                    continue
                d = F.check_definition({"figure": key, "from": start, "to": end, "audience": audience,
                                        "members": [member] if member else [], "kinds": [kind] if kind else []})
                counts = []
                for a, b in ((start, end), (prev_start, prev_end)):
                    q = select(func.count()).select_from(items).where(F.selection(conn, {**d, "from": a, "to": b},
                                                                                  viewer))
                    counts.append(int(conn.execute(q).scalar_one()))
                out.append({"figure": key, "definition": d, "value": counts[0], "previous": counts[1],
                            "change": counts[0] - counts[1], "items": drill_link(d)})
        return {"from": start, "to": end, "previous": {"from": prev_start, "to": prev_end}, "figures": out}

    # ----- figures and drill-down ------------------------------------------------------------------------
    def figure(self, viewer: Principal, raw: Any) -> dict[str, Any]:
        d = self.check_figure(viewer, raw)
        with self.db.read() as conn:
            ev = F.evaluate(conn, d, viewer)
        return {**ev.as_dict(), "items": drill_link(d)}

    def check_figure(self, viewer: Principal, raw: Any) -> dict[str, Any]:
        d = F.check_definition(raw)
        # The members-own basis counts a member's items whatever their release (within the asker's clearance when
        # one of its people asks; see figures.selection): what its analysts and admins prepare its summary from.
        # A viewer asks it for their own member only, and only a role that prepares that summary: a reader or a
        # consumer, who may see less of their member's items, would otherwise count what is withheld from them.
        # Communiqué figures (all participants) are read through the meeting, not here.
        if d["basis"] == "members-own":
            if not viewer.can_write:
                raise PermissionDenied("only your member's analysts and administrators read its own figures; "
                                       "ask with the viewer basis")
            if d["members"] != [viewer.member_code]:
                raise PermissionDenied("ask for your own member's figures, or read them through a meeting")
        return d

    def drilldown(self, viewer: Principal, definition: dict[str, Any], *, cursor: str | None = None,
                  limit: int = 50, request_id: str | None = None, total: int | None = None) -> dict[str, Any]:
        """The items behind a canonical figure definition that the viewer may see, newest first."""
        if not 1 <= limit <= 1000:
            raise ValidationFailed.one("limit", "must be between 1 and 1000")
        with self.db.read() as conn:
            cond = and_(F.selection(conn, definition, viewer), visible(viewer))
            fig = F.FIGURES[definition["figure"]]
            if fig.known is not None and definition["basis"] != "viewer":
                # An item is listed only if it relates to something the viewer may see (or was told of): that
                # another member's item relates to what *that member* may see is the other member's to know (a
                # third member released it a matching item, or the hub sent it a notice). Whether another
                # member's item is counted at all is judged as that member sees (figures.selection), so only the
                # viewer's own member's share is listed: it is judged as the viewer sees (leak review 7).
                cond = and_(cond, fig.known(conn, definition, viewer), items.c.originator_id == viewer.member_id)
            q = (select(items.c.seq, items.c.id, items.c.kind, members.c.code.label("originator"), items.c.created,
                        items.c.title, items.c.revoked, items.c.tlp)
                 .join(members, members.c.id == items.c.originator_id).where(cond))
            n_visible = int(conn.execute(select(func.count()).select_from(items).where(cond)).scalar_one())
            if cursor:
                q = q.where(items.c.seq < decode_cursor(self.db.settings.secret_key, cursor))
            rows = conn.execute(q.order_by(items.c.seq.desc()).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        listed = [{"id": r.id, "kind": r.kind, "originator": r.originator, "created": r.created, "title": r.title,
                   "revoked": bool(r.revoked), "tlp": r.tlp} for r in rows]
        if listed:
            self.audit.record(AuditEvent("stats.drilldown", viewer.user_id or None, viewer.member_code, None,
                                         request_id, {"ids": [i["id"] for i in listed], "via": viewer.via,
                                                      "figure": definition["figure"]}))
        nxt = encode_cursor(self.db.settings.secret_key, rows[-1].seq) if more and rows else None
        return {"definition": definition, "total": n_visible if total is None else total, "visible": n_visible,
                "items": listed, "next": nxt}

    # ----- what a member presents ------------------------------------------------------------------------
    def member_figures(self, conn: Connection, preparer: Principal, start: str, end: str) -> list[dict[str, Any]]:
        """The figures pre-filled into a member's activity summary: its own items of the period, by kind, and
        how many it provided to other members and to consumers; what they relate to as ``preparer`` may see it.
        None is presented until the member chooses it (``present`` false)."""
        out = []
        code = preparer.member_code
        for key, audience in (("observations", "members"), ("information", "members"), ("items", "any"),
                              ("items", "consumers")):
            d = F.check_definition({"figure": key, "from": start, "to": end, "members": [code],
                                    "audience": audience, "basis": "members-own"})
            ev = F.evaluate(conn, d, preparer)
            out.append({"definition": d, "value": ev.value, "present": False})
        for key, fig in F.FIGURES.items():  # figures other features registered (correlated with another member's)
            if fig.labels:
                d = F.check_definition({"figure": key, "from": start, "to": end, "members": [code],
                                        "audience": "any", "basis": "members-own"})
                out.append({"definition": d, "value": F.evaluate(conn, d, preparer).value, "present": False})
        return out

    def highlights(self, conn: Connection, preparer: Principal, start: str, end: str) -> list[str]:
        """Items proposed for a member's summary, as ``preparer`` (who drafts it) may see them."""
        seen: list[str] = []
        for source in self.highlight_sources:
            for item_id in source(conn, preparer, start, end):
                if item_id not in seen:
                    seen.append(item_id)
        return seen


def drill_link(d: dict[str, Any]) -> str:
    """The API address of a figure's drill-down list."""
    from urllib.parse import urlencode

    params: list[tuple[str, str]] = [("figure", d["figure"]), ("from", d["from"]), ("to", d["to"]),
                                     ("audience", d["audience"]), ("basis", d["basis"])]
    params += [("member", m) for m in d["members"]] + [("kind", k) for k in d["kinds"]]
    return "/api/v1/stats/items?" + urlencode(params)

