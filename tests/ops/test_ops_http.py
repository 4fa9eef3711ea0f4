"""/healthz, /readyz, /metrics and request ids, on both backends."""

from __future__ import annotations

import json
import logging

from accord.ops.logs import JsonFormatter
from accord.ops.metrics import observe_alert_latency
from conftest import World, bearer


async def test_health_and_readiness(client) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}


async def test_readyz_is_503_when_the_database_is_gone(client, services) -> None:
    from sqlalchemy import create_engine

    real = services.db.reader
    gone = ("sqlite:////nonexistent/dir/accord.db" if services.db.dialect == "sqlite"
            else real.url.set(database="accord_no_such_database"))
    services.db.reader = create_engine(gone)
    try:
        r = await client.get("/readyz")
    finally:
        services.db.reader.dispose()
        services.db.reader = real
    assert r.status_code == 503
    assert r.json()["status"] == "not ready" and r.json()["checks"]["database"].startswith("unavailable")


async def test_metrics_count_requests_by_route_and_ingest(client, world: World) -> None:
    for _ in range(2):
        r = await client.post("/api/v1/items", headers=bearer(world, "alice"),
                              json={"kind": "report", "content": {"title": "x", "body": "y"}})
        assert r.status_code == 201
    item_id = r.json()["id"]
    await client.get(f"/api/v1/items/{item_id}", headers=bearer(world, "alice"))
    observe_alert_latency(0.2)
    text = (await client.get("/metrics")).text
    assert 'accord_http_request_duration_seconds_count{method="POST",route="/api/v1/items",status="201"} 2.0' in text
    assert 'route="/api/v1/items/{item_id}"' in text and item_id not in text
    assert 'accord_items_written_total{kind="report",op="create"} 2.0' in text
    assert "accord_http_requests_in_flight" in text and "accord_db_connections_in_use" in text
    assert "accord_alert_latency_seconds_count 1.0" in text


async def test_request_id_is_kept_or_made_and_logged(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="accord.access"):
        r = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
        r2 = await client.get("/healthz", headers={"X-Request-Id": "x" * 200})
    assert r.headers["x-request-id"] == "abc-123"
    assert len(r2.headers["x-request-id"]) == 32
    rec = next(r for r in caplog.records if getattr(r, "request_id", None) == "abc-123")
    line = json.loads(JsonFormatter().format(rec))
    assert line["request_id"] == "abc-123" and line["status"] == 200 and line["route"] == "/healthz"
    assert line["level"] == "info" and line["logger"] == "accord.access" and "duration_ms" in line


async def test_the_proxy_request_id_reaches_the_audit_trail(client, world: World) -> None:
    item = world.share("alice")
    r = await client.get(f"/api/v1/items/{item['id']}", headers={**bearer(world, "alice"), "X-Request-Id": "rq-77"})
    assert r.status_code == 200
    with world.svc.db.read() as conn:
        rows = world.svc.audit.search(conn, action="item.read", item_id=item["id"])
    assert rows[0]["request_id"] == "rq-77"  # newest first; the earlier one is the share itself
