"""Bulk import through a validating worker process (accord.sharing.ingest): the same per-object outcome as
create_many, chunks committed in order, and unreadable input named by line."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from tests.conftest import World

from accord.errors import ValidationFailed
from accord.sharing.ingest import Importer, json_chunks
from accord.storage.schema import items


def _uid(n: int, kind: str) -> str:
    return f"{kind}--{uuid.UUID(int=n, version=4)}"


def _objects() -> list[dict[str, Any]]:
    ent = {"kind": "entity", "id": _uid(1, "entity"), "content": {"entity_type": "group", "name": "Northern Cell"}}
    good = [{"kind": "report", "content": {"title": f"r{i}", "body": "b"}, "tags": ["x", "x", "y"]}
            for i in range(5)]
    bad_kind = {"kind": "memo", "content": {}}
    bad_field = {"kind": "report", "content": {"title": "", "body": 3}}
    above = {"kind": "report", "content": {"title": "secret"}, "handling": {"classification": 4}}
    nobody = {"kind": "report", "content": {"title": "t"}, "handling": {"release": {"members": ["NOPE"]}}}
    rejected_ent = {"kind": "entity", "id": _uid(2, "entity"), "content": {"entity_type": "group", "name": "X"},
                    "handling": {"release": {"members": ["NOPE"]}}}
    dangling = {"kind": "relationship", "content": {"relationship_type": "member-of",
                                                    "source_ref": _uid(1, "entity"), "target_ref": _uid(2, "entity")}}
    # A reference to an entity committed by an earlier chunk is accepted.
    later = {"kind": "relationship", "content": {"relationship_type": "member-of", "source_ref": _uid(1, "entity"),
                                                 "target_ref": _uid(1, "entity")}}
    dup = {"kind": "report", "id": _uid(3, "report"), "content": {"title": "d"}}
    # Chunks of 4: [ent g0 g1 bad_kind] [bad_field above nobody g2] [rejected_ent dangling later g3] [dup dup g4]
    return [ent, good[0], good[1], bad_kind, bad_field, above, nobody, good[2], rejected_ent, dangling, later, good[3],
            dup, dup, good[4]]


def _outcome(results: list[Any]) -> list[tuple[bool, list[tuple[str, str]]]]:
    return [(r.ok, [(e.field, e.message) for e in r.errors]) for r in results]


@pytest.mark.parametrize("workers", [0, 1])
@pytest.mark.parametrize("ndjson", [True, False])
def test_import_matches_create_many(world: World, workers: int, ndjson: bool) -> None:
    objs = _objects()
    raw = b"\n".join(orjson.dumps(o) for o in objs) if ndjson else orjson.dumps({"items": objs})
    got: list[Any] = []
    # start_here=False: the worker prepares every chunk after the first (left to itself, the import prepares chunks
    # here until the worker has started, about a second: all of these few).
    for results in Importer(world.svc.items, workers, start_here=False).run(world.p("bob"), json_chunks(raw, 4)):
        got.extend(results)
    assert [r.index for r in got] == [i % 4 for i in range(len(objs))]  # indexes within each chunk
    ok = [o for o, _ in _outcome(got)]
    assert ok == [True, True, True, False, False, False, False, True, False, False, True, True, True, False, True]
    errors = dict(enumerate(_outcome(got)))
    assert errors[3][1] == [("kind", "must be one of report, observation, entity, relationship, note")]
    assert {f for f, _ in errors[4][1]} == {"content.title", "content.body"}
    assert errors[5][1] == [("handling.classification", "is above your clearance")]
    assert errors[6][1] == [("handling.release.members[0]", "no member NOPE")]
    assert errors[9][1] == [("content.target_ref", "refers to an object rejected in this request")]
    assert errors[13][1] == [("id", "appears twice in this request")]
    assert len(world.svc.items.list(world.p("bob"), _filter()).items) == 8  # all accepted, readable at once


def test_chunks_keep_their_order_while_the_worker_starts(world: World) -> None:
    """Chunks are prepared in this process until the worker has started, then by the worker: stored in input
    order either way (here the switch normally falls in the middle of the import)."""
    lines = [orjson.dumps({"kind": "report", "content": {"title": f"t{i}", "body": "b"}}) for i in range(3000)]
    got = [r for results in Importer(world.svc.items, 1).run(world.p("bob"), json_chunks(b"\n".join(lines), 25))
           for r in results]
    assert all(r.ok for r in got) and len(got) == 3000
    with world.svc.db.read() as conn:
        titles = conn.execute(select(items.c.title).where(items.c.id.in_([str(r.id) for r in got]))
                              .order_by(items.c.seq)).scalars().all()
    assert titles == [f"t{i}" for i in range(3000)]


def _filter() -> Any:
    from accord.sharing.items import ItemFilter

    return ItemFilter(limit=100, originator="BRAVO")


def test_unreadable_line_stops_the_import_after_the_chunks_before_it(world: World) -> None:
    lines = [orjson.dumps({"kind": "report", "content": {"title": f"t{i}"}}) for i in range(6)]
    lines.insert(4, b'{"kind": ')
    chunks = json_chunks(b"\n".join(lines), 3, "feed.ndjson")
    runs = Importer(world.svc.items, 1, start_here=False).run(world.p("bob"), chunks)
    assert sum(r.ok for r in next(runs)) == 3
    with pytest.raises(ValidationFailed) as exc:
        next(runs)
    assert exc.value.errors[0].field == "feed.ndjson:5"
    assert "not valid JSON" in exc.value.errors[0].message
    assert len(world.svc.items.list(world.p("bob"), _filter()).items) == 3


@pytest.mark.parametrize("workers", [0, 1])
def test_chunks_commit_together_and_a_failure_loses_only_what_was_not_reported(world: World, workers: int,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks share a transaction (here: every two chunks, by count); results come only once it has committed,
    so when storing fails, what was reported stays and what was not is rolled back whole."""
    items = world.svc.items
    real = items.store_prepared
    calls: list[Any] = []

    def store(principal: Any, batch: Any, request_id: Any = None, conn: Any = None) -> Any:
        calls.append(conn)
        if len(calls) == 4:
            raise RuntimeError("disk full")
        return real(principal, batch, request_id, conn)

    monkeypatch.setattr(items, "store_prepared", store)
    lines = [orjson.dumps({"kind": "report", "content": {"title": f"g{i}"}}) for i in range(16)]
    runs = Importer(items, workers, group_s=60, group_items=8, start_here=False).run(
        world.p("bob"), json_chunks(b"\n".join(lines), 4))
    reported = [next(runs), next(runs)]  # chunks 1 and 2, committed together
    assert [sum(r.ok for r in res) for res in reported] == [4, 4]
    assert calls[0] is calls[1] is not None  # one transaction for both
    with pytest.raises(RuntimeError, match="disk full"):
        next(runs)  # chunk 3 is stored in a new transaction, chunk 4 fails: chunk 3 goes with it
    titles = {i["content"]["title"] for i in items.list(world.p("bob"), _filter()).items}
    assert titles == {f"g{i}" for i in range(8)}
