"""Concurrent edits of one item (as from several workers): each becomes its own version, none fails."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from accord.services import build_services
from conftest import World


def test_concurrent_updates_make_consecutive_versions(world: World, settings) -> None:
    item = world.share("alice", content={"title": "Depot", "body": "v1"})
    other = build_services(settings, migrate=False)  # a second worker's services
    svcs = [world.svc, other]
    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda i: svcs[i % 2].items.update(
                world.p("alice"), item["id"], {"content": {"title": "Depot", "body": f"edit {i}"}}), range(6)))
    finally:
        other.close()
    history = world.svc.items.history(world.p("alice"), item["id"])
    assert [v["version"] for v in history] == list(range(1, 8))
    assert world.svc.audit.verify().ok
