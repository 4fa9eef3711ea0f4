"""Batch validation: ``check_items`` gives, element by element, exactly what ``check_item`` returns or raises.

Each object first tries a fast path: one straight-line function per kind that accepts only objects ``check_item``
accepts and builds the same ``Draft`` (same values, types and key order) without the checker's bookkeeping (no
error list, no field paths, no per-field method calls). It answers None at the first thing it does not like, and
that object then goes through ``check_item``, which names every bad field. So the fast path may be conservative
(exotic but valid input, e.g. a dict subclass, takes the slow path) but never more permissive, and error lists come
from one place. ``tests/core/test_validate_fast.py`` checks the two against each other on generated valid,
near-valid and broken objects; ``bench/validate.py`` measures the gain.

Why plain Python and not a model library: ``msgspec.convert`` from dicts costs about as much as this whole path
(~1.5 us per item for one Struct per kind, ~4 us through a tagged union) and accepts tuples, sets, Decimals and any
Mapping where ``check_item`` refuses them, so it would need the same exact-type guards on top. What remains here
is mostly irreducible per-field work (a dozen lookups, two or three regexes, one ``fromisoformat`` per timestamp,
the Draft itself); the next step is decoding the request bytes straight into typed structs at the adapter, where
the input is known to hold JSON types only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from accord.config import Settings
from accord.errors import ValidationFailed
from accord.sharing.handling import CLASSIFICATIONS, CREDIBILITY, ENTITY_TYPES, RELEASE_SCOPES, RELIABILITY, TLP
from accord.sharing.validate import (
    _ID,
    _LANG,
    _SLUG,
    _TOP_KEYS,
    IDENTIFIER_TYPES,
    MAX_LIST,
    Draft,
    check_item,
    new_id,
    stored_ts,
)

__all__ = ["check_items"]

_TOP_WITH_TIMES = frozenset(_TOP_KEYS)
_TOP_WITHOUT_TIMES = _TOP_WITH_TIMES - {"created", "modified", "version"}
_HANDLING_KEYS = frozenset({"tlp", "classification", "release"})
_RELEASE_KEYS = frozenset({"scope", "members", "consumers"})
_GRADING_KEYS = frozenset({"reliability", "credibility"})
_IDENT_KEYS = frozenset({"type", "value"})
_IDENT_TYPES = frozenset(IDENTIFIER_TYPES)
_TLP = frozenset(TLP)
_SCOPES = frozenset(RELEASE_SCOPES)
_CLASS_INDEX = {name: i for i, name in enumerate(CLASSIFICATIONS)}
_RELIABILITY = frozenset(RELIABILITY)
_CREDIBILITY = frozenset(CREDIBILITY)
_ENTITY_TYPES = frozenset(ENTITY_TYPES)
_NO_MEMBERS: list[str] = []  # never handed out: the defaults below build fresh lists
_REPORT_KEYS = frozenset({"title", "body"})
_OBSERVATION_KEYS = frozenset({"lat", "lon", "precision_m", "observed_from", "observed_to", "place_name",
                               "description"})
_ENTITY_KEYS = frozenset({"entity_type", "name", "aliases", "formerly_known_as", "description"})
_RELATIONSHIP_KEYS = frozenset({"relationship_type", "source_ref", "target_ref", "description"})
_NOTE_KEYS = frozenset({"object_refs", "content"})


class _Limits:
    __slots__ = ("long", "name")

    def __init__(self, settings: Settings) -> None:
        self.name = settings.max_name
        self.long = settings.max_string


def _text(v: Any, limit: int) -> bool:
    """A required text field as ``_Checker.text`` accepts it."""
    return type(v) is str and len(v) <= limit and "\x00" not in v and bool(v.strip())


def _optional_text(v: Any, limit: int) -> bool:
    return type(v) is str and len(v) <= limit and "\x00" not in v


def _strings(v: Any, limit: int) -> list[str] | None:
    """``_Checker.strings`` for a list that is present and not None; None when it would report an error."""
    if type(v) is not list or len(v) > MAX_LIST:
        return None
    out = []
    for x in v:
        if type(x) is not str or len(x) > limit or "\x00" in x:
            return None
        x = x.strip()
        if not x:
            return None
        out.append(x)
    return list(dict.fromkeys(out)) if len(out) > 1 else out


def _ref(v: Any, kind: str | None) -> bool:
    if type(v) is not str:
        return False
    m = _ID.match(v)
    if m is None:
        return False
    k = m.group(1)
    return k == kind if kind else k in _CONTENT


def _number(v: Any, lo: float, hi: float) -> float | None:
    t = type(v)
    if t is float:
        return v if lo <= v <= hi else None  # NaN fails the comparison
    if t is int:
        return float(v) if lo <= v <= hi else None
    return None


# Content checkers: (raw content dict, limits, refs to fill) -> content dict, or None for the slow path.
def _report(c: dict[str, Any], lim: _Limits, refs: dict[str, str]) -> dict[str, Any] | None:
    if not c.keys() <= _REPORT_KEYS:
        return None
    title = c.get("title")
    if not _text(title, lim.name):
        return None
    body = c.get("body")
    if body is None:
        body = ""
    elif not _optional_text(body, lim.long):
        return None
    return {"title": title, "body": body}


def _observation(c: dict[str, Any], lim: _Limits, refs: dict[str, str]) -> dict[str, Any] | None:
    if not c.keys() <= _OBSERVATION_KEYS:
        return None
    lat = _number(c.get("lat"), -90, 90)
    lon = _number(c.get("lon"), -180, 180)
    if lat is None or lon is None:
        return None
    out: dict[str, Any] = {"lat": lat, "lon": lon}
    precision = c.get("precision_m")
    if precision is not None:
        precision = _number(precision, 0, 20_000_000)
        if precision is None:
            return None
        out["precision_m"] = precision
    start = c.get("observed_from")
    if start is None or (start := stored_ts(start)) is None:
        return None
    out["observed_from"] = start
    end = c.get("observed_to")
    if end is not None:
        end = stored_ts(end)
        if end is None or end < start:
            return None
        out["observed_to"] = end
    place = c.get("place_name")
    if place is not None:
        if not _optional_text(place, lim.name):
            return None
        out["place_name"] = place
    desc = c.get("description")
    if desc is not None:
        if not _optional_text(desc, lim.long):
            return None
        out["description"] = desc
    return out


def _entity(c: dict[str, Any], lim: _Limits, refs: dict[str, str]) -> dict[str, Any] | None:
    if not c.keys() <= _ENTITY_KEYS:
        return None
    et = c.get("entity_type")
    name = c.get("name")
    if type(et) is not str or et not in _ENTITY_TYPES or not _text(name, lim.name):
        return None
    out: dict[str, Any] = {"entity_type": et, "name": name}
    aliases = c.get("aliases")
    if aliases is not None:
        aliases = _strings(aliases, lim.name)
        if aliases is None:
            return None
        if aliases:
            out["aliases"] = aliases
    if "formerly_known_as" in c:
        fka = c["formerly_known_as"]
        if type(fka) is not list or len(fka) > MAX_LIST:
            return None
        for i, v in enumerate(fka):
            if not _ref(v, "entity"):
                return None
            refs[f"content.formerly_known_as[{i}]"] = v
        if fka:
            out["formerly_known_as"] = list(fka)
    desc = c.get("description")
    if desc is not None:
        if not _optional_text(desc, lim.long):
            return None
        out["description"] = desc
    return out


def _relationship(c: dict[str, Any], lim: _Limits, refs: dict[str, str]) -> dict[str, Any] | None:
    if not c.keys() <= _RELATIONSHIP_KEYS:
        return None
    rt = c.get("relationship_type")
    src: Any = c.get("source_ref")
    tgt: Any = c.get("target_ref")
    if type(rt) is not str or not _SLUG.match(rt) or not _ref(src, None) or not _ref(tgt, "entity"):
        return None
    refs["content.source_ref"] = src
    refs["content.target_ref"] = tgt
    out: dict[str, Any] = {"relationship_type": rt, "source_ref": src, "target_ref": tgt}
    desc = c.get("description")
    if desc is not None:
        if not _optional_text(desc, lim.long):
            return None
        out["description"] = desc
    return out


def _note(c: dict[str, Any], lim: _Limits, refs: dict[str, str]) -> dict[str, Any] | None:
    if not c.keys() <= _NOTE_KEYS:
        return None
    objs = c.get("object_refs")
    text = c.get("content")
    if type(objs) is not list or not objs or len(objs) > MAX_LIST or not _text(text, lim.long):
        return None
    for i, v in enumerate(objs):
        if not _ref(v, None):
            return None
        refs[f"content.object_refs[{i}]"] = v
    return {"object_refs": list(objs), "content": text}


_ContentCheck = Callable[[dict[str, Any], _Limits, dict[str, str]], "dict[str, Any] | None"]
_CONTENT: dict[str, _ContentCheck] = {"report": _report, "observation": _observation, "entity": _entity,
                                      "relationship": _relationship, "note": _note}


def _handling(h: Any) -> tuple[str, int, str, list[str], bool] | None:
    if type(h) is not dict or not h.keys() <= _HANDLING_KEYS:
        return None
    tlp = h.get("tlp", "amber")
    if type(tlp) is not str:
        return None
    if tlp not in _TLP:
        tlp = tlp.lower().removeprefix("tlp:")
        if tlp not in _TLP:
            return None
    cls = h.get("classification", 0)
    t = type(cls)
    if t is str:
        cls = _CLASS_INDEX.get(cls)
        if cls is None:
            return None
    elif t is not int or not 0 <= cls < len(CLASSIFICATIONS):
        return None
    if "release" not in h:
        return tlp, cls, "originator", [], False
    rel = h["release"]
    if type(rel) is not dict or not rel.keys() <= _RELEASE_KEYS:
        return None
    members = rel.get("members", _NO_MEMBERS)
    if type(members) is not list or len(members) > MAX_LIST:
        return None
    scope = rel.get("scope", "members" if members else "originator")
    if type(scope) is not str or scope not in _SCOPES:
        return None
    codes = []
    for m in members:
        if type(m) is not str:
            return None
        m = m.strip()
        if not m:
            return None
        codes.append(m.upper())
    if (scope == "members") != bool(codes):
        return None
    consumers = rel.get("consumers", False)
    if type(consumers) is not bool:
        return None
    return tlp, cls, scope, list(dict.fromkeys(codes)) if len(codes) > 1 else codes, consumers


def _fast(raw: Any, lim: _Limits, allow_times: bool) -> Draft | None:
    """The Draft ``check_item`` would return, or None to let ``check_item`` decide."""
    if type(raw) is not dict or not raw.keys() <= (_TOP_WITH_TIMES if allow_times else _TOP_WITHOUT_TIMES):
        return None
    kind = raw.get("kind")
    if type(kind) is not str:
        return None
    check_content = _CONTENT.get(kind)
    if check_content is None:
        return None
    item_id = raw.get("id")
    if item_id is None:
        item_id = new_id(kind)
    elif type(item_id) is not str or (m := _ID.match(item_id)) is None or m.group(1) != kind:
        return None
    lang = raw.get("language")
    if lang is not None and (type(lang) is not str or not _LANG.match(lang)):
        return None
    h = raw.get("handling")
    if h is None:
        tlp, cls, scope, consumers = "amber", 0, "originator", False
        members: list[str] = []
    else:
        handling = _handling(h)
        if handling is None:
            return None
        tlp, cls, scope, members, consumers = handling
    reliability = credibility = None
    g = raw.get("grading")
    if g:
        if type(g) is not dict or not g.keys() <= _GRADING_KEYS:
            return None
        reliability = g.get("reliability")
        if reliability is not None and (type(reliability) is not str or reliability not in _RELIABILITY):
            return None
        credibility = g.get("credibility")
        if credibility is not None and (type(credibility) is not int or credibility not in _CREDIBILITY):
            return None
    elif g is not None and type(g) is not dict:
        return None  # check_item takes any falsy value (0, "", []) as no grading; rare enough for the slow path
    tags = raw.get("tags")
    if tags is None:
        tags = []
    else:
        tags = _strings(tags, lim.name)
        if tags is None:
            return None
    disc = raw.get("discoverable")
    if disc is None:
        if "discoverable" in raw:
            return None
        disc = kind == "entity" or kind == "observation"
    elif type(disc) is not bool:
        return None
    identifiers: list[dict[str, str]] = []
    if "identifiers" in raw:
        idents = raw["identifiers"]
        if type(idents) is not list or len(idents) > MAX_LIST:
            return None
        for ident in idents:
            if type(ident) is not dict or not ident.keys() <= _IDENT_KEYS:
                return None
            itype = ident.get("type")
            value: Any = ident.get("value")
            if type(itype) is not str or itype not in _IDENT_TYPES or not _text(value, lim.name):
                return None
            identifiers.append({"type": itype, "value": value.strip()})
    ext = raw.get("extensions")
    if ext is None:
        if "extensions" in raw:
            return None
        ext = {}
    elif type(ext) is not dict:
        return None
    c = raw.get("content")
    if type(c) is not dict:
        return None
    refs: dict[str, str] = {}
    content = check_content(c, lim, refs)
    if content is None:
        return None
    created = modified = None
    if allow_times:
        created = raw.get("created")
        if created is not None and (created := stored_ts(created)) is None:
            return None
        modified = raw.get("modified")
        if modified is not None and (modified := stored_ts(modified)) is None:
            return None
        if created and modified and modified < created:
            return None
    return Draft(item_id, kind, lang, tlp, cls, scope, members, consumers, reliability, credibility, tags, disc,
                 content, identifiers, ext, created, modified, refs)


def check_items(raws: Sequence[Any], settings: Settings, *, allow_times: bool = False
                ) -> list[Draft | ValidationFailed]:
    """``check_item`` over a batch: for each object its Draft, or the ValidationFailed ``check_item`` raises."""
    lim = _Limits(settings)
    out: list[Draft | ValidationFailed] = []
    append = out.append
    for raw in raws:
        d = _fast(raw, lim, allow_times)
        if d is None:
            try:
                d = check_item(raw, settings, allow_times=allow_times)
            except ValidationFailed as exc:
                append(exc)
                continue
        append(d)
    return out
