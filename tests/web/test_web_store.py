"""The web store's own lookups (notes about an item, an entity's relationships and later names, the dashboard
counts, the capped search count) return exactly what the access policy permits: checked against an oracle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.config import load_settings
from accord.services import Services, build_services
from accord.sharing.items import ItemFilter
from conftest import World, build_world


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    svc: Services = build_services(load_settings(env={}, data=str(tmp_path_factory.mktemp("store")),
                                                 secret_key="s" * 40))
    yield build_world(svc)
    svc.close()


def sees(world: World, username: str, item: dict[str, Any]) -> bool:
    p = world.p(username)
    h = item["handling"]
    rel = h["release"]
    reach = (item["originator"] == p.member_code or rel["scope"] == "all"
             or (rel["scope"] == "members" and p.member_code in rel["members"]))
    return h["classification"] <= p.clearance and reach and (not p.is_consumer or rel["consumers"])


release = st.one_of(
    st.just({"scope": "all"}), st.just({"scope": "originator"}),
    st.builds(lambda ms, c: {"scope": "members", "members": sorted(ms), "consumers": c},
              st.sets(st.sampled_from(["ALPHA", "BRAVO", "CHARLIE"]), min_size=1), st.booleans()))
note = st.tuples(st.sampled_from(["alice", "bob", "carol"]), release, st.integers(0, 2))
READERS = ("alice", "bob", "breader", "bunit", "carol", "hub")


def _share(w: World, author: str, rel: dict[str, Any], cls: int, **kw: Any) -> dict[str, Any]:
    me = w.p(author).member_code
    if rel["scope"] == "members":
        members = [m for m in rel["members"] if m != me]
        rel = {**rel, "members": members} if members else {"scope": "originator"}
    return w.share(author, handling={"classification": min(cls, w.p(author).clearance), "release": rel}, **kw)


@given(st.lists(note, min_size=1, max_size=6), st.lists(note, min_size=0, max_size=4))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_lookups_follow_the_policy(w: World, notes: list[Any], rels: list[Any]) -> None:
    target = w.share("alice", kind="entity", content={"entity_type": "group", "name": "Target"},
                     handling={"release": {"scope": "all"}})
    made_notes = [_share(w, a, r, c, kind="note", content={"object_refs": [target["id"]], "content": "n"})
                  for a, r, c in notes]
    made_rels = [_share(w, a, r, c, kind="relationship",
                        content={"relationship_type": "member-of", "source_ref": target["id"],
                                 "target_ref": target["id"]}) for a, r, c in rels]
    made_later = [_share(w, a, r, c, kind="entity", content={"entity_type": "group", "name": "Later",
                                                             "formerly_known_as": [target["id"]]})
                  for a, r, c in rels]
    store = w.svc.web
    for reader in READERS:
        p = w.p(reader)
        assert set(store.notes_about(p, target["id"])) == {n["id"] for n in made_notes if sees(w, reader, n)}
        assert set(store.relationships_of(p, target["id"])) == {r["id"] for r in made_rels if sees(w, reader, r)}
        assert set(store.later_names(p, target["id"])) == {e["id"] for e in made_later if sees(w, reader, e)}


def test_counts_follow_the_policy(w: World) -> None:
    for reader in READERS:
        p = w.p(reader)
        counts = w.svc.web.dashboard_counts(p, "2000-01-01T00:00:00.000Z", "2000-01-01T00:00:00.000Z")
        core = {(r["kind"], r["originator"]): r["count"] for r in w.svc.items.stats(p)}
        assert {(r["kind"], r["originator"]): r["count"] for r in counts if r["count"]} == core
        assert all(r["new"] == r["count"] for r in counts)
        query = w.svc.items._filtered(p, ItemFilter())
        total = w.svc.items.count(p, ItemFilter())
        assert w.svc.web.capped_count(query, cap=10_000) == total
        assert w.svc.web.capped_count(query, cap=2) == min(total, 3)


def test_counts_are_remembered_only_while_the_store_is_unchanged(w: World) -> None:
    p = w.p("bob")
    since = "2000-01-01T00:00:00.000Z"

    def total() -> int:
        return sum(r["count"] for r in w.svc.web.dashboard_counts(p, since, since))

    before = total()
    assert total() == before
    item = w.share("alice", handling={"release": {"scope": "members", "members": ["BRAVO"]}})
    assert total() == before + 1
    w.svc.items.update(w.p("alice"), item["id"], {"handling": {"release": {"scope": "originator"}}})
    assert total() == before  # narrowing the release moves "modified", so the count is recomputed
    w.svc.items.release(w.p("alice"), item["id"], ["BRAVO"])
    assert total() == before + 1
    w.svc.items.revoke(w.p("alice"), item["id"])
    assert total() == before
