"""Property-based, over HTTP: /api/v1/items (every page), /items/{id}, /history, /stats and /export return exactly
what the oracle permits, with bearer tokens of random users; a denied item's 404 body equals a missing one's
(apart from the request id and the path)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from policy_world import WORDS, Built, build, worlds

from accord.app import create_app

MISSING = "report--00000000-0000-4000-8000-000000000000"
PROPS = settings(max_examples=8, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def strip(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("request_id", "instance")}


async def listing(c: httpx.AsyncClient, headers: dict[str, str], limit: int, **params: Any) -> list[str]:
    out: list[str] = []
    cursor = None
    while True:
        q = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        r = await c.get("/api/v1/items", params=q, headers=headers)
        assert r.status_code == 200, r.text
        out.extend(i["id"] for i in r.json()["items"])
        cursor = r.json()["next"]
        if cursor is None:
            return out
        assert len(out) < 1000


@given(spec=worlds(max_items=16, max_users=4), limit=st.integers(1, 6))
@PROPS
def test_every_http_read_path_returns_exactly_the_permitted_set(spec, limit) -> None:
    b: Built = build(spec, with_tokens=True)
    try:
        asyncio.run(check_http(b, limit))
    finally:
        b.close()


async def check_http(b: Built, limit: int) -> None:
    transport = httpx.ASGITransport(app=create_app(b.svc.settings, b.svc), raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        for user, token in b.tokens.items():
            h = {"Authorization": f"Bearer {token}"}
            assert await listing(c, h, limit) == list(reversed(b.visible_ids(user)))
            assert await listing(c, h, limit, include_revoked="true") == list(
                reversed(b.visible_ids(user, revoked=True)))
            word = WORDS[limit % len(WORDS)]
            assert await listing(c, h, 1000, q=word) == list(reversed(b.visible_ids(user, q=word)))
            missing = await c.get(f"/api/v1/items/{MISSING}", headers=h)
            missing_history = await c.get(f"/api/v1/items/{MISSING}/history", headers=h)
            assert missing.status_code == missing_history.status_code == 404
            for item_id in b.ids:
                one = await c.get(f"/api/v1/items/{item_id}", headers=h)
                hist = await c.get(f"/api/v1/items/{item_id}/history", headers=h)
                if b.may_see(user, item_id):
                    assert one.status_code == 200 and one.json()["id"] == item_id
                    assert hist.status_code == 200
                    assert [v["version"] for v in hist.json()["versions"]] == b.visible_versions(user, item_id)
                else:
                    assert one.status_code == 404 and hist.status_code == 404
                    assert strip(one.json()) == strip(missing.json())
                    assert strip(hist.json()) == strip(missing_history.json())
                    assert one.headers["content-type"] == missing.headers["content-type"]
            stats = (await c.get("/api/v1/stats", headers=h)).json()
            assert {(g["kind"], g["originator"]): g["count"] for g in stats["groups"]} == dict(b.stats(user))
            assert stats["total"] == len(b.visible_ids(user))
            r = await c.get("/api/v1/export", headers=h)
            assert r.status_code == 200
            exported = [orjson.loads(line)["id"] for line in r.content.splitlines() if line.strip()]
            assert exported == b.visible_ids(user, revoked=True)
