"""One transaction per TAXII envelope, on both backends: items, raw objects and the status resource commit together
or not at all (the conftest ``world`` is parametrised over SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from taxii_servers import HUB


def group(uid: str, modified: str, **kw: Any) -> dict[str, Any]:
    return {"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{uid}",
            "created": "2024-01-01T00:00:00.000Z", "modified": modified, "name": "Grp", **kw}


def test_a_fault_rolls_back_the_whole_envelope(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Items, raw objects and the status resource share one transaction: a fault storing the raw objects leaves
    neither the items stored before them nor a status."""
    from sqlalchemy import func, select

    from accord.errors import NotFound
    from accord.stix.tables import stix_handles, taxii_status

    svc = world.svc
    uid = str(uuid.uuid4())
    indicator = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                 "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix",
                 "valid_from": "2024-01-01T00:00:00.000Z"}

    def counts() -> tuple[int, int]:
        with svc.db.read() as conn:
            return (conn.execute(select(func.count()).select_from(taxii_status)).scalar_one(),
                    conn.execute(select(func.count()).select_from(stix_handles)).scalar_one())

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk on fire")

    before = counts()
    monkeypatch.setattr(svc.stix, "_ingest_raw", broken)
    coll = svc.taxii.collection(HUB)
    with pytest.raises(RuntimeError):
        svc.taxii.add(world.p("alice"), coll, {"objects": [group(uid, "2024-01-01T00:00:00.000Z"), indicator]})
    assert counts() == before
    with pytest.raises(NotFound):
        svc.items.get(world.p("alice"), f"entity--{uid}")
    monkeypatch.undo()
    st = svc.taxii.add(world.p("alice"), coll, {"objects": [group(uid, "2024-01-01T00:00:00.000Z"), indicator]})
    assert st["success_count"] == 2 and svc.taxii.status(world.p("alice"), st["id"]) == st


def test_mixed_envelope_outcomes(world: Any) -> None:
    """Mapped, raw, companion, repeated and refused objects in one envelope, each with its own outcome."""
    svc = world.svc
    coll = svc.taxii.collection(HUB)
    uid, loc = str(uuid.uuid4()), str(uuid.uuid4())
    ts = "2024-01-01T00:00:00.000Z"
    indicator = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": ts,
                 "modified": ts, "pattern": "[ipv4-addr:value = '10.0.0.2']", "pattern_type": "stix",
                 "valid_from": ts}
    objs = [group(uid, ts), indicator,
            {"type": "location", "spec_version": "2.1", "id": f"location--{loc}", "created": ts, "modified": ts,
             "latitude": 48.1, "longitude": 11.5},
            {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{loc}", "created": ts, "modified": ts,
             "sighting_of_ref": f"location--{loc}", "where_sighted_refs": [f"location--{loc}"],
             "first_seen": ts},
            group(uid, "2024-02-01T00:00:00.000Z"),  # a later version of the same object in the same envelope
            {"type": "indicator", "id": "indicator--not-a-uuid"}]
    st = svc.taxii.add(world.p("alice"), coll, {"objects": objs})
    assert (st["success_count"], st["failure_count"]) == (5, 1), st
    assert svc.taxii.status(world.p("alice"), st["id"]) == st
    assert svc.items.get(world.p("alice"), f"entity--{uid}")["version"] == 2
    again = svc.taxii.add(world.p("alice"), coll, {"objects": [indicator, group(uid, ts)]})
    assert again["failure_count"] == 2  # both versions already present


def test_the_default_handling_cache_follows_the_member_ids() -> None:
    """A collection's default handling is resolved (release codes to member ids) once and cached: the cache key
    holds the codes and ids it was resolved against, not only how many members there are."""
    from accord.stix.store import StixStore

    default = {"tlp": "amber", "classification": 0, "release": {"scope": "members", "members": ["BRAVO"]}}
    one = StixStore._default_key(default, {"ALPHA": 1, "BRAVO": 2})
    assert one == StixStore._default_key(default, {"BRAVO": 2, "ALPHA": 1})
    assert one != StixStore._default_key(default, {"ALPHA": 1, "BRAVO": 3})
    assert one != StixStore._default_key(default, {"ALPHA": 1, "CHARLIE": 2})
