"""Peak memory of ``accord import`` on a large STIX 2.1 bundle (the issue asks for 1 GB), against the same import
of a bundle a tenth of its size in the same run: a streaming import keeps its peak the same whatever the size of
the file.

The bundle is written to disk in pieces (this script never holds it): indicators (kept as raw STIX objects) with
a share of intrusion-sets (``--entities``, default 10 %; mapped to Accord entities, so the import also derives
their STIX objects and name correlations after storing them, as ``accord import`` does). The import runs as the
CLI runs it, in a subprocess whose resident memory is sampled every 50 ms from /proc and read at the end from
``wait4`` (the kernel's own peak). The target is a peak that does not grow with the file: ``peak_ratio`` (large
over small) near 1, where the file grows tenfold.

Usage: python bench/import_rss.py [--quick] [--mb 1024] [--entities 0.1]. ``--quick``: 40 MB and 4 MB. Prints one
JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from taxii import ACCORD, TS, setup_accord  # the TAXII bench's hub set-up, shared


def write_bundle(path: Path, target_bytes: int, entities: float) -> int:
    """Write a bundle of about ``target_bytes``; returns the number of objects."""
    n = 0
    every = round(1 / entities) if entities > 0 else 0
    with path.open("w") as f:
        f.write('{"type": "bundle", "id": "bundle--' + str(uuid.uuid4()) + '", "objects": [')
        written = f.tell()
        while written < target_bytes:
            part = []
            for _ in range(5000):
                uid = str(uuid.uuid4())
                if every and n % every == 0:
                    o: dict[str, Any] = {"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{uid}",
                                         "created": TS, "modified": TS, "name": f"Group {n}",
                                         "aliases": [f"G{n}", f"Группа {n}"]}
                else:
                    o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uid}", "created": TS,
                         "modified": TS, "name": f"indicator {n}", "pattern_type": "stix", "valid_from": TS,
                         "pattern": f"[ipv4-addr:value = '10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}']",
                         "description": "Synthetic indicator for the import memory bench."}
                part.append(json.dumps(o))
                n += 1
            f.write(("," if n > 5000 else "") + ",".join(part))
            written = f.tell()
        f.write("]}")
    return n


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_import(tmp: Path, name: str, target_bytes: int, entities: float) -> dict[str, Any]:
    work = tmp / name
    work.mkdir()
    env, _ = setup_accord(work)
    path = work / "bundle.json"
    n = write_bundle(path, target_bytes, entities)
    samples: list[tuple[float, int]] = []
    start = time.perf_counter()
    proc = subprocess.Popen([ACCORD, "import", str(path), "--as", "alice", "--batch", "5000"],  # noqa: S603
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            samples.append((time.perf_counter() - start, rss_kb(proc.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"accord import failed ({code}): {err[-2000:]}")
    # The resident size at each tenth of the run: flat when memory does not grow with what has been read.
    tenths = [max((kb for t, kb in samples if seconds * i / 10 <= t < seconds * (i + 1) / 10), default=0)
              for i in range(10)]
    return {"objects": n, "file_mb": round(path.stat().st_size / 1e6, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "seconds": round(seconds, 1),
            "objects_per_s": round(n / seconds), "rss_mb_by_tenth": [round(kb / 1024) for kb in tenths]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="40 MB against 4 MB, under a minute")
    ap.add_argument("--mb", type=float, default=None, help="size of the large bundle in MB (default 1024)")
    ap.add_argument("--entities", type=float, default=0.1, help="share of intrusion-sets (mapped to entities)")
    args = ap.parse_args()
    mb = args.mb or (40.0 if args.quick else 1024.0)
    with tempfile.TemporaryDirectory(prefix="accord-rss-") as d:
        small = run_import(Path(d), "small", int(mb * 1e5), args.entities)
        large = run_import(Path(d), "large", int(mb * 1e6), args.entities)
    result = {"bench": "import_rss", "entities_share": args.entities, "small": small, "large": large,
              "file_ratio": round(large["file_mb"] / small["file_mb"], 1),
              "peak_ratio": round(large["peak_rss_mb"] / small["peak_rss_mb"], 2)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
