"""Regression tests from a fourth leak review (statistics on the members-own basis, a drafted meeting summary).

Each test states what must hold under DOMAIN.md and the access policy (a principal sees an item only if its
classification is within their clearance, and a denied item must be indistinguishable from a missing one, counts
included); each failed on the code as reviewed."""

from __future__ import annotations

from typing import Any

import httpx

from accord.sharing.handling import Principal
from conftest import World, bearer

PERIOD = {"from": "2020-01-01", "to": "2100-01-01"}
TOP_SECRET = {"tlp": "red", "classification": 4, "release": {"scope": "originator"}}


def _top_secret_analyst(world: World) -> Principal:
    """An ALPHA analyst cleared for level 4; alice (ALPHA analyst) is cleared for level 3 only."""
    world.svc.accounts.add_user("atop", "ALPHA", "analyst", "password-atop", clearance=4)
    return world.svc.accounts.principal_for("atop")


async def test_members_own_figure_counts_own_items_above_the_askers_clearance(client: httpx.AsyncClient,
                                                                              world: World) -> None:
    """atop (ALPHA, cleared 4) shares a level-4 report, kept to ALPHA. alice (ALPHA analyst, cleared 3) may not
    read it: the item, the list, the viewer-basis figure and the drill-down all act as if it did not exist. But
    the members-own basis, which alice may ask for her own member, counted ALPHA's items as the member as a whole
    (full clearance): its value (1 against 0 before the report) and its items_digest (the SHA-256 of the one hidden
    id) told alice that a report above her clearance exists, and narrowing the period, kind or audience told her
    when it was shared, what it is and who it went to. Asked by one of the member's people, the member's own items
    are counted as that person may see them (the rule ``known`` already follows for what they relate to)."""
    h = bearer(world, "alice")
    q = {"figure": "items", **PERIOD, "member": "ALPHA", "basis": "members-own"}
    before = (await client.get("/api/v1/stats/figure", headers=h, params=q)).json()
    secret = world.svc.items.create(_top_secret_analyst(world), {"kind": "report", "handling": TOP_SECRET,
                                                                 "content": {"title": "t", "body": "b"}})
    assert (await client.get(f"/api/v1/items/{secret['id']}", headers=h)).status_code == 404
    after = (await client.get("/api/v1/stats/figure", headers=h, params=q)).json()
    assert (after["value"], after["items_digest"]) == (before["value"], before["items_digest"]), \
        "a report above alice's clearance is counted in the figure she is given"
    for kind in ("report", "entity"):
        by_kind = (await client.get("/api/v1/stats/figure", headers=h, params={**q, "kind": kind})).json()
        assert by_kind["value"] == 0
    drill = (await client.get("/api/v1/stats/items", headers=h, params=q)).json()
    assert drill["total"] == drill["visible"] == 0 and drill["items"] == []
    # atop, who may read the report, still has it counted; and the member as a whole (the communiqué) too.
    top = (await client.get("/api/v1/stats/figure", params=q, headers={
        "Authorization": f"Bearer {world.svc.accounts.create_token('atop').secret}"})).json()
    assert top["value"] == before["value"] + 1


def test_drafted_summary_figures_count_no_own_item_above_the_drafters_clearance(world: World) -> None:
    """alice (cleared 3) drafts ALPHA's activity summary for a meeting. Its pre-filled figures (members-own basis)
    counted a level-4 report of ALPHA's that alice may not read, so the draft she is shown (and may present)
    told her it exists. The drafter is given the figures as she may see them."""
    svc = world.svc
    meeting = svc.meetings.create(world.p("alice"), {"title": "M", "date": "2026-11-20",
                                                     "members": ["ALPHA", "BRAVO"], "period": PERIOD})
    mid = meeting["id"]

    def values() -> list[Any]:
        return [f["value"] for f in svc.meetings.draft_summary(world.p("alice"), mid)["figures"]]

    before = values()
    svc.items.create(_top_secret_analyst(world), {"kind": "report", "handling": TOP_SECRET,
                                                  "content": {"title": "t", "body": "b"}})
    assert values() == before, "the drafted summary counts a report above the drafter's clearance"


def test_communique_contribution_counts_no_own_item_above_the_viewers_clearance(world: World) -> None:
    """A communiqué's frozen figures count each member as a whole (every participant approves its member's
    share), and its analysts and administrators are shown their member's share before the totals. That share
    counted a level-4 report of ALPHA's that alice (cleared 3) may not read, in the communiqué she is shown and in
    `verify`: she learned such a report exists, in the figure's period and kind. Each person is shown the share
    as far as they may see it; atop (cleared 4) the whole share, and the frozen total is unchanged."""
    svc, mt = world.svc, world.svc.meetings
    atop = _top_secret_analyst(world)
    past = "2026-01-10T00:00:00Z"  # the period under review must have ended before the figures freeze
    for who, extra in ((world.p("alice"), {}), (atop, {"handling": TOP_SECRET})):
        res = svc.items.create_many(who, [{"kind": "report", "created": past, **extra,
                                           "content": {"title": "t", "body": "b"}}], allow_times=True)[0]
        assert res.ok, res.errors
    mid = mt.create(world.p("alice"), {"title": "M", "date": "2026-02-20", "members": ["BRAVO"],
                                       "period": {"from": "2026-01-01", "to": "2026-02-01"}})["id"]
    mt.draft_communique(world.p("alice"), mid, {"texts": {"en": "Text."},
                                                "figures": [{"figure": "items", "audience": "any"}]})
    mt.submit_communique(world.p("alice"), mid)

    def shares(p: Principal) -> tuple[Any, Any]:
        got = mt.get(p, mid)["communique"]["figures"][0]["contribution"]
        v = mt.verify(p, mid)["figures"][0]["contribution"]
        return got, (v["stored"], v["now"], v["reproduced"], v["added"], v["removed"])

    assert shares(world.p("alice")) == (1, (1, 1, True, 0, 0)), "alice is shown a share counting a hidden report"
    assert shares(atop) == (2, (2, 2, True, 0, 0))
