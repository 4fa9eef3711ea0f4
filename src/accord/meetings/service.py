"""The meeting cycle: convene, activity summaries, minutes, communiqué, approvals, publication.

Who may do what:

- a meeting is seen only by users (not consumers) of its participating members; to anyone else it does not exist
  (``NotFound``, like a hidden item);
- the chair convenes: an analyst or administrator of the member holding the chair, or a member administrator
  (who convenes for its own member). The convening member is the meeting's chair and its users keep the minutes
  and draft the communiqué (the secretariat);
- each participating member's analysts and administrators draft that member's activity summary, pre-filled with
  its figures (members-own basis, see figures.py) and highlights, and choose what to present;
- every participating member approves the communiqué or asks for changes; any change to the draft starts a new
  revision and earlier approvals lapse. Publication needs an approval of the current revision from every member.

Freezing: when the chair submits the communiqué, its figures are computed and stored with their definitions and
the ids behind them, and so is each participant's share of every figure (its own items among those counted). The
review period must have ended (``period_to`` in the past), so no new item can fall into it. Publication re-runs the
definitions and refuses if anything moved.

Approval before totals: until every participant has approved the current revision, each member (the chair
included) is shown only its own share of each figure, never the total, in every answer (the communiqué, its
document, the drill-down, verification, error texts and the audit record of the submission). The total less a
member's own share is the other members' figures: shown before they agreed, a chair could set a narrow period and
learn of another member's single items. A member approves the text and its own contribution; once all have, the
totals are shown to every participant, who may still ask for changes until the chair publishes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, update

from accord import clock
from accord.audit.chain import AuditEvent, AuditLog
from accord.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from accord.meetings import figures as F
from accord.meetings.stats import Statistics
from accord.meetings.tables import (
    approvals,
    communique_contributions,
    communique_figures,
    communiques,
    meeting_members,
    meetings,
    minutes,
    summaries,
)
from accord.sharing.handling import CLASSIFICATIONS, WRITE_ROLES, Principal
from accord.sharing.policy import cleared, visible, visible_ids
from accord.storage.database import Database
from accord.storage.schema import items, members, public_id

__all__ = ["LANGUAGES", "Meetings"]

LANGUAGES = ("en", "fr", "ar", "ru", "fa")
MINUTE_KINDS = ("note", "decision", "action")
MAX_TEXT = 100_000


def _j(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _text(raw: dict[str, Any], name: str, errors: list[FieldError], *, required: bool = True, limit: int = 300) -> str:
    v = raw.get(name, "")
    if v is None:
        v = ""
    if not isinstance(v, str) or len(v) > limit or (required and not v.strip()):
        errors.append(FieldError(name, f"must be {'a non-empty' if required else 'a'} text of at most {limit} "
                                       "characters"))
        return ""
    return v.strip()


def _day(v: Any, name: str, errors: list[FieldError]) -> str | None:
    try:
        return date.fromisoformat(v).isoformat()
    except (TypeError, ValueError):
        errors.append(FieldError(name, "must be a date YYYY-MM-DD"))
        return None


# The clearance a summary figure stored without one (drafted before figures kept it) is taken to be counted at.
_TOP_LEVEL = len(CLASSIFICATIONS) - 1


def _shown_figure(f: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """A stored summary figure as ``principal`` is shown it. An unpresented one was counted as its drafter may
    see (``clearance``; drafts before it was kept count as the top level): to a colleague cleared lower its value
    is withheld (``None``), as it may count items above their clearance. A presented one is the member's
    statement, shown as stored."""
    out = {k: v for k, v in f.items() if k != "clearance"}
    if not f.get("present") and not cleared(principal, int(f.get("clearance", _TOP_LEVEL))):
        out["value"] = None
    return out


@dataclass
class _Meeting:
    row: Any
    participants: dict[int, str]  # member id -> code

    @property
    def id(self) -> int:
        return int(self.row.id)

    @property
    def public_id(self) -> str:
        return str(self.row.public_id)


class Meetings:
    def __init__(self, db: Database, audit: AuditLog, stats: Statistics) -> None:
        self.db = db
        self.audit = audit
        self.stats = stats

    # ----- access ----------------------------------------------------------------------------------------
    def _load(self, conn: Connection, principal: Principal, meeting_id: Any) -> _Meeting:
        """The meeting of public id ``meeting_id``, if ``principal``'s member takes part (else the same NotFound
        as for no such meeting)."""
        if not isinstance(meeting_id, str) or len(meeting_id) > 24:
            raise NotFound()
        row = conn.execute(select(meetings).where(meetings.c.public_id == meeting_id)).first()
        if row is None:
            raise NotFound()
        mid = int(row.id)
        parts = dict(conn.execute(select(members.c.id, members.c.code)
                                  .join(meeting_members, meeting_members.c.member_id == members.c.id)
                                  .where(meeting_members.c.meeting_id == mid).order_by(members.c.code)).all())
        if principal.is_consumer or principal.member_id not in parts:
            raise NotFound()
        return _Meeting(row, parts)

    @staticmethod
    def _need_chair(principal: Principal, m: _Meeting) -> None:
        if principal.role not in WRITE_ROLES or principal.member_id != m.row.chair_member_id:
            raise PermissionDenied("only the chair's analysts and administrators do this")

    @staticmethod
    def _need_writer(principal: Principal) -> None:
        if principal.role not in WRITE_ROLES:
            raise PermissionDenied("your role may not do this")

    def _event(self, conn: Connection, principal: Principal, action: str, meeting_id: str, **detail: Any) -> None:
        """``meeting_id``: the public id (the trail is read by member administrators too)."""
        self.audit.append(conn, [AuditEvent(action, principal.user_id, principal.member_code, None, None,
                                            {"meeting": meeting_id, "via": principal.via, **detail})])

    # ----- convene ---------------------------------------------------------------------------------------
    def create(self, principal: Principal, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ValidationFailed.one("", "must be an object")
        errors: list[FieldError] = []
        title = _text(raw, "title", errors)
        place = _text(raw, "place", errors, required=False)
        held_on = _day(raw.get("date"), "date", errors)
        agenda = raw.get("agenda", [])
        if not isinstance(agenda, list) or not all(isinstance(a, str) and 0 < len(a) <= 1000 for a in agenda):
            errors.append(FieldError("agenda", "must be a list of texts"))
        period = raw.get("period") or {}
        start = end = None
        if not isinstance(period, dict):
            period = {}
        try:
            d = F.check_definition({"figure": "items", "from": period.get("from"), "to": period.get("to")})
            start, end = d["from"], d["to"]
        except ValidationFailed as exc:
            errors.extend(FieldError("period." + e.field, e.message) for e in exc.errors)
        codes = raw.get("members")
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            errors.append(FieldError("members", "must list the participating member codes"))
            codes = []
        if errors:
            raise ValidationFailed(errors)
        chair_ok = principal.role == "member-admin"
        with self.db.write() as conn:
            own_role = conn.execute(select(members.c.role).where(members.c.id == principal.member_id)).scalar()
            chair_ok = chair_ok or (own_role == "chair" and principal.role in WRITE_ROLES)
            if not chair_ok:
                raise PermissionDenied("the chair's analysts or a member administrator convene meetings")
            wanted = {c.upper() for c in codes} | {principal.member_code}
            found = dict(conn.execute(select(members.c.code, members.c.id).where(members.c.code.in_(wanted))).all())
            missing = sorted(wanted - found.keys())
            if missing:
                raise ValidationFailed.one("members", f"no member {', '.join(missing)}")
            pid = public_id("mtg_")
            mid = int(conn.execute(meetings.insert().values(  # type: ignore[index]
                title=title, held_on=held_on, place=place, agenda=_j(agenda), period_from=start, period_to=end,
                chair_member_id=principal.member_id, created_by=principal.user_id, created=clock.now(),
                status="convened", public_id=pid)).inserted_primary_key[0])
            conn.execute(meeting_members.insert(), [{"meeting_id": mid, "member_id": i} for i in found.values()])
            conn.execute(communiques.insert().values(meeting_id=mid, texts="{}", picks="[]", status="draft",
                                                     revision=1, updated=clock.now()))
            self._event(conn, principal, "meeting.create", pid, members=sorted(found))
        return self.get(principal, pid)

    def list_for(self, principal: Principal) -> list[dict[str, Any]]:
        if principal.is_consumer:
            return []
        q = (select(meetings.c.public_id.label("id"), meetings.c.title, meetings.c.held_on, meetings.c.place,
                    meetings.c.status, communiques.c.status.label("communique"))
             .join(meeting_members, meeting_members.c.meeting_id == meetings.c.id)
             .join(communiques, communiques.c.meeting_id == meetings.c.id)
             .where(meeting_members.c.member_id == principal.member_id).order_by(meetings.c.held_on.desc()))
        with self.db.read() as conn:
            return [r._asdict() for r in conn.execute(q)]

    def get(self, principal: Principal, meeting_id: Any) -> dict[str, Any]:
        with self.db.read() as conn:
            m = self._load(conn, principal, meeting_id)
            r = m.row
            chair = conn.execute(select(members.c.code, members.c.name).where(members.c.id == r.chair_member_id)).one()
            names = dict(conn.execute(select(members.c.code, members.c.name)
                                      .where(members.c.id.in_(list(m.participants)))).all())
            out: dict[str, Any] = {
                "id": m.public_id, "title": r.title, "date": r.held_on, "place": r.place,
                "agenda": orjson.loads(r.agenda),
                "period": {"from": r.period_from, "to": r.period_to}, "status": r.status,
                "chair": {"code": chair.code, "name": chair.name},
                "members": [{"code": c, "name": names[c]} for c in sorted(m.participants.values())],
                "summaries": self._summaries(conn, principal, m),
                "minutes": self._minutes(conn, m),
                "communique": self._communique(conn, m, principal),
            }
        shown = [h["id"] for s in out["summaries"] for h in s["highlights"]]
        if shown:  # highlight titles are item content: their reading is audited like any other
            self.audit.record(AuditEvent("meeting.read", principal.user_id, principal.member_code, None, None,
                                         {"meeting": out["id"], "ids": shown, "via": principal.via}))
        return out

    # ----- activity summaries ----------------------------------------------------------------------------
    def _summaries(self, conn: Connection, principal: Principal, m: _Meeting) -> list[dict[str, Any]]:
        out = []
        for s in conn.execute(select(summaries).where(summaries.c.meeting_id == m.id)
                              .order_by(summaries.c.member_id)):
            # The member's own draft, every figure of it, is for those who prepare it: its figures count what the
            # member as a whole holds, which its readers may not all be given (a reader sees what it presents).
            own = s.member_id == principal.member_id and principal.role in WRITE_ROLES
            figs = [_shown_figure(f, principal) for f in orjson.loads(s.figures) if own or f.get("present")]
            wanted = [h["item"] for h in orjson.loads(s.highlights) if own or h.get("present")]
            present = {h["item"]: h.get("present", False) for h in orjson.loads(s.highlights)}
            shown = []
            hidden = 0
            if wanted:
                rows = {r.id: r for r in conn.execute(select(items.c.id, items.c.kind, items.c.title)
                                                      .where(items.c.id.in_(wanted), visible(principal)))}
                for i in wanted:
                    if i in rows:
                        shown.append({"id": i, "kind": rows[i].kind, "title": rows[i].title, "present": present[i]})
                    elif present[i]:
                        hidden += 1  # presented, but not released to this viewer: counted, never shown
                    # (one merely proposed by a colleague cleared higher is not the viewer's to know of)
            out.append({"member": m.participants[s.member_id], "status": s.status, "narrative": s.narrative,
                        "figures": figs, "highlights": shown, "highlights_not_visible": hidden,
                        "updated": s.updated})
        return out

    def draft_summary(self, principal: Principal, meeting_id: Any) -> dict[str, Any]:
        """Create (or refresh the figures of) the caller's member summary, pre-filled from the records."""
        self._need_writer(principal)
        with self.db.write() as conn:
            m = self._load(conn, principal, meeting_id)
            figs = self.stats.member_figures(conn, principal, m.row.period_from, m.row.period_to)
            for f in figs:  # counted as the drafter may see: not shown to colleagues cleared lower (_shown_figure)
                f["clearance"] = principal.clearance
            hl = [{"item": i, "present": False}
                  for i in self.stats.highlights(conn, principal, m.row.period_from, m.row.period_to)]
            existing = conn.execute(select(summaries).where(summaries.c.meeting_id == m.id,
                                                            summaries.c.member_id == principal.member_id)).first()
            if existing is None:
                conn.execute(summaries.insert().values(meeting_id=m.id, member_id=principal.member_id, narrative="",
                                                       figures=_j(figs), highlights=_j(hl), status="draft",
                                                       updated=clock.now(), updated_by=principal.user_id))
            else:
                if existing.status == "final":
                    raise Conflict("the summary is final")
                # A presented figure stays presented unless it is now counted above the clearance it was counted
                # (and chosen) at: no one chose to present what a colleague cleared higher now counts into it.
                keep = {F.canonical_json(f["definition"]): (f.get("present", True), int(f.get("clearance", _TOP_LEVEL)))
                        for f in orjson.loads(existing.figures)}
                for f in figs:
                    was, level = keep.get(F.canonical_json(f["definition"]), (False, _TOP_LEVEL))
                    f["present"] = was and f["clearance"] <= level
                old = {h["item"]: h["present"] for h in orjson.loads(existing.highlights)}
                for h in hl:
                    h["present"] = old.get(h["item"], False)
                conn.execute(update(summaries).where(summaries.c.id == existing.id).values(
                    figures=_j(figs), highlights=_j(hl), updated=clock.now(), updated_by=principal.user_id))
            self._event(conn, principal, "meeting.summary.draft", m.public_id)
        return self._summary_of(principal, meeting_id)

    def _summary_of(self, principal: Principal, meeting_id: Any) -> dict[str, Any]:
        got = self.get(principal, meeting_id)
        return next(s for s in got["summaries"] if s["member"] == principal.member_code)

    def update_summary(self, principal: Principal, meeting_id: Any, raw: Any) -> dict[str, Any]:
        """Edit the narrative, choose figures and highlights to present (by index / item id), or mark final."""
        self._need_writer(principal)
        if not isinstance(raw, dict):
            raise ValidationFailed.one("", "must be an object")
        with self.db.write() as conn:
            m = self._load(conn, principal, meeting_id)
            s = conn.execute(select(summaries).where(summaries.c.meeting_id == m.id,
                                                     summaries.c.member_id == principal.member_id)).first()
            if s is None:
                raise NotFound("draft the summary first")
            if s.status == "final":
                raise Conflict("the summary is final")
            values: dict[str, Any] = {"updated": clock.now(), "updated_by": principal.user_id}
            errors: list[FieldError] = []
            if "narrative" in raw:
                values["narrative"] = _text(raw, "narrative", errors, required=False, limit=MAX_TEXT)
            if "present_figures" in raw:
                figs = orjson.loads(s.figures)
                sel = raw["present_figures"]
                if not isinstance(sel, list) or not all(isinstance(i, int) and 0 <= i < len(figs) for i in sel):
                    errors.append(FieldError("present_figures", f"must list figure indexes 0..{len(figs) - 1}"))
                elif any(_shown_figure(figs[i], principal)["value"] is None and not figs[i].get("present")
                         for i in sel):
                    # Presenting it would show its value to the presenter too: the figures are refreshed first.
                    errors.append(FieldError("present_figures", "a figure drafted by a colleague cleared higher "
                                                                "than you is presented after you refresh the figures"))
                else:
                    for i, f in enumerate(figs):
                        f["present"] = i in sel
                    values["figures"] = _j(figs)
            if "present_highlights" in raw:
                hl = orjson.loads(s.highlights)
                sel = raw["present_highlights"]
                known = {h["item"] for h in hl}
                if not isinstance(sel, list) or not all(isinstance(i, str) and i in known for i in sel):
                    errors.append(FieldError("present_highlights", "must list item ids among the proposed highlights"))
                else:
                    for h in hl:
                        h["present"] = h["item"] in sel
                    values["highlights"] = _j(hl)
            if raw.get("final") is True:
                values["status"] = "final"
            if errors:
                raise ValidationFailed(errors)
            conn.execute(update(summaries).where(summaries.c.id == s.id).values(**values))
            self._event(conn, principal, "meeting.summary.update", m.public_id,
                        final=values.get("status") == "final")
        return self._summary_of(principal, meeting_id)

    # ----- minutes ---------------------------------------------------------------------------------------
    def _minutes(self, conn: Connection, m: _Meeting) -> list[dict[str, Any]]:
        codes = dict(conn.execute(select(members.c.id, members.c.code)).all())
        return [{"id": r.public_id, "kind": r.kind, "text": r.text, "owner": codes.get(r.owner_member_id),
                 "due": r.due, "status": r.status, "created": r.created, "closed": r.closed}
                for r in conn.execute(select(minutes).where(minutes.c.meeting_id == m.id).order_by(minutes.c.id))]

    def add_minute(self, principal: Principal, meeting_id: Any, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ValidationFailed.one("", "must be an object")
        errors: list[FieldError] = []
        kind = raw.get("kind")
        if kind not in MINUTE_KINDS:
            errors.append(FieldError("kind", f"must be one of {', '.join(MINUTE_KINDS)}"))
        text = _text(raw, "text", errors, limit=MAX_TEXT)
        due = _day(raw["due"], "due", errors) if raw.get("due") else None
        owner = raw.get("owner")
        if kind == "action" and not isinstance(owner, str):
            errors.append(FieldError("owner", "an action names the member that must carry it out"))
        if errors:
            raise ValidationFailed(errors)
        with self.db.write() as conn:
            m = self._load(conn, principal, meeting_id)
            self._need_chair(principal, m)
            owner_id = None
            if kind == "action":
                owner_id = next((i for i, c in m.participants.items() if c == str(owner).upper()), None)
                if owner_id is None:
                    raise ValidationFailed.one("owner", "must be a participating member")
            eid = public_id("min_")
            conn.execute(minutes.insert().values(
                meeting_id=m.id, kind=kind, text=text, owner_member_id=owner_id, due=due,
                status="open" if kind == "action" else None, created=clock.now(),
                created_by=principal.user_id, public_id=eid))
            self._event(conn, principal, "meeting.minute.add", m.public_id, entry=eid, kind=kind)
            return next(e for e in self._minutes(conn, m) if e["id"] == eid)

    def close_action(self, principal: Principal, meeting_id: Any, entry_id: Any) -> dict[str, Any]:
        """Mark an action item done: the owner member or the chair."""
        self._need_writer(principal)
        with self.db.write() as conn:
            m = self._load(conn, principal, meeting_id)
            r = conn.execute(select(minutes).where(minutes.c.public_id == str(entry_id),
                                                   minutes.c.meeting_id == m.id)).first()
            if r is None or r.kind != "action":
                raise NotFound("no such action item")
            if principal.member_id not in (r.owner_member_id, m.row.chair_member_id):
                raise PermissionDenied("the owner member or the chair closes an action item")
            if r.status == "done":
                raise Conflict("the action item is already done")
            conn.execute(update(minutes).where(minutes.c.id == r.id).values(status="done", closed=clock.now(),
                                                                            closed_by=principal.user_id))
            self._event(conn, principal, "meeting.action.done", m.public_id, entry=r.public_id)
            return next(e for e in self._minutes(conn, m) if e["id"] == r.public_id)

    # ----- communiqué ------------------------------------------------------------------------------------
    def _communique(self, conn: Connection, m: _Meeting, principal: Principal) -> dict[str, Any]:
        c = conn.execute(select(communiques).where(communiques.c.meeting_id == m.id)).one()
        decided = conn.execute(select(approvals).where(approvals.c.meeting_id == m.id)
                               .order_by(approvals.c.id)).all()
        awaiting = self._awaiting(conn, m, c.revision) if c.status == "in-approval" else []
        released = self._released(conn, m, c, awaiting)
        own = self._own_shares(conn, m, principal)
        figs = [{"position": f.position, "figure": f.key, "definition": orjson.loads(f.definition),
                 "value": f.value if released else None, "items_digest": f.items_digest if released else None,
                 "contribution": len(own[f.position]) if f.position in own else None, "computed": f.computed,
                 "items": f"/api/v1/meetings/{m.public_id}/communique/figures/{f.position}/items"}
                for f in conn.execute(select(communique_figures).where(communique_figures.c.meeting_id == m.id)
                                      .order_by(communique_figures.c.position))]
        return {"status": c.status, "revision": c.revision, "texts": orjson.loads(c.texts),
                "picks": orjson.loads(c.picks), "updated": c.updated, "submitted": c.submitted,
                "published": c.published, "digest": c.digest, "figures": figs, "figures_released": released,
                "approvals": [{"member": m.participants.get(a.member_id), "revision": a.revision,
                               "decision": a.decision, "comment": a.comment, "at": a.at} for a in decided],
                "awaiting": awaiting}

    def _released(self, conn: Connection, m: _Meeting, c: Any, awaiting: list[str] | None = None) -> bool:
        """Whether the totals of the frozen figures may be shown: published, or every participant approved the
        current revision (see the module's docstring, "Approval before totals"). ``awaiting``: the members still
        to approve, when the caller has read them."""
        if c.status != "in-approval":
            return bool(c.status == "published")
        return not (self._awaiting(conn, m, c.revision) if awaiting is None else awaiting)

    @staticmethod
    def _own_shares(conn: Connection, m: _Meeting, principal: Principal) -> dict[int, list[str]]:
        """The principal's member's share of each frozen figure (the ids it counted), for its analysts and
        administrators only, and of those ids only the items this person may see now (``policy.visible``): a share
        counts every item of the member, and the number of those above the person's clearance would tell them
        that such items exist (their kind, period and audience, by the figure)."""
        if principal.role not in WRITE_ROLES:
            return {}
        stored = {r.position: orjson.loads(r.item_ids) for r in conn.execute(
            select(communique_contributions.c.position, communique_contributions.c.item_ids).where(
                communique_contributions.c.meeting_id == m.id,
                communique_contributions.c.member_id == principal.member_id))}
        seen = visible_ids(conn, principal, (i for ids in stored.values() for i in ids))
        return {pos: [i for i in ids if i in seen] for pos, ids in stored.items()}

    @staticmethod
    def _shares(conn: Connection, definition: dict[str, Any]) -> tuple[list[str], dict[int, list[str]]]:
        """The sorted ids behind a definition, and the sorted ids of each member among them (members-own: every
        item counted is one of the listed members' own)."""
        rows = conn.execute(select(items.c.id, items.c.originator_id)
                            .where(F.selection(conn, definition, None)).order_by(items.c.id)).all()
        by_member: dict[int, list[str]] = {}
        for r in rows:
            by_member.setdefault(r.originator_id, []).append(r.id)
        return [r.id for r in rows], by_member

    def _awaiting(self, conn: Connection, m: _Meeting, revision: int) -> list[str]:
        latest: dict[int, str] = {}
        for a in conn.execute(select(approvals.c.member_id, approvals.c.decision)
                              .where(approvals.c.meeting_id == m.id, approvals.c.revision == revision)
                              .order_by(approvals.c.id)):
            latest[a.member_id] = a.decision
        return sorted(c for i, c in m.participants.items() if latest.get(i) != "approve")

    def _picks(self, m: _Meeting, raw: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or len(raw) > 50:
            raise ValidationFailed.one("figures", "must be a list of at most 50 figure picks")
        out = []
        for i, p in enumerate(raw):
            if not isinstance(p, dict):
                raise ValidationFailed.one(f"figures[{i}]", "must be an object")
            try:
                d = F.check_definition({"figure": p.get("figure"), "from": m.row.period_from,
                                        "to": m.row.period_to, "members": list(m.participants.values()),
                                        "kinds": p.get("kinds"), "audience": p.get("audience", "members")},
                                       basis="members-own")
            except ValidationFailed as exc:
                raise ValidationFailed([FieldError(f"figures[{i}].{e.field}", e.message) for e in exc.errors]) \
                    from None
            out.append({"figure": d["figure"], "kinds": d["kinds"], "audience": d["audience"]})
        return out

    def draft_communique(self, principal: Principal, meeting_id: Any, raw: Any) -> dict[str, Any]:
        """Set the narrative (per language) and the figure picks. Changing a submitted draft opens a new
        revision: earlier approvals lapse and the frozen figures are dropped until it is submitted again."""
        if not isinstance(raw, dict):
            raise ValidationFailed.one("", "must be an object")
        with self.db.write() as conn:
            m = self._load(conn, principal, meeting_id)
            self._need_chair(principal, m)
            c = conn.execute(select(communiques).where(communiques.c.meeting_id == m.id)).one()
            if c.status == "published":
                raise Conflict("the communiqué is published and frozen")
            values: dict[str, Any] = {"updated": clock.now(), "status": "draft"}
            if "texts" in raw:
                texts = raw["texts"]
                if not isinstance(texts, dict) or not all(k in LANGUAGES and isinstance(v, str) and len(v) <= MAX_TEXT
                                                          for k, v in texts.items()):
                    raise ValidationFailed.one("texts", f"must map languages ({', '.join(LANGUAGES)}) to texts")
                values["texts"] = _j(texts)
            if "figures" in raw:
                values["picks"] = _j(self._picks(m, raw["figures"]))
            if c.status == "in-approval":
                values["revision"] = c.revision + 1
                self._unfreeze(conn, m)
            conn.execute(update(communiques).where(communiques.c.meeting_id == m.id).values(**values))
            self._event(conn, principal, "communique.draft", m.public_id)
            return self._communique(conn, m, principal)

    @staticmethod
    def _unfreeze(conn: Connection, m: _Meeting) -> None:
        for table in (communique_contributions, communique_figures):
            conn.execute(table.delete().where(table.c.meeting_id == m.id))

    def _definitions(self, m: _Meeting, picks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [F.check_definition({"figure": p["figure"], "from": m.row.period_from, "to": m.row.period_to,
                                    "members": list(m.participants.values()), "kinds": p["kinds"],
                                    "audience": p["audience"]}, basis="members-own") for p in picks]

    def submit_communique(self, principal: Principal, meeting_id: Any) -> dict[str, Any]:
        """Freeze the figures and ask every participating member to approve."""
        with self.db.write() as conn:
            m = self._load(conn, principal, meeting_id)
            self._need_chair(principal, m)
            c = conn.execute(select(communiques).where(communiques.c.meeting_id == m.id)).one()
            if c.status != "draft":
                raise Conflict(f"the communiqué is {c.status}, not a draft")
            if not any(v.strip() for v in orjson.loads(c.texts).values()):
                raise ValidationFailed.one("texts", "write the communiqué's text first")
            if m.row.period_to > clock.now():
                raise Conflict("the period under review has not ended; its figures could still change")
            now = clock.now()
            self._unfreeze(conn, m)
            rows: list[dict[str, Any]] = []
            shares: list[dict[str, Any]] = []
            for pos, d in enumerate(self._definitions(m, orjson.loads(c.picks)), 1):
                ids, by_member = self._shares(conn, d)
                rows.append({"meeting_id": m.id, "position": pos, "key": d["figure"],
                             "definition": F.canonical_json(d), "value": len(ids), "items_digest": F.digest_ids(ids),
                             "item_ids": _j(ids), "computed": now})
                shares.extend({"meeting_id": m.id, "position": pos, "member_id": member_id,
                               "value": len(mine), "items_digest": F.digest_ids(mine), "item_ids": _j(mine)}
                              for member_id in m.participants for mine in [by_member.get(member_id, [])])
            if rows:
                conn.execute(communique_figures.insert(), rows)
                conn.execute(communique_contributions.insert(), shares)
            conn.execute(update(communiques).where(communiques.c.meeting_id == m.id)
                         .values(status="in-approval", submitted=now, updated=now))
            # The values are not recorded here: the audit listing shows this record to the chair's administrators,
            # and the totals are not theirs to see before every member approved.
            self._event(conn, principal, "communique.submit", m.public_id, revision=c.revision, figures=len(rows))
            return self._communique(conn, m, principal)

    def decide(self, principal: Principal, meeting_id: Any, decision: str, comment: str = "") -> dict[str, Any]:
        """A participating member approves the current revision, or asks for changes (back to draft)."""
        self._need_writer(principal)
        if decision not in ("approve", "changes"):
            raise ValidationFailed.one("decision", "must be approve or changes")
        if not isinstance(comment, str) or len(comment) > MAX_TEXT:
            raise ValidationFailed.one("comment", "must be a text")
        if decision == "changes" and not comment.strip():
            raise ValidationFailed.one("comment", "say which changes are needed")
        with self.db.write() as conn:
            m = self._load(conn, principal, meeting_id)
            c = conn.execute(select(communiques).where(communiques.c.meeting_id == m.id)).one()
            if c.status != "in-approval":
                raise Conflict(f"the communiqué is {c.status}; nothing to approve")
            conn.execute(approvals.insert().values(meeting_id=m.id, member_id=principal.member_id,
                                                   revision=c.revision, decision=decision, comment=comment.strip(),
                                                   user_id=principal.user_id, at=clock.now()))
            if decision == "changes":
                conn.execute(update(communiques).where(communiques.c.meeting_id == m.id)
                             .values(status="draft", revision=c.revision + 1, updated=clock.now()))
                self._unfreeze(conn, m)
            self._event(conn, principal, "communique." + decision, m.public_id, revision=c.revision)
            return self._communique(conn, m, principal)

    def publish(self, principal: Principal, meeting_id: Any) -> dict[str, Any]:
        with self.db.write() as conn:
            m = self._load(conn, principal, meeting_id)
            self._need_chair(principal, m)
            c = conn.execute(select(communiques).where(communiques.c.meeting_id == m.id)).one()
            if c.status != "in-approval":
                raise Conflict(f"the communiqué is {c.status}; submit it for approval first")
            waiting = self._awaiting(conn, m, c.revision)
            if waiting:
                raise Conflict(f"awaiting approval from {', '.join(waiting)}")
            frozen = conn.execute(select(communique_figures).where(communique_figures.c.meeting_id == m.id)
                                  .order_by(communique_figures.c.position)).all()
            for f in frozen:
                ev = F.evaluate(conn, orjson.loads(f.definition))
                if ev.value != f.value or ev.digest != f.items_digest:
                    # The new value is not said: no member approved it (`verify` shows each member its own share).
                    raise Conflict(f"figure {f.position} changed since it was approved; revise and submit again")
            now = clock.now()
            digest = hashlib.sha256(_j({"texts": orjson.loads(c.texts), "figures": [
                [f.position, f.definition, f.value, f.items_digest] for f in frozen]}).encode()).hexdigest()
            conn.execute(update(communiques).where(communiques.c.meeting_id == m.id).values(
                status="published", published=now, published_by=principal.user_id, digest=digest, updated=now))
            conn.execute(update(meetings).where(meetings.c.id == m.id).values(status="closed"))
            self._event(conn, principal, "communique.publish", m.public_id, revision=c.revision, digest=digest)
            return self._communique(conn, m, principal)

    def verify(self, principal: Principal, meeting_id: Any) -> dict[str, Any]:
        """Re-run every frozen figure on the records as they are now. Whether the figure as a whole reproduces
        (value and item set) is said once the totals are shown (see "Approval before totals"); what moved is said
        only of the viewer's own member's share: which of another member's items entered or left a past figure is
        that member's business (a release widened later, say)."""
        with self.db.read() as conn:
            m = self._load(conn, principal, meeting_id)
            c = conn.execute(select(communiques).where(communiques.c.meeting_id == m.id)).one()
            released = self._released(conn, m, c)
            own = self._own_shares(conn, m, principal)
            out = []
            for f in conn.execute(select(communique_figures).where(communique_figures.c.meeting_id == m.id)
                                  .order_by(communique_figures.c.position)):
                ids, by_member = self._shares(conn, orjson.loads(f.definition))
                share = own.get(f.position)
                contribution = None
                if share is not None:
                    # Both sides as far as this person may see (see `_own_shares`).
                    stored_mine = set(share)
                    mine = visible_ids(conn, principal, by_member.get(principal.member_id, []))
                    contribution = {"stored": len(stored_mine), "now": len(mine), "reproduced": mine == stored_mine,
                                    "added": len(mine - stored_mine), "removed": len(stored_mine - mine)}
                whole_ok = len(ids) == f.value and F.digest_ids(ids) == f.items_digest
                # Before the totals are shown, a member's analysts learn whether their own share holds; its
                # readers nothing (`reproduced` None).
                out.append({"position": f.position, "figure": f.key, "stored": f.value if released else None,
                            "reproduced": whole_ok if released else (contribution or {}).get("reproduced"),
                            "contribution": contribution})
        return {"meeting": m.public_id, "figures": out, "figures_released": released,
                "reproduced": all(x["reproduced"] for x in out) if all(x["reproduced"] is not None for x in out)
                else None}

    def figure_items(self, principal: Principal, meeting_id: Any, position: int, *, cursor: str | None = None,
                     limit: int = 50, request_id: str | None = None) -> dict[str, Any]:
        """Drill-down from a communiqué figure: the viewer's share of the items behind it."""
        with self.db.read() as conn:
            m = self._load(conn, principal, meeting_id)
            f = conn.execute(select(communique_figures).where(communique_figures.c.meeting_id == m.id,
                                                              communique_figures.c.position == position)).first()
            if f is None:
                raise NotFound("no such figure")
            c = conn.execute(select(communiques).where(communiques.c.meeting_id == m.id)).one()
            released = self._released(conn, m, c)
        out = self.stats.drilldown(principal, orjson.loads(f.definition), cursor=cursor, limit=limit,
                                   request_id=request_id, total=int(f.value))
        if not released:
            out["total"] = None  # the figure is shown once every member approved; the viewer's share is listed
        return out

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(meetings)).scalar_one())
