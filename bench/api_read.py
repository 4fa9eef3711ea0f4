"""Read latency over HTTP against a real uvicorn: p50 and p99 of GET one item and of a filtered list page of 100,
with 100,000 items stored (--quick: 10,000), against a trivial request (/healthz) measured in the same run on the
same connection, so the figures separate Accord's work from the HTTP stack's and the machine's.

The reader is another member's analyst: every request goes through the access policy, and every read of content
writes its audit record, as in production. Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import MEMBERS, synthetic

from accord.config import load_settings
from accord.services import build_services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(data: Path, n: int) -> tuple[str, list[str]]:
    """Store n synthetic items shared by ALPHA; return a BRAVO analyst's token and the ids BRAVO may read."""
    settings = load_settings(env={}, data=str(data), secret_key="r" * 40)
    svc = build_services(settings)
    acc = svc.accounts
    for code in MEMBERS:
        acc.add_member(code, f"{code} service", "chair" if code == "ALPHA" else "member")
    acc.add_user("writer", "ALPHA", "analyst", None, clearance=4)
    acc.add_user("reader", "BRAVO", "analyst", None, clearance=4)
    writer = acc.principal_for("writer")
    objects = synthetic(n, seed=11)
    for start in range(0, n, 5000):
        results = svc.items.create_many(writer, objects[start:start + 5000], allow_times=True)
        assert all(r.ok for r in results)
    # This bench times reads of items, which never touch the derived tables (STIX objects, correlation keys).
    # Their queued derivation is dropped so the server does not spend the measurement deriving 100,000 items in
    # the background; bench/ingest.py and bench/correlate.py time that work.
    with svc.db.write() as conn:
        conn.exec_driver_sql("DELETE FROM item_derive")
    token = acc.create_token("reader").secret
    visible = [o["id"] for o in objects if o["handling"].get("release", {}).get("scope") == "all"
               or "BRAVO" in o["handling"].get("release", {}).get("members", [])]
    svc.close()
    return token, visible


def percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": round(q[49] * 1000, 2), "p99_ms": round(q[98] * 1000, 2)}


def measure(client: httpx.Client, paths: list[str], headers: dict[str, str]) -> list[float]:
    out = []
    for path in paths:
        t0 = time.perf_counter()
        r = client.get(path, headers=headers)
        out.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise SystemExit(f"GET {path}: {r.status_code} {r.text[:200]}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10,000 items and fewer requests")
    ap.add_argument("-n", type=int, default=None, help="items stored")
    ap.add_argument("--requests", type=int, default=None, help="requests per measured path")
    args = ap.parse_args(argv)
    n = args.n or (10_000 if args.quick else 100_000)
    k = args.requests or (200 if args.quick else 1000)
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="accord-bench-read-") as tmp:
        data = Path(tmp) / "hub"
        t0 = time.perf_counter()
        token, visible = seed(data, n)
        seed_s = time.perf_counter() - t0
        port = free_port()
        env = {**os.environ, "ACCORD_SECRET_KEY": "r" * 40}
        # The server logs every request (JSON, to stderr): send it to a file, not a pipe nobody drains.
        log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen(  # noqa: S603 - our own entry point
            [sys.executable, "-c", "from accord.cli.main import main; main()", "--data", str(data), "serve",
             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30) as client:
                for _ in range(600):
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                else:
                    raise SystemExit("the server did not start: " + (Path(tmp) / "server.log").read_text()[-500:])
                h = {"Authorization": f"Bearer {token}"}
                one = [f"/api/v1/items/{rng.choice(visible)}" for _ in range(k)]
                tags = ("depot", "convoy", "border", "route", "finance")
                page = [f"/api/v1/items?kind={rng.choice(('report', 'observation', 'entity'))}"
                        f"&tag={rng.choice(tags)}&limit=100" for _ in range(k)]
                for warm in (["/healthz"] * 50, one[:50], page[:20]):
                    measure(client, warm, h)
                results: dict[str, Any] = {}
                # Interleave the three kinds in rounds so drift in machine load affects them alike.
                samples: dict[str, list[float]] = {"healthz": [], "get_item": [], "list_page_100": []}
                step = max(1, k // 10)
                for start in range(0, k, step):
                    samples["healthz"] += measure(client, ["/healthz"] * step, h)
                    samples["get_item"] += measure(client, one[start:start + step], h)
                    samples["list_page_100"] += measure(client, page[start:start + step], h)
                sizes = [len(client.get(p, headers=h).json()["items"]) for p in page[:20]]
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    for name, values in samples.items():
        results[name] = percentiles(values)
    base_p50 = results["healthz"]["p50_ms"]
    out = {"bench": "api_read", "items": n, "requests_per_path": k, "seed_s": round(seed_s, 1),
           "healthz": results["healthz"], "get_item": results["get_item"], "list_page_100": results["list_page_100"],
           "mean_page_len": round(statistics.mean(sizes), 1),
           "get_item_p50_over_healthz": round(results["get_item"]["p50_ms"] / base_p50, 2),
           "list_page_p50_over_healthz": round(results["list_page_100"]["p50_ms"] / base_p50, 2)}
    print(orjson.dumps(out).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
