"""A whole meeting cycle through the pages, in Debian's Chromium: the chair convenes, two members prepare their
summaries, the chair keeps the minutes and drafts the communiqué, both members approve, the chair publishes, the
PDF downloads; then the Statistics page and a figure's drill-down. One server and one browser for the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accord import clock
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
PHONE = "+33 1 23 45 67 89"

if not Path(CHROMIUM).exists():  # pragma: no cover - the Makefile installs it
    pytest.skip("Debian's chromium is not installed (make sysdeps)", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402


def seed(world: World) -> dict[str, Any]:
    """Items of ALPHA and BRAVO created yesterday (the period under review ends at midnight today), two of them
    sharing a phone number (correlated), and one of CHARLIE's that nobody else may see."""
    when = clock.format_ts(clock.utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(hours=12))
    mk = {"tlp": "amber", "classification": 1}

    def share(user: str, kind: str, content: dict[str, Any], release: dict[str, Any], **kw: Any) -> str:
        res = world.svc.items.create_many(world.p(user), [{
            "kind": kind, "content": content, "handling": {**mk, "release": release}, "created": when,
            "modified": when, **kw}], allow_times=True)[0]
        assert res.ok, res.errors
        return str(res.id)

    both = {"scope": "members", "members": ["ALPHA", "BRAVO"]}
    out = {
        "a_obs": share("alice", "observation", {"lat": 33.9, "lon": 35.5, "observed_from": when,
                                                "place_name": "Harbour depot"}, {"scope": "all"}),
        "a_rep": share("alice", "report", {"title": "Courier network", "body": "Calls to the courier."}, both,
                       identifiers=[{"type": "phone", "value": PHONE}]),
        "a_ent": share("alice", "entity", {"entity_type": "group", "name": "Northern Brigade"}, {"scope": "all"}),
        "b_rep": share("bob", "report", {"title": "Courier sighting", "body": "Same courier."}, both,
                       identifiers=[{"type": "phone", "value": PHONE}]),
        "b_obs": share("bob", "observation", {"lat": 34.4, "lon": 35.8, "observed_from": when}, {"scope": "all"}),
        "c_rep": share("carol", "report", {"title": "Charlie only", "body": "Hidden."}, {"scope": "originator"},
                       identifiers=[{"type": "phone", "value": PHONE}]),
    }
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, dict[str, Any]]]:
    data = tmp_path_factory.mktemp("meeting-browser")
    settings = load_settings(env={}, data=str(data), secret_key="m" * 40)
    svc = build_services(settings)
    world = build_world(svc)
    ids = seed(world)
    with serve_accord(create_app(settings, svc)) as base:
        yield base, world, ids
    svc.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def login(browser: Browser, base: str, username: str) -> tuple[BrowserContext, Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base, accept_downloads=True)
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


def fresh(page: Page, url: str) -> None:
    """Load ``url`` anew (from ``url#a`` to ``url#b`` the browser would only scroll)."""
    page.goto("about:blank")
    page.goto(url)


def prepare_summary(page: Page, url: str, narrative: str, final: bool = False) -> None:
    fresh(page, url)
    page.click("#prepare-summary")
    form = page.locator("form.summary-form")
    form.locator("textarea[name=narrative]").fill(narrative)
    if final:
        form.locator("input[name=final]").check()
    form.locator("button.primary").click()
    expect(page.locator(".flash")).to_contain_text("Summary saved")


def test_meeting_cycle_through_the_pages(server: tuple[str, World, dict[str, Any]], browser: Browser,
                                        tmp_path: Path) -> None:
    base, _world, ids = server
    today = clock.utcnow().date()
    actx, alice = login(browser, base, "alice")
    bctx, bob = login(browser, base, "bob")

    # The chair convenes; a BRAVO analyst is not offered the form (BRAVO does not hold the chair).
    bob.goto("/meetings")
    expect(bob.locator("#convene")).to_have_count(0)
    alice.click("nav >> text=Meetings")
    alice.fill("input[name=title]", "Twelfth regular meeting")
    alice.fill("input[name=place]", "Genève")
    alice.fill("input[name=period_from]", (today - timedelta(days=30)).isoformat())
    alice.fill("input[name=period_to]", (today - timedelta(days=1)).isoformat())
    alice.uncheck("input[name=members][value=CHARLIE]")
    alice.check("input[name=members][value=BRAVO]")
    alice.fill("textarea[name=agenda]", "Adoption of the agenda\nActivity of the members\nCommuniqué")
    alice.click("#convene button.primary")
    alice.wait_for_url(re.compile(r"/meetings/mtg_[A-Za-z0-9_-]{16}"))
    url = alice.url.split("#")[0]
    expect(alice.locator("#agenda ol li")).to_have_count(3)
    expect(alice.locator(".participants")).to_contain_text("BRAVO")

    # Both members prepare their summaries: figures pre-filled from their own records, a narrative of their own.
    prepare_summary(alice, url, "Alpha shared three items, one correlated with Bravo's.")
    alpha = alice.locator("article.summary[data-member=ALPHA]")
    expect(alpha.locator("form.summary-form")).to_contain_text("Items correlated with another member's")
    expect(alpha.locator("form.summary-form")).to_contain_text("Courier network")  # the most correlated highlight
    prepare_summary(bob, url, "Bravo confirmed the courier.", final=True)
    expect(bob.locator("article.summary[data-member=BRAVO] .body")).to_contain_text("Bravo confirmed the courier.")
    fresh(alice, url)
    expect(alice.locator("article.summary[data-member=BRAVO]")).to_contain_text("Bravo confirmed the courier.")

    # Minutes: a decision and an action item; an action without its owner is refused next to the field.
    minute = alice.locator("form.minute-form")
    minute.locator("select[name=kind]").select_option("action")
    minute.locator("textarea[name=text]").fill("Exchange the courier's call records.")
    minute.locator("button.primary").click()
    expect(alice.locator("form.minute-form .error")).to_contain_text("owner")
    expect(alice.locator("ul.minutes")).to_have_count(0)  # nothing was recorded
    minute = alice.locator("form.minute-form")
    minute.locator("select[name=owner]").select_option("BRAVO")
    minute.locator("button.primary").click()
    expect(alice.locator("ul.minutes li")).to_have_count(1)
    minute = alice.locator("form.minute-form")
    minute.locator("select[name=kind]").select_option("decision")
    minute.locator("textarea[name=text]").fill("The next meeting is held in Beirut.")
    minute.locator("button.primary").click()
    expect(alice.locator("ul.minutes li")).to_have_count(2)
    fresh(bob, url + "#minutes")
    bob.locator("ul.minutes li.m-action button").click()
    expect(bob.locator("ul.minutes li.m-action")).to_contain_text("done")

    # The communiqué: text in two languages, figures picked from the statistics, then submitted.
    fresh(alice, url + "#communique")
    draft = alice.locator("form.communique-form")
    draft.locator("textarea[name=text_en]").fill("The centre met behind closed doors.\n\nThe members approved the "
                                                 "figures below.")
    draft.locator("textarea[name=text_fr]").fill("Le centre s'est réuni à huis clos.")
    draft.locator("input[name=pick][value='observations|members']").check()
    draft.locator("input[name=pick][value='correlated|any']").check()
    draft.locator("button.primary").click()
    expect(alice.locator(".flash")).to_contain_text("draft saved")
    alice.click("#submit-communique")
    frozen = alice.locator("#communique table.figures tbody tr")
    expect(frozen).to_have_count(2)
    # Until both members approved, the chair sees only its own member's contribution, not the totals.
    expect(frozen.nth(0).locator("td").nth(0)).to_have_text("—")
    expect(frozen.nth(0).locator("td.contribution")).to_have_text("1")  # ALPHA's own observation
    expect(frozen.nth(1).locator("td.contribution")).to_have_text("1")  # ALPHA's report sharing the phone number
    expect(alice.locator("#totals-held")).to_be_visible()
    expect(alice.locator("#communique")).to_contain_text("ALPHA, BRAVO")

    # Both members approve; the chair publishes.
    fresh(bob, url + "#communique")
    bob.click("#approve")
    expect(bob.locator(".flash")).to_contain_text("Approved")
    fresh(alice, url + "#communique")
    alice.click("#approve")
    frozen = alice.locator("#communique table.figures tbody tr")
    expect(frozen.nth(0).locator("td").nth(0)).to_have_text("2")  # one observation of each member, released to all
    expect(frozen.nth(1).locator("td").nth(0)).to_have_text("2")  # the two reports sharing the phone number
    expect(alice.locator("#totals-held")).to_have_count(0)
    alice.click("#publish")
    expect(alice.locator("#communique .status.ok").first).to_contain_text("Published")
    shot(alice, "en-1280-meeting")

    # The communiqué as PDF, downloaded from the page, in French.
    alice.select_option("form.documents select[name=lang]", "fr")
    with alice.expect_download() as dl:
        alice.click("form.documents button")
    pdf = Path(dl.value.path())
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF") and len(body) > 10_000

    # Verification, and the drill-down behind a frozen figure (only what the reader may see).
    alice.click("text=Verify the figures")
    expect(alice.locator("#verification")).to_contain_text("reproduces exactly")
    alice.locator("#communique table.figures tbody tr").nth(1).locator("a").first.click()
    # A correlated figure's drill-down lists the viewer's own member's share only: whether another member's item
    # is counted is judged as that member sees (leak review 7), so BRAVO's report, though alice may read it, is
    # not listed.
    expect(alice.locator("table.drilldown tbody tr")).to_have_count(1)
    expect(alice.locator("table.drilldown")).to_contain_text("Courier network")
    expect(alice.locator(f"table.drilldown a[href='/item/{ids['b_rep']}']")).to_have_count(0)
    expect(alice.locator(f"table.drilldown a[href='/item/{ids['c_rep']}']")).to_have_count(0)

    # A non-participant does not see the meeting at all.
    cctx, carol = login(browser, base, "carol")
    resp = carol.goto(url)
    assert resp is not None and resp.status == 404

    # Statistics: the correlated figure links to its drill-down list; CHARLIE's hidden item never counts for BRAVO.
    bob.click("nav >> text=Statistics")
    bob.fill("input[name=from]", (today - timedelta(days=30)).isoformat())
    bob.fill("input[name=to]", today.isoformat())
    bob.click("form.stats-form button.primary")
    row = bob.locator("tr[data-figure=correlated]")
    expect(row.locator("td").nth(1)).to_have_text("2")
    row.locator("a").first.click()
    expect(bob.locator("table.drilldown tbody tr")).to_have_count(2)
    expect(bob.locator("table.drilldown")).to_contain_text("Courier network")
    bob.go_back()
    with bob.expect_download() as dl:
        bob.click("text=Download CSV")
    assert Path(dl.value.path()).read_text(encoding="utf-8").startswith("member,kind,count,previous,change")
    shot(bob, "en-1280-stats")

    # Arabic: the meeting and statistics pages run right to left.
    with alice.expect_navigation():
        alice.select_option("#lang-select", "ar")
    for path, name in ((url, "meeting"), ("/stats", "stats"), ("/meetings", "meetings")):
        alice.goto(path)
        expect(alice.locator("html")).to_have_attribute("dir", "rtl")
        shot(alice, "ar-1280-" + name)
    with alice.expect_navigation():
        alice.select_option("#lang-select", "en")
    for c in (actx, bctx, cctx):
        c.close()
