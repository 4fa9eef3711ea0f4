"""Meeting and statistics pages over in-process HTTP, on both backends: bad form input is shown next to its field
and changes nothing, who may see and do what, and the statistics pages count and list only what the reader may
see (downloads and documents included)."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta
from typing import Any

import orjson

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from accord import clock
from conftest import World, page_login

HTML = {"accept": "text/html"}
PHONE = "+33 1 23 45 67 89"


def login(app: Any, username: str) -> tuple[TestClient, str]:
    return page_login(app, username)


def errors_of(html: str) -> list[str]:
    return re.findall(r'<p class="error" id="err-[^"]*">([^<]+)</p>', html)


def convene(c: TestClient, csrf: str, **over: Any) -> Any:
    today = clock.utcnow().date()
    data = {"csrf_token": csrf, "title": "Regular meeting", "date": today.isoformat(), "place": "Genève",
            "period_from": (today - timedelta(days=30)).isoformat(),
            "period_to": (today - timedelta(days=1)).isoformat(), "members": ["BRAVO"], "agenda": "One\nTwo"}
    data.update(over)
    return c.post("/meetings", data=data)


def test_bad_input_is_shown_by_its_field_and_changes_nothing(app: Any, world: World) -> None:
    alice, ac = login(app, "alice")
    r = convene(alice, ac, title=" ", period_to="31/10/2026")
    assert r.status_code == 422
    errs = errors_of(r.text)
    assert any(e.startswith("title:") for e in errs) and any(e.startswith("period.to:") for e in errs), errs
    assert world.svc.meetings.count() == 0
    r = convene(alice, ac, period_from="2026-10-10", period_to="2026-10-01")
    assert r.status_code == 422 and any(e.startswith("period.to:") for e in errors_of(r.text))
    r = convene(alice, ac, members=["BRAVO", "ZULU"])
    assert r.status_code == 422 and "no member ZULU" in r.text
    assert world.svc.meetings.count() == 0
    r = convene(alice, ac)
    assert r.status_code == 303
    url = r.headers["location"]
    before = world.svc.meetings.get(world.p("alice"), url.rsplit("/", 1)[1])

    r = alice.post(url + "/minutes", data={"csrf_token": ac, "kind": "action", "text": "Do it", "owner": ""})
    assert r.status_code == 422 and any(e.startswith("owner:") for e in errors_of(r.text))
    assert 'Do it</textarea>' in r.text  # what was typed is kept
    r = alice.post(url + "/minutes", data={"csrf_token": ac, "kind": "action", "text": "Do it", "owner": "BRAVO",
                                           "due": "soon"})
    assert r.status_code == 422 and any(e.startswith("due:") for e in errors_of(r.text))
    r = alice.post(url + "/communique", data={"csrf_token": ac, "text_en": "Text", "pick": ["nope|members"]})
    assert r.status_code == 422 and any(e.startswith("figures[0].figure:") for e in errors_of(r.text))
    r = alice.post(url + "/communique", data={"csrf_token": ac, "text_en": "Text", "pick": ["items|nobody"]})
    assert r.status_code == 422 and any(e.startswith("figures[0].audience:") for e in errors_of(r.text))
    assert alice.post(url + "/summary", data={"csrf_token": ac}).status_code == 303
    r = alice.post(url + "/summary/edit", data={"csrf_token": ac, "narrative": "N", "present_figures": ["99"]})
    assert r.status_code == 422 and any(e.startswith("present_figures:") for e in errors_of(r.text))
    after = world.svc.meetings.get(world.p("alice"), url.rsplit("/", 1)[1])
    assert after["minutes"] == before["minutes"] == []
    assert after["communique"] == before["communique"]
    assert after["summaries"][0]["narrative"] == ""

    # Asking for changes needs a comment; a submitted communiqué is needed first (the error page otherwise).
    alice.post(url + "/communique", data={"csrf_token": ac, "text_en": "Text", "pick": ["items|members"]})
    assert alice.post(url + "/communique/submit", data={"csrf_token": ac}).status_code == 303
    bob, bc = login(app, "bob")
    r = bob.post(url + "/communique/changes", data={"csrf_token": bc, "comment": "  "})
    assert r.status_code == 422 and any(e.startswith("comment:") for e in errors_of(r.text))
    assert world.svc.meetings.get(world.p("bob"), url.rsplit("/", 1)[1])["communique"]["approvals"] == []
    # A missing CSRF token is refused before anything happens.
    assert bob.post(url + "/communique/approve", data={}).status_code == 403


def test_who_may_see_and_do_what(app: Any, world: World) -> None:
    alice, ac = login(app, "alice")
    bob, bc = login(app, "bob")
    assert 'id="convene"' in alice.get("/meetings").text
    assert 'id="convene"' not in bob.get("/meetings").text
    r = convene(bob, bc)
    assert r.status_code == 403 and "chair" in r.text
    url = convene(alice, ac).headers["location"]
    for user in ("carol", "bunit"):
        c, _ = login(app, user)
        r = c.get(url)
        assert r.status_code == 404 and "Regular meeting" not in r.text
        assert "Regular meeting" not in c.get("/meetings").text
    # Only the chair keeps the minutes and drafts the communiqué; the page offers them the forms alone.
    page = bob.get(url).text
    assert "minute-form" not in page and "communique-form" not in page
    assert bob.post(url + "/minutes", data={"csrf_token": bc, "kind": "note", "text": "x"}).status_code == 403
    r = bob.post(url + "/communique", data={"csrf_token": bc, "text_en": "x"})
    assert r.status_code == 403
    # A pick narrowed to some kinds (made through the API) is offered on the page and kept when the draft is saved.
    mid = url.rsplit("/", 1)[1]
    world.svc.meetings.draft_communique(world.p("alice"), mid, {"texts": {"en": "x"}, "figures": [
        {"figure": "information", "kinds": ["report"], "audience": "consumers"}]})
    value = re.search(r'name="pick" value="(information\|consumers\|report)" checked', alice.get(url).text)
    assert value
    r = alice.post(url + "/communique", data={"csrf_token": ac, "text_en": "y", "pick": [value.group(1)]})
    assert r.status_code == 303
    assert world.svc.meetings.get(world.p("alice"), mid)["communique"]["picks"] == [
        {"figure": "information", "kinds": ["report"], "audience": "consumers"}]
    # A reader of a participating member reads the meeting but is offered no action.
    reader, _ = login(app, "breader")
    page = reader.get(url).text
    assert "Regular meeting" in page and "prepare-summary" not in page
    # Documents: language and format are checked; an unknown one is a readable error.
    r = alice.get(url + "/communique/document", params={"lang": "xx", "format": "pdf"})
    assert r.status_code == 422 and "lang" in r.text
    r = alice.get(url + "/communique/document", params={"lang": "fa", "format": "html"})
    assert r.status_code == 200 and 'dir="rtl"' in r.text


def _seed(world: World) -> dict[str, str]:
    when = clock.format_ts(clock.utcnow() - timedelta(days=2))
    mk = {"tlp": "amber", "classification": 1}
    out = {}
    for name, user, release in (("a", "alice", {"scope": "members", "members": ["BRAVO"]}),
                                ("b", "bob", {"scope": "members", "members": ["ALPHA"]}),
                                ("c", "carol", {"scope": "originator"})):
        res = world.svc.items.create_many(world.p(user), [{
            "kind": "report", "content": {"title": f"Report {name}", "body": "b"},
            "identifiers": [{"type": "phone", "value": PHONE}], "handling": {**mk, "release": release},
            "created": when, "modified": when}], allow_times=True)[0]
        assert res.ok
        out[name] = str(res.id)
    return out


def test_statistics_pages_count_and_list_only_what_the_reader_may_see(app: Any, world: World) -> None:
    ids = _seed(world)
    today = clock.utcnow().date()
    period = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()}
    bob, _ = login(app, "bob")
    carol, _ = login(app, "carol")
    r = bob.get("/stats", params=period)
    assert r.status_code == 200
    row = re.search(r'<tr data-figure="correlated">.*?</tr>', r.text, re.S)
    assert row and re.findall(r">(\d+)</a>", row.group(0)) == ["2"]  # ALPHA's and BRAVO's, not CHARLIE's
    href = re.search(r'href="(/stats/items\?figure=correlated[^"]+)"', r.text)
    assert href
    listed = bob.get(href.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200
    assert ids["a"] in listed.text and ids["b"] in listed.text and ids["c"] not in listed.text
    # CHARLIE's report shares the number with both, but CHARLIE sees neither of theirs: nothing correlated.
    r = carol.get("/stats", params=period)
    row = re.search(r'<tr data-figure="correlated">.*?</tr>', r.text, re.S)
    assert row and re.findall(r">(\d+)</a>", row.group(0)) == ["0"]
    listed = carol.get("/stats/items", params={"figure": "reports", **period, "to": today.isoformat() + "T23:59Z"})
    assert ids["c"] in listed.text and ids["a"] not in listed.text and ids["b"] not in listed.text
    # Another member's own-basis figures are not for this reader.
    assert bob.get("/stats/items", params={"figure": "items", **period, "member": "ALPHA",
                                           "basis": "members-own"}).status_code == 403
    # Bad input: named, readable, on the page.
    r = bob.get("/stats", params={**period, "kind": "vehicle"})
    assert r.status_code == 422 and any(e.startswith("kind:") for e in errors_of(r.text))
    r = bob.get("/stats", params={"from": "yesterday", "to": period["to"]})
    assert r.status_code == 422 and any(e.startswith("from:") for e in errors_of(r.text))
    # Downloads: the same counts.
    csv_text = bob.get("/stats/download", params={**period, "format": "csv"}).text
    assert csv_text.splitlines() == ["member,kind,count,previous,change", "ALPHA,report,1,0,1",
                                     "BRAVO,report,1,0,1"]
    js = orjson.loads(bob.get("/stats/download", params={**period, "format": "json"}).content)
    assert {f["figure"]: f["value"] for f in js["figures"]["figures"]}["correlated"] == 2
    assert bob.get("/stats/download", params={**period, "format": "xml"}).status_code == 422
    # The activity report, as the reader may see it, shows the correlated figure in the reader's language.
    r = bob.get("/stats/report", params={**period, "lang": "fr", "format": "html"})
    assert r.status_code == 200 and "Éléments corrélés avec ceux d&#39;un autre membre" in r.text
