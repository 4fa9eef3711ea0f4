"""Server time of the dashboard and search pages on a store of 100,000 items (``--quick``: 10,000).

The requests go through the whole ASGI app in process (session cookie, policy, audit of reads, rendering), so
the figure is server time without the network. The dashboard is measured cold (its remembered counts dropped
before each request, as happens after any write) and warm (unchanged store). Baselines in the same run: the JSON
API answering the same search (same service call, no HTML), and /healthz (the app's fixed cost per request).
Prints one JSON object last.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from accord.app import create_app
from accord.config import load_settings
from accord.http.auth import SESSION_COOKIE
from accord.services import Services, build_services

WORDS = [
    "depot", "workshop", "convoy", "meeting", "vehicle", "harbour", "bridge", "market", "courier", "warehouse",
    "checkpoint", "river", "مستودع", "ورشة", "قافلة", "اجتماع", "склад", "мастерская", "колонна", "انبار", "کارگاه",
]


def seed(svc: Services, n: int) -> None:
    acc = svc.accounts
    for code in ("ALPHA", "BRAVO", "CHARLIE", "DELTA"):
        acc.add_member(code, f"{code.title()} Service")
        acc.add_user(code.lower(), code, "analyst", None, clearance=3)
    authors = [acc.principal_for(c.lower()) for c in ("ALPHA", "BRAVO", "CHARLIE", "DELTA")]
    rnd = random.Random(7)
    batch = 5000
    for start in range(0, n, batch):
        by_author: dict[int, list[dict[str, Any]]] = {}
        for i in range(start, min(n, start + batch)):
            a = rnd.randrange(4)
            others = [m for m in ("ALPHA", "BRAVO", "CHARLIE", "DELTA") if m != authors[a].member_code]
            scope = rnd.choice(("members", "members", "all", "originator"))
            release: dict[str, Any] = {"scope": scope}
            if scope == "members":
                release["members"] = rnd.sample(others, rnd.randint(1, 3))
            words = " ".join(rnd.choice(WORDS) for _ in range(6))
            kind = rnd.choice(("report", "report", "observation", "entity"))
            content: dict[str, Any] = {
                "report": {"title": f"Report {i} {words[:30]}", "body": words},
                "observation": {"lat": rnd.uniform(29, 37), "lon": rnd.uniform(33, 43),
                                "observed_from": f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T10:00:00Z",
                                "description": words},
                "entity": {"entity_type": "group", "name": f"Group {i}", "aliases": words.split()[:2]},
            }[kind]
            by_author.setdefault(a, []).append({"kind": kind, "content": content, "tags": [rnd.choice(WORDS)],
                                                "handling": {"classification": rnd.randint(0, 2),
                                                             "release": release}})
        for a, objs in by_author.items():
            svc.items.create_many(authors[a], objs)
        # The derivation the large seeding batches queued (STIX objects, correlation keys, notices) is dropped:
        # at ~150 entities/s it would take most of the run, and these pages read items; the notices panel and
        # correlation reads are timed by bench/correlate.py.
        with svc.db.write() as conn:
            conn.exec_driver_sql("DELETE FROM item_derive")


async def timed(client: httpx.AsyncClient, url: str, runs: int, before: Any = None) -> float:
    await client.get(url)  # warm caches and compiled templates
    samples = []
    for _ in range(runs):
        if before:
            before()
        t0 = time.perf_counter()
        r = await client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return round(statistics.median(samples), 2)


async def measure(svc: Services, runs: int) -> dict[str, float]:
    app = create_app(svc.settings, svc)
    principal = svc.accounts.principal_for("bravo")
    sid, _csrf = svc.accounts.open_session(principal)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                 cookies={SESSION_COOKIE: sid}, headers={"accept": "text/html"}) as c:
        return {
            "healthz_ms": await timed(c, "/healthz", runs),
            # Cold: the remembered counts are dropped before each request (as after any write to the store).
            "dashboard_cold_ms": await timed(c, "/dashboard?period=365", runs, svc.web._counts.clear),
            "dashboard_ms": await timed(c, "/dashboard?period=365", runs),
            "search_text_ms": await timed(c, "/search?q=depot", runs),
            "api_search_text_ms": await timed(c, "/api/v1/items?q=depot&limit=25", runs),
            "search_filters_ms": await timed(c, "/search?kind=report&originator=CHARLIE&tag=convoy", runs),
            "api_search_filters_ms": await timed(c, "/api/v1/items?kind=report&originator=CHARLIE&tag=convoy"
                                                    "&limit=25", runs),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10,000 items instead of 100,000")
    ap.add_argument("--items", type=int, default=None)
    args = ap.parse_args()
    n = args.items or (10_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={}, data=str(Path(tmp)), secret_key="x" * 40)
        svc = build_services(settings)
        t0 = time.perf_counter()
        seed(svc, n)
        seeded = time.perf_counter() - t0
        figures = asyncio.run(measure(svc, 5 if args.quick else 10))
        svc.close()
    out = {"bench": "pages", "items": n, "seed_s": round(seeded, 1), **figures,
           "ratio_search_page_vs_api": round(figures["search_text_ms"] / max(figures["api_search_text_ms"], 0.01), 2),
           "target_ms": 200}
    print(orjson.dumps(out).decode())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
