"""TAXII 2.1 behaviour in-process (ASGI): versions follow ``modified``, revocation follows ``revoked``, delete,
status ownership, error codes, audit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from taxii_servers import HUB, OWN, TAXII, shared_world

from accord.app import create_app

H = {"Accept": TAXII}


@pytest.fixture(scope="module")
def world() -> Any:
    return shared_world()


@pytest.fixture
async def client(world: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(world.settings, world.svc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


def auth(world: Any, user: str) -> dict[str, str]:
    return {**H, "Authorization": f"Bearer {world.tokens[user]}"}


async def post(client: httpx.AsyncClient, world: Any, user: str, objs: list[dict[str, Any]],
               coll: str = HUB) -> httpx.Response:
    return await client.post(f"/taxii2/hub/collections/{coll}/objects/", json={"objects": objs},
                             headers={**auth(world, user), "Content-Type": TAXII})


def group(uid: str, modified: str, **kw: Any) -> dict[str, Any]:
    return {"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{uid}",
            "created": "2024-01-01T00:00:00.000Z", "modified": modified, "name": "Grp", **kw}


async def test_versions_follow_modified_and_revocation_follows_revoked(client: httpx.AsyncClient, world: Any) -> None:
    uid = str(uuid.uuid4())
    v1 = group(uid, "2024-01-01T00:00:00.000Z", aliases=["A"])
    v2 = group(uid, "2024-02-01T00:00:00.123456Z", aliases=["A", "B"], x_extra={"k": 1})
    old = group(uid, "2023-12-31T00:00:00.000Z")  # older than the current version: kept, item unchanged
    r = await post(client, world, "alice", [v1])
    assert r.status_code == 202 and r.json()["success_count"] == 1
    r = await post(client, world, "alice", [v2, old])
    assert r.json()["success_count"] == 2, r.json()
    item = world.svc.items.get(world.p("alice"), f"entity--{uid}")
    assert item["version"] == 2 and item["content"]["aliases"] == ["A", "B"]
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/intrusion-set--{uid}/", headers=auth(world, "bob"))
    assert r.json()["objects"] == [v2]
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/intrusion-set--{uid}/versions/",
                         headers=auth(world, "bob"))
    assert sorted(r.json()["versions"]) == sorted([v1["modified"], v2["modified"], old["modified"]])
    r = await post(client, world, "alice", [{**v2, "modified": "2024-03-01T00:00:00.000Z", "revoked": True}])
    assert r.json()["success_count"] == 1
    assert world.svc.items.get(world.p("alice"), f"entity--{uid}")["revoked"] is True
    # Another member may not add versions to it.
    r = await post(client, world, "carol", [{**v2, "modified": "2025-01-01T00:00:00.000Z"}])
    assert r.json()["failure_count"] == 1


async def test_api_items_appear_and_delete_revokes(client: httpx.AsyncClient, world: Any) -> None:
    item = world.share("alice", kind="entity", content={"entity_type": "group", "name": "Native"},
                       handling={"release": {"scope": "all"}})
    sid = "intrusion-set--" + item["id"].split("--")[1]
    r = await client.get(f"/taxii2/hub/collections/{OWN}/objects/{sid}/", headers=auth(world, "alice"))
    assert r.status_code == 200 and r.json()["objects"][0]["name"] == "Native"
    r = await client.get(f"/taxii2/hub/collections/{OWN}/objects/{sid}/", headers=auth(world, "bob"))
    assert r.status_code == 404  # the "own" view is bob's member's objects only
    r = await client.delete(f"/taxii2/hub/collections/{HUB}/objects/{sid}/", headers=auth(world, "bob"))
    assert r.status_code == 403
    r = await client.delete(f"/taxii2/hub/collections/{HUB}/objects/{sid}/", headers=auth(world, "alice"))
    assert r.status_code == 200
    assert world.svc.items.get(world.p("alice"), item["id"])["revoked"] is True
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/{sid}/", headers=auth(world, "alice"))
    assert r.status_code == 404


async def test_rejections_errors_and_status(client: httpx.AsyncClient, world: Any) -> None:
    good = {"type": "x-thing", "spec_version": "2.1", "id": f"x-thing--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z"}
    r = await post(client, world, "alice", [good, {"type": "x"}, {"type": "a", "id": "a--nope"}, "text",
                                            {**good, "id": f"x-thing--{uuid.uuid4()}", "modified": "yesterday"}])
    st = r.json()
    assert (st["success_count"], st["failure_count"], st["total_count"]) == (1, 4, 5)
    r = await client.get(f"/taxii2/hub/status/{st['id']}/", headers=auth(world, "alice"))
    assert r.status_code == 200 and r.json() == st
    r = await client.get(f"/taxii2/hub/status/{st['id']}/", headers=auth(world, "bob"))
    assert r.status_code == 404  # a status is its submitter's alone
    # Readers and consumers may not write; the collection says so.
    r = await client.get(f"/taxii2/hub/collections/{HUB}/", headers=auth(world, "breader"))
    assert r.json()["can_write"] is False and r.json()["can_read"] is True
    r = await post(client, world, "bunit", [good])
    assert r.status_code == 403 and r.json()["http_status"] == "403"
    for params in ({"limit": "0"}, {"limit": "x"}, {"next": "garbage"}, {"added_after": "soon"},
                   {"match[version]": "yesterday"}):
        r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/", headers=auth(world, "alice"), params=params)
        assert r.status_code == 400, params
        assert r.headers["content-type"] == TAXII and {"title", "http_status"} <= set(r.json())
    r = await client.get(f"/taxii2/hub/collections/{uuid.uuid4()}/objects/", headers=auth(world, "alice"))
    assert r.status_code == 404
    # Reads of content are audited with the ids served.
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/", headers=auth(world, "alice"),
                         params={"match[id]": good["id"]})
    assert r.json()["objects"] == [good]
    with world.svc.db.read() as conn:
        rows = world.svc.audit.search(conn, action="taxii.objects", limit=1)
    assert good["id"] in rows[0]["detail"] and rows[0]["member"] == "ALPHA"


async def test_keyset_pages_cover_everything_once(client: httpx.AsyncClient, world: Any) -> None:
    objs = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
             "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "pattern": "[x:y = 1]",
             "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"} for _ in range(35)]
    await post(client, world, "carol", objs)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 4, "match[type]": "indicator"}
    while True:
        r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/", headers=auth(world, "alice"), params=params)
        body = r.json()
        seen += [o["id"] for o in body.get("objects", [])]
        assert r.headers["X-TAXII-Date-Added-First"] <= r.headers["X-TAXII-Date-Added-Last"]
        if not body["more"]:
            break
        params["next"] = body["next"]
    assert len(seen) == len(set(seen)) and {o["id"] for o in objs} <= set(seen)


async def test_backfill_covers_items_stored_before_the_stix_store(world: Any) -> None:
    from sqlalchemy import delete

    from accord.stix.tables import stix_handles, stix_versions

    item = world.share("carol", kind="report", content={"title": "old", "body": "from before the upgrade"},
                       handling={"release": {"scope": "all"}})
    sid = "report--" + item["id"].split("--")[1]
    with world.svc.db.write() as conn:  # as if the item predated migration 0003_taxii
        conn.execute(delete(stix_versions).where(stix_versions.c.stix_id == sid))
        conn.execute(delete(stix_handles).where(stix_handles.c.stix_id == sid))
    assert world.svc.stix.backfill() == 1
    assert world.svc.stix.backfill() == 0
    from accord.stix.taxii import Collection, ObjectQuery

    page = world.svc.taxii.objects(world.p("bob"), Collection(0, "", None, "", "", False, False, {}),
                                   ObjectQuery(ids=[sid]))
    assert [r.stix_id for r in page.rows] == [sid]


@pytest.mark.parametrize("versions", [[], ["first"], ["all"], ["2024-01-01T00:00:00.000Z"]])
def test_reads_by_id_start_from_the_handle(world: Any, versions: list[str]) -> None:
    """An object by id, its versions or a ``match[id]`` read find the id through ``stix_handles``' unique index.
    SQLite has no statistics: given the choice it read every latest version through (latest, date_added), a
    cost that grew with the store (35 ms per object at 40,000 objects)."""
    from accord.stix.tables import stix_versions
    from accord.stix.taxii import ObjectQuery

    if world.svc.db.dialect != "sqlite":
        pytest.skip("the plan of SQLite's planner")
    tx = world.svc.taxii
    q = ObjectQuery(ids=[f"intrusion-set--{uuid.uuid4()}"], versions=versions)
    stmt = tx._base(world.p("alice"), tx.collection(HUB), q, version_filter=True, columns=(stix_versions.c.seq,))
    with world.svc.db.read() as conn:
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        plan = [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    assert "stix_handles" in plan[0] and "stix_id=?" in plan[0], plan
    assert not any("ix_stix_versions_latest_added" in step or "SCAN stix_versions" in step for step in plan), plan

