"""The longest accepted report body (every word distinct, the worst case for a tsvector) indexes on both backends."""

from __future__ import annotations

import random
import string

from accord.sharing.items import ItemFilter
from conftest import World


def test_longest_body_with_distinct_words_is_indexed(world: World) -> None:
    rng = random.Random(5)
    words = ["".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(140_000)]
    body = " ".join(words)[: world.svc.settings.max_string]
    item = world.share("alice", content={"title": "Very long", "body": body})
    found = world.svc.items.list(world.p("alice"), ItemFilter(q=f"{words[10]} long")).items
    assert [i["id"] for i in found] == [item["id"]]
