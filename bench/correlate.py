"""Correlation bench: with N stored items (entities with aliases in three scripts, observations, reports with
identifiers), measure

- p50/p99 time to correlate one new item of each kind (after five writes of that kind, reported apart as
  ``first_writes_ms``: a process's first writes compile their statements): the write hook (index its keys, find
  what it relates to, store deconfliction notices), and separately `Correlation.related` (everything it relates
  to, hub-wide) and `for_item` (a reader's view through the policy), against a baseline in the same run: a plain
  indexed exact lookup by item id;
- entity name match p50/p99 over the stored names (queries in another script, words shuffled), and how often the
  entity the query was made from comes first (recall@1 at scale);
- correlation storage in bytes per item at N/2 and N items (SQLite dbstat), whose ratio shows growth is linear;
- quality: recall@1 and recall@5 per script on the offline GeoNames evaluation set (accord.correlation.evaluation).

The store is filled with `Items.create_many` in batches of 5,000 with the write hooks off, each batch then indexed
through the service's own `_index` (deconfliction notices are not computed during the fill: they are moving to a
deferred queue); the timed writes run the full hook. `--db DIR` keeps the filled store for profiling runs.

Usage: python bench/correlate.py [--quick] [--items N] [--db DIR] [--no-quality]. Prints one JSON object as its
last line.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from accord.config import load_settings
from accord.correlation.evaluation import evaluate, load_cities
from accord.correlation.names import script_of
from accord.services import build_services
from accord.sharing.items import WrittenItem
from accord.storage.schema import items

WARM_UP = 5  # writes of each kind made before the timed ones (see main)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 3)


def name_pool() -> list[tuple[str, str, str]]:
    """(Latin, Arabic-script, Cyrillic) spellings of one-word GeoNames place names, used as name parts."""
    pool = []
    for c in load_cities(15000):
        if " " in c["name"] or "-" in c["name"]:
            continue
        ar = next((a for a in c["alternatenames"] if script_of(a) == "Arabic" and " " not in a), None)
        cy = next((a for a in c["alternatenames"] if script_of(a) == "Cyrillic" and " " not in a), None)
        if ar and cy:
            pool.append((c["name"], ar, cy))
    return pool


class Timed:
    """Stands in for the correlation hook (same name, same deferral) and times it inside the item's own write
    transaction."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self.times: list[float] = []

    def __getattr__(self, name: str) -> Any:  # hook_name, deferrable, ...
        return getattr(self.hook, name)

    def items_written(self, conn: Any, principal: Any, written: list[WrittenItem]) -> None:
        t = time.perf_counter()
        self.hook.items_written(conn, principal, written)
        self.times.append(time.perf_counter() - t)


def make_item(rng: random.Random, pool: list[tuple[str, str, str]], kind: str, n_phones: int,
              members: list[str]) -> tuple[dict[str, Any], tuple[list[str], int] | None]:
    rel = rng.choice([{"scope": "all"}, {"scope": "originator"},
                      {"scope": "members", "members": [rng.choice(members)]}])
    base: dict[str, Any] = {"kind": kind, "handling": {"release": rel}}
    if kind == "entity":
        parts = [rng.randrange(len(pool)) for _ in range(rng.choice((2, 3)))]
        base["content"] = {"entity_type": "person", "name": " ".join(pool[p][0] for p in parts),
                           "aliases": [" ".join(pool[p][1] for p in parts), " ".join(pool[p][2] for p in parts)]}
        return base, (parts, int(rel["scope"] == "all"))
    if kind == "observation":
        ts = time.gmtime(1735689600 + rng.randrange(730) * 86400 + rng.randrange(86400))
        base["content"] = {"lat": rng.uniform(29, 37), "lon": rng.uniform(38, 48),
                           "observed_from": time.strftime("%Y-%m-%dT%H:%M:%SZ", ts)}
        return base, None
    phone = f"+96477{rng.randrange(n_phones):08d}"
    base["content"] = {"title": "report", "body": f"contact {phone}"}
    base["identifiers"] = [{"type": "phone", "value": phone},
                           {"type": "email", "value": f"user{rng.randrange(n_phones)}@example.org"}]
    return base, None


def storage_bytes(svc: Any) -> int:
    with svc.db.read() as conn:
        rows = conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
    return sum(int(s) for n, s in rows if n.startswith(("corr_", "ix_corr_", "sqlite_autoindex_corr_")))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--items", type=int, default=None)
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--db", default=None, help="keep the filled store in this directory and reuse it when it exists "
                                                "(for profiling; the sizes are then those of the first run)")
    ap.add_argument("--no-quality", action="store_true", help="skip the GeoNames quality evaluation")
    args = ap.parse_args()
    n_items = args.items or (6_000 if args.quick else 1_000_000)
    samples = args.samples or (40 if args.quick else 300)
    rng = random.Random(7)
    tmp = args.db or tempfile.mkdtemp(prefix="accord-bench-")
    reuse = (Path(tmp) / "bench.db").exists() and (Path(tmp) / "fill.json").exists()
    Path(tmp).mkdir(parents=True, exist_ok=True)
    settings = load_settings(env={}, data=tmp, database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
                             secret_key="b" * 40, audit_reads=False)
    svc = build_services(settings)
    acc = svc.accounts
    members = ["ALPHA", "BRAVO", "CHARLIE", "DELTA"]
    if not reuse:
        for m in members:
            acc.add_member(m, m.title())
            acc.add_user(f"{m.lower()}-analyst", m, "analyst", "password-" + m.lower(), clearance=4)
    principals = {m: acc.principal_for(f"{m.lower()}-analyst") for m in members}
    pool = name_pool()
    kinds = ["entity", "entity", "observation", "observation", "report"]
    hook = svc.correlation
    hooks = list(svc.items.hooks)
    # Bulk load without the write hooks, then index each batch through the service's own indexing (what
    # `accord correlate rebuild --no-notices` does): deconfliction notices are left out of the fill, as they are
    # moving to a deferred queue; the timed writes below run the full hook, notices included.
    svc.items.hooks.clear()
    started = time.perf_counter()
    fill: dict[str, Any] = {"sizes": [], "sources": {}}
    if reuse:
        fill = json.loads((Path(tmp) / "fill.json").read_text())
    loaded, last_indexed = 0, 0
    for target in (n_items // 2, n_items) if not reuse else ():
        while loaded < target:
            batch, meta = [], []
            for _ in range(min(5000, target - loaded)):
                obj, src = make_item(rng, pool, rng.choice(kinds), max(10, n_items // 20), members)
                batch.append(obj)
                meta.append(src)
            m = members[loaded // 5000 % len(members)]
            results = svc.items.create_many(principals[m], batch)
            for r, src in zip(results, meta, strict=True):
                # Sources for the match queries: entities released to all, so the reader may see every one.
                if r.ok and src is not None and len(fill["sources"]) < 5000 and src[1]:
                    fill["sources"][str(r.id)] = src
            loaded += len(batch)
            with svc.db.write() as conn:
                rows = conn.execute(select(items.c.seq, items.c.id, items.c.kind, items.c.body)
                                    .where(items.c.seq > last_indexed).order_by(items.c.seq)).all()
                for r in rows:
                    body = json.loads(r.body)
                    hook._index(conn, r.seq, r.kind, body["content"], body.get("identifiers", []), False, r.id)
            last_indexed = rows[-1].seq if rows else last_indexed
        fill["sizes"].append((loaded, storage_bytes(svc)))
        print(f"loaded and indexed {loaded} items in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if not reuse and args.db:
        (Path(tmp) / "fill.json").write_text(json.dumps(fill))
    sizes = [tuple(x) for x in fill["sizes"]]
    sources = {k: tuple(v) for k, v in fill["sources"].items()}
    fill_s = time.perf_counter() - started
    # The timed writes run every hook, the correlation hook once, in its place, timed.
    timed = Timed(hook)
    svc.items.hooks.extend(timed if h is hook else h for h in hooks)
    per_kind: dict[str, dict[str, Any]] = {}
    reader = principals["ALPHA"]
    # As the server does once started (accord.app): what is loaded lives as long as the process, out of the
    # cyclic collector's scans.
    gc.freeze()
    for kind in ("entity", "observation", "report"):
        timed.times.clear()
        rel_times, read_times = [], []
        first: list[float] = []
        for i in range(-WARM_UP, samples):
            if i == 0:
                # The first writes of each kind in a process build and compile their statements (10-14 ms each,
                # once); a running server has long done so. They are reported apart, not in the percentiles.
                first = [round(x * 1000, 3) for x in timed.times]
                timed.times.clear()
                rel_times.clear()
                read_times.clear()
            obj, _ = make_item(rng, pool, kind, max(10, n_items // 20), members)
            # Released to one other member (ALPHA, the reader, or BRAVO for ALPHA's own): the write hook then
            # does all its work, notices to the two members who may not see the item included (an item
            # released to every member is never news to anyone, and its hook stops after indexing).
            writer = members[i % len(members)]
            obj["handling"] = {"release": {"scope": "members",
                                             "members": ["BRAVO" if writer == "ALPHA" else "ALPHA"]}}
            res = svc.items.create_many(principals[writer], [obj])
            with svc.db.read() as conn:
                seq = conn.execute(select(items.c.seq).where(items.c.id == str(res[0].id))).scalar_one()
                t = time.perf_counter()
                hook.related(conn, seq, None)
                rel_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            hook.for_item(reader, str(res[0].id))
            read_times.append(time.perf_counter() - t)
        per_kind[kind] = {"p50_ms": pct(timed.times, 0.5), "p99_ms": pct(timed.times, 0.99), "first_writes_ms": first,
                          "related_p50_ms": pct(rel_times, 0.5), "related_p99_ms": pct(rel_times, 0.99),
                          "for_item_p50_ms": pct(read_times, 0.5), "for_item_p99_ms": pct(read_times, 0.99)}

    reader = principals["ALPHA"]
    match_times, hits = [], 0
    src_items = list(sources.items())
    rng.shuffle(src_items)
    for item_id, (parts, _) in src_items[:samples]:
        script = rng.choice((1, 2))
        words = [pool[p][script] for p in parts]
        rng.shuffle(words)
        t = time.perf_counter()
        found = hook.match(reader, " ".join(words), 10)
        match_times.append(time.perf_counter() - t)
        hits += bool(found) and found[0]["id"] == item_id
    visible_sources = len(src_items[:samples])

    base_times = []
    ids = [i for i, _ in src_items[:samples]]
    for item_id in ids:
        t = time.perf_counter()
        with svc.db.read() as conn:
            conn.execute(select(items.c.seq).where(items.c.id == item_id)).first()
        base_times.append(time.perf_counter() - t)

    quality_pop = 1_000_000 if args.quick else 100_000
    splits: dict[str, Any] = {}
    quality, info = [], {}
    if not args.no_quality:
        quality, info = evaluate(min_population=quality_pop, max_queries_per_script=150 if args.quick else None)
        if not args.quick:
            # The halves: weights were chosen on "dev"; "test" was never looked at item by item.
            for sp in ("dev", "test"):
                splits[sp] = [q.as_dict() for q in evaluate(min_population=quality_pop, split=sp)[0]]
    (n1, b1), (n2, b2) = sizes
    out = {
        "bench": "correlate", "items": n_items, "samples": samples, "fill_s": round(fill_s),
        "correlate_new_item": per_kind,
        "entity_match": {"p50_ms": pct(match_times, 0.5), "p99_ms": pct(match_times, 0.99),
                         "recall_at_1_cross_script": round(hits / max(1, visible_sources), 3)},
        "baseline_exact_lookup": {"p50_ms": pct(base_times, 0.5), "p99_ms": pct(base_times, 0.99)},
        "storage_bytes_per_item": {str(n1): round(b1 / n1, 1), str(n2): round(b2 / n2, 1),
                                   "ratio": round((b2 / n2) / (b1 / n1), 3)},
        "quality": {"set": f"GeoNames cities >= {quality_pop} inhabitants", **info,
                    "per_script": [q.as_dict() for q in quality], "per_split": splits},
        "ratio_entity_match_p50_to_baseline_p50": round(pct(match_times, 0.5) / max(pct(base_times, 0.5), 1e-3), 1),
    }
    svc.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
