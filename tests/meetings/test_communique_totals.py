"""Property test: a communiqué's totals are shown to no one before every participating member has approved.

For random items (kinds, days, releases, clearances, revocations), random meetings (period, participants) and random
figure picks, the chair submits and the members approve in a random order. Until the last approval, every answer a
participant's user can get (the communiqué, verification, the drill-down behind a figure, the document, the audit
record of the submission) carries no total and no digest of one; a member's analysts and administrators see their
own member's share as far as they may see it (its items within their clearance), equal to an oracle written here,
and its readers not even that. After the last approval, every participant sees the totals, equal to the oracle's and
to the sum of the shares of each member's fully cleared analysts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord import clock
from accord.errors import Conflict
from accord.meetings.render import communique_html
from conftest import World

WRITERS = ("alice", "aadmin", "atop", "bob", "carol")  # atop: an ALPHA analyst cleared above alice and aadmin
APPROVER = {"ALPHA": "alice", "BRAVO": "bob", "CHARLIE": "carol"}
WHOLE_SHARE = {"ALPHA": "atop", "BRAVO": "bob", "CHARLIE": "carol"}  # cleared for every item of their member's
READERS = ("alice", "aadmin", "atop", "bob", "breader", "carol")  # users of the members who may take part
FIGURE_KINDS = {"items": {"observation", "report", "entity"}, "observations": {"observation"},
                "information": {"report", "entity"}, "reports": {"report"}, "entities": {"entity"}}
DAY0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: int) -> str:
    return clock.format_ts(DAY0 + timedelta(days=n, hours=n % 5))


@dataclass
class Rec:
    id: str
    origin: str
    kind: str
    cls: int
    scope: str
    members: frozenset[str]
    consumers: bool
    created: str
    revoked_at: str | None


def counted(r: Rec, figure: str, audience: str, start: str, end: str, participants: set[str]) -> bool:
    """A communiqué figure (members-own basis over the participants), written independently of figures.py."""
    if r.origin not in participants or r.kind not in FIGURE_KINDS[figure] or not (start <= r.created < end):
        return False
    if r.revoked_at is not None and r.revoked_at < end:
        return False
    released = r.scope in ("members", "all")
    if audience == "members":
        return released
    if audience == "consumers":
        return released and r.consumers
    return True


item_st = st.fixed_dictionaries({
    "writer": st.sampled_from(WRITERS), "kind": st.sampled_from(("observation", "report", "entity")),
    "cls": st.integers(0, 4), "scope": st.sampled_from(("originator", "members", "all")),
    "consumers": st.booleans(), "day": st.integers(0, 30), "revoke": st.booleans(),
})
meeting_st = st.fixed_dictionaries({
    "from": st.integers(0, 20), "len": st.integers(1, 15),
    "others": st.sets(st.sampled_from(("BRAVO", "CHARLIE")), min_size=1),
    "picks": st.lists(st.tuples(st.sampled_from(sorted(FIGURE_KINDS)), st.sampled_from(("any", "members",
                                                                                          "consumers"))),
                      min_size=1, max_size=3, unique=True),
    "order": st.permutations(("ALPHA", "BRAVO", "CHARLIE")),
})


@pytest.mark.slow
def test_totals_only_after_every_member_approved(world: World) -> None:
    svc = world.svc
    mt = svc.meetings
    records: list[Rec] = []
    svc.accounts.add_user("atop", "ALPHA", "analyst", None, clearance=4)
    world.users["atop"] = svc.accounts.principal_for("atop")

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(new=st.lists(item_st, max_size=6), raw=meeting_st)
    def check(new: list[dict[str, Any]], raw: dict[str, Any]) -> None:
        for spec in new:
            who = world.p(spec["writer"])
            release: dict[str, Any] = {"scope": spec["scope"], "consumers": spec["consumers"]}
            if spec["scope"] == "members":
                release["members"] = [m for m in APPROVER if m != who.member_code][:1]
            content = {"observation": {"lat": 10.0, "lon": 20.0, "observed_from": day(spec["day"])},
                       "report": {"title": "t", "body": "b"}, "entity": {"entity_type": "group", "name": "g"}}
            ts = day(spec["day"])
            res = svc.items.create_many(who, [{"kind": spec["kind"], "content": content[spec["kind"]], "created": ts,
                                               "modified": ts, "handling": {
                                                   "tlp": "amber", "classification": min(spec["cls"], who.clearance),
                                                   "release": release}}], allow_times=True)[0]
            assert res.ok, res.errors
            revoked_at = svc.items.revoke(who, str(res.id))["modified"] if spec["revoke"] else None
            records.append(Rec(str(res.id), who.member_code, spec["kind"], min(spec["cls"], who.clearance),
                               spec["scope"], frozenset(release.get("members", ())), spec["consumers"], ts,
                               revoked_at))

        participants = {"ALPHA", *raw["others"]}
        start, end = day(raw["from"]), day(raw["from"] + raw["len"])
        m = mt.create(world.p("alice"), {"title": "Review", "date": "2026-11-20", "members": sorted(raw["others"]),
                                          "period": {"from": start, "to": end}})
        mid = m["id"]
        picks = [{"figure": f, "audience": a} for f, a in raw["picks"]]
        mt.draft_communique(world.p("alice"), mid, {"texts": {"en": "Text."}, "figures": picks})
        mt.submit_communique(world.p("alice"), mid)
        expected = [{r.id for r in records if counted(r, f, a, start, end, participants)} for f, a in raw["picks"]]
        users = [u for u in READERS if world.p(u).member_code in participants]

        def totals_hidden() -> None:
            for u in users:
                p = world.p(u)
                c = mt.get(p, mid)["communique"]
                assert not c["figures_released"]
                writer = p.role in ("analyst", "member-admin")
                own = [len({i for i in ids if i in {r.id for r in records
                                                      if r.origin == p.member_code and r.cls <= p.clearance}})
                       for ids in expected]
                assert [f["value"] for f in c["figures"]] == [None] * len(picks)
                assert [f["items_digest"] for f in c["figures"]] == [None] * len(picks)
                assert [f["contribution"] for f in c["figures"]] == (own if writer else [None] * len(picks))
                v = mt.verify(p, mid)
                assert [f["stored"] for f in v["figures"]] == [None] * len(picks)
                assert [f["contribution"] and f["contribution"]["stored"] for f in v["figures"]] == \
                    (own if writer else [None] * len(picks))
                for pos in range(1, len(picks) + 1):
                    d = mt.figure_items(p, mid, pos, limit=1000)
                    assert d["total"] is None
                    assert {i["id"] for i in d["items"]} <= expected[pos - 1]
            # The submission's audit record keeps no figure values.
            with svc.db.read() as conn:
                rec = svc.audit.search(conn, action="communique.submit", limit=1)[0]
            assert orjson.loads(rec["detail"])["figures"] == len(picks)

        order = [code for code in raw["order"] if code in participants]
        for code in order[:-1]:
            totals_hidden()
            with pytest.raises(Conflict) as exc:
                mt.publish(world.p("alice"), mid)
            assert "awaiting" in str(exc.value)
            mt.decide(world.p(APPROVER[code]), mid, "approve")
        totals_hidden()
        html = communique_html(svc, world.p("alice"), mid)
        assert "sha256" not in html  # no digest of a total in the draft document
        mt.decide(world.p(APPROVER[order[-1]]), mid, "approve")
        shares = [0] * len(picks)
        for u in users:
            c = mt.get(world.p(u), mid)["communique"]
            assert c["figures_released"]
            assert [f["value"] for f in c["figures"]] == [len(ids) for ids in expected]
            if u in WHOLE_SHARE.values():
                shares = [s + f["contribution"] for s, f in zip(shares, c["figures"], strict=True)]
        assert shares == [len(ids) for ids in expected]
        published = mt.publish(world.p("alice"), mid)
        assert [f["value"] for f in published["figures"]] == [len(ids) for ids in expected]

    check()
