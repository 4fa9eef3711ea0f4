"""A reference served over TAXII must not tell anything about an entity the reader may not see: its STIX type
(threat-actor for a person, identity for an organisation, intrusion-set for a group) is the entity's own only for
readers who may see it; for anyone else it is ``HIDDEN_ENTITY_REF_TYPE`` (the reviewer's leak_refs)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from taxii_servers import HUB, TAXII

from accord.stix.refs import HIDDEN_ENTITY_REF_TYPE
from conftest import World, bearer

ORIG = {"tlp": "red", "classification": 0, "release": {"scope": "originator"}}
ALL = {"tlp": "green", "classification": 0, "release": {"scope": "all"}}


async def _share(client: httpx.AsyncClient, world: World, kind: str, content: dict[str, Any],
                 handling: dict[str, Any]) -> str:
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"),
                          json={"kind": kind, "content": content, "handling": handling})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _objects(client: httpx.AsyncClient, world: World, user: str, ids: list[str]) -> dict[str, Any]:
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/",
                         params={"match[id]": ",".join(ids), "match[version]": "all"},
                         headers={**bearer(world, user), "Accept": TAXII})
    return {o["id"]: o for o in r.json().get("objects", [])}


def _uid(item_id: str) -> str:
    return item_id.split("--", 1)[1]


async def test_refs_to_hidden_entities_do_not_tell_their_type(client: httpx.AsyncClient, world: World) -> None:
    person = await _share(client, world, "entity", {"entity_type": "person", "name": "Informant X"}, ORIG)
    org = await _share(client, world, "entity", {"entity_type": "organisation", "name": "Front Ltd"}, ORIG)
    pub = await _share(client, world, "entity", {"entity_type": "group", "name": "Gang"}, ALL)
    seen = await _share(client, world, "entity", {"entity_type": "person", "name": "Known"}, ALL)
    rels = [await _share(client, world, "relationship", {"relationship_type": "related-to", "source_ref": pub,
                                                         "target_ref": t}, ALL) for t in (person, org, seen)]
    note = await _share(client, world, "note", {"content": "see all", "object_refs": [pub, person, org, seen]},
                        ALL)
    ids = [f"relationship--{_uid(r)}" for r in rels] + [f"note--{_uid(note)}"]
    hidden = HIDDEN_ENTITY_REF_TYPE
    for served in (await _objects(client, world, "bob", ids),
                   {o["id"]: o for o in map(json.loads, world.svc.taxii.export(world.p("bob"))) if o["id"] in ids}):
        assert served.keys() == set(ids)  # which relationships are visible does not change
        targets = [served[i]["target_ref"] for i in ids[:3]]
        assert targets == [f"{hidden}--{_uid(person)}", f"{hidden}--{_uid(org)}", f"threat-actor--{_uid(seen)}"]
        assert all(served[i]["source_ref"] == f"intrusion-set--{_uid(pub)}" for i in ids[:3])
        assert served[ids[3]]["object_refs"] == [f"intrusion-set--{_uid(pub)}", f"{hidden}--{_uid(person)}",
                                                 f"{hidden}--{_uid(org)}", f"threat-actor--{_uid(seen)}"]
        # A hidden person and a hidden organisation give the same object, but for their ids.
        a, b = (dict(served[i]) for i in ids[:2])
        for o in (a, b):
            o.pop("id"), o.pop("target_ref"), o.pop("created"), o.pop("modified")
        assert a == b
    # The author, who may see both, gets each entity's own type.
    own = await _objects(client, world, "alice", ids)
    assert [own[i]["target_ref"] for i in ids[:3]] == [
        f"threat-actor--{_uid(person)}", f"identity--{_uid(org)}", f"threat-actor--{_uid(seen)}"]
    # Once the person is released to bob's member, bob gets its type too (derived from what bob may see).
    r = await client.post(f"/api/v1/items/{person}/release", headers=bearer(world, "alice"),
                          json={"members": ["BRAVO"]})
    assert r.status_code == 200, r.text
    assert (await _objects(client, world, "bob", ids[:1]))[ids[0]]["target_ref"] == f"threat-actor--{_uid(person)}"
