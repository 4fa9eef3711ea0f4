"""Derived work of large imports (accord.sharing.derived): queued in the import's transaction, run just after,
exactly once, in version order, surviving a restart, and ending in the same state as running it inline."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.conftest import World, bearer, build_world
from tests.live_server import serve_accord

from accord.app import create_app
from accord.config import Settings, load_settings
from accord.correlation.tables import corr_keys, corr_notices
from accord.services import Services, build_services
from accord.stix.tables import stix_handles, stix_versions
from accord.storage.schema import item_derive, items

NAMES = ["Abu Bakr al-Baghdadi", "أبو بكر البغدادي", "Абу Бакр аль-Багдади", "Jean Dupont", "Jan Dupond"]


def _batch(n: int, offset: int = 0) -> list[dict[str, Any]]:
    """Items that correlate with each other across members: names, shared phones, nearby observations."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        j = i + offset
        rel = {"release": {"scope": "originator"}} if j % 3 else {"release": {"scope": "all"}}
        k = j % 3
        if k == 0:
            item = {"kind": "entity", "content": {"entity_type": "person", "name": NAMES[j % len(NAMES)]}}
        elif k == 1:
            item = {"kind": "observation", "content": {"lat": 33.3 + (j % 4) * 0.001, "lon": 44.4,
                                                       "observed_from": "2026-01-01T10:00:00Z"}}
        else:
            item = {"kind": "report", "content": {"title": f"report {j}", "body": "call +44 20 7946 0958"}}
        item["id"] = f"{item['kind']}--{uuid.UUID(int=j + 1, version=4)}"
        out.append({**item, "handling": rel})
    return out


@pytest.fixture
def small_inline(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(env={}, data=str(tmp_path / "data"), database_url=db_url, secret_key="t" * 40,
                         argon2_memory_kib=1024, argon2_time_cost=1, derive_inline_max=5)


@pytest.fixture
def svc(small_inline: Settings) -> Any:
    s = build_services(small_inline)
    yield s
    s.close()


def _count(svc: Services, table: Any) -> int:
    with svc.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _state(svc: Services) -> tuple[set[tuple[str, int]], set[tuple[int, int, str]], int]:
    with svc.db.read() as conn:
        keys = {(r.key, r.item_seq) for r in conn.execute(select(corr_keys))}
        notices = {(r.item_seq, r.other_item_seq, r.kind) for r in conn.execute(select(corr_notices))}
        handled = int(conn.execute(select(func.count(func.distinct(stix_handles.c.item_seq)))).scalar_one())
    return keys, notices, handled


def test_large_import_is_queued_then_derived_as_inline_would(svc: Services) -> None:
    w = build_world(svc)
    results = svc.items.create_many(w.p("alice"), _batch(12), allow_times=True)
    results += svc.items.create_many(w.p("bob"), _batch(12, 100), allow_times=True)
    results += svc.items.create_many(w.p("carol"), _batch(3, 200), allow_times=True)  # small: inline
    assert all(r.ok for r in results)
    assert svc.items.deriver.backlog() == 24
    # Until derived, the items are there for readers; their STIX objects and correlation keys are not yet.
    assert svc.items.get(w.p("alice"), results[0].id or "")["id"] == results[0].id
    assert _state(svc)[2] == 3
    assert svc.items.deriver.drain() == 24
    assert svc.items.deriver.backlog() == 0
    keys, notices, handled = _state(svc)
    assert handled == 27 and keys and notices
    # Recomputing everything from the stored items gives exactly the same keys and notices.
    svc.correlation.rebuild()
    assert _state(svc) == (keys, notices, handled)
    assert svc.items.deriver.drain() == 0


def test_edit_of_a_queued_item_derives_it_first(svc: Services) -> None:
    w = build_world(svc)
    results = svc.items.create_many(w.p("alice"), _batch(9), allow_times=True)
    ent = results[0].id or ""
    svc.items.update(w.p("alice"), ent, {"content": {"entity_type": "person", "name": "Renamed Person"}})
    assert svc.items.deriver.backlog() == 8
    with svc.db.read() as conn:
        seq = conn.execute(select(items.c.seq).where(items.c.id == ent)).scalar_one()
        versions = conn.execute(select(stix_versions.c.version_key).join(
            stix_handles, stix_handles.c.seq == stix_versions.c.handle_seq)
            .where(stix_handles.c.item_seq == seq).order_by(stix_versions.c.version_key)).scalars().all()
        queued = conn.execute(select(item_derive.c.item_seq).where(item_derive.c.item_seq == seq)).first()
    assert len(versions) == 2 and queued is None  # version 1 derived before version 2, each once
    svc.items.deriver.drain()
    assert [x["name"] for x in svc.correlation.match(w.p("alice"), "Renamed Person")][:1] == ["Renamed Person"]


def test_queue_survives_a_restart(small_inline: Settings) -> None:
    first = build_services(small_inline)
    w = build_world(first)
    assert all(r.ok for r in first.items.create_many(w.p("alice"), _batch(10), allow_times=True))
    first.close()  # stopped before deriving anything
    second = build_services(small_inline)
    try:
        assert second.items.deriver.backlog() == 10
        assert second.items.deriver.drain() == 10
        assert _state(second)[2] == 10
    finally:
        second.close()


def test_a_failing_hook_leaves_the_items_queued(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    w = build_world(svc)
    svc.items.create_many(w.p("alice"), _batch(8), allow_times=True)

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(svc.correlation, "items_written", broken)
    with pytest.raises(RuntimeError):
        svc.items.deriver.run_once()
    assert svc.items.deriver.backlog() == 8 and _state(svc)[2] == 0  # nothing half-derived
    monkeypatch.undo()
    assert svc.items.deriver.drain() == 8


def test_the_server_derives_in_the_background(small_inline: Settings, svc: Services) -> None:
    w: World = build_world(svc)
    with serve_accord(create_app(small_inline, svc), lifespan="on") as base:
        r = httpx.post(f"{base}/api/v1/items/bulk", json=_batch(20), headers=bearer(w, "alice"), timeout=30)
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 10
        while svc.items.deriver.backlog() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.items.deriver.backlog() == 0
        assert _count(svc, stix_handles) >= 20
