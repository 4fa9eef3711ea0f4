"""Scale: the same workloads on SQLite and PostgreSQL, and HTTP read throughput with 1, 2 and 4 workers.

Part 1, in-process (the store, not HTTP): ingest (bulk create through the Items service, batches of 500) and
reads (list pages, get by id, full-text search) as a member's analyst, on SQLite (the baseline) and PostgreSQL.
Part 2, over HTTP on loopback: ``accord serve --workers N`` on PostgreSQL, N = 1, 2, 4, driven by a load generator
in its own process holding 50 concurrent keep-alive connections, each looping GET /api/v1/items?limit=20 with a
bearer token. Reported: requests/s, p50 and p99 latency. The single SQLite process is the baseline.

Every read is audited (the product default), so each request also appends to the audit chain; two extra runs
without read auditing (``*_unaudited``, not a production setting; skipped by --quick) show what that append
costs. Prints one JSON
object as its last line. ``--quick`` runs in under a minute; PostgreSQL at ACCORD_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test; a scratch database ``accord_bench`` is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from accord.config import load_settings
from accord.services import Services, build_services
from accord.sharing.items import ItemFilter

WORDS = ("depot convoy workshop meeting border courier vehicle north south harbour bridge market station "  # noqa: SIM905
         "склад колонна встреча граница مستودع قافلة اجتماع حدود انبار کاروان").split()


def _item(rng: random.Random, i: int) -> dict[str, Any]:
    members = rng.sample(["BRAVO", "CHARLIE"], rng.randint(1, 2))
    text = " ".join(rng.choice(WORDS) for _ in range(40))
    if i % 3 == 0:
        return {"kind": "observation", "content": {"lat": rng.uniform(-60, 60), "lon": rng.uniform(-170, 170),
                                                  "observed_from": "2026-01-01T00:00:00Z", "description": text},
                "handling": {"tlp": "amber", "classification": 1, "release": {"scope": "members",
                                                                              "members": members}}}
    release = {"scope": "all"} if i % 2 else {"scope": "members", "members": members}
    return {"kind": "report", "content": {"title": f"Report {i} {rng.choice(WORDS)}", "body": text},
            "tags": [rng.choice(WORDS)],
            "handling": {"tlp": "green", "classification": rng.randint(0, 2), "release": release}}


def _world(svc: Services) -> dict[str, str]:
    acc = svc.accounts
    acc.add_member("ALPHA", "Alpha", "chair")
    acc.add_member("BRAVO", "Bravo")
    acc.add_member("CHARLIE", "Charlie")
    acc.add_user("alice", "ALPHA", "analyst", "password-alice", clearance=3)
    acc.add_user("bob", "BRAVO", "analyst", "password-bob", clearance=2)
    return {"alice": acc.create_token("alice").secret, "bob": acc.create_token("bob").secret}


def ingest(svc: Services, n: int) -> dict[str, float]:
    rng = random.Random(7)
    alice = svc.accounts.principal_for("alice")
    objs = [_item(rng, i) for i in range(n)]
    t = time.perf_counter()
    for start in range(0, n, 500):
        res = svc.items.create_many(alice, objs[start:start + 500])
        bad = [r.errors for r in res if not r.ok]
        assert not bad, bad[:3]
    elapsed = time.perf_counter() - t
    return {"items": n, "seconds": round(elapsed, 3), "items_per_s": round(n / elapsed, 1)}


def reads(svc: Services, seconds: float) -> dict[str, float]:
    bob = svc.accounts.principal_for("bob")
    rng = random.Random(3)
    ids = [i["id"] for i in svc.items.list(bob, ItemFilter(limit=500)).items]
    ops = {"list": 0, "get": 0, "search": 0}
    lat: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for op in ops:
            t = time.perf_counter()
            if op == "list":
                svc.items.list(bob, ItemFilter(limit=50, kind=rng.choice(["report", "observation"])))
            elif op == "get":
                svc.items.get(bob, rng.choice(ids))
            else:
                svc.items.list(bob, ItemFilter(q=rng.choice(WORDS), limit=20))
            lat.append(time.perf_counter() - t)
            ops[op] += 1
    total = sum(ops.values())
    lat.sort()
    return {"ops": total, "ops_per_s": round(total / seconds, 1), "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2)}


# ----- HTTP load generator: raw asyncio keep-alive connections, cheaper per request than any client library ----
async def _client(host: str, port: int, request: bytes, deadline: float, lat: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def _load(port: int, token: str, clients: int, seconds: float, out: Any) -> None:
    request = (f"GET /api/v1/items?limit=20 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
               "\r\n").encode()
    lat: list[float] = []
    errors: list[int] = []

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_client("127.0.0.1", port, request, deadline, lat, errors) for _ in range(clients)))

    t = time.perf_counter()
    asyncio.run(main())
    out.put((lat, errors, time.perf_counter() - t))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_run(data: str, url: str, workers: int, token: str, clients: int, seconds: float,
             audit_reads: bool = True) -> dict[str, Any]:
    port = _free_port()
    env = {**os.environ, "ACCORD_SECRET_KEY": "b" * 40, "ACCORD_LOG_LEVEL": "warning",
           "ACCORD_AUDIT_READS": "true" if audit_reads else "false"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    accord = str(Path(sys.executable).with_name("accord"))
    proc = subprocess.Popen([accord, "--data", data, "--database-url", url, "serve", "--workers", str(workers),  # noqa: S603
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"server with {workers} workers did not start")
            time.sleep(0.2)
        ctx = mp.get_context("spawn")
        # Warm-up: every worker opens its pool and compiles its queries.
        q: Any = ctx.Queue()
        _load(port, token, 8, 1.0, q)
        q.get()
        p = ctx.Process(target=_load, args=(port, token, clients, seconds, q))
        p.start()
        lat, errors, elapsed = q.get()
        p.join()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    lat.sort()
    return {"workers": workers, "requests": len(lat), "errors": len(errors),
            "rps": round(len(lat) / elapsed, 1), "p50_ms": round(lat[len(lat) // 2] * 1000, 1),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1)}


def _pg_scratch(server: str) -> str:
    with psycopg.connect(server, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS accord_bench WITH (FORCE)"))
        c.execute(sql.SQL("CREATE DATABASE accord_bench"))
    return server.rpartition("/")[0] + "/accord_bench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    ap.add_argument("--items", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None, help="per read / HTTP measurement")
    ap.add_argument("--clients", type=int, default=50)
    args = ap.parse_args()
    n = args.items or (1000 if args.quick else 20000)
    secs = args.seconds or (2.0 if args.quick else 10.0)
    server = os.environ.get("ACCORD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    tmp = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    # The load average is recorded because every figure here is CPU-bound on a small machine: read it first.
    results: dict[str, Any] = {"items": n, "cores": os.cpu_count(), "clients": args.clients,
                               "loadavg_start": round(os.getloadavg()[0], 1)}
    urls = {"sqlite": f"sqlite:///{tmp / 'bench.db'}", "postgres": _pg_scratch(server)}
    tokens: dict[str, dict[str, str]] = {}
    try:
        for name, url in urls.items():
            settings = load_settings(env={}, data=str(tmp / name), database_url=url, secret_key="b" * 40)
            svc = build_services(settings)
            try:
                tokens[name] = _world(svc)
                results[f"{name}_ingest"] = ingest(svc, n)
                with svc.db.writer.connect() as c:  # fresh planner statistics, as after any bulk load
                    (c.execution_options(isolation_level="AUTOCOMMIT") if name == "postgres" else c
                     ).exec_driver_sql("ANALYZE")
                results[f"{name}_reads"] = reads(svc, secs)
            finally:
                svc.close()
            print(json.dumps({name: {k: v for k, v in results.items() if k.startswith(name)}}), file=sys.stderr)
        results["http_sqlite_1"] = http_run(str(tmp / "sqlite"), urls["sqlite"], 1, tokens["sqlite"]["bob"],
                                            args.clients, secs)
        print(json.dumps(results["http_sqlite_1"]), file=sys.stderr)
        for w in (1, 2, 4):
            results[f"http_postgres_{w}"] = http_run(str(tmp / "postgres"), urls["postgres"], w,
                                                     tokens["postgres"]["bob"], args.clients, secs)
            print(json.dumps(results[f"http_postgres_{w}"]), file=sys.stderr)
        # The same without auditing reads (not a production setting): how much the audit append costs.
        for w in () if args.quick else (1, 4):
            results[f"http_postgres_{w}_unaudited"] = http_run(str(tmp / "postgres"), urls["postgres"], w,
                                                               tokens["postgres"]["bob"], args.clients, secs,
                                                               audit_reads=False)
            print(json.dumps(results[f"http_postgres_{w}_unaudited"]), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with psycopg.connect(server, autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS accord_bench WITH (FORCE)"))
    results["loadavg_end"] = round(os.getloadavg()[0], 1)
    base = results["http_postgres_1"]["rps"] or 1
    summary = {
        "ingest_pg_vs_sqlite": round(results["postgres_ingest"]["items_per_s"]
                                     / results["sqlite_ingest"]["items_per_s"], 2),
        "reads_pg_vs_sqlite": round(results["postgres_reads"]["ops_per_s"] / results["sqlite_reads"]["ops_per_s"], 2),
        "http_rps_workers_2_vs_1": round(results["http_postgres_2"]["rps"] / base, 2),
        "http_rps_workers_4_vs_1": round(results["http_postgres_4"]["rps"] / base, 2),
    }
    print(json.dumps({"bench": "scale", **summary, **results}))


if __name__ == "__main__":
    main()
