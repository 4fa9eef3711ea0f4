"""Frozen communiqué figures reproduce on the same records; later records, later revocations and new meetings do
not change them; the rules of the workflow (closed period, approvals lapse, who may do what) hold."""

from __future__ import annotations

import time
from typing import Any

import pytest

from accord import clock
from accord.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.meetings import FigureDef, figures, register
from accord.meetings.figures import check_definition, evaluate
from conftest import World

MK = {"tlp": "amber", "classification": 1}


def convene(world: World, start: str, end: str, members: list[str] | None = None) -> str:
    m = world.svc.meetings.create(world.p("alice"), {
        "title": "Meeting", "date": "2026-11-20", "members": members or ["BRAVO", "CHARLIE"],
        "period": {"from": start, "to": end}})
    return str(m["id"])


def publish(world: World, mid: str, picks: list[dict[str, Any]]) -> dict[str, Any]:
    mt = world.svc.meetings
    mt.draft_communique(world.p("alice"), mid, {"texts": {"en": "Text."}, "figures": picks})
    mt.submit_communique(world.p("alice"), mid)
    for u in ("alice", "bob", "carol"):
        mt.decide(world.p(u), mid, "approve")
    return mt.publish(world.p("alice"), mid)


def period_with_items(world: World) -> tuple[str, str, list[dict[str, Any]]]:
    start = clock.now()
    made = [world.share("alice", kind="observation", handling={**MK, "release": {"scope": "all"}}),
            world.share("bob", kind="observation", handling={**MK, "release": {"scope": "members",
                                                                                "members": ["ALPHA"]}}),
            world.share("carol", kind="report", handling={**MK, "release": {"scope": "all", "consumers": True}}),
            world.share("carol", kind="report", handling={**MK, "release": {"scope": "originator"}})]
    time.sleep(0.003)
    return start, clock.now(), made


def test_published_figures_reproduce_after_later_activity(world: World) -> None:
    start, end, made = period_with_items(world)
    mid = convene(world, start, end)
    pub = publish(world, mid, [{"figure": "observations"}, {"figure": "information"},
                               {"figure": "items", "audience": "any"}, {"figure": "items", "audience": "consumers"}])
    assert [f["value"] for f in pub["figures"]] == [2, 1, 4, 1]
    # Later records: a new item, the revocation of a counted item, a widened release of the withheld one.
    time.sleep(0.003)
    world.share("alice", kind="observation", handling={**MK, "release": {"scope": "all"}})
    world.svc.items.revoke(world.p("alice"), made[0]["id"])
    v = world.svc.meetings.verify(world.p("carol"), mid)
    assert v["reproduced"] is True, v
    # The same definitions, evaluated directly, give the same values and the same item sets.
    with world.svc.db.read() as conn:
        for f in pub["figures"]:
            ev = evaluate(conn, check_definition(f["definition"]))
            assert (ev.value, ev.digest) == (f["value"], f["items_digest"])
    # A release widened after publication moves an "items provided to members" figure; verification says so.
    mid2 = convene(world, start, end)
    publish(world, mid2, [{"figure": "information", "audience": "members"}])
    world.svc.items.update(world.p("carol"), made[3]["id"], {"handling": {"release": {"scope": "all"}}})
    v2 = world.svc.meetings.verify(world.p("bob"), mid2)
    # Whether the figure still holds is said to every participant; what moved only to the member whose items moved.
    assert v2["reproduced"] is False and v2["figures"][0]["contribution"] == {
        "stored": 0, "now": 0, "added": 0, "removed": 0, "reproduced": True}
    v3 = world.svc.meetings.verify(world.p("carol"), mid2)
    assert v3["figures"][0]["contribution"]["added"] == 1 and not v3["figures"][0]["contribution"]["reproduced"]


def check_revoked_within_the_period_is_not_counted(world: World) -> None:
    start = clock.now()
    a = world.share("alice", kind="observation", handling={**MK, "release": {"scope": "all"}})
    world.share("alice", kind="observation", handling={**MK, "release": {"scope": "all"}})
    world.svc.items.revoke(world.p("alice"), a["id"])
    time.sleep(0.003)
    end = clock.now()
    with world.svc.db.read() as conn:
        d = check_definition({"figure": "observations", "from": start, "to": end, "members": ["ALPHA"],
                              "basis": "members-own"})
        assert evaluate(conn, d).value == 1


def test_workflow_rules(world: World) -> None:
    mt = world.svc.meetings
    start = clock.now()
    open_end = clock.format_ts(clock.utcnow().replace(year=2099))
    mid = convene(world, start, open_end)
    mt.draft_communique(world.p("alice"), mid, {"texts": {"en": "x"}, "figures": [{"figure": "items"}]})
    with pytest.raises(Conflict, match="not ended"):
        mt.submit_communique(world.p("alice"), mid)
    with pytest.raises(PermissionDenied):
        mt.draft_communique(world.p("bob"), mid, {"texts": {"en": "y"}})
    with pytest.raises(ValidationFailed) as exc:
        mt.draft_communique(world.p("alice"), mid, {"figures": [{"figure": "nope"}]})
    assert exc.value.errors[0].field == "figures[0].figure"
    with pytest.raises(NotFound):
        mt.get(world.p("bunit"), mid)
    # A meeting without CHARLIE is invisible to CHARLIE, exactly like a missing one.
    _, end, _ = period_with_items(world)
    mid2 = convene(world, start, end, members=["BRAVO"])
    with pytest.raises(NotFound):
        mt.get(world.p("carol"), mid2)
    with pytest.raises(NotFound):
        mt.get(world.p("carol"), 99999)
    # Approvals lapse when the draft changes after submission.
    mt.draft_communique(world.p("alice"), mid2, {"texts": {"en": "x"}, "figures": [{"figure": "items"}]})
    mt.submit_communique(world.p("alice"), mid2)
    mt.decide(world.p("bob"), mid2, "approve")
    c = mt.draft_communique(world.p("alice"), mid2, {"texts": {"en": "x2"}})
    assert c["status"] == "draft" and c["revision"] == 2
    mt.submit_communique(world.p("alice"), mid2)
    c = mt.get(world.p("alice"), mid2)["communique"]
    assert c["awaiting"] == ["ALPHA", "BRAVO"]
    with pytest.raises(ValidationFailed):
        mt.decide(world.p("bob"), mid2, "changes", "")
    with pytest.raises(PermissionDenied):
        mt.decide(world.p("breader"), mid2, "approve")


def test_plugged_figure_and_revocation_rule(world: World) -> None:
    """Another feature (the correlation engine, feedback, RFIs) registers a figure; it gets the period, basis and
    audience rules for free and its drill-down is policy-filtered like any other. (Shares one world with the
    revocation rule check: building a world costs seconds of password hashing.)"""
    check_revoked_within_the_period_is_not_counted(world)
    start, end, made = period_with_items(world)
    only = made[2]["id"]
    register(FigureDef("test_plugged", ("report",), "plugged",
                       condition=lambda _conn, _d: figures.items.c.id == only))
    try:
        with world.svc.db.read() as conn:
            d = check_definition({"figure": "test_plugged", "from": start, "to": end,
                                  "members": ["ALPHA", "BRAVO", "CHARLIE"], "basis": "members-own"})
            assert evaluate(conn, d).item_ids == [only]
        dd = world.svc.stats.drilldown(world.p("bunit"), d)
        assert dd["visible"] == 1  # released to all, consumers included
    finally:
        figures.FIGURES.pop("test_plugged")


def test_own_summary_drafts_are_for_the_members_writers(world: World) -> None:
    """A member's draft summary counts everything the member holds; its readers, who may be given less, see only
    the figures the member chose to present, as the other members do."""
    start, end, _ = period_with_items(world)
    mid = convene(world, start, end)
    mt = world.svc.meetings
    drafted = mt.draft_summary(world.p("bob"), mid)
    assert len(drafted["figures"]) > 1
    mt.update_summary(world.p("bob"), mid, {"present_figures": [0]})
    as_writer = next(s for s in mt.get(world.p("bob"), mid)["summaries"] if s["member"] == "BRAVO")
    as_reader = next(s for s in mt.get(world.p("breader"), mid)["summaries"] if s["member"] == "BRAVO")
    assert len(as_writer["figures"]) == len(drafted["figures"])
    assert as_reader["figures"] == [as_writer["figures"][0]]


def test_migration_splits_communiques_frozen_before_it(world: World) -> None:
    """A communiqué frozen before migration 0014 gets each member's share from its frozen item ids, so its totals
    stay hidden until every member approved, as for one frozen after it."""
    from sqlalchemy import select

    from accord.meetings.tables import communique_contributions
    from conftest import downgrade_and_upgrade

    start, end, _ = period_with_items(world)
    mid = convene(world, start, end)
    mt = world.svc.meetings
    mt.draft_communique(world.p("alice"), mid, {"texts": {"en": "Text."}, "figures": [{"figure": "items",
                                                                                        "audience": "any"}]})
    mt.submit_communique(world.p("alice"), mid)
    with world.svc.db.read() as conn:
        before = sorted(conn.execute(select(communique_contributions)).all())
    downgrade_and_upgrade(world.svc.db, "0005_meetings")
    with world.svc.db.read() as conn:
        after = sorted(conn.execute(select(communique_contributions)).all())
    assert after == before and sum(r.value for r in after) == 4
    mid = mt.list_for(world.p("bob"))[0]["id"]  # 0015_public_ids gave the meeting a new public id
    assert mt.get(world.p("bob"), mid)["communique"]["figures"][0]["contribution"] == 1
