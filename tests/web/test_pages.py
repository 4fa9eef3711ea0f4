"""The pages over in-process HTTP: login and CSRF, every page's policy, forms, admin permissions, and a
property test that search and the map show exactly what the access policy permits (with its own oracle)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    # Starlette asks for its httpx fork; the bundled httpx works and is what the rest of the suite uses.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from accord.app import create_app
from accord.config import load_settings
from accord.http.web import bulk
from accord.services import build_services
from conftest import World, build_world, page_login

HTML = {"accept": "text/html"}
_IDS = re.compile(r'href="/(?:item|entity)/([a-z]+--[0-9a-f-]{36})"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, World]]:
    """One store, world and app for the module: building the world hashes seven passwords (argon2), which is
    most of a test's cost, and every test here works on items of its own."""
    data = tmp_path_factory.mktemp("pages")
    svc = build_services(load_settings(env={}, data=str(data), secret_key="p" * 40))
    world = build_world(svc)
    yield create_app(svc.settings, svc), world
    svc.close()


@pytest.fixture(scope="module")
def app(site: tuple[Any, World]) -> Any:
    return site[0]


@pytest.fixture(scope="module")
def world(site: tuple[Any, World]) -> World:
    return site[1]


_sessions: dict[tuple[int, str], tuple[TestClient, str]] = {}


def login(app: Any, username: str) -> tuple[TestClient, str]:
    """A logged-in client per user, reused within the module (each login verifies an argon2 hash)."""
    key = (id(app), username)
    if key not in _sessions:
        _sessions[key] = _login(app, username)
    return _sessions[key]


def _login(app: Any, username: str) -> tuple[TestClient, str]:
    return page_login(app, username)


def test_login_required_and_root(app: Any, world: World) -> None:
    c = TestClient(app, headers=HTML, follow_redirects=False)
    assert c.get("/").headers["location"] == "/dashboard"
    r = c.get("/search?q=x")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/search")
    assert c.get("/login").status_code == 200
    assert c.get("/api/docs").status_code == 200


def test_wrong_password_and_lockout(app: Any, world: World) -> None:
    world.svc.accounts.add_user("lockme", "BRAVO", "analyst", "password-lockme")
    c = TestClient(app, headers=HTML, follow_redirects=False)
    for _ in range(5):
        r = c.post("/login", data={"username": "lockme", "password": "nope-nope"})
        assert r.status_code == 401 and "Wrong username or password" in r.text
    r = c.post("/login", data={"username": "lockme", "password": "password-lockme"})
    assert r.status_code == 401  # locked by the core after five failures
    c.cookies.set("accord_lang", "fr")
    r = c.post("/login", data={"username": "lockme", "password": "x"})
    assert "mot de passe incorrect" in r.text


def test_open_redirect_and_cross_site_login_refused(app: Any, world: World) -> None:
    c = TestClient(app, headers=HTML, follow_redirects=False)
    r = c.post("/login", data={"username": "bob", "password": "password-bob"},
               headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = c.post("/login", data={"username": "bob", "password": "password-bob", "next": "//evil.example/x"})
    assert r.headers["location"] == "/dashboard"


def test_csrf_required(app: Any, world: World) -> None:
    c, csrf = login(app, "alice")
    r = c.post("/share/report", data={"title": "x", "release_scope": "all"})
    assert r.status_code == 403 and "<html" in r.text and "CSRF" in r.text
    r = c.post("/share/report", data={"title": "x", "release_scope": "all", "csrf_token": csrf})
    assert r.status_code == 303


def test_share_form_errors_name_the_field(app: Any, world: World) -> None:
    c, csrf = login(app, "alice")
    r = c.post("/share/report", data={"csrf_token": csrf, "title": " ", "release_scope": "members"})
    assert r.status_code == 422
    assert "content.title" in r.text and "handling.release.members" in r.text
    r = c.post("/share/observation", data={"csrf_token": csrf, "position": "somewhere 12", "observed_from": ""})
    assert r.status_code == 422 and "position" in r.text and "observed_from" in r.text
    reader, rcsrf = login(app, "breader")
    r = reader.post("/share/report", data={"csrf_token": rcsrf, "title": "t"})
    assert r.status_code == 403


def test_item_actions(app: Any, world: World) -> None:
    item = world.share("alice", content={"title": "Depot report", "body": "b"},
                       handling={"release": {"scope": "members", "members": ["BRAVO"]}})
    bob, bcsrf = login(app, "bob")
    carol, _ = login(app, "carol")
    assert carol.get(f"/item/{item['id']}").status_code == 404
    page = bob.get(f"/item/{item['id']}")
    assert page.status_code == 200 and "Depot report" in page.text and "TLP:AMBER" in page.text
    assert "/revoke" not in page.text  # only the originator may revoke
    r = bob.post(f"/item/{item['id']}/note", data={"csrf_token": bcsrf, "purpose": "release-request", "content": ""})
    assert r.status_code == 303
    alice, acsrf = login(app, "alice")
    page = alice.get(f"/item/{item['id']}")
    assert "release-request" in page.text and "Please consider releasing" in page.text
    r = alice.post(f"/item/{item['id']}/release", data={"csrf_token": acsrf, "members": "CHARLIE"})
    assert r.status_code == 303
    assert carol.get(f"/item/{item['id']}").status_code == 200
    # Bob's request went to ALPHA only: CHARLIE, now released to the item, does not see it.
    assert "Please consider releasing" not in carol.get(f"/item/{item['id']}").text
    r = alice.get(f"/item/{item['id']}/edit")
    assert r.status_code == 200 and "Depot report" in r.text
    r = alice.post(f"/item/{item['id']}/edit", data={"csrf_token": acsrf, "title": "Depot report v2", "body": "b",
                                                      "release_scope": "members", "release_members": ["BRAVO"]})
    assert r.status_code == 303
    assert "Depot report v2" in bob.get(f"/item/{item['id']}").text
    assert carol.get(f"/item/{item['id']}").status_code == 404  # the edit narrowed the release again
    assert bob.post(f"/item/{item['id']}/revoke", data={"csrf_token": bcsrf}).status_code == 403
    assert alice.post(f"/item/{item['id']}/revoke", data={"csrf_token": acsrf}).status_code == 303
    assert "Revoked" in bob.get(f"/item/{item['id']}").text


def test_entity_lineage_hides_unreleased_names(app: Any, world: World) -> None:
    old_hidden = world.share("alice", kind="entity", content={"entity_type": "group", "name": "Secret Old Name"})
    old_shown = world.share("alice", kind="entity", content={"entity_type": "group", "name": "Old Name"},
                            handling={"release": {"scope": "all"}})
    new = world.share("alice", kind="entity", content={"entity_type": "group", "name": "New Name",
                                                      "aliases": ["الاسم الجديد"],
                                                      "formerly_known_as": [old_hidden["id"], old_shown["id"]]},
                      handling={"release": {"scope": "all"}})
    bob, _ = login(app, "bob")
    page = bob.get(f"/entity/{new['id']}").text
    assert "Old Name" in page and "Secret Old Name" not in page and "1 earlier names" in page
    assert "الاسم الجديد" in page and "<svg" in page
    later = bob.get(f"/entity/{old_shown['id']}").text
    assert "Later known as" in later and "New Name" in later


def test_saved_searches(app: Any, world: World) -> None:
    bob, csrf = login(app, "bob")
    r = bob.post("/search/save", data={"csrf_token": csrf, "name": "Depots", "query": "q=depot&kind=report"})
    assert r.status_code == 303
    page = bob.get("/search").text
    assert "Depots" in page and "q=depot&amp;kind=report" in page
    sid = re.search(r"/search/saved/([A-Za-z0-9_-]+)/delete", page).group(1)  # type: ignore[union-attr]
    carol, ccsrf = login(app, "carol")
    assert carol.post(f"/search/saved/{sid}/delete", data={"csrf_token": ccsrf}).status_code == 404
    assert bob.post(f"/search/saved/{sid}/delete", data={"csrf_token": csrf}).status_code == 303
    assert "Depots" not in bob.get("/search").text


def test_language_switch(app: Any, world: World) -> None:
    world.svc.accounts.add_user("polyglot", "BRAVO", "reader", "password-polyglot")
    c, csrf = _login(app, "polyglot")
    r = c.post("/language", data={"csrf_token": csrf, "lang": "fa", "next": "/search"})
    assert r.status_code == 303 and r.headers["location"] == "/search"
    page = c.get("/search").text
    assert 'dir="rtl"' in page and 'lang="fa"' in page and "جستجو" in page
    assert world.svc.accounts.principal_for("polyglot").language == "fa"
    c.post("/language", data={"csrf_token": csrf, "lang": "ru", "next": "/dashboard"})
    assert "Сводка" in c.get("/dashboard").text


def test_html_errors(app: Any, world: World) -> None:
    bob, _ = login(app, "bob")
    r = bob.get("/item/report--00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and "<html" in r.text and "Not found" in r.text
    r = bob.get("/search?since=yesterday&q=x")
    assert r.status_code == 200 and "since" in r.text  # field error shown on the page
    api = bob.get("/api/v1/items/report--00000000-0000-0000-0000-000000000000")
    assert api.headers["content-type"].startswith("application/problem+json")


def test_admin_permissions_and_audit(app: Any, world: World) -> None:
    bob, _ = login(app, "bob")
    assert bob.get("/admin").status_code == 403
    aadmin, csrf = login(app, "aadmin")
    page = aadmin.get("/admin")
    assert page.status_code == 200 and "alice" in page.text and "bob" not in page.text  # own member's users only
    r = aadmin.post("/admin/users", data={"csrf_token": csrf, "username": "anna", "role": "analyst",
                                           "password": "password-anna", "clearance": "1"})
    assert r.status_code == 303
    r = aadmin.post("/admin/users", data={"csrf_token": csrf, "username": "x2", "member": "BRAVO",
                                           "role": "analyst"})
    assert r.status_code == 403
    r = aadmin.post("/admin/tokens", data={"csrf_token": csrf, "username": "anna", "name": "ci", "days": "5"})
    assert r.status_code == 303
    page = aadmin.get("/admin")
    assert "acc_" in page.text  # the new secret is shown once
    assert 'class="card secret"' not in aadmin.get("/admin").text
    r = aadmin.post("/admin/defaults", data={"csrf_token": csrf, "tlp": "green", "classification": "1",
                                              "release_scope": "members", "release_members": "BRAVO"})
    assert r.status_code == 303
    alice, _ = login(app, "alice")
    form = alice.get("/share?kind=report").text
    assert 'value="green" selected' in form and 'value="BRAVO" checked' in form
    audit = aadmin.get("/admin/audit").text
    assert "user.add" in audit and "verifies" not in audit  # chain status is for the hub administrator
    hub, _ = login(app, "hub")
    audit = hub.get("/admin/audit").text
    assert "The hash chain verifies" in audit
    assert "user.add" not in hub.get("/admin/audit?action=login").text


# ----- the access rule, checked against an independent oracle ---------------------------------------------
def oracle(world: World, username: str, item: dict[str, Any]) -> bool:
    p = world.p(username)
    h = item["handling"]
    if h["classification"] > p.clearance:
        return False
    rel = h["release"]
    reach = (item["originator"] == p.member_code or rel["scope"] == "all"
             or (rel["scope"] == "members" and p.member_code in rel["members"]))
    return reach and (not p.is_consumer or rel["consumers"])


AUTHORS = ("alice", "aadmin", "bob", "carol")
READERS = ("alice", "bob", "breader", "bunit", "carol", "hub")
spec = st.fixed_dictionaries({
    "author": st.sampled_from(AUTHORS),
    "kind": st.sampled_from(["report", "observation"]),
    "cls": st.integers(0, 2),
    "scope": st.sampled_from(["originator", "members", "all"]),
    "members": st.sets(st.sampled_from(["ALPHA", "BRAVO", "CHARLIE"]), min_size=1),
    "consumers": st.booleans(),
})
_counter = iter(range(10**9))


@given(st.lists(spec, min_size=1, max_size=8))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_search_and_map_show_exactly_what_policy_permits(app: Any, world: World, specs: list[dict[str, Any]]) -> None:
    tag = f"prop{next(_counter)}"
    made = []
    for s in specs:
        author = world.p(s["author"])
        members = sorted(s["members"] - {author.member_code})
        release: dict[str, Any] = {"scope": s["scope"], "consumers": s["consumers"]}
        if s["scope"] == "members":
            if not members:
                release = {"scope": "originator", "consumers": s["consumers"]}
            else:
                release["members"] = members
        cls = min(s["cls"], author.clearance)
        content = ({"title": f"t {tag}", "body": "b"} if s["kind"] == "report" else
                   {"lat": 10.0, "lon": 20.0, "observed_from": "2026-01-01T00:00:00Z", "description": f"d {tag}"})
        made.append(world.share(s["author"], kind=s["kind"], content=content, tags=[tag],
                                handling={"classification": cls, "release": release}))
    for reader in READERS:
        c, _ = login(app, reader)
        expected = {i["id"] for i in made if oracle(world, reader, i)}
        page = c.get(f"/search?tag={tag}")
        assert page.status_code == 200
        assert set(_IDS.findall(page.text)) == expected, reader
        points = orjson.loads(c.get(f"/map/data.json?tag={tag}").content)["points"]
        assert {p["id"] for p in points} == {i for i in expected if i.startswith("observation--")}, reader
        dash = c.get("/dashboard")
        assert dash.status_code == 200
        for hidden in {i["id"] for i in made} - expected:
            assert c.get(f"/item/{hidden}").status_code == 404


def test_bulk_parsers() -> None:
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [35.5, 33.9]},
         "properties": {"observed_from": "2026-01-01T00:00:00Z", "place_name": "Port", "tags": ["a", "b"],
                        "release_members": "BRAVO", "tlp": "green"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "properties": {}},
    ]}
    rows = bulk.parse("x.geojson", orjson.dumps(geo))
    assert rows[0].raw and rows[0].raw["content"]["lat"] == 33.9 and rows[0].raw["tags"] == ["a", "b"]
    assert rows[0].raw["handling"]["release"]["members"] == ["BRAVO"]
    assert rows[1].raw is None and rows[1].errors[0].field == "geometry"
    rows = bulk.parse("x.json", orjson.dumps({"items": [{"kind": "report", "content": {"title": "t"}}, 3]}))
    assert rows[0].raw and rows[1].errors
    rows = bulk.parse("x.csv", "kind,name,entity_type,aliases\nentity,Group A,group,Alpha;ألفا\n".encode())
    assert rows[0].raw and rows[0].raw["content"]["aliases"] == ["Alpha", "ألفا"]
    for content in (b"", b"{", b'{"type": "bundle", "objects": []}'):
        try:
            bulk.parse("x.json", content)
        except Exception as exc:
            assert type(exc).__name__ == "ValidationFailed"
        else:
            raise AssertionError("accepted")


def test_bulk_page_commits_good_rows(app: Any, world: World) -> None:
    alice, csrf = login(app, "alice")
    csv_text = ("kind,title,position,observed_from,release_members\nreport,Good one,,,BRAVO\n"
                "observation,,Beirut,2026-02-01T00:00:00Z,BRAVO\nreport,Bad member,,,ZULU\n")
    r = alice.post("/share/bulk", data={"csrf_token": csrf, "format": "auto"},
                   files={"file": ("u.csv", csv_text.encode())})
    assert r.status_code == 200 and "no member ZULU" in r.text and "2 of 3 rows" in r.text
    payload = re.search(r'name="payload" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    import html

    r = alice.post("/share/bulk/commit", data={"csrf_token": csrf, "payload": html.unescape(payload)})
    assert r.status_code == 200 and "2 items created" in r.text
    bob, _ = login(app, "bob")
    assert "Good one" in bob.get("/search?q=good").text
