"""Property-based: for random members, consumers, users and items, every read path of the Items service returns
exactly the set the independent oracle in ``policy_world`` permits: list (with and without filters, every page),
count, get (denied == missing), full-text search, history, stats and export."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from policy_world import TAGS, WORDS, Built, build, worlds

from accord.errors import NotFound
from accord.sharing.handling import ITEM_KINDS
from accord.sharing.items import ItemFilter

MISSING = "report--00000000-0000-4000-8000-000000000000"
# Each example builds a store, so shrinking a failure would take minutes: a failing world is reported as drawn.
PROPS = settings(max_examples=12, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def pages(b: Built, user: str, limit: int, **kw: Any) -> list[str]:
    """Every page of a listing, following the cursor; checks no page is over-full."""
    out: list[str] = []
    cursor = None
    for _ in range(1000):
        page = b.svc.items.list(b.readers[user], ItemFilter(limit=limit, cursor=cursor, **kw))
        assert len(page.items) <= limit
        out.extend(i["id"] for i in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out
        assert page.items, "a cursor after an empty page"
    raise AssertionError("the cursor never ended")


def expected_handling(b: Built, item_id: str) -> dict[str, Any]:
    h = b.specs[item_id].final.api(b.spec.codes)
    h["release"]["members"].sort()
    return h


def newest_first(ids: list[str]) -> list[str]:
    return list(reversed(ids))


@given(spec=worlds(), limit=st.integers(1, 7), pick=st.integers(0, 59),
       bbox=st.tuples(st.integers(-180, 0), st.integers(-90, 0), st.integers(0, 180), st.integers(0, 90)))
@PROPS
def test_every_service_read_path_returns_exactly_the_permitted_set(spec, limit, pick, bbox) -> None:
    b = build(spec)
    try:
        items = b.svc.items
        codes = spec.codes
        since = sorted(b.modified.values())[len(b.modified) // 2]
        for n, (user, principal) in enumerate(b.readers.items()):
            # Listing: all pages, newest first, no duplicates, with and without revoked items.
            assert pages(b, user, limit) == newest_first(b.visible_ids(user))
            assert pages(b, user, limit, include_revoked=True) == newest_first(b.visible_ids(user, revoked=True))
            assert items.count(principal, ItemFilter()) == len(b.visible_ids(user))
            # Filters, each through the same policy (a different kind, member, tag and word for each reader).
            k = pick + n
            filters: list[dict[str, Any]] = [
                {"kind": ITEM_KINDS[k % len(ITEM_KINDS)]}, {"originator": codes[k % len(codes)]},
                {"tag": TAGS[k % len(TAGS)]}, {"q": WORDS[k % len(WORDS)]},
                {"bbox": tuple(float(x) for x in bbox)}, {"since": since},
                {"kind": "observation", "bbox": (-180.0, -90.0, 180.0, 90.0), "tag": TAGS[k % len(TAGS)]},
            ]
            for f in filters:
                want = newest_first(b.visible_ids(user, **f))
                got = [i["id"] for i in items.list(principal, ItemFilter(limit=1000, **f)).items]
                assert got == want, (user, f)
                assert items.count(principal, ItemFilter(**f)) == len(want), (user, f)
            assert pages(b, user, limit, kind="report", q=WORDS[0]) == newest_first(
                b.visible_ids(user, kind="report", q=WORDS[0]))
            # One item and its history: visible, or exactly the error a missing item raises.
            with pytest.raises(NotFound) as missing:
                items.get(principal, MISSING)
            for item_id in b.ids:
                if b.may_see(user, item_id):
                    got_item = items.get(principal, item_id)
                    assert got_item["id"] == item_id
                    assert got_item["handling"] == expected_handling(b, item_id)
                    versions = items.history(principal, item_id)
                    assert [v["version"] for v in versions] == b.visible_versions(user, item_id)
                    assert versions[-1]["version"] == b.versions[item_id]  # the current one, always
                else:
                    with pytest.raises(NotFound) as denied:
                        items.get(principal, item_id)
                    assert str(denied.value) == str(missing.value)
                    with pytest.raises(NotFound) as denied:
                        items.history(principal, item_id)
                    assert str(denied.value) == str(missing.value)
            # Statistics and export.
            stats = {(r["kind"], r["originator"]): r["count"] for r in items.stats(principal)}
            assert stats == dict(b.stats(user))
            assert [i["id"] for i in items.export(principal, batch=limit)] == b.visible_ids(user, revoked=True)
    finally:
        b.close()
