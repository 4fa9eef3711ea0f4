"""A full meeting cycle through the HTTP API: convene, summaries, minutes, communiqué, approval by every member,
publication, drill-down and the communiqué as PDF in two languages (checked for text and embedded fonts)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from accord import clock
from conftest import World, bearer

pytestmark = pytest.mark.slow


def seed(world: World) -> dict[str, list[dict[str, Any]]]:
    """A few items of each member in the period, with various releases."""
    mk = {"tlp": "amber", "classification": 1}
    out: dict[str, list[dict[str, Any]]] = {"alpha": [], "bravo": [], "charlie": []}
    for i in range(3):
        content = {"lat": 33.3 + i / 10, "lon": 44.4, "observed_from": "2026-10-01T00:00:00Z",
                   "place_name": f"Site {i}"}
        out["alpha"].append(world.share("alice", kind="observation", handling={**mk, "release": {"scope": "all"}},
                                        content=content))
    out["alpha"].append(world.share("alice", kind="entity", handling={**mk, "release": {"scope": "all"}},
                                    content={"entity_type": "group", "name": "Northern Brigade",
                                             "aliases": ["لواء الشمال"]}))
    out["bravo"].append(world.share("bob", kind="report", handling={
        **mk, "release": {"scope": "members", "members": ["CHARLIE"], "consumers": True}}))
    out["bravo"].append(world.share("bob", kind="observation", handling={
        **mk, "release": {"scope": "members", "members": ["ALPHA"]}}))
    out["charlie"].append(world.share("carol", kind="report", handling={**mk, "release": {"scope": "originator"}}))
    return out


async def test_full_meeting_cycle(client, world: World, tmp_path: Path) -> None:
    start = clock.now()
    shared = seed(world)
    time.sleep(0.005)
    end = clock.now()
    time.sleep(0.005)
    # An item after the period never counts.
    world.share("alice", kind="observation",
                handling={"tlp": "amber", "classification": 1, "release": {"scope": "all"}})

    # Convene (a BRAVO analyst may not: BRAVO does not hold the chair).
    body = {"title": "Twelfth regular meeting", "date": "2026-11-20", "place": "Genève",
            "members": ["BRAVO", "CHARLIE"],
            "agenda": ["Adoption of the agenda", "Activity of the members", "Communiqué"],
            "period": {"from": start, "to": end}}
    assert (await client.post("/api/v1/meetings", headers=bearer(world, "bob"), json=body)).status_code == 403
    r = await client.post("/api/v1/meetings", headers=bearer(world, "alice"), json=body)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    assert [m["code"] for m in r.json()["members"]] == ["ALPHA", "BRAVO", "CHARLIE"]
    # Consumers and non-participants do not see it.
    assert (await client.get(f"/api/v1/meetings/{mid}", headers=bearer(world, "bunit"))).status_code == 404

    # Summaries, pre-filled from each member's own records.
    for user in ("alice", "bob", "carol"):
        s = await client.post(f"/api/v1/meetings/{mid}/summary", headers=bearer(world, user))
        assert s.status_code == 200, s.text
    alpha = (await client.post(f"/api/v1/meetings/{mid}/summary", headers=bearer(world, "alice"))).json()
    values = {(f["definition"]["figure"], f["definition"]["audience"]): f["value"] for f in alpha["figures"]}
    assert values[("observations", "members")] == 3 and values[("information", "members")] == 1
    entity_id = shared["alpha"][3]["id"]
    assert [h["id"] for h in alpha["highlights"]] == [entity_id]
    r = await client.patch(f"/api/v1/meetings/{mid}/summary", headers=bearer(world, "alice"), json={
        "narrative": "Alpha shared the positions of three sites.", "present_figures": [0, 1],
        "present_highlights": [entity_id], "final": True})
    assert r.status_code == 200 and r.json()["status"] == "final"
    await client.patch(f"/api/v1/meetings/{mid}/summary", headers=bearer(world, "carol"),
                       json={"narrative": "Charlie's report stays with Charlie.", "present_figures": [2]})
    got = (await client.get(f"/api/v1/meetings/{mid}", headers=bearer(world, "bob"))).json()
    by_member = {s["member"]: s for s in got["summaries"]}
    assert len(by_member["ALPHA"]["figures"]) == 2  # only what Alpha chose to present
    assert [h["id"] for h in by_member["ALPHA"]["highlights"]] == [entity_id]  # released to all: BRAVO sees it

    # Minutes: decisions and an action item tracked to completion.
    r = await client.post(f"/api/v1/meetings/{mid}/minutes", headers=bearer(world, "alice"),
                          json={"kind": "decision", "text": "Adopt a common approach to re-forming groups."})
    assert r.status_code == 201
    r = await client.post(f"/api/v1/meetings/{mid}/minutes", headers=bearer(world, "alice"),
                          json={"kind": "action", "text": "Share the aliases list.", "owner": "BRAVO",
                                "due": "2026-12-15"})
    action = r.json()
    assert action["status"] == "open" and action["owner"] == "BRAVO"
    assert (await client.post(f"/api/v1/meetings/{mid}/minutes", headers=bearer(world, "bob"),
                              json={"kind": "note", "text": "x"})).status_code == 403
    assert (await client.post(f"/api/v1/meetings/{mid}/minutes/{action['id']}/done",
                              headers=bearer(world, "carol"))).status_code == 403
    r = await client.post(f"/api/v1/meetings/{mid}/minutes/{action['id']}/done", headers=bearer(world, "bob"))
    assert r.json()["status"] == "done"

    # The communiqué: drafted, submitted (figures frozen), changes asked, revised, approved by all, published.
    texts = {"en": "The members met in Geneva.\n\nThey reviewed the activity of the centre.",
             "ar": "اجتمع الأعضاء في جنيف.\n\nواستعرضوا نشاط المركز."}
    picks = [{"figure": "observations"}, {"figure": "information"}, {"figure": "items", "audience": "consumers"}]
    r = await client.put(f"/api/v1/meetings/{mid}/communique", headers=bearer(world, "alice"),
                         json={"texts": texts, "figures": picks})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/meetings/{mid}/communique/submit", headers=bearer(world, "alice"))
    assert r.status_code == 200, r.text
    c = r.json()
    # Until every member approved, each sees only its own contribution, the chair included: the totals less its
    # own would be the other members' figures, which they have not yet agreed to give.
    assert [f["value"] for f in c["figures"]] == [None, None, None] and not c["figures_released"]
    assert all(f["items_digest"] is None for f in c["figures"])
    shares = {}
    for user in ("alice", "bob", "carol"):
        got = (await client.get(f"/api/v1/meetings/{mid}", headers=bearer(world, user))).json()["communique"]
        assert [f["value"] for f in got["figures"]] == [None, None, None]
        shares[user] = [f["contribution"] for f in got["figures"]]
    totals = [sum(col) for col in zip(*shares.values(), strict=True)]
    assert totals == [4, 2, 1]  # 3+1 coordinates, 1+1 reports, 1 to consumers
    assert c["awaiting"] == ["ALPHA", "BRAVO", "CHARLIE"]
    held = (await client.get(f"/api/v1/meetings/{mid}/communique/figures/1/items", headers=bearer(world, "bob"))).json()
    assert held["total"] is None
    verified = (await client.get(f"/api/v1/meetings/{mid}/communique/verify", headers=bearer(world, "bob"))).json()
    assert [f["stored"] for f in verified["figures"]] == [None, None, None]
    assert [f["contribution"]["stored"] for f in verified["figures"]] == shares["bob"] and verified["reproduced"]
    r = await client.post(f"/api/v1/meetings/{mid}/communique/changes", headers=bearer(world, "carol"),
                          json={"comment": "Name the place in full."})
    assert r.json()["status"] == "draft" and r.json()["revision"] == 2 and r.json()["figures"] == []
    await client.put(f"/api/v1/meetings/{mid}/communique", headers=bearer(world, "alice"),
                     json={"texts": {**texts, "en": "The members met in Geneva, Switzerland.\n\n"
                                                    "They reviewed the activity of the centre."}})
    await client.post(f"/api/v1/meetings/{mid}/communique/submit", headers=bearer(world, "alice"))
    for user in ("alice", "bob"):
        r = await client.post(f"/api/v1/meetings/{mid}/communique/approve", headers=bearer(world, user))
        assert r.status_code == 200
    early = await client.post(f"/api/v1/meetings/{mid}/communique/publish", headers=bearer(world, "alice"))
    assert early.status_code == 409 and "CHARLIE" in early.json()["detail"]
    r = await client.post(f"/api/v1/meetings/{mid}/communique/approve", headers=bearer(world, "carol"))
    assert [f["value"] for f in r.json()["figures"]] == [4, 2, 1] and r.json()["figures_released"]
    assert (await client.post(f"/api/v1/meetings/{mid}/communique/publish",
                              headers=bearer(world, "bob"))).status_code == 403
    r = await client.post(f"/api/v1/meetings/{mid}/communique/publish", headers=bearer(world, "alice"))
    assert r.status_code == 200, r.text
    pub = r.json()
    assert pub["status"] == "published" and len(pub["digest"]) == 64
    assert (await client.put(f"/api/v1/meetings/{mid}/communique", headers=bearer(world, "alice"),
                             json={"texts": {"en": "x"}})).status_code == 409

    # Drill-down from a published figure: each member sees its share of the items behind it.
    as_alpha = (await client.get(f"/api/v1/meetings/{mid}/communique/figures/2/items",
                                 headers=bearer(world, "alice"))).json()
    assert as_alpha["total"] == 2 and as_alpha["visible"] == 1  # Bravo's report went to Charlie only
    assert [i["id"] for i in as_alpha["items"]] == [entity_id]
    as_charlie = (await client.get(f"/api/v1/meetings/{mid}/communique/figures/2/items",
                                   headers=bearer(world, "carol"))).json()
    assert {i["id"] for i in as_charlie["items"]} == {entity_id, shared["bravo"][0]["id"]}
    v = (await client.get(f"/api/v1/meetings/{mid}/communique/verify", headers=bearer(world, "bob"))).json()
    assert v["reproduced"] is True

    # The communiqué as PDF in English and Arabic.
    for lang, needle in (("en", "Communiqué"), ("ar", "بيان ختامي")):
        r = await client.get(f"/api/v1/meetings/{mid}/communique/document",
                             params={"lang": lang, "format": "pdf"}, headers=bearer(world, "bob"))
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        path = tmp_path / f"communique-{lang}.pdf"
        path.write_bytes(r.content)
        check_pdf(path, needle)
    html = await client.get(f"/api/v1/meetings/{mid}/communique/document", params={"lang": "fr", "format": "html"},
                            headers=bearer(world, "carol"))
    assert 'dir="ltr"' in html.text and "/api/v1/reports/fonts/NotoSans-Regular.ttf" in html.text
    font = await client.get("/api/v1/reports/fonts/NotoSans-Regular.ttf")
    assert font.status_code == 200 and font.content[:4] == b"\x00\x01\x00\x00"


def check_pdf(path: Path, needle: str) -> None:
    """The text is there and every embedded font is one the package ships (declared by @font-face)."""
    assert path.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdffonts") is None:  # poppler-utils is a build dependency; skip the deep check without it
        return
    # Fixed tool names and a path the test made: nothing untrusted reaches the command line.
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout  # noqa: S603, S607
    names = [line.split()[0] for line in fonts.splitlines()[2:] if line.strip()]
    # The @font-face families name the embedded subsets; a system fallback would show up as e.g. DejaVuSans.
    assert names and all("+Accord-" in n for n in names), fonts
    text = subprocess.run(["pdftotext", str(path), "-"],  # noqa: S603, S607
                          capture_output=True, text=True, check=True).stdout
    assert needle in text
