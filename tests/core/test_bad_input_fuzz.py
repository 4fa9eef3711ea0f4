"""Hostile input on every route, generated: the answer is never a 500, an error is problem+json naming the field
(the TAXII error shape under /taxii2/), no Python exception text leaks, and a refused write leaves the store as it
was. The routes come from the app's OpenAPI (and the TAXII router, which is left out of it), so a new route is
fuzzed without being listed here; ``test_every_route_is_fuzzed`` fails when one has no body or parameter template.

Bodies: a valid template per route with one field (anywhere in it) replaced by a hostile value (null, numbers past
64 bits, NaN and Infinity as raw JSON text, deep nesting, long strings, NUL, lone surrogate escapes), or a hostile
raw body (invalid JSON, non-UTF-8 bytes, empty, a wrong content type). Query parameters: each declared one set to
a hostile text (negative and huge numbers, forged paging tokens, bad timestamps and boxes, NUL), some repeated.
Path ids: very long, unicode, '..', percent-encoded slashes and NUL.

The broad fuzz runs on SQLite; PostgreSQL differs in what it refuses in text (NUL), which ``test_nul_anywhere``
and the regression examples below check on both backends.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accord.app import create_app
from accord.http import taxii
from accord.services import Services
from accord.storage.schema import metadata
from conftest import World, bearer

PROBLEM = "application/problem+json"
TAXII = "application/taxii+json;version=2.1"
HUB = "5f9c2e9c-7e57-4c1b-9d43-2b7c3a0c0001"
MISSING = "report--00000000-0000-4000-8000-000000000000"
# ACCORD_FUZZ_EXAMPLES=2000 for a longer hunt; the default keeps each fuzz test near 5 s.
EXAMPLES = int(os.environ.get("ACCORD_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LEAKS = re.compile(r"Traceback|object has no attribute|unhashable|not subscriptable|NoneType|sqlalchemy|psycopg|"
                   r"sqlite3|OperationalError|DataError|KeyError|TypeError|AttributeError|OverflowError")
# What a request may change even when refused: sessions, lock-out counters, rate limits, last-use times and the
# audit records of reads and failed logins.
VOLATILE_TABLES = {"audit_log", "audit_head", "sessions", "rate_limits"}
VOLATILE_COLUMNS = {"failed_logins", "locked_until", "last_seen", "last_used"}
READ_ACTIONS = re.compile(r"\.(read|list|history|export|html|drilldown|objects?|use|failed)$|^(report|stats)\.")


# ----- the store, before and after ---------------------------------------------------------------------------
def snapshot(svc: Services) -> dict[str, Any]:
    """Every row of every table a write may touch (less the volatile columns), and the audit trail's write
    records."""
    out: dict[str, Any] = {}
    with svc.db.read() as conn:
        for name, table in metadata.tables.items():
            if name in VOLATILE_TABLES:
                continue
            cols = [c for c in table.c if c.name not in VOLATILE_COLUMNS]
            out[name] = sorted(repr(tuple(r)) for r in conn.execute(select(*cols)))
        audit = metadata.tables["audit_log"]
        out["audit writes"] = sorted(a for (a,) in conn.execute(select(audit.c.action)) if not READ_ACTIONS.search(a))
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [k for k in before if before[k] != after.get(k)]


# ----- the hub every example acts on ---------------------------------------------------------------------------
@dataclass
class Hub:
    world: World
    app: Any
    ids: dict[str, str]  # path parameter -> a real value
    loop: asyncio.AbstractEventLoop

    def send(self, method: str, path: str, user: str | None, **kw: Any) -> httpx.Response:
        headers = {**(bearer(self.world, user) if user else {}), **kw.pop("headers", {})}
        if path.startswith("/taxii2"):
            headers.setdefault("Accept", TAXII)

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.request(method, path, headers=headers, **kw)

        return self.loop.run_until_complete(go())


@pytest.fixture
def hub(world: World, settings: Any) -> Iterator[Hub]:
    svc = world.svc
    item = world.share("alice", handling={"release": {"scope": "members", "members": ["BRAVO"]}})
    meeting = svc.meetings.create(world.p("alice"), {
        "title": "Quarterly", "date": "2026-03-01", "period": {"from": "2026-01-01", "to": "2026-02-01"},
        "members": ["BRAVO"]})
    svc.meetings.draft_summary(world.p("alice"), meeting["id"])
    entry = svc.meetings.add_minute(world.p("alice"), meeting["id"], {"kind": "action", "text": "do",
                                                                        "owner": "BRAVO"})
    ids = {"item_id": item["id"], "meeting_id": meeting["id"], "code": "ALPHA", "username": "breader",
           "collection_id": HUB, "object_id": "intrusion-set--" + item["id"].split("--")[1],
           "entry_id": entry["id"], "position": "0", "status_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12,
           "notice_id": "ntc_x", "token_id": "tok_x", "exclusion_id": "1"}
    loop = asyncio.new_event_loop()
    try:
        yield Hub(world, create_app(settings, svc), ids, loop)
    finally:
        loop.close()


def check(hub: Hub, method: str, path: str, r: httpx.Response, before: dict[str, Any] | None) -> None:
    """The product's rule for bad input, on one answer."""
    where = f"{method} {path[:200]} -> {r.status_code} {r.text[:300]}"
    assert r.status_code < 500, where
    assert not LEAKS.search(r.text), where
    if r.status_code >= 400:
        if path.startswith("/taxii2"):
            assert r.headers["content-type"] == TAXII, where
            body = r.json()
            assert body["title"] and body["http_status"] == str(r.status_code), where
        elif r.headers.get("content-type") == PROBLEM or path.startswith("/api/"):
            assert r.headers["content-type"] == PROBLEM, where
            body = r.json()
            assert body["status"] == r.status_code and body["type"].startswith("urn:accord:problem:"), where
            assert body["detail"], where
            if r.status_code == 422:
                assert body["errors"], where  # a 422 names the field at fault ("" for the body as a whole)
                assert all(isinstance(e["field"], str) and e["message"] for e in body["errors"]), where
        if before is not None:
            assert not changed(before, snapshot(hub.world.svc)), where


# ----- routes --------------------------------------------------------------------------------------------------
def api_routes(app: Any) -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path template, query parameter names, path parameter names) of every API route, from the
    OpenAPI, and of every TAXII route."""
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            params = op.get("parameters", [])
            out.append((method.upper(), path, [p["name"] for p in params if p["in"] == "query"],
                        [p["name"] for p in params if p["in"] == "path"]))
    taxii_query = ["match[id]", "match[type]", "match[version]", "match[spec_version]", "added_after", "next", "limit"]
    for route in taxii.router.routes:
        path = route.path  # type: ignore[attr-defined]
        for method in route.methods:  # type: ignore[attr-defined]
            out.append((method, path, taxii_query if method != "POST" else [], re.findall(r"{(\w+)}", path)))
    return sorted(out)


# A valid body per route that takes one (the hostile bodies are one mutation away from it).
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/items"): {"kind": "observation", "tags": ["t"], "grading": {"reliability": "B",
                                                                                   "credibility": 2},
                                "handling": {"tlp": "AMBER", "classification": 1,
                                             "release": {"scope": "members", "members": ["BRAVO"],
                                                         "consumers": False}},
                                "identifiers": [{"type": "phone", "value": "+33 1 23 45 67 89"}],
                                "content": {"lat": 1.5, "lon": 2.5, "observed_from": "2026-01-01T00:00:00Z",
                                            "precision_m": 10}},
    ("POST", "/api/v1/items/bulk"): {"items": [{"kind": "report", "content": {"title": "t", "body": "b"}},
                                               {"kind": "entity", "content": {"entity_type": "group", "name": "G",
                                                                              "aliases": ["H"]}}]},
    ("PATCH", "/api/v1/items/{item_id}"): {"version": 1, "tags": ["x"], "content": {"title": "t2"},
                                           "handling": {"release": {"scope": "members", "members": ["BRAVO"]}}},
    ("POST", "/api/v1/items/{item_id}/release"): {"members": ["CHARLIE"], "consumers": True},
    ("POST", "/api/v1/auth/login"): {"username": "alice", "password": "password-alice"},
    ("POST", "/api/v1/members"): {"code": "DELTA", "name": "Delta", "role": "member"},
    ("POST", "/api/v1/members/{code}/consumers"): {"code": "A-UNIT", "name": "Unit"},
    ("POST", "/api/v1/users"): {"username": "dan", "member": "ALPHA", "role": "analyst", "password": "long-password",
                                "clearance": 1, "display_name": "Dan", "consumer": None, "language": "en"},
    ("POST", "/api/v1/tokens"): {"username": "alice", "name": "n", "days": 3},
    ("POST", "/api/v1/meetings"): {"title": "M", "date": "2026-03-01", "place": "p", "agenda": ["a"],
                                   "period": {"from": "2026-01-01", "to": "2026-02-01"}, "members": ["BRAVO"]},
    ("PATCH", "/api/v1/meetings/{meeting_id}/summary"): {"narrative": "n", "present_figures": [0],
                                                         "present_highlights": [], "final": False},
    ("POST", "/api/v1/meetings/{meeting_id}/minutes"): {"kind": "action", "text": "x", "owner": "BRAVO",
                                                        "due": "2026-04-01"},
    ("PUT", "/api/v1/meetings/{meeting_id}/communique"): {"texts": {"en": "x", "fr": "y"},
                                                          "figures": [{"figure": "items", "kinds": ["report"],
                                                                       "audience": "members"}]},
    ("POST", "/api/v1/meetings/{meeting_id}/communique/changes"): {"comment": "c"},
    ("POST", "/api/v1/correlation/exclusions"): {"type": "phone", "value": "+123456789"},
    ("POST", "/taxii2/hub/collections/{collection_id}/objects/"): {"objects": [
        {"type": "intrusion-set", "spec_version": "2.1", "id": "intrusion-set--7c6a8f1e-0000-4000-8000-000000000001",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": "Grp",
         "aliases": ["G"], "x_note": {"k": 1}}]},
}
# Who sends each route's requests (a role that may do it, so the input is what gets judged).
USERS = {"/api/v1/members": "hub", "/api/v1/users": "hub", "/api/v1/audit": "hub",
         "/api/v1/correlation/exclusions": "aadmin", "/api/v1/auth/login": None}
# Routes whose real path ids are left out: a successful call would change the world the later examples act on.
DESTRUCTIVE = ("/revoke", "/disable", "/publish", "/submit", "/approve", "/done", "DELETE")


def user_for(path: str) -> str | None:
    for prefix, user in USERS.items():
        if path.startswith(prefix):
            return user
    return "alice"


# ----- hostile values ------------------------------------------------------------------------------------------
SURROGATE = "\ud800"  # json.dumps writes it as the escape \ud800, which no UTF-8 text can hold
HOSTILE_TEXT = ["", " ", "\x00", "a\x00b", SURROGATE, "a\udfffb", "x" * 5_000, "ü✓\u202e\ufeff", "..", "../..",
                "a/b", "%2F", "%00", "-1", "0", str(2**63), str(2**64), "1e400", "NaN", "Infinity", "true", "null",
                "2026-02-30T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-01-01",
                "yesterday", "ALPHA", "ZULU", "member:ZULU", "member:", MISSING, "report--x", "intrusion-set--",
                "mtg_" + "A" * 16, "A" * 48, "A" * 84, "!!!", "1,2,3", "1,2,3,4,5", "nan,nan,nan,nan",
                "-181,-91,181,91", "1e400,0,1,1", "0,0,inf,1", ",,,", "²", "١٢٣"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(HOSTILE_TEXT),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs", "Cc"]), max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=6) | st.sampled_from([[[[[[[[[[[]]]]]]]]]], {"a": {"b": {"c": {"d": {}}}}}])


def field_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += field_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += field_paths(v, (*prefix, i))
    return out


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    return [replaced(v, rest, new) if i == head else v for i, v in enumerate(value)]


RAW_BODIES = [b"", b"{", b'{"a":', b"[" * 5_000 + b"]" * 5_000, b"\xff\xfe\x00", b'{"a": "\xff"}', b"null", b"[]",
              b'"text"', b"1e999", b"NaN", b"-Infinity", b'{"a": 1} trailing', b"\xef\xbb\xbf{}", b'{"a": "\\ud800"}']


@st.composite
def body_requests(draw: Any, template: Any) -> dict[str, Any]:
    """Keyword arguments of a request with a hostile body built on ``template``."""
    how = draw(st.sampled_from(["field", "field", "field", "extra", "raw", "content-type"]))
    if how == "raw":
        return {"content": draw(st.sampled_from(RAW_BODIES)), "headers": {"content-type": "application/json"}}
    if how == "content-type":
        ctype = draw(st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                      "application/json; charset=latin-1", "multipart/form-data"]))
        return {"content": json.dumps(template).encode(), "headers": {"content-type": ctype}}
    body = template
    if how == "extra" and isinstance(template, dict):
        body = {**template, draw(st.sampled_from(["x", "\x00", "id", "kind", "version", ""])): draw(values)}
    else:
        body = replaced(template, draw(st.sampled_from(field_paths(template))), draw(values))
    return {"content": json.dumps(body, allow_nan=True).encode(), "headers": {"content-type": "application/json"}}


def fill(path: str, hub: Hub, ids: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: quote(ids.get(m.group(1)) or hub.ids[m.group(1)], safe="%"), path)


# ----- the fuzz tests ------------------------------------------------------------------------------------------
@pytest.mark.sqlite_only(reason="the broad fuzz: one backend keeps it quick; NUL, the one text difference, below")
@given(data=st.data())
@FUZZ
def test_hostile_bodies(hub: Hub, data: Any) -> None:
    method, path = data.draw(st.sampled_from(sorted(BODIES)), label="route")
    kw = data.draw(body_requests(BODIES[(method, path)]), label="request")
    if path.startswith("/taxii2") and kw["headers"]["content-type"] == "application/json":
        kw["headers"]["content-type"] = TAXII
    url = fill(path, hub, {})
    before = snapshot(hub.world.svc)
    r = hub.send(method, url, user_for(path), **kw)
    check(hub, method, url, r, before)


@pytest.mark.sqlite_only(reason="the broad fuzz: one backend keeps it quick; NUL, the one text difference, below")
@given(data=st.data())
@FUZZ
def test_hostile_query_parameters(hub: Hub, data: Any) -> None:
    routes = [r for r in api_routes(hub.app) if r[2]]
    method, path, names, _ = data.draw(st.sampled_from(routes), label="route")
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3), label="names")
    params = [(n, data.draw(st.sampled_from(HOSTILE_TEXT) | st.text(max_size=10), label=n)) for n in chosen]
    if data.draw(st.booleans(), label="repeat"):
        params += params
    # The required parameters the route names, when the draw left them out (so the hostile one is what is judged).
    base = {"from": "2026-01-01", "to": "2026-02-01", "figure": "items", "name": "x", "format": "html"}
    params += [(k, v) for k, v in base.items() if k in names and k not in chosen]
    # Percent-encoded by hand: a lone surrogate goes as the bytes of its UTF-8 form, which are not UTF-8.
    url = fill(path, hub, {}) + "?" + "&".join(f"{quote(k)}={quote(v, errors='surrogatepass')}" for k, v in params)
    before = snapshot(hub.world.svc) if method != "GET" else None
    r = hub.send(method, url, user_for(path))
    check(hub, method, url, r, before)


PATH_IDS = ["x" * 3_000, "ü✓\u202e", "..", "%2E%2E", "a%2Fb", "%2F", "%00", "a%00b", "%FF", "%ED%A0%80", "%20",
            "null", "-1", "0", str(2**63), "99999999999999999999999", "1e5", "NaN", MISSING, "report--x",
            "intrusion-set--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12, "mtg_x", "tok_x", "ntc_x", "min_x"]


@pytest.mark.sqlite_only(reason="the broad fuzz: one backend keeps it quick; NUL, the one text difference, below")
@given(data=st.data())
@FUZZ
def test_hostile_path_ids(hub: Hub, data: Any) -> None:
    routes = [r for r in api_routes(hub.app) if r[3]]
    method, path, _, names = data.draw(st.sampled_from(routes), label="route")
    destructive = any(d in path or d == method for d in DESTRUCTIVE)
    ids = {}
    for n in names:
        choices = PATH_IDS if destructive else [*PATH_IDS, hub.ids[n]]
        ids[n] = data.draw(st.sampled_from(choices), label=n)
    url = re.sub(r"{(\w+)}", lambda m: ids[m.group(1)], path)
    kw: dict[str, Any] = {}
    if (method, path) in BODIES:
        kw = {"content": json.dumps(BODIES[(method, path)]).encode(),
              "headers": {"content-type": TAXII if path.startswith("/taxii2") else "application/json"}}
    before = snapshot(hub.world.svc) if method != "GET" else None
    r = hub.send(method, url, user_for(path), **kw)
    check(hub, method, url, r, before)


NUL_BODIES = [(m, p) for (m, p) in BODIES if not p.startswith("/taxii2")]


@given(data=st.data())
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_nul_anywhere(hub: Hub, data: Any) -> None:
    """A NUL in any field of a body, a query parameter or a path id: PostgreSQL refuses it in text, so on that
    backend it reached the store as a 500 unless refused first."""
    where = data.draw(st.sampled_from(["body", "query", "path"]))
    if where == "body":
        method, path = data.draw(st.sampled_from(NUL_BODIES))
        template = BODIES[(method, path)]
        target = data.draw(st.sampled_from([p for p in field_paths(template) if p]))
        body = replaced(template, target, "a\x00b")
        url = fill(path, hub, {})
        kw: dict[str, Any] = {"json": body}
    elif where == "query":
        method, path, names, _ = data.draw(st.sampled_from([r for r in api_routes(hub.app) if r[2]]))
        url = fill(path, hub, {})
        kw = {"params": {n: "a\x00b" if n == names[0] else v for n, v in
                         {names[0]: "", "from": "2026-01-01", "to": "2026-02-01", "figure": "items",
                          "name": "x"}.items() if n == names[0] or n in names}}
    else:
        method, path, _, names = data.draw(st.sampled_from([r for r in api_routes(hub.app) if r[3]]))
        url = re.sub(r"{(\w+)}", "a%00b", path)
        kw = {"json": BODIES.get((method, path), {})}
        if path.startswith("/taxii2"):
            kw = {"content": json.dumps(kw["json"]).encode(), "headers": {"content-type": TAXII}}
    before = snapshot(hub.world.svc)
    r = hub.send(method, url, user_for(path), **kw)
    check(hub, method, url, r, before)
    assert r.status_code not in (200, 201, 202, 204) or where == "body", r.text


def test_every_route_is_fuzzed(app: Any) -> None:
    """Each route that takes a body has a template here, and every route has parameters or none to fuzz."""
    for method, path, _, _ in api_routes(app):
        if method in ("POST", "PUT", "PATCH"):
            takes_body = not path.endswith(("/revoke", "/disable", "/summary", "/done", "/submit", "/approve",
                                            "/publish", "/dismiss", "/logout")) or method == "PATCH"
            if path.endswith(("/release",)) and "notices" in path:
                takes_body = False
            if takes_body:
                assert (method, path) in BODIES, f"{method} {path}: add a valid body template to BODIES"


# ----- regression examples: what the fuzz found --------------------------------------------------------------
def refused(hub: Hub, method: str, path: str, user: str | None, status: int, field: str | None, **kw: Any) -> None:
    before = snapshot(hub.world.svc)
    r = hub.send(method, path, user, **kw)
    check(hub, method, path, r, before)
    assert r.status_code == status, r.text
    if field is not None:
        fields = [e["field"] for e in (r.json().get("errors") or r.json().get("details", {}).get("errors", []))]
        assert field in fields, r.text


@pytest.mark.parametrize("handling", [1, "AMBER", [], 2**64])  # null: the default handling, as on create
def test_a_patch_whose_handling_is_not_an_object_is_refused_by_name(hub: Hub, handling: Any) -> None:
    refused(hub, "PATCH", f"/api/v1/items/{hub.ids['item_id']}", "alice", 422, "handling",
            json={"content": {"title": "t"}, "handling": handling})


@pytest.mark.parametrize("version", ["1", 1.0, True, None, [1]])
def test_a_patch_version_that_is_not_a_whole_number_is_refused_by_name(hub: Hub, version: Any) -> None:
    refused(hub, "PATCH", f"/api/v1/items/{hub.ids['item_id']}", "alice", 422, "version",
            json={"version": version, "tags": ["x"]})


@pytest.mark.parametrize("before", [str(2**63), "9" * 30, "²"])
def test_an_audit_position_past_64_bits_is_refused_by_name(hub: Hub, before: str) -> None:
    refused(hub, "GET", "/api/v1/audit", "hub", 422, "before", params={"before": before})


def test_a_figure_position_past_64_bits_is_refused_by_name(hub: Hub) -> None:
    refused(hub, "GET", f"/api/v1/meetings/{hub.ids['meeting_id']}/communique/figures/{2**64}/items", "alice", 422,
            "position")


def test_an_exclusion_id_past_64_bits_is_refused_by_name(hub: Hub) -> None:
    refused(hub, "DELETE", f"/api/v1/correlation/exclusions/{2**63}", "aadmin", 422, "exclusion_id")


@pytest.mark.parametrize("figure", [[], {}, ["items"]])
def test_a_communique_figure_that_is_not_a_name_is_refused_by_name(hub: Hub, figure: Any) -> None:
    refused(hub, "PUT", f"/api/v1/meetings/{hub.ids['meeting_id']}/communique", "alice", 422, "figures[0].figure",
            json={"figures": [{"figure": figure}]})


@pytest.mark.parametrize(("method", "path", "user", "body", "field"), [
    ("POST", "/api/v1/members", "hub", {"code": "DELTA", "name": "a\x00b"}, "name"),
    ("POST", "/api/v1/users", "hub", {"username": "dan", "member": "ALPHA", "role": "analyst",
                                      "display_name": "a\x00b"}, "display_name"),
    ("POST", "/api/v1/tokens", "alice", {"name": "a\x00b"}, "name"),
    ("POST", "/api/v1/auth/login", None, {"username": "a\x00b", "password": "p"}, "username"),
    ("POST", "/api/v1/meetings", "alice", {"title": "a\x00b", "date": "2026-03-01", "members": ["BRAVO"],
                                           "period": {"from": "2026-01-01", "to": "2026-02-01"}}, "title"),
    ("POST", "/api/v1/meetings/{meeting_id}/minutes", "alice", {"kind": "note", "text": "a\x00b"}, "text"),
    ("PATCH", "/api/v1/meetings/{meeting_id}/summary", "alice", {"narrative": "a\x00b"}, "narrative"),
    ("PUT", "/api/v1/meetings/{meeting_id}/communique", "alice", {"texts": {"en": "a\x00b"}}, "texts.en"),
    ("POST", "/api/v1/correlation/exclusions", "aadmin", {"type": "name", "value": "a\x00b"}, "value"),
])
def test_a_nul_in_a_body_is_refused_by_name_on_both_backends(hub: Hub, method: str, path: str, user: str | None,
                                                             body: Any, field: str) -> None:
    refused(hub, method, fill(path, hub, {}), user, 422, field, json=body)


def test_a_lone_surrogate_in_an_admin_body_is_refused_by_name(hub: Hub) -> None:
    body = b'{"username": "dan", "member": "ALPHA", "role": "analyst", "consumer": "\\ud800"}'
    refused(hub, "POST", "/api/v1/users", "hub", 422, "consumer", content=body,
            headers={"content-type": "application/json"})


@pytest.mark.parametrize(("path", "user", "field"), [
    ("/api/v1/items?tag=a%00b", "alice", "tag"), ("/api/v1/items?originator=%00", "alice", "originator"),
    ("/api/v1/audit?action=a%00b", "hub", "action"),
    ("/api/v1/stats/activity?from=2026-01-01&to=2026-02-01&member=a%00b", "alice", "member"),
    (f"/taxii2/hub/collections/{HUB}/objects/?match[type]=a%00b", "alice", "match[type]"),
])
def test_a_nul_in_a_query_parameter_is_refused_by_name_on_both_backends(hub: Hub, path: str, user: str,
                                                                        field: str) -> None:
    refused(hub, "GET", path, user, 422, field)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/meetings/a%00b"), ("DELETE", "/api/v1/tokens/a%00b"), ("POST", "/api/v1/users/a%00b/disable"),
    ("GET", "/taxii2/hub/status/a%00b/"), ("DELETE", f"/taxii2/hub/collections/{HUB}/objects/a%00b/"),
])
def test_a_nul_in_a_path_id_is_no_such_object_on_both_backends(hub: Hub, method: str, path: str) -> None:
    refused(hub, method, path, "hub", 404, None)


def test_a_nul_in_a_page_form_is_refused_by_name(hub: Hub) -> None:
    r = hub.send("POST", "/login", None, data={"username": "a\x00b", "password": "p", "next": "/dashboard"},
                 headers={"accept": "text/html", "origin": "http://testserver"})
    assert r.status_code == 422 and "username" in r.text and not LEAKS.search(r.text), r.text


def test_a_csv_cell_with_a_superscript_digit_is_refused_by_name(hub: Hub) -> None:
    from conftest import page_login

    client, csrf = page_login(hub.app, "alice")
    csv = "kind,title,body,classification,credibility\nreport,t,b,²,³\n".encode()
    r = client.post("/share/bulk", data={"csrf_token": csrf, "format": "csv"},
                    files={"file": ("items.csv", csv, "text/csv")})
    assert r.status_code == 200 and not LEAKS.search(r.text), r.text
    assert "handling.classification" in r.text and "grading.credibility" in r.text
