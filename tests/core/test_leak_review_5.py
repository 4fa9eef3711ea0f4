"""Regression tests from a fifth leak review (correlation and deconfliction, TAXII 2.1).

Each test states what must hold under DOMAIN.md and the access policy (nothing a member did not release may reach
another member: not its content, not its existence beyond what deconfliction is for, not through a score, a
reference or an answer to a write); each failed on the code as reviewed."""

from __future__ import annotations

from typing import Any

from conftest import World, bearer

HUB = "5f9c2e9c-7e57-4c1b-9d43-2b7c3a0c0001"  # the "hub" collection every Accord store starts with
TAXII = "application/taxii+json;version=2.1"
ORIG = {"tlp": "amber", "classification": 0, "release": {"scope": "originator"}}
TS = "2026-01-01T00:00:00.000Z"


def _taxii(world: World, user: str) -> dict[str, str]:
    return {**bearer(world, user), "Accept": TAXII, "Content-Type": TAXII}


def _told(notices: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a notice tells its recipient, less what names the recipient's own item or the notice itself."""
    return sorted((n["member"], n["kind"], n["score"], n["state"],
                   n["message"].replace(n["item"], "ITEM")) for n in notices)


def test_a_notice_score_tells_nothing_of_the_other_members_item(world: World) -> None:
    """ALPHA holds an observation and an entity kept to itself (discoverable, as items are by default). A
    deconfliction notice may tell BRAVO that ALPHA holds related information, and of what kind; nothing of the
    item itself. But a place-time notice carried the match's score, 1 - 0.5 d/D - 0.4 gap/W to three decimals:
    bob's probe observations spanning the whole time window were each told their exact distance to ALPHA's
    observation (0.778: 222 m), and three of them placed it to the metre; a name notice's score likewise
    measured each probe spelling against ALPHA's hidden name. Every probe at a different distance, or with a
    different spelling above the notice threshold, must be told the same thing."""
    svc = world.svc
    world.share("alice", kind="observation", handling=ORIG,
                content={"lat": 33.8900, "lon": 35.5000, "observed_from": "2026-01-01T12:00:00Z"})
    for lat, lon in ((33.8920, 35.5000), (33.8900, 35.5030), (33.8880, 35.4990)):
        world.share("bob", kind="observation", handling=ORIG,
                    content={"lat": lat, "lon": lon, "observed_from": "2025-12-31T00:00:00Z",
                             "observed_to": "2026-01-03T00:00:00Z"})
    world.share("alice", kind="entity", handling=ORIG, content={"entity_type": "person", "name": "Khalid Rahimov"})
    for name in ("Khalid Rahimov", "Khaled Rahimov", "Khalid Rakhimov"):
        world.share("bob", kind="entity", handling=ORIG, content={"entity_type": "person", "name": name})
    notices = svc.correlation.notices(world.p("bob"))
    for kind in ("place-time", "name"):
        told = _told([n for n in notices if n["kind"] == kind])
        assert len(told) == 3, (kind, notices)
        assert len(set(told)) == 1, f"{kind} notices tell bob how close ALPHA's hidden item is: {told}"
    # ALPHA is told no more of BRAVO's items than BRAVO of ALPHA's.
    for kind in ("place-time", "name"):
        assert len(set(_told([n for n in svc.correlation.notices(world.p("alice")) if n["kind"] == kind]))) == 1
