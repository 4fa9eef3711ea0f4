"""Bulk ingest through the service layer against the raw limit of the same machine, in the same run.

Service path: newline-delimited JSON of synthetic items imported as ``accord import`` does it (``Importer``:
parse and validate chunk k+1 in a worker process while ``Items.store_prepared`` stores chunk k): validation,
release rows, tags, FTS5, audit chain and indexes all on; the STIX and correlation work such a large import queues
is then run and timed separately (``derive_items_per_s``), and the same import validating in-process is timed too.
Raw limit: parse the same bytes with orjson and ``executemany`` one flat row per item into a bare SQLite table
(no indexes, no FTS, no audit) with the same pragmas. The ratio says how much of the machine's write speed the
hub keeps. A third figure, the schema floor, re-inserts the rows the service stored with bare executemany: SQLite's
own cost of the indexes, full-text index and audit rows, which bounds any ingest through the service. Prints one
JSON object as its last line.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from accord.config import load_settings
from accord.services import build_services
from accord.sharing.ingest import GROUP_ITEMS, Importer, json_chunks
from accord.sharing.items import fts_row
from accord.storage.database import WAL_AUTOCHECKPOINT_PAGES, WAL_SIZE_LIMIT_BYTES

WORDS = ("depot", "convoy", "meeting", "workshop", "courier", "vehicle", "harbour", "border", "crossing", "network",
         "cell", "finance", "transfer", "warehouse", "route", "checkpoint", "signal", "contact", "recruit", "shipment")
MEMBERS = ("ALPHA", "BRAVO", "CHARLIE", "DELTA")


def synthetic(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        k = i % 10
        handling: dict[str, Any] = {"tlp": rng.choice(("green", "amber", "amber+strict")),
                                    "classification": rng.randint(0, 2)}
        r = rng.random()
        if r < 0.3:
            handling["release"] = {"scope": "all", "consumers": rng.random() < 0.3}
        elif r < 0.8:
            handling["release"] = {"scope": "members", "members": rng.sample(MEMBERS[1:], rng.randint(1, 3))}
        item: dict[str, Any] = {
            "id": None, "language": "en", "handling": handling,
            "grading": {"reliability": rng.choice("ABCDEF"), "credibility": rng.randint(1, 6)},
            "tags": rng.sample(WORDS, 2),
            "created": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z",
        }
        words = " ".join(rng.choices(WORDS, k=12))
        if k < 5:
            item["kind"] = "report"
            item["content"] = {"title": f"Report {i}: {words[:40]}", "body": words + ". " + words}
        elif k < 8:
            item["kind"] = "observation"
            item["content"] = {"lat": round(rng.uniform(-60, 60), 5), "lon": round(rng.uniform(-170, 170), 5),
                               "precision_m": 50, "observed_from": item["created"], "place_name": f"Site {i % 500}"}
        else:
            item["kind"] = "entity"
            item["content"] = {"entity_type": rng.choice(("person", "group", "organisation")),
                               "name": f"Entity {i}", "aliases": [f"Alias {i}", f"Псевдоним {i}"]}
            if rng.random() < 0.3:
                item["identifiers"] = [{"type": "phone", "value": f"+{rng.randint(10**9, 10**10)}"}]
        item["id"] = f"{item['kind']}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        out.append(item)
    return out


def empty_hub(data: Path) -> Any:
    settings = load_settings(env={}, data=str(data), secret_key="b" * 40)
    svc = build_services(settings)
    acc = svc.accounts
    for code in MEMBERS:
        acc.add_member(code, f"{code} service", "chair" if code == "ALPHA" else "member")
    acc.add_user("ingest", "ALPHA", "analyst", None, clearance=4)
    return svc


def service_run(payload: bytes, data: Path, batch: int, workers: int) -> tuple[tuple[float, float], int]:
    """What ``accord import`` does: chunks of the NDJSON bytes through ``Importer`` (validation in ``workers``
    worker processes, 0 for in-process) into ``Items.store_prepared``."""
    svc = empty_hub(data)
    principal = svc.accounts.principal_for("ingest")
    t0, c0 = time.perf_counter(), time.process_time()
    accepted = 0
    for results in Importer(svc.items, workers).run(principal, json_chunks(payload, batch)):
        accepted += sum(r.ok for r in results)
    elapsed = (time.perf_counter() - t0, time.process_time() - c0)
    # The derived work the import queued (STIX objects, correlation keys and notices), run as the server's
    # deriver runs it, timed on its own: items are readable and searchable before it, correlated after it.
    t1 = time.perf_counter()
    derived = svc.items.deriver.drain() if workers >= 0 and not DERIVE.get("skip") else 0
    if derived:
        DERIVE.update(items=derived, seconds=time.perf_counter() - t1)
    svc.close()
    return elapsed, accepted


DERIVE: dict[str, float] = {}

# The hub's own pragmas (accord.storage.database), so the raw limit and the floor run under the same settings.
PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "temp_store=MEMORY",
           f"wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}", f"journal_size_limit={WAL_SIZE_LIMIT_BYTES}")

RAW_COLUMNS = ("id", "kind", "created", "language", "reliability", "credibility", "tlp", "classification",
               "release_scope", "release_consumers", "title", "lat", "lon", "body")


def raw_run(payload: bytes, path: Path, batch: int) -> tuple[float, float]:
    """Committed as the service's import commits when it is fast: at most 50,000 items per transaction
    (``accord.sharing.ingest.GROUP_ITEMS``; the raw run takes about a second)."""
    every = max(1, round(GROUP_ITEMS / batch))
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        con.execute(f"PRAGMA {pragma}")
    con.execute(f"CREATE TABLE items (seq INTEGER PRIMARY KEY, {', '.join(c + ' TEXT' for c in RAW_COLUMNS)})")
    sql = f"INSERT INTO items ({', '.join(RAW_COLUMNS)}) VALUES ({', '.join('?' * len(RAW_COLUMNS))})"  # noqa: S608 - constant names
    t0, c0 = time.perf_counter(), time.process_time()
    lines = payload.splitlines()
    for n, start in enumerate(range(0, len(lines), batch)):
        rows = []
        for line in lines[start:start + batch]:
            o = orjson.loads(line)
            h, g, c = o["handling"], o["grading"], o["content"]
            rel = h.get("release", {})
            rows.append((o["id"], o["kind"], o["created"], o["language"], g["reliability"], g["credibility"],
                         h["tlp"], h["classification"], rel.get("scope", "originator"), rel.get("consumers", False),
                         c.get("title") or c.get("name") or c.get("place_name"), c.get("lat"), c.get("lon"),
                         orjson.dumps({"tags": o["tags"], "content": c}).decode()))
        if n % every == 0:
            con.execute("BEGIN IMMEDIATE")
        con.executemany(sql, rows)
        if n % every == every - 1 or start + batch >= len(lines):
            con.execute("COMMIT")
    elapsed = (time.perf_counter() - t0, time.process_time() - c0)
    con.close()
    return elapsed


def floor_run(hub: Path, data: Path, batch: int, per_commit: int) -> tuple[float, float]:
    """SQLite's own work for the hub's schema: the rows the service stored (items, releases, tags, full-text,
    audit), read back and inserted again into an empty hub with plain executemany, timed without any Python
    building. No ingest through the service can be faster than this on this machine. Committed every
    ``per_commit`` items (rounded to whole batches), as the service's import commits about once a second."""
    src = sqlite3.connect(hub / "accord.db")
    items = src.execute("SELECT * FROM items ORDER BY seq").fetchall()
    by_seq: dict[str, dict[int, list[tuple[Any, ...]]]] = {"item_release": {}, "item_tags": {}}
    for table in by_seq:
        for row in src.execute(f"SELECT * FROM {table}"):  # noqa: S608 - constant names
            by_seq[table].setdefault(row[1], []).append(row)
    # The full-text index is contentless (it reads back NULL): its rows are rebuilt from the stored items exactly
    # as the service gave them.
    fts = {r[0]: fts_row(r[0], r[1], r[2], r[-1]) for r in items}
    audit = src.execute("SELECT * FROM audit_log WHERE action = 'item.create' ORDER BY seq").fetchall()
    src.close()
    empty_hub(data).close()
    con = sqlite3.connect(data / "accord.db", isolation_level=None)
    for pragma in ("foreign_keys=ON", *PRAGMAS):
        con.execute(f"PRAGMA {pragma}")
    first_audit = con.execute("SELECT seq FROM audit_head").fetchone()[0]
    audit = [(first_audit + i + 1, *r[1:]) for i, r in enumerate(audit)]
    marks = lambda n: ", ".join("?" * n)  # noqa: E731
    t0, c0 = time.perf_counter(), time.process_time()
    every = max(1, round(per_commit / batch))
    for n, start in enumerate(range(0, len(items), batch)):
        chunk = items[start:start + batch]
        seqs = [r[0] for r in chunk]
        if n % every == 0:
            con.execute("BEGIN IMMEDIATE")
        con.executemany(f"INSERT INTO items VALUES ({marks(len(chunk[0]))})", chunk)  # noqa: S608
        for table in by_seq:
            rows = [r for s in seqs for r in by_seq[table].get(s, ())]
            if rows:
                con.executemany(f"INSERT INTO {table} VALUES ({marks(len(rows[0]))})", rows)  # noqa: S608
        con.executemany("INSERT INTO items_fts(rowid, title, text) VALUES (?, ?, ?)", [fts[s] for s in seqs])
        part = audit[start:start + batch]
        con.executemany(f"INSERT INTO audit_log VALUES ({marks(len(part[0]))})", part)  # noqa: S608
        con.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (part[-1][0], part[-1][-1]))
        if n % every == every - 1 or start + batch >= len(items):
            con.execute("COMMIT")
    elapsed = (time.perf_counter() - t0, time.process_time() - c0)
    con.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="20,000 items instead of 100,000")
    ap.add_argument("-n", type=int, default=None, help="number of items")
    ap.add_argument("--batch", type=int, default=5000, help="objects per create_many call (accord import's default)")
    ap.add_argument("--workers", type=int, default=1, help="validating worker processes (accord import --workers)")
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of the service run to FILE")
    args = ap.parse_args(argv)
    n = args.n or (20_000 if args.quick else 100_000)
    payload = b"\n".join(orjson.dumps(o) for o in synthetic(n))  # NDJSON, as accord import reads it
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        raw_s = raw_run(payload, Path(tmp) / "raw.db", args.batch)
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
            svc_s, accepted = service_run(payload, Path(tmp) / "hub", args.batch, args.workers)
            prof.disable()
            prof.dump_stats(args.profile)
        else:
            svc_s, accepted = service_run(payload, Path(tmp) / "hub", args.batch, args.workers)
        # The service commits about once a second (accord.sharing.ingest); the floor as many items at a time.
        floor_s = floor_run(Path(tmp) / "hub", Path(tmp) / "floor", args.batch, round(n / svc_s[0]))
        if args.workers:  # the same import validating in this process, for comparison
            DERIVE["skip"] = 1
            (inproc_s, _), _ = service_run(payload, Path(tmp) / "inproc", args.batch, 0)
    if accepted != n:
        print(f"only {accepted} of {n} items were accepted", file=sys.stderr)
        return 1
    (svc_s, svc_cpu), (raw_s, raw_cpu), (floor_s, floor_cpu) = svc_s, raw_s, floor_s
    svc_rate, raw_rate = n / svc_s, n / raw_s
    result = {"bench": "ingest", "items": n, "batch": args.batch, "workers": args.workers,
              "service_items_per_s": round(svc_rate),
              "raw_items_per_s": round(raw_rate), "ratio": round(svc_rate / raw_rate, 3),
              "service_s": round(svc_s, 2), "raw_s": round(raw_s, 2),
              # SQLite's own work for the full schema (indexes, FTS5, audit rows): the bound on the service path.
              "schema_floor_items_per_s": round(n / floor_s), "service_over_floor": round(floor_s / svc_s, 3),
              # The same on CPU time of this process, less sensitive to other load on a shared machine.
              "cpu_service_items_per_s": round(n / svc_cpu), "cpu_raw_items_per_s": round(n / raw_cpu),
              "cpu_ratio": round(raw_cpu / svc_cpu, 3), "cpu_schema_floor_items_per_s": round(n / floor_cpu),
              "targets_met": svc_rate / raw_rate >= 0.25 and svc_rate >= 20_000,
              "in_process_items_per_s": round(n / inproc_s) if args.workers else round(svc_rate),
              # After the import: the queued STIX mapping and correlation (accord.sharing.derived).
              "derived_items": int(DERIVE.get("items", 0)),
              "derive_items_per_s": round(DERIVE["items"] / DERIVE["seconds"]) if DERIVE.get("items") else None,
              "end_to_end_items_per_s": round(n / (svc_s + DERIVE.get("seconds", 0.0)))}
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
