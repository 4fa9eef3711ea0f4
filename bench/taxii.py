"""TAXII 2.1 figures, Accord against medallion (the OASIS reference server, memory backend) in one run.

1. Objects/s added: the same client code POSTs the same envelopes to both servers, each in its own process on
   loopback. Accord runs with full policy, audit and persistence (SQLite file, WAL). Without --quick, measured
   twice: over the first 6,000 objects and over the next 14,000 (medallion's rate falls as it fills: it compares
   each new object with every object it holds).
2. Accord alone: time of one page of 1,000 objects (GET objects?limit=1000, walking ``next``) at 10k, 100k and
   (without --quick) 1M stored objects. The store is filled in-process through the same ingest service TAXII
   uses (faster than HTTP, same code path below the adapter), with indicators (raw STIX objects) past the
   objects of step 1; each page is read through the full policy join and audited. At each level also the time
   of one object by id and of its versions (50 ids spread over the store), which must not grow with it.
3. Peak RSS of ``accord import`` on a STIX bundle, at two sizes an order of magnitude apart (streaming import:
   memory should not grow with the file).

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ACCORD = str(Path(PY).parent / "accord")
TAXII = "application/taxii+json;version=2.1"
HUB = "5f9c2e9c-7e57-4c1b-9d43-2b7c3a0c0001"
MED_COLL = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
TS = "2024-01-01T00:00:00.000Z"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def objects(n: int, mapped: bool = True) -> list[dict[str, Any]]:
    """Half intrusion-sets (mapped to Accord entities), half indicators (kept as raw STIX); indicators only when
    ``mapped`` is false."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        uid = str(uuid.uuid4())
        if i % 2 and mapped:
            out.append({"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{uid}",
                        "created": TS, "modified": TS, "name": f"Group {i}", "aliases": [f"G{i}", f"Группа {i}"]})
        else:
            out.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uid}", "created": TS,
                        "modified": TS, "name": f"ind {i}", "pattern": f"[ipv4-addr:value = '10.0.{i % 256}.1']",
                        "pattern_type": "stix", "valid_from": TS})
    return out


def wait_up(url: str, auth: Any = None, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, auth=auth, headers=headers, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def setup_accord(tmp: Path) -> tuple[dict[str, str], str]:
    sys.path.insert(0, str(ROOT / "src"))
    from accord.config import load_settings
    from accord.services import build_services

    env = {"ACCORD_DATA": str(tmp / "data"), "ACCORD_DATABASE_URL": f"sqlite:///{tmp / 'accord.db'}",
           "ACCORD_SECRET_KEY": "b" * 40}
    svc = build_services(load_settings(env=env))
    svc.accounts.add_member("ALPHA", "Alpha", "chair")
    svc.accounts.add_member("BRAVO", "Bravo")
    svc.accounts.add_user("alice", "ALPHA", "analyst", "password-alice", clearance=3)
    token = svc.accounts.create_token("alice").secret
    svc.close()
    return env, token


def start_accord(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([ACCORD, "serve", "--port", str(port)], env={**os.environ, **env},  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def start_medallion(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = {"/discovery": {"title": "m", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
            "api1": {"information": {"title": "api1", "versions": [TAXII], "max_content_length": 1 << 30},
                     "status": [], "collections": [{"id": MED_COLL, "title": "c", "can_read": True,
                                                    "can_write": True, "media_types": [], "objects": [],
                                                    "manifest": []}]}}
    (tmp / "med-data.json").write_text(json.dumps(data))
    conf = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                        "filename": str(tmp / "med-data.json")},
            "users": {"alice": "password-alice"}, "taxii": {"max_page_size": 1000}}
    (tmp / "med-conf.json").write_text(json.dumps(conf))
    proc = subprocess.Popen([PY, "-m", "medallion.scripts.run", "--port", str(port),  # noqa: S603
                             "--log-level", "ERROR",
                             str(tmp / "med-conf.json")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, base


def add_rate(client: httpx.Client, url: str, objs: list[dict[str, Any]], batch: int) -> float:
    """The shared client code: POST envelopes of ``batch`` objects, check every status, return objects/s."""
    start = time.perf_counter()
    for i in range(0, len(objs), batch):
        r = client.post(url, content=json.dumps({"objects": objs[i:i + batch]}),
                        headers={"Accept": TAXII, "Content-Type": TAXII})
        r.raise_for_status()
        st = r.json()
        assert st["success_count"] == len(objs[i:i + batch]), st.get("failures", [])[:2]
    return len(objs) / (time.perf_counter() - start)


def fill(env: dict[str, str], target: int) -> tuple[int, str]:
    """Top the Accord store up to ``target`` STIX objects, through the ingest service. Returns the count and a
    date_added just before the last batch (for pages at the far end of the collection)."""
    from sqlalchemy import func, select

    from accord.config import load_settings
    from accord.services import build_services
    from accord.stix.store import date_added_now
    from accord.stix.tables import stix_versions

    svc = build_services(load_settings(env=env), migrate=False)
    try:
        with svc.db.read() as conn:
            have = conn.execute(select(func.count()).select_from(stix_versions)).scalar_one()
        alice = svc.accounts.principal_for("alice")
        handling = {"tlp": "amber", "classification": 0, "release": {"scope": "all"}}
        deep = date_added_now()
        while have < target:
            n = min(10_000, target - have)
            deep = date_added_now()
            outcomes = svc.stix.ingest(alice, objects(n, mapped=False), handling)
            assert all(o.ok for o in outcomes)
            have += n
        return int(have), deep
    finally:
        svc.close()


def sample_ids(env: dict[str, str], n: int) -> list[str]:
    """``n`` STIX ids spread over the whole store (oldest to newest)."""
    import random
    import sqlite3

    con = sqlite3.connect(env["ACCORD_DATABASE_URL"].split("sqlite:///", 1)[1])
    try:
        top = con.execute("SELECT max(seq) FROM stix_handles").fetchone()[0]
        seqs = random.Random(3).sample(range(1, top + 1), min(n, top))
        marks = ",".join("?" * len(seqs))
        return [r[0] for r in con.execute(f"SELECT stix_id FROM stix_handles WHERE seq IN ({marks})", seqs)]  # noqa: S608
    finally:
        con.close()


def by_id_times(client: httpx.Client, url: str, ids: list[str]) -> list[float]:
    """GET one object by id (5.6), then its versions (5.7): each through the policy join, audited."""
    times = []
    for sid in ids:
        for suffix in ("", "versions/"):
            t = time.perf_counter()
            r = client.get(f"{url}{sid}/{suffix}", headers={"Accept": TAXII})
            times.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
    return times


def page_times(client: httpx.Client, url: str, pages: int, added_after: str | None = None) -> list[float]:
    times = []
    params: dict[str, Any] = {"limit": 1000}
    if added_after:
        params["added_after"] = added_after
    for _ in range(pages):
        t = time.perf_counter()
        r = client.get(url, params=params, headers={"Accept": TAXII})
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        body = r.json()
        if not body.get("more"):
            break
        assert len(body["objects"]) == 1000
        params["next"] = body["next"]
    return times


def import_rss(env: dict[str, str], tmp: Path, n: int) -> dict[str, float]:
    path = tmp / f"bundle-{n}.json"
    with path.open("w") as f:
        f.write('{"type": "bundle", "id": "bundle--' + str(uuid.uuid4()) + '", "objects": [')
        for i in range(0, n, 10_000):
            chunk = objects(min(10_000, n - i))
            f.write(("," if i else "") + ",".join(json.dumps(o) for o in chunk))
        f.write("]}")
    start = time.perf_counter()
    proc = subprocess.Popen([ACCORD, "import", str(path), "--as", "alice", "--batch", "5000"],  # noqa: S603
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, proc.returncode
    return {"objects": n, "file_mb": round(path.stat().st_size / 1e6, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="under a minute: fewer objects, no 1M level")
    args = ap.parse_args()
    adds_at = [2_000] if args.quick else [6_000, 14_000]
    levels = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    result: dict[str, Any] = {"bench": "taxii", "quick": args.quick}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env, token = setup_accord(tmp)
        accord, a_base = start_accord(env)
        med, m_base = start_medallion(tmp)
        try:
            wait_up(f"{a_base}/healthz")
            wait_up(f"{m_base}/taxii2/", auth=("alice", "password-alice"), headers={"Accept": TAXII})
            # medallion checks each new object against every object it holds (a list scan), so its rate falls
            # as it fills; the comparison is made over the first objects sent, then over the next ones, each
            # server holding what it was sent before.
            adds = []
            with httpx.Client(auth=("alice", "password-alice"), timeout=600) as mc, \
                    httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=600) as ac:
                held = 0
                for n in adds_at:
                    objs = objects(n)
                    med_rate = add_rate(mc, f"{m_base}/api1/collections/{MED_COLL}/objects/", objs, 500)
                    acc_rate = add_rate(ac, f"{a_base}/taxii2/hub/collections/{HUB}/objects/", objs, 500)
                    adds.append({"objects": n, "already_held": held, "batch": 500,
                                 "medallion_objects_per_s": round(med_rate), "accord_objects_per_s": round(acc_rate),
                                 "ratio": round(acc_rate / med_rate, 1)})
                    held += n
                result["add"] = adds[0]
                if len(adds) > 1:
                    result["add_more"] = adds[1:]
            with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=600) as ac:
                paging = {}
                for level in levels:
                    stored, deep = fill(env, level)
                    url = f"{a_base}/taxii2/hub/collections/{HUB}/objects/"
                    t = page_times(ac, url, 10)  # from the start of the collection
                    t += page_times(ac, url, 8, deep)  # from the far end (the last 10,000 added)
                    b = by_id_times(ac, url, sample_ids(env, 50))
                    paging[str(level)] = {"stored": stored, "page_1000_ms_p50": round(statistics.median(t), 1),
                                          "page_1000_ms_max": round(max(t), 1),
                                          "page_1000_ms_p99": round(sorted(t)[int(len(t) * 0.99) - 1], 1),
                                          "by_id_ms_p50": round(statistics.median(b), 1),
                                          "by_id_ms_p99": round(sorted(b)[int(len(b) * 0.99) - 1], 1)}
                result["page_of_1000"] = paging
        finally:
            for p in (accord, med):
                p.terminate()
                p.wait(10)
        small, large = (2_000, 20_000) if args.quick else (20_000, 200_000)
        result["import_rss"] = [import_rss(env, tmp, small), import_rss(env, tmp, large)]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
