"""``check_items`` (fast path + fallback) against ``check_item``, object by object: the same Draft (values, types,
key order) or the same ValidationFailed (paths, messages, order), on generated valid items of every kind and on
near-valid ones with one to three mutations, with ``allow_times`` both ways and with small and default limits.
No store is involved, so these run without the database fixtures."""

from __future__ import annotations

import collections
import copy
import dataclasses
import decimal
import enum
import math
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.config import Settings
from accord.errors import ValidationFailed
from accord.sharing.handling import CLASSIFICATIONS, ITEM_KINDS
from accord.sharing.validate import IDENTIFIER_TYPES, Draft, check_item, check_items, parse_id
from accord.sharing.validate_fast import _fast, _Limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from ingest import synthetic

DEFAULT = Settings()
SMALL = Settings(max_name=12, max_string=40)


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    ONE = 1


class StrTlp(enum.StrEnum):
    AMBER = "amber"


class SubDict(dict):  # type: ignore[type-arg]
    pass


class SubList(list):  # type: ignore[type-arg]
    pass


def outcome(raw: Any, s: Settings, allow_times: bool) -> Draft | ValidationFailed:
    try:
        return check_item(raw, s, allow_times=allow_times)
    except ValidationFailed as exc:
        return exc


def typed(v: Any) -> Any:
    """A comparable form that also tells 1 from 1.0 and True from 1, and keeps dict key order."""
    if isinstance(v, dict):
        return (type(v), [(typed(k), typed(x)) for k, x in v.items()])
    if isinstance(v, list | tuple):
        return (type(v), [typed(x) for x in v])
    if isinstance(v, float) and math.isnan(v):
        return (float, "nan")
    return (type(v), v)


def assert_same(raw: Any, want: Draft | ValidationFailed, got: Draft | ValidationFailed) -> None:
    if isinstance(want, ValidationFailed):
        assert isinstance(got, ValidationFailed), (raw, want.errors, got)
        assert got.errors == want.errors
        assert str(got) == str(want)
        return
    assert isinstance(got, Draft), (raw, got.errors if isinstance(got, ValidationFailed) else got)
    for f in dataclasses.fields(Draft):
        w, g = getattr(want, f.name), getattr(got, f.name)
        if f.name == "id" and isinstance(raw, dict) and raw.get("id") is None:
            assert parse_id(g) is not None and g.startswith(f"{want.kind}--")  # a fresh id either way
        elif f.name == "extensions" and isinstance(raw, dict) and "extensions" in raw:
            assert g is w is raw["extensions"]  # passed through untouched (may hold anything, even NaN)
        else:
            assert typed(g) == typed(w), (f.name, raw, w, g)


def check_batch(raws: list[Any], s: Settings, allow_times: bool) -> None:
    got = check_items(raws, s, allow_times=allow_times)
    assert len(got) == len(raws)
    for raw, g in zip(raws, got, strict=True):
        assert_same(raw, outcome(raw, s, allow_times), g)


# --- valid items ---------------------------------------------------------------------------------------------

def ids(kind: str) -> st.SearchStrategy[str]:
    return st.uuids(version=4).map(lambda u: f"{kind}--{u}")


any_ref = st.sampled_from(ITEM_KINDS).flatmap(ids)
words = st.text(alphabet="abc xyzé Ж\t", min_size=1, max_size=10).filter(lambda x: bool(x.strip()))
timestamps = st.one_of(
    st.datetimes(min_value=__import__("datetime").datetime(1000, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.datetimes().map(lambda d: d.isoformat()),  # naive: taken as UTC
    st.datetimes().map(lambda d: d.isoformat() + "+05:30"),
    st.sampled_from(["2026-01-31T12:00:00Z", "2026-01-31T12:00:00.5-01:00", "2026-01-31", "2026-01-31T12:00:60Z",
                     "2026-02-30T00:00:00.000Z", "2026-01-31T12:00:00.000z", "0999-01-01T00:00:00.000Z",
                     "٢٠٢٦-01-31T12:00:00.000Z", "2026-01-31T12:00:00.000Z\n", "9999-12-31T23:59:59.999-01:00"]),
)


def optional(d: dict[str, Any], key: str, strat: st.SearchStrategy[Any], draw: Any, none_ok: bool = True) -> None:
    choice = draw(st.integers(0, 3 if none_ok else 2))
    if choice >= 2:
        d[key] = draw(strat)
    elif choice == 1 and none_ok:
        d[key] = None


@st.composite
def handling(draw: Any) -> Any:
    h: dict[str, Any] = {}
    optional(h, "tlp", st.sampled_from(["clear", "green", "amber", "amber+strict", "red", "TLP:RED", "Amber",
                                        "tlp:amber+strict", "TLP:CLEAR"]), draw, none_ok=False)
    optional(h, "classification", st.one_of(st.integers(0, len(CLASSIFICATIONS) - 1),
                                            st.sampled_from(CLASSIFICATIONS)), draw, none_ok=False)
    scope = draw(st.sampled_from(["originator", "members", "all", None]))
    if draw(st.booleans()):
        rel: dict[str, Any] = {}
        # members with another scope, or a members scope without any, are refused: drawn now and then
        if scope == "members" or draw(st.integers(0, 2)) == 0:
            codes = st.sampled_from(["ALPHA", "bravo", " CHARLIE ", "delta\t", "ALPHA", "ALPHA", "\t"])
            rel["members"] = draw(st.lists(codes, min_size=1, max_size=4))
        elif draw(st.booleans()):
            rel["members"] = []
        if scope is not None:
            rel["scope"] = scope
        optional(rel, "consumers", st.booleans(), draw, none_ok=False)
        h["release"] = rel
    return h


@st.composite
def contents(draw: Any, kind: str) -> dict[str, Any]:
    c: dict[str, Any] = {}
    if kind == "report":
        c["title"] = draw(words)
        optional(c, "body", st.text(max_size=30), draw)
    elif kind == "observation":
        c["lat"] = draw(st.one_of(st.floats(-90, 90), st.integers(-90, 90)))
        c["lon"] = draw(st.one_of(st.floats(-180, 180), st.integers(-180, 180)))
        optional(c, "precision_m", st.one_of(st.floats(0, 20_000_000), st.integers(0, 20_000_000)), draw)
        c["observed_from"] = draw(timestamps)
        optional(c, "observed_to", timestamps, draw)
        optional(c, "place_name", st.text(max_size=8), draw)
        optional(c, "description", st.text(max_size=30), draw)
    elif kind == "entity":
        c["entity_type"] = draw(st.sampled_from(["person", "group", "organisation"]))
        c["name"] = draw(words)
        optional(c, "aliases", st.lists(words, max_size=4), draw)
        optional(c, "formerly_known_as", st.lists(ids("entity"), max_size=3), draw, none_ok=False)
        optional(c, "description", st.text(max_size=30), draw)
    elif kind == "relationship":
        c["relationship_type"] = draw(st.sampled_from(["member-of", "located-at", "x", "a1-b2"]))
        c["source_ref"] = draw(any_ref)
        c["target_ref"] = draw(ids("entity"))
        optional(c, "description", st.text(max_size=30), draw)
    else:
        c["object_refs"] = draw(st.lists(any_ref, min_size=1, max_size=3))
        c["content"] = draw(words)
    return c


@st.composite
def items(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(ITEM_KINDS))
    item: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        item["kind"] = kind
    item["content"] = draw(contents(kind))
    optional(item, "id", ids(kind), draw)
    if "kind" not in item and not isinstance(item.get("id"), str):
        item["kind"] = kind
    optional(item, "language", st.sampled_from(["en", "fr", "ar", "fa", "ru", "pt-BR", "zh-Hant"]), draw)
    optional(item, "handling", handling(), draw)
    optional(item, "grading", st.fixed_dictionaries({}, optional={
        "reliability": st.sampled_from(["A", "B", "C", "D", "E", "F", None]),
        "credibility": st.one_of(st.integers(1, 6), st.none())}), draw)
    optional(item, "tags", st.lists(st.sampled_from(["a", " a", "b ", "c\u00a0", "Ж"]), max_size=5), draw)
    optional(item, "discoverable", st.booleans(), draw, none_ok=False)
    optional(item, "identifiers", st.lists(st.fixed_dictionaries({
        "type": st.sampled_from(IDENTIFIER_TYPES), "value": words}), max_size=3), draw, none_ok=False)
    optional(item, "extensions", st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5),
                                                 max_size=2), draw, none_ok=False)
    optional(item, "created", timestamps, draw)
    optional(item, "modified", timestamps, draw)
    optional(item, "version", st.integers(1, 3), draw, none_ok=False)
    return item


# --- mutations -----------------------------------------------------------------------------------------------

big = st.sampled_from(["x" * 13, "y" * 41, "z" * 1001, ["t"] * 501, list(range(501))])
junk = st.deferred(lambda: _junk.map(copy.deepcopy))  # fresh objects: mutations must not reach shared ones
_junk = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10), st.integers(min_value=2**64), st.floats(allow_nan=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1.0, 0, "", " ", "\t\n", "a\x00b", "\x00", "ALPHA", "amber",
                     "TLP:AMBER", "secret", "person", "phone", "report--0cb1e29c-658c-4a14-95e6-0af593bd04cf",
                     "REPORT--0CB1E29C-658C-4A14-95E6-0AF593BD04CF", "entity--0cb1e29c-658c-4a14-95e6-0af593bd04cf",
                     "entity--0cb1e29c-658c-4a14-95e6-0af593bd04cf\n", "widget--0cb1e29c-658c-4a14-95e6-0af593bd04cf",
                     "2026-01-31T12:00:60Z", "2026-01-31T12:00:00", "2026-13-01T00:00:00.000Z", "en", "EN", "A", "7",
                     decimal.Decimal("1.5"), Colour.RED, Level.ONE, StrTlp.AMBER, uuid.UUID(int=5), b"bytes",
                     (), ("a",), {"a"}, frozenset(), [], [None], [[]], {}, {"x": 1}, {"type": "phone"},
                     {"type": "phone", "value": "1"}, {"scope": "all"}, [{"type": "url", "value": "\x00"}],
                     SubDict(), SubDict(title="t"), SubList(["a"]), collections.OrderedDict(), 0.0, -0.0, 90.0000001,
                     1e300, True, False]),
    big, st.text(max_size=6), st.lists(st.text(max_size=3), max_size=3),
    st.recursive(st.none() | st.integers() | st.text(max_size=3),
                 lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
                 max_leaves=4),
)
KEYS = ["id", "kind", "language", "handling", "grading", "tags", "discoverable", "content", "identifiers", "created",
        "modified", "version", "extensions", "tlp", "classification", "release", "scope", "members", "consumers",
        "reliability", "credibility", "title", "body", "lat", "lon", "precision_m", "observed_from", "observed_to",
        "place_name", "description", "entity_type", "name", "aliases", "formerly_known_as", "relationship_type",
        "source_ref", "target_ref", "object_refs", "type", "value", "bogus"]


def containers(obj: Any, out: list[Any]) -> list[Any]:
    """Every dict and list inside obj (obj included), to pick a place to mutate."""
    if isinstance(obj, dict | list):
        out.append(obj)
        for v in obj.values() if isinstance(obj, dict) else obj:
            containers(v, out)
    return out


@st.composite
def mutated(draw: Any) -> Any:
    item = draw(items())
    if not draw(st.integers(0, 19)):
        return draw(junk)  # not even an object
    for _ in range(draw(st.integers(1, 3))):
        places = containers(item, [])
        place = draw(st.sampled_from(places))
        op = draw(st.integers(0, 4))
        if isinstance(place, dict):
            if op == 0 and place:
                del place[draw(st.sampled_from(sorted(place)))]
            elif op == 1 and place:
                key = draw(st.sampled_from(sorted(place)))
                v = place[key]
                place[key] = v.upper() if isinstance(v, str) else draw(junk)
            else:
                place[draw(st.sampled_from(KEYS) if op < 4 else st.sampled_from(sorted(place) or KEYS))] = draw(junk)
        elif place:
            i = draw(st.integers(0, len(place) - 1))
            if op == 0:
                del place[i]
            elif op == 1:
                place.append(place[i])  # a duplicate
            else:
                place[i] = draw(junk)
        else:
            place.append(draw(junk))
    return item


limits = st.sampled_from([DEFAULT, SMALL, Settings(max_name=3, max_string=5), Settings(max_name=1000, max_string=8)])
COMMON = settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@given(batch=st.lists(items(), max_size=6), allow_times=st.booleans(), s=limits)
@COMMON
def test_valid_items_give_the_same_drafts(batch: list[Any], allow_times: bool, s: Settings) -> None:
    check_batch(batch, s, allow_times)


@given(batch=st.lists(mutated(), min_size=1, max_size=6), allow_times=st.booleans(), s=limits)
@settings(max_examples=2500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_items_give_the_same_results(batch: list[Any], allow_times: bool, s: Settings) -> None:
    check_batch(batch, s, allow_times)


@given(item=items())
@COMMON
def test_plain_valid_items_take_the_fast_path(item: dict[str, Any]) -> None:
    """Guards against a fast path that quietly sends everything to the slow one."""
    want = outcome(item, DEFAULT, True)
    if isinstance(want, Draft) and "kind" in item:
        assert _fast(item, _Limits(DEFAULT), True) is not None, item


@pytest.mark.parametrize("allow_times", [True, False])
def test_the_bench_items_take_the_fast_path_and_match(allow_times: bool) -> None:
    batch = synthetic(300)
    check_batch(batch, DEFAULT, allow_times)
    check_batch(batch, SMALL, allow_times)
    if allow_times:
        assert all(_fast(raw, _Limits(DEFAULT), True) is not None for raw in batch)


@pytest.mark.parametrize("raw", [
    None, [], "report", {}, {"kind": "report"}, {"id": "report--0cb1e29c-658c-4a14-95e6-0af593bd04cf",
                                                "content": {"title": "derived kind"}},
    {"kind": "report", "content": {"title": "t"}, "grading": 0}, {"kind": "report", "content": {"title": "t"},
                                                                  "grading": ()},
    {"kind": "report", "content": {"title": "t"}, "handling": {"tlp": StrTlp.AMBER}},
    {"kind": "report", "content": {"title": "t"}, "grading": {"credibility": Level.ONE}},
    {"kind": "report", "content": {"title": "t"}, "grading": {"credibility": 2.0}},
    {"kind": "report", "content": {"title": "t"}, "tags": ("a",)},
    {"kind": "report", "content": SubDict(title="t")},
    {"kind": "observation", "content": {"lat": decimal.Decimal(1), "lon": 2, "observed_from": "2026-01-01"}},
    {"kind": "observation", "content": {"lat": 1, "lon": 2, "precision_m": math.nan, "observed_from": "2026-01-01"}},
    {"kind": "entity", "content": {"entity_type": "group", "name": "n", "formerly_known_as": None}},
    {"kind": "note", "content": {"object_refs": ["note--0cb1e29c-658c-4a14-95e6-0af593bd04cf\n"], "content": "c"}},
    {"kind": "report", "content": {"title": "t"}, "handling": {"release": {"members": ["a", " A "]}}},
    {"kind": "report", "content": {"title": "t"}, "handling": {"release": {"scope": "all", "members": ["A"]}}},
    {"kind": "report", "content": {"title": "t"}, "handling": {"release": None}},
    {"kind": "report", "content": {"title": "t"}, "discoverable": None, "extensions": None},
])
@pytest.mark.parametrize("allow_times", [True, False])
def test_edge_cases(raw: Any, allow_times: bool) -> None:
    check_batch([raw], DEFAULT, allow_times)
