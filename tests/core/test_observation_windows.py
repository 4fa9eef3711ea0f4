"""Observation windows (``observed_after`` / ``observed_before``): a list and a count return exactly the
observations whose time overlaps the window, whichever plan reads them. The t_from bound the list adds comes from
the longest stored interval (``item_spans``), which every write that stores a longer one raises, edits included;
on SQLite a probe picks between the t_from index and a walk newest first (``Items._window``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from accord import clock
from accord.sharing.items import ItemFilter
from accord.storage.schema import item_spans, items
from conftest import World

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def ts(hours: float) -> str:
    return clock.format_ts(BASE + timedelta(hours=hours))


def observation(start_h: float, span_h: float | None) -> dict[str, Any]:
    content: dict[str, Any] = {"lat": 10.0, "lon": 20.0, "observed_from": ts(start_h)}
    if span_h is not None:
        content["observed_to"] = ts(start_h + span_h)
    return {"kind": "observation", "content": content, "handling": {"release": {"scope": "all"}}}


def overlaps(start_h: float, span_h: float | None, after: float | None, before: float | None) -> bool:
    end = start_h + (span_h or 0)
    return (after is None or ts(end) >= ts(after)) and (before is None or ts(start_h) < ts(before))


def listed(world: World, f: dict[str, Any], limit: int) -> list[str]:
    out: list[str] = []
    cursor = None
    while True:
        page = world.svc.items.list(world.p("bob"), ItemFilter(limit=limit, cursor=cursor, **f))
        out.extend(i["id"] for i in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


# New observations are points or short intervals; edits make long ones, which only the edit's own write can
# make the t_from bound cover.
intervals = st.tuples(st.integers(0, 24 * 700), st.one_of(st.none(), st.integers(0, 48)))
windows = st.tuples(st.one_of(st.none(), st.integers(-24 * 500, 24 * 1200)),
                    st.one_of(st.none(), st.integers(1, 24 * 900)))


@given(batch=st.lists(intervals, min_size=1, max_size=12), edits=st.lists(st.tuples(
           st.integers(0, 10**6), st.tuples(st.integers(0, 24 * 700), st.integers(24 * 30, 24 * 500))), max_size=2),
       asked=st.lists(windows, min_size=1, max_size=4), limit=st.sampled_from([3, 500]))
@settings(max_examples=25, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_a_window_lists_exactly_the_overlapping_observations(world: World, batch: list[Any], edits: list[Any],
                                                             asked: list[Any], limit: int) -> None:
    # The store grows over the examples (one world per test): what is expected is kept beside it.
    held: dict[str, tuple[float, float | None]] = world.__dict__.setdefault("held", {})
    alice = world.p("alice")
    results = world.svc.items.create_many(alice, [observation(s, d) for s, d in batch])
    assert all(r.ok for r in results)
    held.update({str(r.id): iv for r, iv in zip(results, batch, strict=True)})
    ids = list(held)
    for pick, (s, d) in edits:  # an edit may lengthen an interval (or shorten it: the bound is never lowered)
        item_id = ids[pick % len(ids)]
        world.svc.items.update(alice, item_id, {"content": {"observed_from": ts(s), "observed_to": ts(s + d)}})
        held[item_id] = (s, d)
    newest_first = list(reversed(held))
    for after, before in asked:
        f = {"observed_after": ts(after) if after is not None else None,
             "observed_before": ts(after + before if after is not None else before) if before is not None else None}
        hi = None if before is None else (after + before if after is not None else before)
        want = [i for i in newest_first if overlaps(*held[i], after, hi)]
        assert listed(world, f, limit) == want, f
        assert world.svc.items.count(world.p("bob"), ItemFilter(**f)) == len(want)


def test_the_longest_interval_is_kept_and_never_lowered(world: World) -> None:
    alice = world.p("alice")

    def longest() -> int:
        with world.svc.db.read() as conn:
            return int(conn.execute(item_spans.select()).one().max_span_s)

    assert longest() == 0
    first = world.svc.items.create(alice, observation(0, 5))
    assert longest() == 5 * 3600
    world.svc.items.update(alice, first["id"], {"content": {"observed_to": ts(30)}})
    assert longest() == 30 * 3600
    world.svc.items.update(alice, first["id"], {"content": {"observed_to": ts(1)}})
    world.svc.items.create_many(alice, [observation(10, None), observation(20, 2)])
    assert longest() == 30 * 3600
    # The long interval is found from the far end of its window, the short one not before its start.
    bob = world.p("bob")
    assert [i["id"] for i in world.svc.items.list(bob, ItemFilter(observed_after=ts(0.5))).items][-1] == first["id"]


@pytest.mark.sqlite_only(reason="SQLite's planner (PostgreSQL plans from statistics)")
def test_a_window_holding_few_observations_reads_the_time_index(world: World) -> None:
    """A window matching few observations reads them through the t_from index (bounded by the longest interval),
    not every item; one holding many walks items newest first (no sort of every observation in it)."""
    alice, bob = world.p("alice"), world.p("bob")
    assert all(r.ok for r in world.svc.items.create_many(alice, [observation(h, 3 if h % 7 else None)
                                                                  for h in range(0, 24 * 300, 24)]))
    svc = world.svc.items
    narrow = ItemFilter(observed_after=ts(24 * 299), limit=10)
    wide = ItemFilter(observed_after=ts(0), observed_before=ts(24 * 290), limit=10)
    with world.svc.db.read() as conn:
        w_narrow, w_wide = svc._window(conn, narrow), svc._window(conn, wide)

        def steps(f: ItemFilter, window: Any) -> list[str]:
            stmt = svc._filtered(bob, f, window=window).order_by(items.c.seq.desc()).limit(11)
            sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            return [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]

        assert w_narrow is not None and w_narrow.indexed and w_narrow.low == ts(24 * 299 - 3)
        assert w_wide is not None and not w_wide.indexed
        assert any("ix_items_t_from" in s for s in steps(narrow, w_narrow)), steps(narrow, w_narrow)
        wide_steps = steps(wide, w_wide)
        assert not any("ix_items_t_from" in s or "TEMP B-TREE" in s for s in wide_steps), wide_steps
    assert len(svc.list(bob, narrow).items) == 1
    assert len(svc.list(bob, wide).items) == 10


def test_the_migration_finds_the_longest_stored_interval(world: World) -> None:
    """A store from before ``item_spans`` gets it filled from the intervals it holds."""
    from sqlalchemy import text

    from accord.storage.migrate import upgrade

    alice = world.p("alice")
    world.svc.items.create_many(alice, [observation(0, 7), observation(5, None), observation(100, 49)])
    db = world.svc.db
    with db.write() as conn:  # the store as it was: no table, the revision not applied
        conn.execute(text("DROP TABLE item_spans"))
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0012_item_spans'"))
    upgrade(db)
    with db.read() as conn:
        assert conn.execute(item_spans.select()).one().max_span_s == 49 * 3600
    assert len(world.svc.items.list(world.p("bob"), ItemFilter(observed_after=ts(148))).items) == 1


@given(a=st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC)),
       b=st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC)))
def test_stored_times_sort_as_text_in_the_order_of_their_instants(a: datetime, b: datetime) -> None:
    """Every filter compares stored times as text: the stored form must sort as the instants do, for every year
    (the platform's strftime writes the year 500 as "500", which sorts after "2025")."""
    from accord.stix.mapping import version_key

    a, b = a.replace(microsecond=a.microsecond // 1000 * 1000), b.replace(microsecond=b.microsecond // 1000 * 1000)
    assert (clock.format_ts(a) < clock.format_ts(b)) == (a < b)
    assert clock.parse_ts(clock.format_ts(a)) == a
    assert (version_key(clock.format_ts_us(a)) < version_key(clock.format_ts_us(b))) == (a < b)


def test_an_observation_of_an_early_year_is_listed_in_its_window(world: World) -> None:
    alice, bob = world.p("alice"), world.p("bob")
    early = world.svc.items.create(alice, {**observation(0, None), "content": {
        "lat": 1.0, "lon": 2.0, "observed_from": "0900-06-01T00:00:00Z"}})
    recent = world.svc.items.create(alice, observation(0, None))

    def ids(**kw: str) -> list[str]:
        return [i["id"] for i in world.svc.items.list(bob, ItemFilter(**kw)).items]

    assert ids(observed_after="0800-01-01T00:00:00Z") == [recent["id"], early["id"]]
    assert ids(observed_before="1000-01-01T00:00:00Z") == [early["id"]]
    assert ids(observed_after="1000-01-01T00:00:00Z") == [recent["id"]]
