"""An item's earlier versions are read under the intersection rule: the item's current handling *and* that version's
own handling must admit the reader. Property-based over items edited several times (widened, narrowed, sanitised,
raised, members changed, consumers flipped), through every path that lists versions: history (service and API),
TAXII versions and objects with ``match[version]=all`` (every page, the date headers), and the STIX export; plus
the reviewer's reproduction of the leak, and the migration filling the handling of versions stored before it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from policy_world import Built, build, worlds
from sqlalchemy import text

from accord.app import create_app
from accord.errors import NotFound
from accord.stix import mapping
from accord.stix.taxii import ObjectQuery
from accord.storage.migrate import upgrade
from conftest import World, bearer

MISSING = "report--00000000-0000-4000-8000-000000000000"
TAXII = {"Accept": "application/taxii+json;version=2.1"}
PROPS = settings(max_examples=10, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def stix_ids(item_id: str) -> list[str]:
    uid = item_id.split("--", 1)[1]
    main = f"{mapping.stix_type_for(item_id, 'group')}--{uid}"  # policy worlds' entities are groups
    return [main, f"sighting--{uid}"] if item_id.startswith("observation--") else [main]


def strip(body: dict[str, Any], ident: str) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if k not in ("request_id", "instance", "error_id")}
    return json.loads(json.dumps(out).replace(ident, "X"))


@given(spec=worlds(max_items=8, max_users=4, max_edits=4), limit=st.integers(1, 3))
@PROPS
def test_every_version_path_returns_exactly_the_versions_the_oracle_admits(spec, limit) -> None:
    b = build(spec, with_tokens=True)
    try:
        asyncio.run(check(b, limit))
    finally:
        b.close()


async def check(b: Built, limit: int) -> None:
    svc = b.svc
    coll = next(c for c in svc.taxii.collections() if c.alias == "hub")
    base = f"/taxii2/hub/collections/{coll.id}/objects"
    # Every version's key and date_added, as the originator's writer (clearance 4, originator: sees them all).
    added: dict[tuple[str, str], str] = {}
    for item_id in b.ids:
        writer = b.readers[f"w{b.specs[item_id].originator}"]
        for sid in stix_ids(item_id):
            rows = svc.taxii.versions(writer, coll, sid, ObjectQuery(limit=1000)).rows
            assert [mapping.version_key(r.version) for r in rows] == [
                mapping.version_key(m) for m in b.version_modified[item_id]]
            added.update({(sid, mapping.version_key(r.version)): r.date_added for r in rows})
    transport = httpx.ASGITransport(app=create_app(svc.settings, svc), raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        for user, principal in b.readers.items():
            h = {"Authorization": f"Bearer {b.tokens[user]}"}
            with pytest.raises(NotFound) as missing:
                svc.items.history(principal, MISSING)
            missing_api = await c.get(f"/api/v1/items/{MISSING}/history", headers=h)
            missing_versions = await c.get(f"{base}/{stix_ids(MISSING)[0]}/versions/", headers={**h, **TAXII})
            expected_export = set()
            for item_id in b.ids:
                want = b.visible_versions(user, item_id)
                keys = [mapping.version_key(b.version_modified[item_id][n - 1]) for n in want]
                handling = [b.specs[item_id].version_handling[n - 1].api(b.spec.codes) for n in want]
                for hh in handling:
                    hh["release"]["members"].sort()
                # History: the service, then the API.
                api = await c.get(f"/api/v1/items/{item_id}/history", headers=h)
                if want:
                    got = svc.items.history(principal, item_id)
                    assert [v["version"] for v in got] == want, (user, item_id)
                    assert [v["handling"] for v in got] == handling
                    assert api.status_code == 200
                    assert [v["version"] for v in api.json()["versions"]] == want
                else:
                    with pytest.raises(NotFound) as denied:
                        svc.items.history(principal, item_id)
                    assert str(denied.value) == str(missing.value)
                    assert api.status_code == 404 and strip(api.json(), item_id) == strip(missing_api.json(), MISSING)
                for sid in stix_ids(item_id):
                    expected_export |= {(sid, k) for k in keys}
                    page = svc.taxii.versions(principal, coll, sid, ObjectQuery(limit=1000))
                    assert [mapping.version_key(r.version) for r in page.rows] == keys, (user, sid)
                    # Over HTTP, every page: versions, and objects with match[version]=all.
                    for what, params in (("versions", {}), ("objects", {"match[version]": "all"})):
                        url = f"{base}/{sid}/versions/" if what == "versions" else f"{base}/{sid}/"
                        seen: list[str] = []
                        query: dict[str, Any] = {"limit": limit, **params}
                        while True:
                            r = await c.get(url, params=query, headers={**h, **TAXII})
                            if not keys:
                                assert r.status_code == 404, (user, sid, what)
                                assert strip(r.json(), sid) == strip(missing_versions.json(), stix_ids(MISSING)[0])
                                break
                            assert r.status_code == 200
                            body = r.json()
                            got_keys = [mapping.version_key(v) for v in body["versions"]] if what == "versions" \
                                else [mapping.version_key(o["modified"]) for o in body["objects"]]
                            assert r.headers["X-TAXII-Date-Added-First"] == added[(sid, got_keys[0])]
                            assert r.headers["X-TAXII-Date-Added-Last"] == added[(sid, got_keys[-1])]
                            seen.extend(got_keys)
                            assert body["more"] == (len(seen) < len(keys))
                            if not body["more"]:
                                assert "next" not in body
                                break
                            query["next"] = body["next"]
                        if keys:
                            assert seen == keys, (user, sid, what)
            # The STIX export: every version of every object the reader may see, and no other.
            ours = {sid for item_id in b.ids for sid in stix_ids(item_id)}
            exported = {(o["id"], mapping.version_key(o["modified"])) for o in
                        map(orjson.loads, svc.taxii.export(principal, batch=limit)) if o["id"] in ours}
            assert exported == expected_export, user


async def test_a_sanitised_or_widened_item_does_not_open_its_earlier_versions(world: World, client: Any) -> None:
    """The reviewer's reproduction: v1 SECRET released to all, edited to UNCLASSIFIED without the sensitive text;
    bob (clearance 2) must read v2 only, through every path. Likewise an originator-only v1 later released to all."""

    alice = bearer(world, "alice")
    made = await client.post("/api/v1/items", headers=alice, json={
        "kind": "report", "content": {"title": "Source KINGFISHER report", "body": "agent KINGFISHER, pier 9"},
        "handling": {"tlp": "amber", "classification": 3, "release": {"scope": "all"}}})
    iid = made.json()["id"]
    bob, taxii_bob = bearer(world, "bob"), {**bearer(world, "bob"), **TAXII}
    assert (await client.get(f"/api/v1/items/{iid}", headers=bob)).status_code == 404
    await client.patch(f"/api/v1/items/{iid}", headers=alice, json={
        "content": {"title": "Sanitised report", "body": "a meeting took place"},
        "handling": {"classification": 0}})
    hist = (await client.get(f"/api/v1/items/{iid}/history", headers=bob)).json()["versions"]
    assert [(v["version"], v["content"]["title"]) for v in hist] == [(2, "Sanitised report")]
    assert "KINGFISHER" not in json.dumps(hist)
    assert [v["version"] for v in world.svc.items.history(world.p("alice"), iid)] == [1, 2]
    coll = next(c for c in world.svc.taxii.collections() if c.alias == "hub")
    sid = "report--" + iid.split("--")[1]
    r = await client.get(f"/taxii2/hub/collections/{coll.id}/objects/{sid}/",
                         params={"match[version]": "all"}, headers=taxii_bob)
    assert [o["name"] for o in r.json()["objects"]] == ["Sanitised report"]
    first = await client.get(f"/taxii2/hub/collections/{coll.id}/objects/{sid}/",
                             params={"match[version]": "first"}, headers=taxii_bob)
    assert first.status_code == 200 and first.json() == {}  # the first version is not one bob may see
    versions = await client.get(f"/taxii2/hub/collections/{coll.id}/objects/{sid}/versions/", headers=taxii_bob)
    assert len(versions.json()["versions"]) == 1
    exported = [orjson.loads(x) for x in world.svc.taxii.export(world.p("bob"))]
    assert [o["name"] for o in exported if o["id"] == sid] == ["Sanitised report"]
    assert "KINGFISHER" not in json.dumps(exported)
    alice_all = [orjson.loads(x) for x in world.svc.taxii.export(world.p("alice"))]
    assert [o["name"] for o in alice_all if o["id"] == sid] == ["Source KINGFISHER report", "Sanitised report"]

    # A release widened from the originator to all: CHARLIE reads the new version only.
    made = await client.post("/api/v1/items", headers=alice, json={
        "kind": "report", "content": {"title": "ALPHA internal: informant HERON", "body": "internal only"},
        "handling": {"tlp": "red", "classification": 0, "release": {"scope": "originator"}}})
    iid2 = made.json()["id"]
    await client.patch(f"/api/v1/items/{iid2}", headers=alice, json={
        "content": {"title": "Public summary", "body": "summary"},
        "handling": {"tlp": "green", "release": {"scope": "all"}}})
    hist = (await client.get(f"/api/v1/items/{iid2}/history", headers=bearer(world, "carol"))).json()
    assert [(v["version"], v["content"]["title"]) for v in hist["versions"]] == [(2, "Public summary")]
    sid2 = "report--" + iid2.split("--")[1]
    r = await client.get(f"/taxii2/hub/collections/{coll.id}/objects/{sid2}/versions/",
                         headers={**bearer(world, "carol"), **TAXII})
    assert len(r.json()["versions"]) == 1

    # Narrowing still closes every version: bob loses the item and its whole history.
    await client.patch(f"/api/v1/items/{iid}", headers=alice, json={"handling": {"classification": 3}})
    assert (await client.get(f"/api/v1/items/{iid}/history", headers=bob)).status_code == 404
    gone = await client.get(f"/taxii2/hub/collections/{coll.id}/objects/{sid}/versions/", headers=taxii_bob)
    assert gone.status_code == 404


def test_the_revoked_copy_of_a_superseded_stix_object_keeps_the_handling_of_its_content(world: World) -> None:
    """A person found to be a group becomes another STIX object; the revoked copy of the old one carries the old
    content, so a sanitising edit must not show it to readers the old version never admitted."""
    alice, bob = world.p("alice"), world.p("bob")
    e = world.svc.items.create(alice, {"kind": "entity", "content": {"entity_type": "person", "name": "HERON"},
                                       "handling": {"classification": 3, "release": {"scope": "all"}}})
    world.svc.items.update(alice, e["id"], {"content": {"entity_type": "group", "name": "a group"},
                                            "handling": {"classification": 0}})
    uid = e["id"].split("--")[1]
    coll = next(c for c in world.svc.taxii.collections() if c.alias == "hub")
    old = f"threat-actor--{uid}"
    assert len(world.svc.taxii.versions(alice, coll, old, ObjectQuery()).rows) == 2  # v1 and its revoked copy
    assert world.svc.taxii.versions(bob, coll, old, ObjectQuery()).rows == []
    assert not world.svc.taxii.exists(bob, coll, old)
    assert len(world.svc.taxii.versions(bob, coll, f"intrusion-set--{uid}", ObjectQuery()).rows) == 1
    assert "HERON" not in json.dumps([orjson.loads(x) for x in world.svc.taxii.export(bob)])


def test_the_migration_fills_the_handling_of_versions_stored_before_it(world: World) -> None:
    """A store from before 0013_version_handling: its old versions get their handling from what is stored (item
    snapshots, the Accord extension of STIX bodies), so the rule holds for them too."""
    alice, bob, carol = world.p("alice"), world.p("bob"), world.p("carol")
    items = world.svc.items
    a = items.create(alice, {"kind": "report", "content": {"title": "secret one"},
                             "handling": {"classification": 3, "release": {"scope": "all"}}})
    items.update(alice, a["id"], {"content": {"title": "clean"}, "handling": {"classification": 0}})
    m = items.create(alice, {"kind": "report", "content": {"title": "for bravo"},
                             "handling": {"release": {"scope": "members", "members": ["BRAVO"]}}})
    items.update(alice, m["id"], {"content": {"title": "for all"}, "handling": {"release": {"scope": "all"}}})
    db = world.svc.db
    with db.write() as conn:  # the store as it was: no version handling, the revision not applied
        for table in ("stix_version_release", "item_version_release"):
            conn.execute(text(f"DROP TABLE {table}"))
        for table in ("stix_versions", "item_versions"):
            for col in ("release_consumers", "release_scope", "classification"):
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {col}"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0011_stix_versions_by_handle' "
                          "WHERE version_num = '0013_version_handling'"))
    upgrade(db)
    assert [v["version"] for v in items.history(bob, a["id"])] == [2]
    assert [v["version"] for v in items.history(alice, a["id"])] == [1, 2]
    assert [v["version"] for v in items.history(bob, m["id"])] == [1, 2]  # v1 was released to BRAVO by name
    assert [v["version"] for v in items.history(carol, m["id"])] == [2]
    coll = next(c for c in world.svc.taxii.collections() if c.alias == "hub")
    for reader, iid, n in ((bob, a["id"], 1), (alice, a["id"], 2), (bob, m["id"], 2), (carol, m["id"], 1)):
        sid = "report--" + iid.split("--")[1]
        assert len(world.svc.taxii.versions(reader, coll, sid, ObjectQuery()).rows) == n, (reader.username, iid)
