"""The correlation panels over in-process HTTP: an item's correlations shown only between items the reader may
both see; deconfliction notices on both originators' dashboards, with no content of the other item, and the
one-step release from the notice."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette asks for its httpx fork; the bundled httpx works.
    from starlette.testclient import TestClient

from accord.app import create_app
from accord.config import load_settings
from accord.services import build_services
from conftest import World, build_world, page_login

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, World]]:
    svc = build_services(load_settings(env={}, data=str(tmp_path_factory.mktemp("corrpanels")), secret_key="c" * 40))
    world = build_world(svc)
    yield create_app(svc.settings, svc), world
    svc.close()


_sessions: dict[tuple[int, str], tuple[TestClient, str]] = {}


def login(app: Any, username: str) -> tuple[TestClient, str]:
    key = (id(app), username)
    if key not in _sessions:
        _sessions[key] = page_login(app, username)
    return _sessions[key]


def test_item_page_correlations(site: tuple[Any, World]) -> None:
    app, world = site
    phone = [{"type": "phone", "value": "+33 6 11 22 33 44"}]
    mine = world.share("alice", content={"title": "Courier seen", "body": "b"}, identifiers=phone,
                       handling={"release": {"scope": "all"}})
    theirs = world.share("bob", content={"title": "Bravo courier report", "body": "secret body"},
                         identifiers=phone, handling={"release": {"scope": "members", "members": ["ALPHA"]}})
    c, _ = login(app, "alice")
    page = c.get(f"/item/{mine['id']}")
    assert page.status_code == 200
    assert f'href="/item/{theirs["id"]}"' in page.text and "Bravo courier report" in page.text
    assert "same phone: +33611223344" in page.text and "BRAVO" in page.text
    # CHARLIE sees alice's item (released to all) but not bob's: no trace of it.
    c, _ = login(app, "carol")
    page = c.get(f"/item/{mine['id']}")
    assert page.status_code == 200
    assert theirs["id"] not in page.text and "Bravo courier report" not in page.text
    assert "No related items that you may see." in page.text


def test_notices_and_release(site: tuple[Any, World]) -> None:
    app, world = site
    a = world.share("alice", kind="entity", content={"entity_type": "person", "name": "Abu Bakr al-Baghdadi"})
    b = world.share("bob", kind="entity", content={"entity_type": "person", "name": "أبو بكر البغدادي"})
    ca, csrf_a = login(app, "alice")
    dash = ca.get("/dashboard").text
    assert "Deconfliction notices" in dash and f'href="/entity/{a["id"]}"' in dash and "BRAVO" in dash
    assert b["id"] not in dash and "البغدادي" not in dash
    cb, _ = login(app, "bob")
    dash_b = cb.get("/dashboard").text
    assert f'href="/entity/{b["id"]}"' in dash_b and "Release to ALPHA" in dash_b
    assert a["id"] not in dash_b and "Abu Bakr" not in dash_b
    # A reader of BRAVO sees the notice but may not release.
    cr, _ = login(app, "breader")
    dash_r = cr.get("/dashboard").text
    assert b["id"] in dash_r and "Release to ALPHA" not in dash_r
    assert cb.get(f"/entity/{a['id']}").status_code == 404
    m = re.search(r'action="(/correlation/notices/[^"]+/release)"', dash)
    assert m and "Release to BRAVO" in dash
    assert ca.post(m.group(1), data={}).status_code == 403  # no CSRF token
    r = ca.post(m.group(1), data={"csrf_token": csrf_a})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    assert unquote(r.cookies.get("accord_flash", "")) == "Released to BRAVO."
    assert cb.get(f"/entity/{a['id']}").status_code == 200
    after = ca.get("/dashboard").text
    assert a["id"] in after and "Release to BRAVO" not in after
    # Someone else's notice id is not theirs to release.
    assert cb.post(m.group(1), data={"csrf_token": login(app, "bob")[1]}).status_code == 404


def test_dismissing_a_notice(site: tuple[Any, World]) -> None:
    app, world = site
    world.share("alice", kind="entity", content={"entity_type": "person", "name": "Abu Bakr al-Baghdadi"})
    b = world.share("bob", kind="entity", content={"entity_type": "person", "name": "أبو بكر البغدادي"})
    cb, csrf_b = login(app, "bob")
    dash = cb.get("/dashboard").text

    def entry(page: str) -> str:  # the notice about this test's item (the site may hold others)
        return next(li for li in page.split("<li>") if b["id"] in li)

    m = re.search(r'action="(/correlation/notices/[^"]+/dismiss)"', entry(dash))
    assert m and "Dismiss" in dash
    assert "Dismiss" not in login(app, "breader")[0].get("/dashboard").text.replace("Dismissed", "")
    assert cb.post(m.group(1), data={}).status_code == 403  # no CSRF token
    r = cb.post(m.group(1), data={"csrf_token": csrf_b})
    assert r.status_code == 303 and unquote(r.cookies.get("accord_flash", "")) == "Notice dismissed."
    after = entry(cb.get("/dashboard").text)
    assert "Dismissed" in after and "Release to ALPHA" not in after and m.group(1) not in after
    # ALPHA's own notice is untouched, and BRAVO's notice id is not ALPHA's to dismiss.
    ca, csrf_a = login(app, "alice")
    assert "Release to BRAVO" in ca.get("/dashboard").text
    assert ca.post(m.group(1), data={"csrf_token": csrf_a}).status_code == 404


def test_reasons_in_the_readers_language() -> None:
    from starlette.requests import Request

    from accord.http.web.correlation_panels import reason_text

    def req(lang: str) -> Request:
        return Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                        "headers": [(b"accept-language", lang.encode())]})

    assert reason_text(req("en"), "same phone +33611223344") == "same phone: +33611223344"
    assert reason_text(req("fr"), "same phone +33611223344") == "même phone : +33611223344"
    assert reason_text(req("fr"), "matched name 'Abu Bakr'") == "nom correspondant Abu Bakr"
    assert reason_text(req("ru"), "transliterated Arabic to Latin") == "транслитерация из Arabic в Latin"
    assert reason_text(req("fr"), "something new") == "something new"
