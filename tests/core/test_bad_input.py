"""Bad input on every endpoint: a problem+json answer naming the field, and nothing stored. A bulk request with
bad objects stores the good ones and nothing of the bad."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture
from sqlalchemy import bindparam, func, select, text

import accord.sharing.accounts as accounts
from accord.app import create_app
from accord.config import Settings, load_settings
from accord.services import Services, build_services
from conftest import World, bearer, build_world

PROBLEM = "application/problem+json"
MISSING = "report--00000000-0000-4000-8000-000000000000"
LIMITS = {"max_body_bytes": 64_000, "max_batch": 20, "max_name": 50, "max_string": 2_000, "page_size_max": 100}
DATA_TABLES = ("items", "item_release", "item_tags", "items_fts", "item_versions", "members", "consumers", "users",
               "tokens")
WRITE_ACTIONS = ("item.create", "item.update", "item.revoke", "member.add", "consumer.add", "user.add",
                 "user.disable", "token.create", "token.revoke")


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(env={}, data=str(tmp_path / "data"), database_url=db_url, secret_key="t" * 40, **LIMITS)


def snapshot(svc: Services) -> dict[str, int]:
    """Row counts of every table a write touches, and the number of write records in the audit trail."""
    with svc.db.read() as conn:
        # SQLite's contentless full-text table cannot be scanned; its docsize shadow table has a row per entry.
        names = {t: "items_fts_docsize" if t == "items_fts" and svc.db.dialect == "sqlite" else t for t in DATA_TABLES}
        out = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {names[t]}").scalar_one() for t in DATA_TABLES}  # noqa: S608
        out["audit writes"] = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action IN :actions").bindparams(
                bindparam("actions", expanding=True)), {"actions": list(WRITE_ACTIONS)}).scalar_one()
    return out


def report(**kw: Any) -> dict[str, Any]:
    return {"kind": "report", "content": {"title": "Depot", "body": "Trucks"}, **kw}


def observation(**content: Any) -> dict[str, Any]:
    return {"kind": "observation", "content": {"lat": 10.0, "lon": 20.0, "observed_from": "2026-01-01T00:00:00Z",
                                               **content}}


def with_content(item: dict[str, Any], **content: Any) -> dict[str, Any]:
    return {**item, "content": {**item["content"], **content}}


LONG_NAME = "x" * 51
SAMPLE_PARAMS = {MISSING, "not-an-id", "report--x", "ALPHA", "ZULU", "nobody", "bob", "abc"}
# (case id, method, path, request kwargs, user, status, field named in errors (None: no errors list))
CASES: list[tuple[str, str, str, dict[str, Any], str, int, str | None]] = [
    # POST /items: JSON, types, missing and unknown fields, ranges, lengths, timestamps, references, clearance
    ("item-invalid-json", "POST", "/api/v1/items", {"content": b'{"kind": "report",'}, "alice", 422, ""),
    ("item-not-object", "POST", "/api/v1/items", {"json": [1, 2]}, "alice", 422, ""),
    ("item-empty-body", "POST", "/api/v1/items", {"content": b""}, "alice", 422, ""),
    ("item-no-kind", "POST", "/api/v1/items", {"json": {"content": {"title": "x"}}}, "alice", 422, "kind"),
    ("item-bad-kind", "POST", "/api/v1/items", {"json": {"kind": "memo", "content": {}}}, "alice", 422, "kind"),
    ("item-no-content", "POST", "/api/v1/items", {"json": {"kind": "report"}}, "alice", 422, "content"),
    ("item-missing-title", "POST", "/api/v1/items", {"json": {"kind": "report", "content": {"body": "b"}}}, "alice",
     422, "content.title"),
    ("item-title-type", "POST", "/api/v1/items", {"json": with_content(report(), title=5)}, "alice", 422,
     "content.title"),
    ("item-title-empty", "POST", "/api/v1/items", {"json": with_content(report(), title="  ")}, "alice", 422,
     "content.title"),
    ("item-title-nul", "POST", "/api/v1/items", {"json": with_content(report(), title="a\x00b")}, "alice", 422,
     "content.title"),
    ("item-title-long", "POST", "/api/v1/items", {"json": with_content(report(), title=LONG_NAME)}, "alice", 422,
     "content.title"),
    ("item-body-long", "POST", "/api/v1/items", {"json": with_content(report(), body="y" * 2001)}, "alice", 422,
     "content.body"),
    ("item-unknown-field", "POST", "/api/v1/items", {"json": report(colour="red")}, "alice", 422, "colour"),
    ("item-unknown-content", "POST", "/api/v1/items", {"json": with_content(report(), lat=1)}, "alice", 422,
     "content.lat"),
    ("item-unknown-handling", "POST", "/api/v1/items", {"json": report(handling={"secret": True})}, "alice", 422,
     "handling.secret"),
    ("item-unknown-release", "POST", "/api/v1/items",
     {"json": report(handling={"release": {"scope": "all", "to": "x"}})}, "alice", 422, "handling.release.to"),
    ("item-unknown-grading", "POST", "/api/v1/items", {"json": report(grading={"score": 1})}, "alice", 422,
     "grading.score"),
    ("item-tags-type", "POST", "/api/v1/items", {"json": report(tags="a,b")}, "alice", 422, "tags"),
    ("item-tag-long", "POST", "/api/v1/items", {"json": report(tags=[LONG_NAME])}, "alice", 422, "tags[0]"),
    ("item-tlp", "POST", "/api/v1/items", {"json": report(handling={"tlp": "purple"})}, "alice", 422, "handling.tlp"),
    ("item-classification", "POST", "/api/v1/items", {"json": report(handling={"classification": 7})}, "alice", 422,
     "handling.classification"),
    ("item-classification-type", "POST", "/api/v1/items", {"json": report(handling={"classification": True})},
     "alice", 422, "handling.classification"),
    ("item-above-clearance", "POST", "/api/v1/items", {"json": report(handling={"classification": 3})}, "bob", 422,
     "handling.classification"),
    ("item-scope", "POST", "/api/v1/items", {"json": report(handling={"release": {"scope": "world"}})}, "alice", 422,
     "handling.release.scope"),
    ("item-members-missing", "POST", "/api/v1/items", {"json": report(handling={"release": {"scope": "members"}})},
     "alice", 422, "handling.release.members"),
    ("item-members-unknown", "POST", "/api/v1/items",
     {"json": report(handling={"release": {"scope": "members", "members": ["ZULU"]}})}, "alice", 422,
     "handling.release.members[0]"),
    ("item-consumers-type", "POST", "/api/v1/items",
     {"json": report(handling={"release": {"scope": "all", "consumers": "yes"}})}, "alice", 422,
     "handling.release.consumers"),
    ("item-reliability", "POST", "/api/v1/items", {"json": report(grading={"reliability": "Z"})}, "alice", 422,
     "grading.reliability"),
    ("item-credibility", "POST", "/api/v1/items", {"json": report(grading={"credibility": 9})}, "alice", 422,
     "grading.credibility"),
    ("item-language", "POST", "/api/v1/items", {"json": report(language="English!")}, "alice", 422, "language"),
    ("item-discoverable", "POST", "/api/v1/items", {"json": report(discoverable="yes")}, "alice", 422,
     "discoverable"),
    ("item-identifier", "POST", "/api/v1/items", {"json": report(identifiers=[{"type": "dna", "value": "x"}])},
     "alice", 422, "identifiers[0]"),
    ("item-id", "POST", "/api/v1/items", {"json": report(id="report--not-a-uuid")}, "alice", 422, "id"),
    ("item-id-kind", "POST", "/api/v1/items", {"json": report(id=f"entity--{MISSING[8:]}")}, "alice", 422, "id"),
    ("item-created-set", "POST", "/api/v1/items", {"json": report(created="2026-01-01T00:00:00Z")}, "alice", 422,
     "created"),
    ("obs-lat-range", "POST", "/api/v1/items", {"json": observation(lat=90.5)}, "alice", 422, "content.lat"),
    ("obs-lon-range", "POST", "/api/v1/items", {"json": observation(lon=-180.01)}, "alice", 422, "content.lon"),
    ("obs-lat-type", "POST", "/api/v1/items", {"json": observation(lat="10")}, "alice", 422, "content.lat"),
    ("obs-lat-bool", "POST", "/api/v1/items", {"json": observation(lat=True)}, "alice", 422, "content.lat"),
    ("obs-precision", "POST", "/api/v1/items", {"json": observation(precision_m=-1)}, "alice", 422,
     "content.precision_m"),
    ("obs-time", "POST", "/api/v1/items", {"json": observation(observed_from="yesterday")}, "alice", 422,
     "content.observed_from"),
    ("obs-time-month", "POST", "/api/v1/items", {"json": observation(observed_from="2026-13-01T00:00:00.000Z")},
     "alice", 422, "content.observed_from"),
    ("obs-time-order", "POST", "/api/v1/items", {"json": observation(observed_to="2025-01-01T00:00:00Z")}, "alice",
     422, "content.observed_to"),
    ("obs-time-overflow", "POST", "/api/v1/items", {"json": observation(observed_from="0001-01-01T00:00:00+01:00")},
     "alice", 422, "content.observed_from"),
    ("entity-type", "POST", "/api/v1/items", {"json": {"kind": "entity", "content": {"entity_type": "x", "name": "n"}}},
     "alice", 422, "content.entity_type"),
    ("entity-aliases", "POST", "/api/v1/items",
     {"json": {"kind": "entity", "content": {"entity_type": "group", "name": "n", "aliases": [""]}}}, "alice", 422,
     "content.aliases[0]"),
    ("rel-missing-ref", "POST", "/api/v1/items",
     {"json": {"kind": "relationship", "content": {"relationship_type": "member-of", "source_ref": MISSING,
                                                   "target_ref": f"entity--{MISSING[8:]}"}}}, "alice", 422,
     "content.source_ref"),
    ("rel-type", "POST", "/api/v1/items",
     {"json": {"kind": "relationship", "content": {"relationship_type": "Member Of", "source_ref": MISSING,
                                                   "target_ref": f"entity--{MISSING[8:]}"}}}, "alice", 422,
     "content.relationship_type"),
    ("note-no-refs", "POST", "/api/v1/items", {"json": {"kind": "note", "content": {"content": "x"}}}, "alice", 422,
     "content.object_refs"),
    ("item-oversize", "POST", "/api/v1/items", {"json": with_content(report(), body="z" * 70_000)}, "alice", 413,
     None),
    ("item-reader", "POST", "/api/v1/items", {"json": report()}, "breader", 403, None),
    # POST /items/bulk
    ("bulk-invalid-json", "POST", "/api/v1/items/bulk", {"content": b"[{"}, "alice", 422, ""),
    ("bulk-not-list", "POST", "/api/v1/items/bulk", {"json": {"items": {"kind": "report"}}}, "alice", 422, "items"),
    ("bulk-no-items", "POST", "/api/v1/items/bulk", {"json": {"objects": []}}, "alice", 422, "items"),
    ("bulk-oversize-batch", "POST", "/api/v1/items/bulk", {"json": [report() for _ in range(21)]}, "alice", 413,
     None),
    ("bulk-oversize-body", "POST", "/api/v1/items/bulk", {"json": [with_content(report(), body="z" * 1_900)] * 40},
     "alice", 413, None),
    # PATCH, revoke, release on an existing item ({id})
    ("patch-invalid-json", "PATCH", "/api/v1/items/{id}", {"content": b"{"}, "alice", 422, ""),
    ("patch-not-object", "PATCH", "/api/v1/items/{id}", {"json": ["x"]}, "alice", 422, ""),
    ("patch-kind", "PATCH", "/api/v1/items/{id}", {"json": {"kind": "entity"}}, "alice", 422, "kind"),
    ("patch-unknown", "PATCH", "/api/v1/items/{id}", {"json": {"colour": "red"}}, "alice", 422, "colour"),
    ("patch-title", "PATCH", "/api/v1/items/{id}", {"json": {"content": {"title": 5}}}, "alice", 422,
     "content.title"),
    ("patch-content-unknown", "PATCH", "/api/v1/items/{id}", {"json": {"content": {"lat": 5}}}, "alice", 422,
     "content.lat"),
    ("patch-members", "PATCH", "/api/v1/items/{id}",
     {"json": {"handling": {"release": {"scope": "members", "members": ["ZULU"]}}}}, "alice", 422,
     "handling.release.members[0]"),
    ("patch-stale", "PATCH", "/api/v1/items/{id}", {"json": {"version": 7, "tags": ["x"]}}, "alice", 409, None),
    ("patch-not-originator", "PATCH", "/api/v1/items/{id}", {"json": {"tags": ["x"]}}, "bob", 403, None),
    ("patch-missing", "PATCH", f"/api/v1/items/{MISSING}", {"json": {"tags": ["x"]}}, "alice", 404, None),
    ("release-invalid-json", "POST", "/api/v1/items/{id}/release", {"content": b"nope"}, "alice", 422, ""),
    ("release-members-type", "POST", "/api/v1/items/{id}/release", {"json": {"members": "BRAVO"}}, "alice", 422,
     "members"),
    ("release-consumers-type", "POST", "/api/v1/items/{id}/release", {"json": {"members": ["BRAVO"],
                                                                              "consumers": "yes"}}, "alice", 422,
     "consumers"),
    ("release-unknown-member", "POST", "/api/v1/items/{id}/release", {"json": {"members": ["ZULU"]}}, "alice", 422,
     "handling.release.members[1]"),  # merged with the existing release: BRAVO, ZULU
    ("revoke-missing", "POST", f"/api/v1/items/{MISSING}/revoke", {}, "alice", 404, None),
    ("revoke-not-originator", "POST", "/api/v1/items/{id}/revoke", {}, "bob", 403, None),
    # GET /items: paging, filters
    ("list-limit-zero", "GET", "/api/v1/items", {"params": {"limit": 0}}, "alice", 422, "limit"),
    ("list-limit-text", "GET", "/api/v1/items", {"params": {"limit": "ten"}}, "alice", 422, "limit"),
    ("list-limit-big", "GET", "/api/v1/items", {"params": {"limit": 101}}, "alice", 422, "limit"),
    ("list-cursor", "GET", "/api/v1/items", {"params": {"cursor": "!!!"}}, "alice", 422, "cursor"),
    ("list-cursor-forged", "GET", "/api/v1/items", {"params": {"cursor": "eDEy"}}, "alice", 422, "cursor"),
    ("list-bbox-three", "GET", "/api/v1/items", {"params": {"bbox": "1,2,3"}}, "alice", 422, "bbox"),
    ("list-bbox-text", "GET", "/api/v1/items", {"params": {"bbox": "a,b,c,d"}}, "alice", 422, "bbox"),
    ("list-bbox-range", "GET", "/api/v1/items", {"params": {"bbox": "0,95,10,96"}}, "alice", 422, "bbox"),
    ("list-bbox-order", "GET", "/api/v1/items", {"params": {"bbox": "0,10,10,5"}}, "alice", 422, "bbox"),
    ("list-bbox-nan", "GET", "/api/v1/items", {"params": {"bbox": "nan,0,1,1"}}, "alice", 422, "bbox"),
    ("list-since", "GET", "/api/v1/items", {"params": {"since": "yesterday"}}, "alice", 422, "since"),
    ("list-until", "GET", "/api/v1/items", {"params": {"until": "2026-02-30T00:00:00Z"}}, "alice", 422, "until"),
    ("list-since-overflow", "GET", "/api/v1/items", {"params": {"since": "0001-01-01T00:00:00+01:00"}}, "alice", 422,
     "since"),
    ("list-observed-after", "GET", "/api/v1/items", {"params": {"observed_after": "x"}}, "alice", 422,
     "observed_after"),
    ("list-observed-before", "GET", "/api/v1/items", {"params": {"observed_before": "9"}}, "alice", 422,
     "observed_before"),
    ("list-kind", "GET", "/api/v1/items", {"params": {"kind": "memo"}}, "alice", 422, "kind"),
    ("list-revoked", "GET", "/api/v1/items", {"params": {"include_revoked": "maybe"}}, "alice", 422,
     "include_revoked"),
    ("list-q-long", "GET", "/api/v1/items", {"params": {"q": "q" * 501}}, "alice", 422, "q"),
    # one item, history, stats, export
    ("get-bad-id", "GET", "/api/v1/items/not-an-id", {}, "alice", 404, None),
    ("history-bad-id", "GET", "/api/v1/items/report--x/history", {}, "alice", 404, None),
    ("stats-since", "GET", "/api/v1/stats", {"params": {"since": "soon"}}, "alice", 422, "since"),
    ("stats-until", "GET", "/api/v1/stats", {"params": {"until": "later"}}, "alice", 422, "until"),
    ("stats-overflow", "GET", "/api/v1/stats", {"params": {"since": "0001-01-01T00:00:00+01:00"}}, "alice", 422,
     "since"),
    ("stats-by", "GET", "/api/v1/stats", {"params": {"by": "colour"}}, "alice", 422, "by"),
    ("export-since", "GET", "/api/v1/export", {"params": {"since": "soon"}}, "alice", 422, "since"),
    ("export-kind", "GET", "/api/v1/export", {"params": {"kind": "memo"}}, "alice", 422, "kind"),
    # sessions, members, users, tokens, audit
    ("login-invalid-json", "POST", "/api/v1/auth/login",
     {"content": b'{"username": ', "headers": {"content-type": "application/json"}}, None, 422, None),
    ("login-missing", "POST", "/api/v1/auth/login", {"json": {"username": "bob"}}, None, 422, "password"),
    ("login-types", "POST", "/api/v1/auth/login", {"json": {"username": 5, "password": "x"}}, None, 422, "username"),
    ("login-unknown", "POST", "/api/v1/auth/login", {"json": {"username": "bob", "password": "password-bob",
                                                              "remember": True}}, None, 422, "remember"),
    ("login-long", "POST", "/api/v1/auth/login", {"json": {"username": "u" * 65, "password": "x"}}, None, 422,
     "username"),
    ("member-missing", "POST", "/api/v1/members", {"json": {"code": "DELTA"}}, "hub", 422, "name"),
    ("member-code", "POST", "/api/v1/members", {"json": {"code": "del ta!", "name": "D"}}, "hub", 422, "code"),
    ("member-role", "POST", "/api/v1/members", {"json": {"code": "DELTA", "name": "D", "role": "boss"}}, "hub", 422,
     "role"),
    ("member-unknown", "POST", "/api/v1/members", {"json": {"code": "DELTA", "name": "D", "x": 1}}, "hub", 422, "x"),
    ("member-long", "POST", "/api/v1/members", {"json": {"code": "DELTA", "name": "n" * 201}}, "hub", 422, "name"),
    ("member-duplicate", "POST", "/api/v1/members", {"json": {"code": "ALPHA", "name": "A"}}, "hub", 409, None),
    ("member-not-admin", "POST", "/api/v1/members", {"json": {"code": "DELTA", "name": "D"}}, "alice", 403, None),
    ("consumer-missing", "POST", "/api/v1/members/ALPHA/consumers", {"json": {"code": "A-U"}}, "hub", 422, "name"),
    ("consumer-code", "POST", "/api/v1/members/ALPHA/consumers", {"json": {"code": "a u", "name": "x"}}, "hub", 422,
     "code"),
    ("consumer-member", "POST", "/api/v1/members/ZULU/consumers", {"json": {"code": "Z-U", "name": "x"}}, "hub",
     404, None),
    ("user-role", "POST", "/api/v1/users", {"json": {"username": "dan", "member": "ALPHA", "role": "god"}}, "hub",
     422, "role"),
    ("user-clearance", "POST", "/api/v1/users",
     {"json": {"username": "dan", "member": "ALPHA", "role": "analyst", "clearance": 9}}, "hub", 422, "clearance"),
    ("user-password", "POST", "/api/v1/users",
     {"json": {"username": "dan", "member": "ALPHA", "role": "analyst", "password": "short"}}, "hub", 422,
     "password"),
    ("user-name", "POST", "/api/v1/users", {"json": {"username": "Dan Smith", "member": "ALPHA", "role": "analyst"}},
     "hub", 422, "username"),
    ("user-language", "POST", "/api/v1/users",
     {"json": {"username": "dan", "member": "ALPHA", "role": "analyst", "language": "xx"}}, "hub", 422, "language"),
    ("user-consumer", "POST", "/api/v1/users", {"json": {"username": "dan", "member": "ALPHA", "role": "consumer"}},
     "hub", 422, "consumer"),
    ("user-unknown", "POST", "/api/v1/users",
     {"json": {"username": "dan", "member": "ALPHA", "role": "analyst", "admin": True}}, "hub", 422, "admin"),
    ("user-member", "POST", "/api/v1/users", {"json": {"username": "dan", "member": "ZULU", "role": "analyst"}},
     "hub", 404, None),
    ("user-not-admin", "POST", "/api/v1/users", {"json": {"username": "dan", "member": "ALPHA", "role": "analyst"}},
     "alice", 403, None),
    ("user-other-member", "POST", "/api/v1/users",
     {"json": {"username": "dan", "member": "BRAVO", "role": "analyst"}}, "aadmin", 403, None),
    ("disable-unknown", "POST", "/api/v1/users/nobody/disable", {}, "hub", 404, None),
    ("disable-not-admin", "POST", "/api/v1/users/bob/disable", {}, "alice", 403, None),
    ("token-days", "POST", "/api/v1/tokens", {"json": {"days": -1}}, "alice", 422, "days"),
    ("token-days-text", "POST", "/api/v1/tokens", {"json": {"days": "many"}}, "alice", 422, "days"),
    ("token-unknown", "POST", "/api/v1/tokens", {"json": {"scope": "all"}}, "alice", 422, "scope"),
    ("token-other-user", "POST", "/api/v1/tokens", {"json": {"username": "bob"}}, "alice", 403, None),
    ("token-revoke-id", "DELETE", "/api/v1/tokens/abc", {}, "alice", 404, None),  # ids are opaque: no such token
    ("token-revoke-other", "DELETE", "/api/v1/tokens/{bob_token}", {}, "alice", 404, None),
    ("audit-limit", "GET", "/api/v1/audit", {"params": {"limit": "all"}}, "hub", 422, "limit"),
    ("audit-before", "GET", "/api/v1/audit", {"params": {"before": "x"}}, "hub", 422, "before"),
    ("audit-not-admin", "GET", "/api/v1/audit", {}, "alice", 403, None),
    ("audit-verify-not-hub", "GET", "/api/v1/audit/verify", {}, "aadmin", 403, None),
]


@dataclass
class Hub:
    world: World
    app: Any
    item: dict[str, Any]
    bob_token: str


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub for all the refused requests (they change nothing, which each case checks)."""
    root = tmp_path_factory.mktemp("bad-input")
    settings = load_settings(env={}, data=str(root), secret_key="t" * 40, **LIMITS)
    svc = build_services(settings)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        world = build_world(svc)
    item = world.share("alice", handling={"release": {"scope": "members", "members": ["BRAVO"]}})
    yield Hub(world, create_app(settings, svc), item, svc.accounts.list_tokens("bob")[0]["id"])
    svc.close()


@pytest.mark.parametrize(("method", "path", "kw", "user", "status", "field"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
async def test_bad_input_is_refused_by_name_and_nothing_is_stored(hub: Hub, method: str, path: str,
                                                                  kw: dict[str, Any], user: str | None,
                                                                  status: int, field: str | None) -> None:
    world = hub.world
    before = snapshot(world.svc)
    headers = {**(bearer(world, user) if user else {}), **kw.get("headers", {})}
    transport = httpx.ASGITransport(app=hub.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.request(method, path.format(id=hub.item["id"], bob_token=hub.bob_token), headers=headers,
                                 **{k: v for k, v in kw.items() if k != "headers"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["type"].startswith("urn:accord:problem:") and body["detail"]
    if field is not None:
        fields = [e["field"] for e in body["errors"]]
        assert field in fields, body
        assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])
    assert snapshot(world.svc) == before
    # The item is unchanged by any refused request.
    assert world.svc.items.get(world.p("alice"), hub.item["id"])["version"] == 1


async def test_every_error_is_listed_not_only_the_first(client, world: World) -> None:
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"), json={
        "kind": "observation", "colour": "red", "handling": {"tlp": "pink"},
        "content": {"lat": 100, "lon": 200, "observed_from": "never"}})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"colour", "handling.tlp", "content.lat", "content.lon",
                                                         "content.observed_from"}


async def test_a_bulk_request_stores_the_good_objects_and_nothing_of_the_bad(client, world: World) -> None:
    svc = world.svc
    entity_id = f"entity--{MISSING[8:-1]}1"
    good_entity = {"id": entity_id, "kind": "entity", "content": {"entity_type": "group", "name": "Falcons"},
                   "tags": ["good"], "handling": {"release": {"scope": "members", "members": ["BRAVO"]}}}
    rejected_entity = {"id": f"entity--{MISSING[8:-1]}2", "kind": "entity", "tags": ["bad"],
                       "content": {"entity_type": "gang", "name": "Hawks"}}
    objects = [
        good_entity,
        report(tags=["bad"], content={"title": "x" * 51, "body": "Ravens"}),
        rejected_entity,
        # refers to an object of this request that was rejected: rejected too
        {"kind": "relationship", "tags": ["bad"], "content": {"relationship_type": "allied-with",
                                                              "source_ref": entity_id,
                                                              "target_ref": rejected_entity["id"]}},
        # refers to an accepted object of this request: accepted
        {"kind": "relationship", "tags": ["good"], "content": {"relationship_type": "allied-with",
                                                               "source_ref": entity_id, "target_ref": entity_id}},
        observation(lat=-91.0) | {"tags": ["bad"]},
        report(tags=["good"], handling={"release": {"scope": "all"}}),
        "not an object",
        report(tags=["bad"], handling={"release": {"scope": "members", "members": ["BRAVO", "ZULU"]}}),
        good_entity,  # the same id twice
    ]
    before = snapshot(svc)
    r = await client.post("/api/v1/items/bulk", headers=bearer(world, "alice"), json={"items": objects})
    assert r.status_code == 207
    out = r.json()
    statuses = [x["status"] for x in out["results"]]
    assert statuses == ["accepted", "rejected", "rejected", "rejected", "accepted", "rejected", "accepted",
                        "rejected", "rejected", "rejected"]
    assert [x["index"] for x in out["results"]] == list(range(len(objects)))
    assert (out["accepted"], out["rejected"]) == (3, 7)
    fields = {x["index"]: {e["field"] for e in x["errors"]} for x in out["results"] if x["status"] == "rejected"}
    assert fields == {1: {"content.title"}, 2: {"content.entity_type"}, 3: {"content.target_ref"},
                      5: {"content.lat"}, 7: {""}, 8: {"handling.release.members[1]"}, 9: {"id"}}
    after = snapshot(svc)
    assert after["items"] == before["items"] + 3 and after["items_fts"] == before["items_fts"] + 3
    assert after["item_release"] == before["item_release"] + 1
    assert after["audit writes"] == before["audit writes"] + 3
    with svc.db.read() as conn:
        tags = [t for (t,) in conn.exec_driver_sql("SELECT DISTINCT tag FROM item_tags")]
        for word in ("ravens", "hawks"):
            hits = select(func.count()).select_from(svc.db.full_text.matching(word).subquery())
            assert conn.execute(hits).scalar_one() == 0
    assert tags == ["good"]
    accepted_ids = [x["id"] for x in out["results"] if x["status"] == "accepted"]
    assert accepted_ids[0] == entity_id
    for iid in accepted_ids:
        assert svc.items.get(world.p("alice"), iid)["tags"] == ["good"]


async def test_a_bulk_request_with_only_bad_objects_stores_nothing(client, world: World) -> None:
    before = snapshot(world.svc)
    r = await client.post("/api/v1/items/bulk", headers=bearer(world, "alice"),
                          json=[observation(lat=95), {"kind": "report"}])
    assert r.status_code == 207 and r.json()["accepted"] == 0
    assert snapshot(world.svc) == before


async def test_a_body_without_content_length_is_still_limited(client, world: World) -> None:
    async def chunks():  # streamed: no Content-Length header, the limit applies to the bytes read
        yield b'{"kind": "report", "content": {"title": "t", "body": "'
        for _ in range(70):
            yield b"z" * 1000
        yield b'"}}'

    before = snapshot(world.svc)
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"), content=chunks())
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert snapshot(world.svc) == before


async def test_a_problem_never_echoes_stored_content(client, world: World) -> None:
    secret = world.share("carol", content={"title": "Operation Nightjar", "body": "b"})
    r = await client.patch(f"/api/v1/items/{secret['id']}", headers=bearer(world, "alice"),
                           json={"content": {"title": 5}})
    assert r.status_code == 404 and "Nightjar" not in r.text
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"), json={
        "kind": "note", "content": {"object_refs": [secret["id"]], "content": "x"}})
    assert r.status_code == 422 and "Nightjar" not in r.text
    assert r.json()["errors"] == [{"field": "content.object_refs[0]", "message": "no such item"}]
    missing = await client.post("/api/v1/items", headers=bearer(world, "alice"), json={
        "kind": "note", "content": {"object_refs": [MISSING], "content": "x"}})
    assert missing.json()["errors"] == r.json()["errors"]


def test_the_cases_cover_every_api_route(app) -> None:
    """A new core endpoint that takes input must come with bad-input cases here. Feature routers (TAXII, meetings,
    correlation, pages) test their own bad input in their test directories."""
    norm = set()
    for _, method, path, *_ in CASES:
        parts = [("{}" if x.startswith("{") or x in SAMPLE_PARAMS else x) for x in path.split("/")]
        norm.add((method, "/".join(parts)))
    uncovered = []
    for path, ops in app.openapi()["paths"].items():
        shape = "/".join("{}" if x.startswith("{") else x for x in path.split("/"))
        for method, op in ops.items():
            if not set(op.get("tags", [])) & {"items", "administration"}:
                continue
            if method.upper() != "GET" and path != "/api/v1/auth/logout" and (method.upper(), shape) not in norm:
                uncovered.append((method.upper(), path))
    assert not uncovered
