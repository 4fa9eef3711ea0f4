"""Regression tests from a fifth leak review (correlation and deconfliction, TAXII 2.1).

Each test states what must hold under DOMAIN.md and the access policy (nothing a member did not release may reach
another member: not its content, not its existence beyond what deconfliction is for, not through a score, a
reference or an answer to a write); each failed on the code as reviewed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from accord.stix.mapping import EXTENSION_ID
from accord.stix.refs import HIDDEN_ENTITY_REF_TYPE
from accord.stix.store import NOT_WRITABLE
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
    was no different in kind. What a notice may tell is what the issue's notice reads ("your item X relates to
    information held by member Y (name match 0.93)"): for a name match, its strength to two decimals (above the
    notice threshold by construction); for a place-time match nothing measured. Every probe at a different
    distance must be told the same thing; probes of a name differ in that strength only."""
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
    for who in ("bob", "alice"):  # ALPHA is told no more of BRAVO's items than BRAVO of ALPHA's
        notices = svc.correlation.notices(world.p(who))
        told = _told([n for n in notices if n["kind"] == "place-time"])
        assert len(told) == 3 and len(set(told)) == 1, f"place-time notices tell {who} how close the item is: {told}"
        assert all(n["score"] is None for n in notices if n["kind"] == "place-time")
        named = [n for n in notices if n["kind"] == "name"]
        assert len(named) == 3, notices
        assert all(n["score"] == round(n["score"], 2) and n["score"] >= 0.88 for n in named), named
        assert len({(m, k, st, msg.rsplit(" ", 1)[0]) for m, k, _, st, msg in _told(named)}) == 1, named
        assert all(n["message"].endswith(f"(name match {n['score']:.2f})") for n in named), named


async def test_an_observation_pushed_over_taxii_writes_nothing_into_another_members_sighting(
        client: httpx.AsyncClient, world: World) -> None:
    """carol (CHARLIE) holds a raw STIX sighting, kept to CHARLIE. bob pushes an observation as a location and its
    sighting of the same UUID, the sighting's id being carol's (ids come from shared upstream feeds, or from a
    guess). The sighting must get the one answer for an id that exists and cannot be written by the caller, and
    carol's object must be left as it was. On the reviewed code the location took carol's sighting as its
    companion: bob's status said the sighting was stored, and bob's sighting (first_seen, last_seen, the
    location, under BRAVO's originator-only handling) became the latest version of carol's object, served to
    CHARLIE: content BRAVO released to no one reached another member."""
    u = str(uuid.uuid4())
    theirs = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{u}", "created": TS, "modified": TS,
              "sighting_of_ref": f"indicator--{uuid.uuid4()}", "count": 3,
              "extensions": {EXTENSION_ID: {"extension_type": "property-extension", "classification": 0,
                                            "release": {"scope": "originator"}}}}
    r = await client.post(f"/taxii2/hub/collections/{HUB}/objects/", json={"objects": [theirs]},
                          headers=_taxii(world, "carol"))
    assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
    later = "2026-01-02T00:00:00.000Z"
    loc = {"type": "location", "spec_version": "2.1", "id": f"location--{u}", "created": TS, "modified": TS,
           "latitude": 1.0, "longitude": 2.0}
    mine = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{u}", "created": later, "modified": later,
            "sighting_of_ref": f"location--{u}", "where_sighted_refs": [f"location--{u}"], "first_seen": TS,
            "last_seen": TS}
    r = await client.post(f"/taxii2/hub/collections/{HUB}/objects/", json={"objects": [loc, mine]},
                          headers=_taxii(world, "bob"))
    assert r.status_code == 202, r.text
    status = r.json()
    assert [f["id"] for f in status.get("failures", [])] == [f"sighting--{u}"], status
    assert status["failures"][0]["message"] == NOT_WRITABLE
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/sighting--{u}/versions/",
                         headers=_taxii(world, "carol"))
    assert r.json()["versions"] == [TS], "bob's sighting was stored as a version of carol's object"


async def test_refs_of_any_object_type_do_not_tell_a_hidden_entitys_type(client: httpx.AsyncClient,
                                                                         world: World) -> None:
    """alice keeps a person entity to ALPHA and shares, over TAXII and to every member, a grouping and an opinion
    whose object_refs name it, and a sighting of it, typed as she sees it (threat-actor). A reference served to
    someone who may not see the entity carries HIDDEN_ENTITY_REF_TYPE, not the entity's own STIX type, which tells a
    person from a group or an organisation (the rule the relationships, notes and reports already follow). On the
    reviewed code only relationships, notes and reports were rewritten: bob read "threat-actor--U" in the grouping,
    the opinion and the sighting, and so learned that ALPHA's hidden entity U is a person."""
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"), json={
        "kind": "entity", "handling": ORIG, "content": {"entity_type": "person", "name": "Informant X"}})
    assert r.status_code == 201, r.text
    u = r.json()["id"].split("--", 1)[1]
    ext = {EXTENSION_ID: {"extension_type": "property-extension", "classification": 0,
                          "release": {"scope": "all"}}}
    objs = [
        {"type": "grouping", "context": "suspicious-activity", "object_refs": [f"threat-actor--{u}"]},
        {"type": "opinion", "opinion": "agree", "object_refs": [f"threat-actor--{u}"]},
        {"type": "sighting", "sighting_of_ref": f"threat-actor--{u}", "count": 1},
    ]
    objs = [{**o, "spec_version": "2.1", "id": f"{o['type']}--{uuid.uuid4()}", "created": TS, "modified": TS,
             "extensions": ext} for o in objs]
    r = await client.post(f"/taxii2/hub/collections/{HUB}/objects/", json={"objects": objs},
                          headers=_taxii(world, "alice"))
    assert r.status_code == 202 and r.json()["success_count"] == 3, r.text
    ids = [o["id"] for o in objs]
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/", params={"match[id]": ",".join(ids)},
                         headers=_taxii(world, "bob"))
    served = {o["id"]: o for o in r.json()["objects"]}
    assert served.keys() == set(ids)
    hidden = f"{HIDDEN_ENTITY_REF_TYPE}--{u}"
    assert [served[ids[0]]["object_refs"], served[ids[1]]["object_refs"], served[ids[2]]["sighting_of_ref"]] == \
        [[hidden], [hidden], hidden], "a reference tells bob the type of ALPHA's hidden entity"
    # alice, who may see the entity, is served the objects byte for byte as she sent them.
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/", params={"match[id]": ",".join(ids)},
                         headers=_taxii(world, "alice"))
    assert {o["id"]: o for o in r.json()["objects"]}[ids[0]]["object_refs"] == [f"threat-actor--{u}"]


async def test_a_taxii_delete_removes_no_version_the_caller_may_not_see(client: httpx.AsyncClient,
                                                                        world: World) -> None:
    """atop (ALPHA analyst, cleared 4) shares a group at level 4, then sanitises it to level 1. alice (ALPHA
    analyst, cleared 3) may delete the object, being one of the originator's analysts; but the level-4 version is
    hidden from her: every read acts as if it did not exist. A full DELETE must remove what she may see (and
    revoke the item) and leave that version, which she could neither read nor know of, to those cleared for it.
    On the reviewed code it removed every stored version of the object."""
    world.svc.accounts.add_user("atop", "ALPHA", "analyst", "password-atop", clearance=4)
    atop = world.svc.accounts.principal_for("atop")
    item = world.svc.items.create(atop, {"kind": "entity", "content": {"entity_type": "group", "name": "Secret"},
                                         "handling": {"classification": 4, "release": {"scope": "originator"}}})
    world.svc.items.update(atop, item["id"], {"handling": {"classification": 1, "release": {"scope": "originator"}},
                                              "content": {"entity_type": "group", "name": "Sanitised"}})
    sid = "intrusion-set--" + item["id"].split("--")[1]
    coll = world.svc.taxii.collection(HUB)
    from accord.stix.taxii import ObjectQuery
    before = world.svc.taxii.versions(atop, coll, sid, ObjectQuery()).rows
    assert len(before) == 2
    token = world.svc.accounts.create_token("atop").secret
    seen = await client.get(f"/taxii2/hub/collections/{HUB}/objects/{sid}/versions/", headers=_taxii(world, "alice"))
    assert len(seen.json()["versions"]) == 1
    r = await client.delete(f"/taxii2/hub/collections/{HUB}/objects/{sid}/", headers=_taxii(world, "alice"))
    assert r.status_code == 200, r.text
    assert world.svc.items.get(atop, item["id"])["revoked"] is True
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/{sid}/", headers=_taxii(world, "alice"))
    assert r.status_code == 404
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/{sid}/versions/",
                         headers={"Authorization": f"Bearer {token}", "Accept": TAXII})
    assert r.status_code == 200 and r.json()["versions"] == [before[0].version], r.text
