"""End-to-end through the HTTP API: share, read as a released member, not as another, edit, history."""

from __future__ import annotations

from conftest import World, bearer


async def test_share_and_read_across_members(client, world: World) -> None:
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"), json={
        "kind": "report", "language": "en", "content": {"title": "Depot", "body": "Trucks seen at the depot"},
        "handling": {"tlp": "amber", "classification": 1, "release": {"scope": "members", "members": ["BRAVO"]}},
        "grading": {"reliability": "B", "credibility": 2}, "tags": ["logistics"]})
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["originator"] == "ALPHA" and item["version"] == 1
    got = await client.get(f"/api/v1/items/{item['id']}", headers=bearer(world, "bob"))
    assert got.status_code == 200 and got.json()["content"]["title"] == "Depot"
    denied = await client.get(f"/api/v1/items/{item['id']}", headers=bearer(world, "carol"))
    missing = await client.get("/api/v1/items/report--00000000-0000-4000-8000-000000000000",
                               headers=bearer(world, "carol"))
    assert denied.status_code == missing.status_code == 404
    strip = lambda b: {k: v for k, v in b.items() if k not in ("instance", "request_id")}  # noqa: E731
    assert strip(denied.json()) == strip(missing.json())
    found = await client.get("/api/v1/items", params={"q": "depot"}, headers=bearer(world, "bob"))
    assert [i["id"] for i in found.json()["items"]] == [item["id"]]
    edited = await client.patch(f"/api/v1/items/{item['id']}", headers=bearer(world, "alice"),
                                json={"content": {"title": "Depot (updated)"}})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    assert edited.json()["modified"] > item["modified"]
    hist = await client.get(f"/api/v1/items/{item['id']}/history", headers=bearer(world, "bob"))
    assert [v["version"] for v in hist.json()["versions"]] == [1, 2]
    forbidden = await client.patch(f"/api/v1/items/{item['id']}", headers=bearer(world, "bob"),
                                   json={"content": {"title": "x"}})
    assert forbidden.status_code == 403


async def test_bad_input_names_the_field(client, world: World) -> None:
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"), json={
        "kind": "observation", "content": {"lat": 91, "lon": 10, "observed_from": "yesterday"}})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"content.lat", "content.observed_from"}
    assert world.svc.items.count(world.p("alice"), __import__("accord.sharing.items").sharing.items.ItemFilter()) == 0


async def test_unauthenticated_is_401(client) -> None:
    r = await client.get("/api/v1/items")
    assert r.status_code == 401 and r.json()["status"] == 401
