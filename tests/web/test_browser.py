"""The pages in a real browser: Debian's Chromium driven by Playwright against a real uvicorn server.

One server and one browser for the module (starting Chromium costs about a second); each user gets its own
browser context, i.e. its own cookies. Screenshots of the main pages, in English and Arabic at desktop and phone
widths, go to test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.app import create_app
from accord.config import load_settings
from accord.services import build_services
from conftest import World, build_world
from live_server import serve_accord

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

if not Path(CHROMIUM).exists():  # pragma: no cover - the Makefile installs it
    pytest.skip("Debian's chromium is not installed (make sysdeps)", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    data = tmp_path_factory.mktemp("browser")
    settings = load_settings(env={}, data=str(data), secret_key="b" * 40)
    svc = build_services(settings)
    world = build_world(svc)
    with serve_accord(create_app(settings, svc)) as base:
        yield base, world
    svc.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def login(browser: Browser, base: str, username: str, width: int = 1280) -> tuple[BrowserContext, Page]:
    ctx = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 844}, base_url=base)
    page = ctx.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "password-" + username)
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/dashboard"))
    return ctx, page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def switch_language(page: Page, lang: str) -> None:
    with page.expect_navigation():
        page.select_option("#lang-select", lang)


def release_to(page: Page, *codes: str) -> None:
    page.select_option("select[name=release_scope]", "members")
    for code in codes:
        page.check(f"input[name=release_members][value={code}]")


def share_all_kinds(page: Page) -> dict[str, str]:
    ids: dict[str, Any] = {}
    page.goto("/share?kind=report")
    page.fill("input[name=title]", "Workshop in the northern district")
    page.fill("textarea[name=body]", "Vehicles seen at the workshop; مستودع near the river.")
    page.fill("input[name=tags]", "workshop, north")
    release_to(page, "BRAVO")
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/item/report--"))
    ids["report"] = page.url.rsplit("/", 1)[1]
    expect(page.locator(".banner")).to_contain_text("BRAVO")

    page.goto("/share?kind=observation")
    page.fill("#position", "36SYC1420557700")  # MGRS, near Beirut
    page.fill("input[name=observed_from]", "2026-03-01T10:30")
    page.fill("input[name=place_name]", "Depot by the port")
    page.fill("input[name=tags]", "depot")
    release_to(page, "BRAVO")
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/item/observation--"))
    ids["observation"] = page.url.rsplit("/", 1)[1]
    expect(page.locator("dl.kv")).to_contain_text("MGRS 36SYC")

    page.goto("/share?kind=entity")
    page.select_option("select[name=entity_type]", "group")
    page.fill("input[name=name]", "Northern Brigade")
    page.fill("textarea[name=aliases]", "اللواء الشمالي\nСеверная бригада\nتیپ شمالی")
    release_to(page, "BRAVO")
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/entity/entity--"))
    ids["entity"] = page.url.rsplit("/", 1)[1]
    expect(page.locator("ul.names")).to_contain_text("اللواء الشمالي")

    page.goto("/share?kind=entity")
    page.fill("input[name=name]", "Northern Front")
    page.select_option("select[name=formerly_known_as]", ids["entity"])
    release_to(page, "BRAVO")
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/entity/entity--"))
    ids["entity2"] = page.url.rsplit("/", 1)[1]
    expect(page.locator("ul.lineage")).to_contain_text("Northern Brigade")

    page.goto("/share?kind=relationship")
    page.fill("input[name=source_ref]", ids["observation"])
    page.fill("input[name=relationship_type]", "located-at")
    page.fill("input[name=target_ref]", ids["entity2"])
    release_to(page, "BRAVO")
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/item/relationship--"))
    ids["relationship"] = page.url.rsplit("/", 1)[1]
    return ids


def test_share_see_and_not_see(server: tuple[str, World], browser: Browser) -> None:
    base, _world = server
    actx, alice = login(browser, base, "alice")
    ids = share_all_kinds(alice)
    # A note on the report, from the item page.
    alice.goto(f"/item/{ids['report']}")
    alice.fill("textarea[name=content]", "Confirmed by a second source.")
    alice.click("form[action$='/note'] button")
    expect(alice.locator("ul.notes")).to_contain_text("Confirmed by a second source.")
    alice.goto(f"/entity/{ids['entity2']}")
    expect(alice.locator("svg.graph")).to_be_visible()

    # BRAVO was released to: map and search show the items.
    bctx, bob = login(browser, base, "bob")
    bob.goto("/map")
    bob.wait_for_selector("#map[data-loaded='1']")
    expect(bob.locator("#map-count")).to_contain_text("1")
    expect(bob.locator(".leaflet-interactive").first).to_be_attached()
    # Drawing a small rectangle in a corner, away from the one point, filters it out; clearing brings it back.
    box = bob.locator("#map").bounding_box()
    assert box is not None
    bob.click("#draw-rect")
    bob.mouse.move(box["x"] + 60, box["y"] + 60)
    bob.mouse.down()
    bob.mouse.move(box["x"] + 120, box["y"] + 120, steps=4)
    bob.mouse.up()
    expect(bob.locator("#map-count")).to_contain_text("0 of 1")
    bob.click("#draw-clear")
    expect(bob.locator("#map-count")).to_contain_text("1 of 1")
    bob.goto("/search")
    bob.fill("#q", "workshop")
    bob.click("form.search-form button.primary")  # htmx swaps the results in and pushes the URL
    expect(bob.locator("#results ul.results")).to_contain_text("Workshop in the northern district")
    expect(bob).to_have_url(re.compile(r"/search\?q=workshop"))
    bob.goto("/search?q=" + "الشمالي")
    expect(bob.locator("ul.results")).to_contain_text("Northern Brigade")
    bob.goto(f"/item/{ids['report']}")
    expect(bob.locator("ul.notes")).to_contain_text("Confirmed by a second source.")

    # CHARLIE was not: nothing on the map, nothing in search, and the item page is a plain 404.
    cctx, carol = login(browser, base, "carol")
    carol.goto("/map")
    carol.wait_for_selector("#map[data-loaded='1']")
    expect(carol.locator("#map-count")).to_contain_text("0")
    assert carol.locator(".leaflet-marker-pane *, path.leaflet-interactive").count() == 0
    carol.goto("/search?q=workshop")
    expect(carol.locator("#results")).to_contain_text("No items match")
    carol.goto("/search?q=Brigade")
    expect(carol.locator("#results")).not_to_contain_text("Northern")
    resp = carol.goto(f"/item/{ids['report']}")
    assert resp is not None and resp.status == 404
    assert "Workshop" not in carol.content()

    # Arabic: the switcher is remembered for the user and the page runs right to left.
    bob.goto("/dashboard")
    switch_language(bob, "ar")
    expect(bob.locator("html")).to_have_attribute("dir", "rtl")
    expect(bob.locator("html")).to_have_attribute("lang", "ar")
    bob.goto("/search")
    expect(bob.locator("html")).to_have_attribute("dir", "rtl")
    for c in (actx, bctx, cctx):
        c.close()
    # The language is stored for the user: a new session opens in Arabic.
    ctx2, bob2 = login(browser, base, "bob")
    expect(bob2.locator("html")).to_have_attribute("dir", "rtl")
    switch_language(bob2, "en")
    expect(bob2.locator("html")).to_have_attribute("dir", "ltr")
    ctx2.close()


def test_bulk_upload_shows_row_errors(server: tuple[str, World], browser: Browser, tmp_path: Path) -> None:
    base, _world = server
    csv_file = tmp_path / "upload.csv"
    csv_file.write_text(
        "kind,title,body,position,observed_from,tlp,release_members\n"
        "report,Bulk report one,first,,,amber,BRAVO\n"
        "observation,,,33°53'12\"N 35°30'07\"E,2026-02-01T08:00:00Z,green,BRAVO\n"
        "observation,,,not a place at all 12,2026-02-01T08:00:00Z,green,BRAVO\n"
        "report,,missing title,,,amber,BRAVO\n", encoding="utf-8")
    ctx, alice = login(browser, base, "alice")
    alice.goto("/share/bulk")
    alice.set_input_files("input[name=file]", str(csv_file))
    alice.click("button.primary")
    rows = alice.locator("table.preview tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(2)).to_contain_text("position")
    expect(rows.nth(3)).to_contain_text("content.title")
    expect(rows.nth(3)).to_contain_text("must not be empty")
    expect(rows.nth(0)).to_contain_text("Bulk report one")
    shot(alice, "en-1280-bulk-preview")
    alice.click("form[action='/share/bulk/commit'] button")
    expect(alice.locator("h2")).to_contain_text("2")
    ctx.close()


def seed(world: World) -> None:
    """A little of everything from three members, so the charts, map and lists have something to show."""
    places = [("Beirut port", 33.90, 35.52), ("Tripoli road", 34.43, 35.84), ("Sidon depot", 33.56, 35.37),
              ("Damascus gate", 33.51, 36.29), ("Aleppo workshop", 36.20, 37.15), ("Amman yard", 31.95, 35.93),
              ("Homs junction", 34.73, 36.72), ("Tyre harbour", 33.27, 35.20)]
    for n, (name, lat, lon) in enumerate(places):
        author = ("alice", "bob", "carol")[n % 3]
        world.share(author, kind="observation", content={"lat": lat, "lon": lon, "place_name": name,
                                                         "observed_from": f"2026-0{1 + n % 8}-1{n}T08:00:00Z"},
                    handling={"release": {"scope": "all"}}, tags=["vehicle" if n % 2 else "depot"])
    for n, author in enumerate(("bob", "bob", "carol", "carol", "carol")):
        world.share(author, kind="report", content={"title": f"Movement summary {n + 1}", "body": "Convoy seen."},
                    handling={"tlp": ("green", "amber", "red")[n % 3], "release": {"scope": "members",
                                                                                  "members": ["ALPHA"]}},
                    grading={"reliability": "B", "credibility": 2})


PAGES = ["dashboard", "map", "search?q=workshop", "share?kind=observation", "share/bulk", "admin", "admin/audit"]


def test_screenshots(server: tuple[str, World], browser: Browser) -> None:
    """Every main page, en and ar, desktop and phone; also checks each renders without a server error."""
    base, world = server
    r = world.share("alice", kind="report", content={"title": "Weekly summary", "body": "Summary of the week."},
                    handling={"release": {"scope": "all"}}, tags=["summary"])
    old = world.share("bob", kind="entity", content={"entity_type": "organisation", "name": "Harbour Committee"},
                      handling={"release": {"scope": "all"}})
    e = world.share("alice", kind="entity", content={"entity_type": "organisation", "name": "Coastal Network",
                                                     "aliases": ["الشبكة الساحلية", "Береговая сеть", "شبکه ساحلی"],
                                                     "formerly_known_as": [old["id"]]},
                    handling={"release": {"scope": "all"}})
    leader = world.share("carol", kind="entity", content={"entity_type": "person", "name": "Omar K."},
                         handling={"release": {"scope": "all"}})
    depot = world.share("alice", kind="observation", content={"lat": 33.9, "lon": 35.52, "place_name": "Pier 4 depot",
                                                              "observed_from": "2026-05-02T06:00:00Z"},
                        handling={"release": {"scope": "all"}})
    for src, rel in ((leader, "leads"), (depot, "located-at")):
        world.share("alice", kind="relationship",
                    content={"relationship_type": rel, "source_ref": src["id"], "target_ref": e["id"]},
                    handling={"release": {"scope": "all"}})
    seed(world)
    ctx, page = login(browser, base, "aadmin")
    for lang in ("en", "ar"):
        switch_language(page, lang)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
            for name in [*PAGES, f"item/{r['id']}", f"entity/{e['id']}"]:
                resp = page.goto("/" + name)
                assert resp is not None and resp.status == 200, name
                expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
                if name == "map":
                    page.wait_for_selector("#map[data-loaded='1']")
                    page.wait_for_timeout(300)
                slug = name.split("?")[0].replace("/", "-").split("--")[0]
                shot(page, f"{lang}-{width}-{slug}")
    # Back to English for the other tests' sake (the language is remembered per user).
    switch_language(page, "en")
    ctx.close()
