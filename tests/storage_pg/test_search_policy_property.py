"""Property: full-text search (FTS5 on SQLite, tsvector on PostgreSQL) returns exactly the matching items the
policy lets each user see, checked against an independent oracle of the rules in policy.py."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.sharing.items import ItemFilter
from conftest import World

AUTHORS = {"alice": "ALPHA", "carol": "CHARLIE", "bob": "BRAVO"}
AUTHOR_CLEARANCE = {"alice": 3, "carol": 4, "bob": 2}
READERS = {  # username -> (member, clearance, is_consumer)
    "alice": ("ALPHA", 3, False), "hub": ("ALPHA", 4, False), "bob": ("BRAVO", 2, False),
    "breader": ("BRAVO", 1, False), "bunit": ("BRAVO", 1, True), "carol": ("CHARLIE", 4, False),
}
_counter = itertools.count()

item_spec = st.fixed_dictionaries({
    "author": st.sampled_from(sorted(AUTHORS)),
    "classification": st.integers(0, 4),
    "scope": st.sampled_from(["originator", "members", "all"]),
    "members": st.lists(st.sampled_from(["ALPHA", "BRAVO", "CHARLIE"]), min_size=1, max_size=3, unique=True),
    "consumers": st.booleans(),
    "word": st.sampled_from(["склад", "مستودع", "dépôt", "depot"]),
})


def oracle(reader: str, spec: dict[str, object], originator: str) -> bool:
    member, clearance, consumer = READERS[reader]
    reachable = (originator == member or spec["scope"] == "all"
                 or (spec["scope"] == "members" and member in spec["members"]))  # type: ignore[operator]
    return clearance >= spec["classification"] and reachable and (not consumer or bool(spec["consumers"]))  # type: ignore[operator]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(item_spec, min_size=1, max_size=6))
def test_search_returns_exactly_what_policy_permits(world: World, specs: list[dict[str, object]]) -> None:
    marker = f"mk{next(_counter)}x"  # this example's items only: the store keeps earlier examples' items
    stored = []
    for spec in specs:
        author = str(spec["author"])
        cls = min(int(spec["classification"]), AUTHOR_CLEARANCE[author])  # type: ignore[call-overload]
        spec = {**spec, "classification": cls}
        members = [m for m in spec["members"] if m != AUTHORS[author]] or ["ALPHA" if author != "alice" else "BRAVO"]  # type: ignore[attr-defined]
        spec["members"] = members
        release: dict[str, object] = {"scope": spec["scope"], "consumers": spec["consumers"]}
        if spec["scope"] == "members":
            release["members"] = members
        item = world.share(author, content={"title": f"{spec['word']} {marker}", "body": "text"},
                           handling={"tlp": "amber", "classification": cls, "release": release})
        stored.append((item["id"], spec, AUTHORS[author]))
    for reader in READERS:
        for query in (marker, f"{marker} depot", "mk*"):
            got = {i["id"] for i in world.svc.items.list(world.p(reader), ItemFilter(q=query, limit=1000)).items}
            if query == "mk*":
                got = {g for g in got if g in {s[0] for s in stored}}
            want = {iid for iid, spec, orig in stored if oracle(reader, spec, orig)
                    and (query != f"{marker} depot" or spec["word"] in ("depot", "dépôt"))}
            assert got == want, (reader, query)
