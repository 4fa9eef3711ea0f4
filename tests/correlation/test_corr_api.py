"""The correlation endpoints over HTTP, and the quality evaluation in small."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accord.correlation.evaluation import evaluate
from accord.storage.schema import audit_log
from conftest import bearer


async def test_correlation_endpoints(client: Any, world: Any) -> None:
    a = world.share("alice", kind="entity", content={"entity_type": "person", "name": "Abu Bakr al-Baghdadi"})
    b = world.share("bob", kind="entity", content={"entity_type": "person", "name": "أبو بكر البغدادي"})
    r = await client.get(f"/api/v1/items/{a['id']}/correlations", headers=bearer(world, "alice"))
    assert r.status_code == 200 and r.json()["correlations"] == []
    r = await client.get(f"/api/v1/items/{b['id']}/correlations", headers=bearer(world, "alice"))
    assert r.status_code == 404
    r = await client.get("/api/v1/entities/match", params={"name": "Абу Бакр аль-Багдади"},
                         headers=bearer(world, "bob"))
    assert [m["id"] for m in r.json()["matches"]] == [b["id"]]
    r = await client.get("/api/v1/places", params={"name": "بغداد"}, headers=bearer(world, "bob"))
    assert r.json()["places"][0]["name"] == "Baghdad"
    r = await client.get("/api/v1/correlation/notices", headers=bearer(world, "alice"))
    notes = r.json()["notices"]
    assert [(n["item"], n["member"]) for n in notes] == [(a["id"], "BRAVO")] and b["id"] not in r.text
    r = await client.post(f"/api/v1/correlation/notices/{notes[0]['id']}/release", headers=bearer(world, "bob"))
    assert r.status_code == 404
    r = await client.post(f"/api/v1/correlation/notices/{notes[0]['id']}/release", headers=bearer(world, "alice"))
    assert r.status_code == 200
    r = await client.get(f"/api/v1/items/{b['id']}/correlations", headers=bearer(world, "bob"))
    assert [c["id"] for c in r.json()["correlations"]] == [a["id"]]


async def test_exclusion_endpoints(client: Any, world: Any) -> None:
    r = await client.post("/api/v1/correlation/exclusions", json={"type": "phone", "value": "+33 1 23 45 67 89"},
                          headers=bearer(world, "alice"))
    assert r.status_code == 403
    r = await client.post("/api/v1/correlation/exclusions", json={"type": "fax", "value": "1"},
                          headers=bearer(world, "aadmin"))
    assert r.status_code == 422
    r = await client.post("/api/v1/correlation/exclusions", json={"type": "phone", "value": "+33 1 23 45 67 89"},
                          headers=bearer(world, "aadmin"))
    assert r.status_code == 201
    r = await client.get("/api/v1/correlation/exclusions", headers=bearer(world, "aadmin"))
    ex = r.json()["exclusions"]
    assert [e["key"] for e in ex] == ["i:phone:+33123456789"]
    r = await client.delete(f"/api/v1/correlation/exclusions/{ex[0]['id']}", headers=bearer(world, "aadmin"))
    assert r.status_code == 204


def test_quality_small() -> None:
    """The offline evaluation on the largest cities: recall@1 of Arabic-script and Cyrillic names against
    their Latin forms (the bench runs the larger set)."""
    results, info = evaluate(min_population=2_000_000, max_queries_per_script=200)
    by = {r.script: r for r in results}
    assert info["queries"] > 200
    assert by["Cyrillic"].recall_at_1 >= 0.9
    assert by["Arabic"].recall_at_1 >= 0.9


def test_cli_commands(world: Any, settings: Any) -> None:
    import orjson
    from typer.testing import CliRunner

    from accord.cli.main import app

    world.share("bob", kind="entity", content={"entity_type": "person", "name": "أبو بكر البغدادي"},
                handling={"release": {"scope": "all"}})
    base = ["--data", settings.data, "--database-url", settings.database_url]
    runner = CliRunner()
    r = runner.invoke(app, [*base, "entities", "match", "Abu Bakr al-Baghdadi", "--as", "alice", "--json"])
    assert r.exit_code == 0, r.output
    assert [m["originator"] for m in orjson.loads(r.stdout)] == ["BRAVO"]
    r = runner.invoke(app, [*base, "places", "Багдад", "--json", "--limit", "1"])
    assert r.exit_code == 0 and orjson.loads(r.stdout)[0]["name"] == "Baghdad"
    r = runner.invoke(app, [*base, "correlate", "rebuild"])
    assert r.exit_code == 0 and orjson.loads(r.stdout)["items"] == 1


async def test_a_dismissed_notice_stays_dismissed(client: Any, world: Any, services: Any) -> None:
    world.share("alice", kind="entity", content={"entity_type": "person", "name": "Abu Bakr al-Baghdadi"})
    b = world.share("bob", kind="entity", content={"entity_type": "person", "name": "أبو بكر البغدادي"})
    r = await client.get("/api/v1/correlation/notices", headers=bearer(world, "bob"))
    (note,) = r.json()["notices"]
    url = f"/api/v1/correlation/notices/{note['id']}/dismiss"
    assert (await client.post(url, headers=bearer(world, "alice"))).status_code == 404  # not ALPHA's notice
    assert (await client.post(url, headers=bearer(world, "breader"))).status_code == 403  # readers do not act
    r = await client.post(url, headers=bearer(world, "bob"))
    assert r.status_code == 200 and r.json() == {"notice": note["id"], "state": "dismissed", "item": b["id"]}
    assert (await client.post(url, headers=bearer(world, "bob"))).json()["state"] == "dismissed"
    r = await client.get("/api/v1/correlation/notices", params={"state": "open"}, headers=bearer(world, "bob"))
    assert r.json()["notices"] == []
    r = await client.get("/api/v1/correlation/notices", params={"state": "nope"}, headers=bearer(world, "bob"))
    assert r.status_code == 422
    # A rebuild recomputes open notices only: the same match is not raised again.
    services.correlation.rebuild()
    r = await client.get("/api/v1/correlation/notices", headers=bearer(world, "bob"))
    assert [(n["id"], n["state"]) for n in r.json()["notices"]] == [(note["id"], "dismissed")]
    with services.db.read() as conn:
        trail = conn.execute(select(audit_log.c.member, audit_log.c.item_id)
                             .where(audit_log.c.action == "correlation.notice.dismiss")).all()
    assert [tuple(t) for t in trail] == [("BRAVO", b["id"])]
