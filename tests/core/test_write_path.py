"""The bulk write path's shortcuts keep behaviour identical: the canonical-timestamp fast path in validation, the
paused garbage collector, and positional inserts that read back exactly what was sent."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta, timezone

import pytest
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from accord import clock
from accord.config import Settings, load_settings
from accord.errors import ValidationFailed
from accord.sharing.items import ItemFilter
from accord.sharing.validate import check_item
from conftest import World

OBS = {"kind": "observation", "content": {"lat": 1.0, "lon": 2.0}}


def observed(settings: Settings, value: object) -> str | ValidationFailed:
    try:
        d = check_item({**OBS, "content": {**OBS["content"], "observed_from": value}}, settings)
    except ValidationFailed as exc:
        return exc
    return str(d.content["observed_from"])


def general_path(value: object) -> str | None:
    try:
        return clock.format_ts(clock.parse_ts(value))  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        return None


@given(moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
       form=st.sampled_from(["canonical", "seconds", "offset", "micro"]))
@settings(max_examples=300, deadline=None, database=None)
def test_timestamps_normalise_the_same_on_the_fast_and_general_paths(moment: datetime, form: str) -> None:
    settings = load_settings(env={}, data="/nonexistent", secret_key="w" * 40)
    moment = moment.replace(tzinfo=UTC)
    text = {"canonical": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "seconds": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "offset": moment.astimezone(timezone(timedelta(hours=2))).isoformat(),
            "micro": moment.isoformat().replace("+00:00", "Z")}[form]
    got = observed(settings, text)
    want = general_path(text)
    if want is None:
        assert isinstance(got, ValidationFailed)
    else:
        assert got == want


@pytest.mark.parametrize("value", ["2026-02-30T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-01-01T24:00:00.000Z",
                                   "0999-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000z", "2026-01-01 00:00:00.000Z",
                                   "2026-01-01T00:00:00.000Z\n", 20260101, None])
def test_odd_timestamps_match_the_general_path(settings: Settings, value: object) -> None:
    got = observed(settings, value)
    want = general_path(value)
    if want is None:
        assert isinstance(got, ValidationFailed)
        assert got.errors[0].field == "content.observed_from"
    else:
        assert got == want


def test_the_collector_is_restored_after_a_bulk_write(world: World) -> None:
    assert gc.isenabled()
    world.svc.items.create_many(world.p("alice"), [{"kind": "report", "content": {"title": "t"}}] * 3)
    assert gc.isenabled()
    with pytest.raises(Exception, match="may not share"):
        world.svc.items.create_many(world.p("breader"), [{"kind": "report", "content": {"title": "t"}}])
    assert gc.isenabled()
    gc.disable()
    try:
        world.svc.items.create_many(world.p("alice"), [{"kind": "report", "content": {"title": "t"}}])
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


def test_a_bulk_write_reads_back_exactly(world: World) -> None:
    sent = {"kind": "observation", "language": "fr", "tags": ["a", "b"], "discoverable": False,
            "handling": {"tlp": "amber+strict", "classification": 2,
                         "release": {"scope": "members", "members": ["CHARLIE", "BRAVO"], "consumers": True}},
            "grading": {"reliability": "B", "credibility": 3},
            "content": {"lat": -33.5, "lon": 151.25, "precision_m": 25, "observed_from": "2026-05-01T10:00:00Z",
                        "observed_to": "2026-05-01T11:00:00.5+01:00", "place_name": "Quai", "description": "d"},
            "identifiers": [{"type": "phone", "value": " +33 1 23 "}], "extensions": {"x-acme": {"k": [1, 2]}},
            "created": "2026-05-02T00:00:00Z", "modified": "2026-05-03T00:00:00.123Z"}
    [result] = world.svc.items.create_many(world.p("alice"), [sent], allow_times=True)
    got = world.svc.items.get(world.p("alice"), str(result.id))
    assert got["handling"] == {"tlp": "amber+strict", "classification": 2,
                               "release": {"scope": "members", "members": ["BRAVO", "CHARLIE"], "consumers": True}}
    assert got["content"] == {**sent["content"], "precision_m": 25.0, "observed_from": "2026-05-01T10:00:00.000Z",
                              "observed_to": "2026-05-01T10:00:00.500Z"}
    assert (got["created"], got["modified"], got["version"]) == ("2026-05-02T00:00:00.000Z",
                                                                 "2026-05-03T00:00:00.123Z", 1)
    assert (got["language"], got["tags"], got["discoverable"], got["revoked"]) == ("fr", ["a", "b"], False, False)
    assert got["grading"] == {"reliability": "B", "credibility": 3}
    assert got["identifiers"] == [{"type": "phone", "value": "+33 1 23"}]
    assert got["extensions"] == {"x-acme": {"k": [1, 2]}}
    assert got["originator"] == "ALPHA"
    bob = world.p("bob")
    assert [i["id"] for i in world.svc.items.list(bob, ItemFilter(tag="b", bbox=(151, -34, 152, -33))).items] == [
        result.id]
    assert world.svc.items.list(bob, ItemFilter(q="quai")).items[0]["id"] == result.id
    assert world.svc.audit.verify().ok


def test_search_and_tags_follow_every_version(world: World) -> None:
    """The full-text index (contentless on SQLite) and the tag rows are replaced, not added to, on each edit."""
    alice, items = world.p("alice"), world.svc.items
    item = items.create(alice, {"kind": "entity", "tags": ["old", "both"], "identifiers": [
        {"type": "phone", "value": "+44 1"}], "content": {"entity_type": "group", "name": "Kestrel Front",
                                                           "aliases": ["Северный фронт"]}})

    def found(q: str | None = None, tag: str | None = None) -> bool:
        return [i["id"] for i in items.list(alice, ItemFilter(q=q, tag=tag)).items] == [item["id"]]

    assert found("kestrel") and found("северный") and found(tag="old")
    items.update(alice, item["id"], {"tags": ["new", "both"], "content": {
        "entity_type": "group", "name": "Osprey Front", "aliases": ["Южный фронт"]}})
    assert not found("kestrel") and not found("северный") and not found(tag="old")
    assert found("osprey") and found("южный") and found(tag="new") and found(tag="both") and found("front")
    items.update(alice, item["id"], {"tags": []})
    assert not found(tag="both") and found("osprey")
    items.revoke(alice, item["id"])
    assert items.list(alice, ItemFilter(q="osprey", include_revoked=True)).items[0]["revoked"] is True


def test_the_checkpointer_copies_the_wal_off_the_writers_path(world: World) -> None:
    """SQLite: after writes commit, a thread of the store's own copies the WAL into the database file (the
    writer's autocheckpoint, at 16,384 pages, is only the bound), and it stops with the store."""
    import os
    import threading
    import time

    db = world.svc.db
    if db.dialect != "sqlite":
        pytest.skip("the WAL is SQLite's")
    assert db._checkpointer is not None
    path = db.url.split("sqlite:///", 1)[1]
    before = os.path.getsize(path)
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE ckpt_probe (x)")
        conn.exec_driver_sql("INSERT INTO ckpt_probe VALUES (randomblob(400000))")
    # Only a checkpoint writes pages into the database file itself; the commit wrote them to the WAL.
    deadline = time.monotonic() + 10
    while os.path.getsize(path) < before + 400000:
        assert time.monotonic() < deadline, "nothing copied the WAL into the database"
        time.sleep(0.05)
    assert any(t.name == "accord-checkpoint" for t in threading.enumerate())
    with db.writer.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 16384
    db._checkpointer.stop()
    assert db._checkpointer._thread is None
