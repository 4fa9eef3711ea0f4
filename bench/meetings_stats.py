"""Statistics cost: ``Statistics.activity`` (two periods, grouped by member and kind, policy-filtered, revocation
rule) against the core's ``Items.stats`` (one period, same grouping) on the same store, plus drill-down and
freezing a communiqué's figures. Prints one JSON object last; ``ratio`` is activity time over core stats time."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import orjson

from accord import clock
from accord.config import load_settings
from accord.meetings.figures import check_definition
from accord.services import build_services
from conftest import build_world


def best(fn: Any, n: int = 5) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--items", type=int, default=0)
    args = ap.parse_args()
    n = args.items or (6000 if args.quick else 60000)
    rnd = random.Random(5)
    tmp = tempfile.mkdtemp()
    svc = build_services(load_settings(env={}, data=tmp, database_url=f"sqlite:///{tmp}/b.db", secret_key="b" * 40))
    world = build_world(svc)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    writers = ("alice", "bob", "carol")
    for w in writers:
        batch = []
        for _ in range(n // len(writers)):
            ts = clock.format_ts(t0 + timedelta(minutes=rnd.randrange(0, 300 * 24 * 60)))
            kind = rnd.choice(("observation", "observation", "report", "entity"))
            content = {"observation": {"lat": 33 + rnd.random(), "lon": 44 + rnd.random(), "observed_from": ts},
                       "report": {"title": "r", "body": "b"}, "entity": {"entity_type": "group", "name": "g"}}[kind]
            scope = rnd.choice(("originator", "members", "all"))
            rel: dict[str, Any] = {"scope": scope, "consumers": rnd.random() < 0.3}
            if scope == "members":
                rel["members"] = [rnd.choice([m for m in ("ALPHA", "BRAVO", "CHARLIE")
                                              if m != world.p(w).member_code])]
            batch.append({"kind": kind, "content": content, "created": ts, "modified": ts,
                          "handling": {"tlp": "amber", "classification": rnd.randrange(0, 3), "release": rel}})
        for i in range(0, len(batch), 5000):
            svc.items.create_many(world.p(w), batch[i:i + 5000], allow_times=True)
    viewer = world.p("bob")
    start, end = "2026-04-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z"
    core = best(lambda: svc.items.stats(viewer, start, end, ("originator", "kind")))
    activity = best(lambda: svc.stats.activity(viewer, start, end, ["member", "kind"]))
    d = check_definition({"figure": "information", "from": start, "to": end, "members": ["ALPHA", "BRAVO", "CHARLIE"],
                          "basis": "members-own", "audience": "members"})
    drill = best(lambda: svc.stats.drilldown(viewer, d, limit=50), 3)
    m = svc.meetings.create(world.p("alice"), {"title": "b", "date": "2026-11-20", "members": ["BRAVO", "CHARLIE"],
                                               "period": {"from": start, "to": end}})
    svc.meetings.draft_communique(world.p("alice"), m["id"], {"texts": {"en": "x"}, "figures": [
        {"figure": "observations"}, {"figure": "information"}, {"figure": "items", "audience": "consumers"}]})
    t = time.perf_counter()
    svc.meetings.submit_communique(world.p("alice"), m["id"])
    submit = time.perf_counter() - t
    svc.close()
    print(orjson.dumps({"bench": "meetings_stats", "items": n, "core_stats_ms": round(core * 1000, 2),
                        "activity_ms": round(activity * 1000, 2), "drilldown_ms": round(drill * 1000, 2),
                        "submit_3_figures_ms": round(submit * 1000, 2),
                        "ratio": round(activity / core, 2)}).decode())


if __name__ == "__main__":
    main()
