"""The item page and the entity page, with the actions taken from them (revoke, release further, add a note or
feedback, request release from the originator)."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from accord.errors import NotFound, ValidationFailed
from accord.http.web.charts import KIND_COLOURS
from accord.http.web.common import User, call, form, redirect, store, svc
from accord.http.web.forms import split_list
from accord.http.web.i18n import render, tr
from accord.sharing.handling import Principal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _rid(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _get_many(request: Request, user: Principal, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for i in ids:
        try:
            out.append(await call(svc(request).items.get, user, i, _rid(request)))
        except NotFound:  # revoked in between, or a reference to something the reader may not see
            continue
    return out


def item_panels(request: Request) -> list[Any]:
    """Correlation and other features append ``callable(request, principal, item) -> (title, html) | None`` to
    ``app.state.web_item_panels``; each result is shown on the item page."""
    return list(getattr(request.app.state, "web_item_panels", []))


@router.get("/item/{item_id}")
async def item_page(request: Request, item_id: str, user: User) -> Response:
    s = svc(request)
    item = await call(s.items.get, user, item_id, _rid(request))
    history = await call(s.items.history, user, item_id, _rid(request))
    notes = await _get_many(request, user, await call(store(request).notes_about, user, item_id))
    notes = [n for n in notes if item_id in n["content"].get("object_refs", [])]
    refs: list[dict[str, Any]] = []
    c = item["content"]
    for key in ("source_ref", "target_ref"):
        if c.get(key):
            refs.extend(await _get_many(request, user, [c[key]]))
    if item["kind"] == "note":
        refs.extend(await _get_many(request, user, c.get("object_refs", [])))
    members = [m["code"] for m in await call(s.accounts.list_members)]
    originator_member = item["originator"] == user.member_code
    panels = []
    for panel in item_panels(request):
        result = await call(panel, request, user, item)
        if result:
            panels.append(result)
    return render(request, "item.html", {
        "item": item, "history": list(reversed(history)), "notes": notes, "refs": refs, "members": members,
        "can_edit": originator_member and user.can_write, "can_note": user.can_write, "panels": panels,
    })


@router.post("/item/{item_id}/revoke")
async def revoke(request: Request, item_id: str, user: User) -> Response:
    await call(svc(request).items.revoke, user, item_id, _rid(request))
    return redirect(f"/item/{item_id}", tr(request, "The item is revoked."))


@router.post("/item/{item_id}/release")
async def release(request: Request, item_id: str, user: User) -> Response:
    data = await form(request)
    codes = [str(m) for m in data.getlist("members")]
    consumers = True if data.get("consumers") == "1" else None
    await call(svc(request).items.release, user, item_id, codes, consumers=consumers, request_id=_rid(request))
    return redirect(f"/item/{item_id}", tr(request, "Released further."))


@router.post("/item/{item_id}/note")
async def add_note(request: Request, item_id: str, user: User) -> Response:
    """A note or a piece of feedback about the item. The originator's note reaches the item's whole audience;
    anyone else's goes to the originator (and stays with the writer's member); a release request likewise."""
    s = svc(request)
    item = await call(s.items.get, user, item_id, _rid(request))
    data = await form(request)
    purpose = str(data.get("purpose", "note"))
    text = str(data.get("content", "")).strip()
    if purpose == "release-request":
        text = text or tr(request, "Please consider releasing this item to my member.")
    if not text:
        raise ValidationFailed.one("content", "write the note")
    rel = item["handling"]["release"]
    if item["originator"] == user.member_code and purpose != "release-request":
        # The originator's own note reaches the item's audience.
        release: dict[str, Any] = {"scope": rel["scope"], "members": list(rel["members"]),
                                   "consumers": rel["consumers"]}
    else:
        release = {"scope": "members", "members": [item["originator"]]}
    tags = {"feedback": ["feedback"], "release-request": ["release-request"]}.get(purpose, [])
    raw = {"kind": "note", "content": {"object_refs": [item_id], "content": text}, "tags": tags,
           "handling": {"tlp": item["handling"]["tlp"], "classification": min(item["handling"]["classification"],
                                                                              user.clearance), "release": release}}
    await call(s.items.create, user, raw, _rid(request))
    return redirect(f"/item/{item_id}", tr(request, "Note added."))


# ----- entity page ---------------------------------------------------------------------------------------
def link_graph(center: dict[str, Any], links: list[tuple[str, dict[str, Any]]]) -> str:
    """A small radial SVG: the entity in the middle, each linked item around it, the link labelled."""
    size, r = 360, 130
    cx = cy = size / 2
    out = [f'<svg class="graph" viewBox="0 0 {size} {size}" role="img" xmlns="http://www.w3.org/2000/svg" '
           f'aria-label="{escape(center["content"]["name"])}">']
    n = max(1, len(links))
    nodes = []
    for i, (label, other) in enumerate(links[:16]):
        a = 2 * math.pi * i / min(n, 16) - math.pi / 2
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        out.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="#9aa5b1" stroke-width="1.5"/>')
        # The label sits nearer the outer node so it never collides with the centre's name.
        lx, ly = cx + 0.62 * (x - cx), cy + 0.62 * (y - cy)
        out.append(f'<text x="{lx:.1f}" y="{ly - 4:.1f}" class="edge">{escape(label)}</text>')
        nodes.append((x, y, other))
    for x, y, other in nodes:
        colour = KIND_COLOURS.get(other["kind"], "#777")
        title = other["content"].get("name") or other["content"].get("title") or other["content"].get(
            "place_name") or other["id"].split("--")[0]
        href = ("/entity/" if other["kind"] == "entity" else "/item/") + other["id"]
        out.append(f'<a href="{escape(href)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{colour}"/>'
                   f'<text x="{x:.1f}" y="{y + 22:.1f}" text-anchor="middle">{escape(str(title)[:24])}</text></a>')
    out.append(f'<circle cx="{cx}" cy="{cy}" r="14" fill="{KIND_COLOURS["entity"]}"/>'
               f'<text x="{cx}" y="{cy + 30}" text-anchor="middle" class="center">'
               f'{escape(center["content"]["name"][:28])}</text></svg>')
    return "".join(out)


@router.get("/entity/{item_id}")
async def entity_page(request: Request, item_id: str, user: User) -> Response:
    s = svc(request)
    item = await call(s.items.get, user, item_id, _rid(request))
    if item["kind"] != "entity":
        return redirect(f"/item/{item_id}")
    c = item["content"]
    former = await _get_many(request, user, c.get("formerly_known_as", []))
    hidden_former = len(c.get("formerly_known_as", [])) - len(former)
    later = [e for e in await _get_many(request, user, await call(store(request).later_names, user, item_id))
             if item_id in e["content"].get("formerly_known_as", [])]
    rels = [r for r in await _get_many(request, user, await call(store(request).relationships_of, user, item_id))
            if item_id in (r["content"].get("source_ref"), r["content"].get("target_ref"))]
    links: list[tuple[str, dict[str, Any]]] = []
    timeline: list[dict[str, Any]] = []
    for rel in rels:
        rc = rel["content"]
        other_id = rc["target_ref"] if rc["source_ref"] == item_id else rc["source_ref"]
        others = await _get_many(request, user, [other_id])
        if others:
            links.append((rc["relationship_type"], others[0]))
            timeline.append({"when": others[0]["created"], "item": others[0], "via": rc["relationship_type"]})
        timeline.append({"when": rel["created"], "item": rel, "via": None})
    for e in former:
        links.append((tr(request, "formerly"), e))
    for e in later:
        links.append((tr(request, "later"), e))
    notes = await _get_many(request, user, await call(store(request).notes_about, user, item_id))
    for n in notes:
        if item_id in n["content"].get("object_refs", []):
            timeline.append({"when": n["created"], "item": n, "via": None})
    timeline.sort(key=lambda t: t["when"], reverse=True)
    graph = Markup(link_graph(item, links)) if links else None  # noqa: S704 - built with escape()
    return render(request, "entity.html", {
        "item": item, "former": former, "hidden_former": hidden_former, "later": later, "timeline": timeline,
        "graph": graph, "can_edit": item["originator"] == user.member_code and user.can_write,
        "aliases": split_list("\n".join(c.get("aliases", [])), "\n"),
    })
