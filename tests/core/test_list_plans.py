"""List queries keep plans whose cost is bounded by what they return or by the set a filter names, not by the store
(SQLite keeps no statistics, so the plan is decided by the shape of the SQL; see ``Items._filtered``)."""

from __future__ import annotations

import pytest
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture

from accord.sharing.items import ItemFilter
from accord.storage.schema import items
from conftest import World


def plan(world: World, f: ItemFilter) -> list[str]:
    svc = world.svc.items
    stmt = svc._filtered(world.p("bob"), f).order_by(items.c.seq.desc()).limit(f.limit + 1)
    with world.svc.db.read() as conn:
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        return [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]


@pytest.mark.sqlite_only(reason="SQLite's planner (PostgreSQL plans from statistics)")
@pytest.mark.parametrize("f", [ItemFilter(tag="convoy", kind="report"), ItemFilter(tag="convoy", originator="alpha"),
                               ItemFilter(q="convoy", kind="entity"),
                               ItemFilter(q="convoy", kind="report", originator="ALPHA")])
def test_a_tag_or_text_filter_drives_the_list_in_seq_order(world: World, f: ItemFilter) -> None:
    """With a tag or a text query beside kind or originator, the set is walked in seq order (no sort of every
    match read through the kind or originator index)."""
    steps = plan(world, f)
    assert steps[0].startswith("SEARCH items USING INTEGER PRIMARY KEY"), steps
    assert not any("TEMP B-TREE FOR ORDER BY" in s for s in steps), steps
    assert not any("ix_items_kind_seq" in s or "ix_items_originator_seq" in s for s in steps), steps


def test_kind_and_originator_beside_a_tag_or_text_filter_select_the_same_items(world: World) -> None:
    """The rewritten equalities (``|| ''`` on SQLite) select exactly what the plain ones did."""
    alice, carol = world.p("alice"), world.p("carol")
    made = []
    for who, kind, tags in ((alice, "report", ["convoy"]), (alice, "entity", ["convoy"]), (carol, "report", ["convoy"]),
                            (alice, "report", ["depot"]), (carol, "entity", ["convoy", "depot"])):
        content = ({"title": "convoy seen", "body": "b"} if kind == "report"
                   else {"entity_type": "group", "name": "Convoy group"})
        made.append(world.svc.items.create(who, {"kind": kind, "tags": tags, "content": content,
                                                  "handling": {"release": {"scope": "all"}}})["id"])
    hub = world.p("hub")

    def ids(**kw: object) -> list[str]:
        return sorted(i["id"] for i in world.svc.items.list(hub, ItemFilter(**kw)).items)  # type: ignore[arg-type]

    assert ids(tag="convoy", kind="report") == sorted([made[0], made[2]])
    assert ids(tag="convoy", originator="alpha") == sorted([made[0], made[1]])
    assert ids(tag="depot", kind="entity", originator="CHARLIE") == [made[4]]
    assert ids(q="convoy", kind="entity") == sorted([made[1], made[4]])
    assert ids(q="convoy", originator="charlie", kind="report") == [made[2]]
    assert world.svc.items.count(hub, ItemFilter(q="convoy", kind="report")) == 3  # the depot report says convoy too


@pytest.mark.sqlite_only(reason="SQLite's planner (PostgreSQL plans from statistics)")
def test_a_box_holding_many_positions_is_walked_newest_first(world: World) -> None:
    """A page of a box that holds many positions walks the newest items (no sort of every position in the box);
    a box holding few reads them through the position index. Both give the same items."""
    alice, bob = world.p("alice"), world.p("bob")
    objects = [{"kind": "observation", "handling": {"release": {"scope": "all"}},
                "content": {"lat": (i % 50) - 25.0, "lon": (i % 70) - 35.0, "observed_from": "2026-01-01T00:00:00Z"}}
               for i in range(300)]
    assert all(r.ok for r in world.svc.items.create_many(alice, objects))
    wide, narrow = ItemFilter(bbox=(-180, -90, 180, 90), limit=10), ItemFilter(bbox=(0, 0, 2, 2), limit=10)
    svc = world.svc.items
    with world.svc.db.read() as conn:
        assert svc._dense_bbox(conn, wide) and not svc._dense_bbox(conn, narrow)
    with world.svc.db.read() as conn:
        stmt = svc._filtered(bob, wide, dense_bbox=True).order_by(items.c.seq.desc()).limit(11)
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        steps = [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    assert not any("ix_items_position" in s or "TEMP B-TREE" in s for s in steps), steps
    every = [i["id"] for i in svc.list(bob, ItemFilter(bbox=wide.bbox, limit=500)).items]
    assert [i["id"] for i in svc.list(bob, wide).items] == every[:10]
    boxed = [i["id"] for i in svc.list(bob, ItemFilter(bbox=(0, 0, 2, 2), limit=500)).items]
    assert [i["id"] for i in svc.list(bob, narrow).items] == boxed[:10] and 0 < len(boxed) < 300
