"""Cost of the "correlated with another member's" figure (accord.correlation.figures) against the plain "items"
figure over the same period and viewer, on a store where items share phone numbers and observation cells across
members; plus the whole Statistics page's figure table (every figure, this and the previous period) and the
summary highlights query. Prints one JSON object last; ``ratio`` is correlated time over items time."""

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
from sqlalchemy import func, select

from accord import clock
from accord.config import load_settings
from accord.correlation.figures import most_correlated
from accord.meetings import figures as F
from accord.services import build_services
from accord.storage.schema import items
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
    rnd = random.Random(11)
    tmp = tempfile.mkdtemp()
    svc = build_services(load_settings(env={}, data=tmp, database_url=f"sqlite:///{tmp}/b.db", secret_key="b" * 40))
    world = build_world(svc)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    phones = [f"+33 1 {rnd.randrange(10, 99)} {rnd.randrange(10, 99)} {rnd.randrange(10, 99)} {k % 90 + 10}"
              for k in range(max(50, n // 8))]
    for w in ("alice", "bob", "carol"):
        batch = []
        for _ in range(n // 3):
            ts = clock.format_ts(t0 + timedelta(minutes=rnd.randrange(0, 300 * 24 * 60)))
            kind = rnd.choice(("observation", "observation", "report", "entity"))
            content = {"observation": {"lat": 33 + rnd.random() / 5, "lon": 44 + rnd.random() / 5,
                                       "observed_from": ts[:10] + "T10:00:00Z"},
                       "report": {"title": "r", "body": "b"}, "entity": {"entity_type": "group", "name": "g"}}[kind]
            scope = rnd.choice(("originator", "members", "all"))
            rel: dict[str, Any] = {"scope": scope}
            if scope == "members":
                rel["members"] = [rnd.choice([m for m in ("ALPHA", "BRAVO", "CHARLIE")
                                              if m != world.p(w).member_code])]
            idents = [{"type": "phone", "value": rnd.choice(phones)}] if rnd.random() < 0.5 else []
            batch.append({"kind": kind, "content": content, "created": ts, "modified": ts, "identifiers": idents,
                          "discoverable": False,
                          "handling": {"tlp": "amber", "classification": rnd.randrange(0, 3), "release": rel}})
        for i in range(0, len(batch), 5000):
            svc.items.create_many(world.p(w), batch[i:i + 5000], allow_times=True)
    svc.items.deriver.drain()  # correlation keys and notices of the large batches (accord.sharing.derived)
    viewer = world.p("bob")
    start, end = "2026-04-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z"

    def count(figure: str, basis: str) -> int:
        mem = ["ALPHA", "BRAVO", "CHARLIE"] if basis == "members-own" else []
        d = F.check_definition({"figure": figure, "from": start, "to": end, "members": mem, "basis": basis})
        with svc.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(items)
                                    .where(F.selection(conn, d, viewer))).scalar_one())

    values = {"items": count("items", "viewer"), "correlated": count("correlated", "viewer")}
    plain = best(lambda: count("items", "viewer"))
    corr = best(lambda: count("correlated", "viewer"))
    own = best(lambda: count("correlated", "members-own"), 3)
    table = best(lambda: svc.stats.figure_table(viewer, start, end), 3)
    member = F.member_principal(viewer.member_id, viewer.member_code)

    def highlights() -> None:
        with svc.db.read() as conn:
            most_correlated(conn, member, start, end)

    hl = best(highlights, 3)
    svc.close()
    print(orjson.dumps({"bench": "meetings_correlated", "items": n, "period_items": values["items"],
                        "period_correlated": values["correlated"], "items_figure_ms": round(plain * 1000, 2),
                        "correlated_figure_ms": round(corr * 1000, 2),
                        "correlated_members_own_ms": round(own * 1000, 2),
                        "figure_table_ms": round(table * 1000, 2), "highlights_ms": round(hl * 1000, 2),
                        "ratio": round(corr / plain, 2)}).decode())


if __name__ == "__main__":
    main()
