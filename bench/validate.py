"""Item validation, one object at a time (``check_item``) against the batch form (``check_items``), in the same run.

Items: the synthetic ones of bench/ingest.py (reports, observations, entities; what ``accord import`` sees) and the
demo generator's (all five kinds, multilingual). Both paths validate the same list with ``allow_times=True`` (as an
import does) and the collector paused (as ``Items.create_many`` does); slow and fast rounds alternate and the best
round of each counts, in CPU time, so other jobs on a shared machine blur the two alike. Checks first that both give
equal results. Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import synthetic

from accord.config import Settings
from accord.errors import ValidationFailed
from accord.sharing.validate import check_item, check_items


def demo_items(n: int) -> list[dict[str, Any]]:
    from accord.demo import SHARING, _Generator, _member_items

    g = _Generator(7)
    return [item for code in SHARING for item in _member_items(g, code, n // len(SHARING))]


def slow(objects: list[Any], settings: Settings) -> list[Any]:
    out: list[Any] = []
    for raw in objects:
        try:
            out.append(check_item(raw, settings, allow_times=True))
        except ValidationFailed as exc:
            out.append(exc)
    return out


def best(fn: Callable[[], object], rounds: list[float]) -> None:
    t0 = time.process_time()
    fn()
    rounds.append(time.process_time() - t0)


def compare(objects: list[Any], settings: Settings, repeat: int) -> dict[str, float]:
    a, b = slow(objects, settings), check_items(objects, settings, allow_times=True)
    assert [type(x) for x in a] == [type(x) for x in b], "the two paths disagree"
    slow_t: list[float] = []
    fast_t: list[float] = []
    gc.disable()
    try:
        for _ in range(repeat):
            best(lambda: slow(objects, settings), slow_t)
            best(lambda: check_items(objects, settings, allow_times=True), fast_t)
    finally:
        gc.enable()
    s_us, f_us = min(slow_t) / len(objects) * 1e6, min(fast_t) / len(objects) * 1e6
    return {"slow_us_per_item": round(s_us, 2), "fast_us_per_item": round(f_us, 2), "speedup": round(s_us / f_us, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 items, 5 rounds (default 100,000, 7 rounds)")
    args = ap.parse_args()
    n, repeat = (20_000, 5) if args.quick else (100_000, 7)
    settings = Settings()
    bench_items = synthetic(n)
    result = compare(bench_items, settings, repeat)
    demo = demo_items(min(n, 20_000))
    d = compare(demo, settings, repeat)
    print(f"demo items ({len(demo)}): {d}", file=sys.stderr)
    print(json.dumps({"bench": "validate", "items": n, **result,
                      "demo_items": len(demo), **{f"demo_{k}": v for k, v in d.items()}}))


if __name__ == "__main__":
    main()
