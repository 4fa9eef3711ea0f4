"""Reading pages: dashboard, map, search (with saved searches). Every item shown comes from the Items service, so
the access policy and the read audit apply exactly as for the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from accord import clock
from accord.errors import NotFound, ValidationFailed
from accord.http.api.common import json_response
from accord.http.web.charts import member_colour, stacked_bars
from accord.http.web.common import User, call, form, redirect, store, svc
from accord.http.web.i18n import render, tr
from accord.sharing import sealed
from accord.sharing.handling import ITEM_KINDS
from accord.sharing.items import ItemFilter

__all__ = ["dashboard_panels", "router"]

router = APIRouter(include_in_schema=False)
PERIODS = (7, 30, 90, 365)
MAP_LIMIT = 5000
COUNT_CAP = 1000


def kind_labels(request: Request) -> dict[str, str]:
    return {"report": tr(request, "Report"), "observation": tr(request, "Observation"),
            "entity": tr(request, "Entity"), "relationship": tr(request, "Relationship"), "note": tr(request, "Note")}


def dashboard_panels(request: Request) -> list[Any]:
    """Other features (alerts, deconfliction, meetings) append ``callable(request, principal) -> (title, html)``
    to ``app.state.web_dashboard_panels``; each panel is shown on the dashboard."""
    return list(getattr(request.app.state, "web_dashboard_panels", []))


def _rid(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


@router.get("/dashboard")
async def dashboard(request: Request, user: User) -> Response:
    s = svc(request)
    try:
        days = int(request.query_params.get("period", "30"))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    since_visit = await call(store(request).visit, user)
    # The period starts on a whole minute, so repeated loads within a minute ask the same question (see
    # WebStore.dashboard_counts, which remembers answers while the store is unchanged).
    start = clock.format_ts(clock.utcnow().replace(second=0, microsecond=0) - timedelta(days=days))
    new_since = since_visit or clock.format_ts(clock.utcnow() - timedelta(days=7))
    counts = await call(store(request).dashboard_counts, user, start, new_since)
    stats = [r for r in counts if r["count"]]
    per_member: dict[str, int] = {}
    for r in counts:
        if r["originator"] != user.member_code and r["new"]:
            per_member[r["originator"]] = per_member.get(r["originator"], 0) + r["new"]
    new_counts = [{"originator": m, "count": n} for m, n in sorted(per_member.items())]
    recent = await call(s.items.list, user, ItemFilter(since=new_since, limit=15), _rid(request))
    recent_items = [i for i in recent.items if i["originator"] != user.member_code][:10]
    labels = kind_labels(request)
    chart = Markup(stacked_bars(stats, labels, tr(request, "Items by member and kind")))  # noqa: S704 - built with escape()
    by_kind: dict[str, int] = {}
    for r in stats:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + r["count"]
    panels = []
    for panel in dashboard_panels(request):
        result = await call(panel, request, user)
        if result:
            panels.append(result)
    return render(request, "dashboard.html", {
        "days": days, "periods": PERIODS, "stats": stats, "chart": chart, "by_kind": by_kind,
        "total": sum(by_kind.values()), "since_visit": since_visit, "new_since": new_since,
        "new_counts": new_counts, "recent": recent_items, "panels": panels, "kind_labels": labels,
    })


# ----- map -----------------------------------------------------------------------------------------------
@router.get("/map")
async def map_page(request: Request, user: User) -> Response:
    members = [m["code"] for m in await call(svc(request).accounts.list_members)]
    colours = {m: member_colour(m, members) for m in members}
    return render(request, "map.html", {"members": members, "colours": colours})


@router.get("/map/data.json")
async def map_data(request: Request, user: User) -> Response:
    """Every observation the caller may see (up to MAP_LIMIT, newest first), as compact points."""
    s = svc(request)
    q = request.query_params
    f = ItemFilter(kind="observation", limit=1000, tag=q.get("tag") or None, originator=q.get("member") or None)
    points: list[dict[str, Any]] = []
    while len(points) < MAP_LIMIT:
        page = await call(s.items.list, user, f, _rid(request))
        for i in page.items:
            c = i["content"]
            points.append({"id": i["id"], "lat": c["lat"], "lon": c["lon"], "m": i["originator"],
                           "t": c["observed_from"], "t2": c.get("observed_to"), "tags": i["tags"],
                           "title": c.get("place_name") or c.get("description", "")[:80] or f"{c['lat']}, {c['lon']}",
                           "tlp": i["handling"]["tlp"]})
        if not page.next_cursor:
            break
        f.cursor = page.next_cursor
    return json_response({"points": points, "truncated": len(points) >= MAP_LIMIT})


# ----- search --------------------------------------------------------------------------------------------
def _day(value: str, field: str, end: bool = False) -> str | None:
    if not value:
        return None
    try:
        ts = clock.parse_ts(value if "T" in value else value + "T00:00:00Z")
    except (ValueError, TypeError):
        raise ValidationFailed.one(field, "must be a date such as 2026-01-31") from None
    if end and "T" not in value:
        ts += timedelta(days=1)
    return clock.format_ts(ts)


def search_filter(params: Any) -> ItemFilter:
    kind = params.get("kind") or None
    if kind and kind not in ITEM_KINDS:
        raise ValidationFailed.one("kind", "is not a kind of item")
    return ItemFilter(q=(params.get("q") or "").strip() or None, kind=kind,
                      originator=params.get("originator") or None, tag=(params.get("tag") or "").strip() or None,
                      since=_day(params.get("since", ""), "since"), until=_day(params.get("until", ""), "until", True),
                      include_revoked=params.get("revoked") == "1", cursor=params.get("cursor") or None, limit=25)


_SAVED_SEARCH = "saved-search"  # the purpose label of saved-search references (accord.sharing.sealed)


def _presented_search(secret: str, row: dict[str, Any]) -> dict[str, Any]:
    """A saved search as the page names it: by a sealed reference, not its row id (a counter of the whole hub,
    whose gaps would count the searches other members' users saved)."""
    out = {k: v for k, v in row.items() if k not in ("id", "user_id")}
    out["ref"] = sealed.seal_number(secret, _SAVED_SEARCH, int(row["id"]))
    return out


@router.get("/search")
async def search(request: Request, user: User) -> Response:
    s = svc(request)
    params = request.query_params
    searched = any(params.get(k) for k in ("q", "kind", "originator", "tag", "since", "until"))
    errors, results, total, next_url = [], [], None, None
    if searched:
        try:
            f = search_filter(params)
            page = await call(s.items.list, user, f, _rid(request))
            results = page.items
            if not f.cursor:
                # Items._filtered is the service's own filter (visible() plus the search filters); counting
                # through it keeps the count under exactly the policy the list used.
                query = s.items._filtered(user, search_filter(params))
                total = await call(store(request).capped_count, query, COUNT_CAP)
            if page.next_cursor:
                next_url = "/search?" + urlencode({**{k: v for k, v in params.items() if k != "cursor"},
                                                  "cursor": page.next_cursor})
        except ValidationFailed as exc:
            errors = exc.errors
    members = [m["code"] for m in await call(s.accounts.list_members)]
    saved = [_presented_search(s.settings.secret_key, row) for row in await call(store(request).saved, user)]
    query = urlencode({k: v for k, v in params.items() if k != "cursor" and v})
    return render(request, "search.html", {"p": params, "results": results, "total": total, "errors": errors,
                                           "next_url": next_url, "members": members, "saved": saved, "cap": COUNT_CAP,
                                           "query": query, "searched": searched, "kinds": ITEM_KINDS})


@router.post("/search/save")
async def save_search(request: Request, user: User) -> Response:
    data = await form(request)
    query = str(data.get("query", ""))
    await call(store(request).save_search, user, str(data.get("name", "")), query)
    return redirect("/search?" + query, tr(request, "Search saved."))


@router.post("/search/saved/{search_ref}/delete")
async def delete_search(request: Request, search_ref: str, user: User) -> Response:
    try:
        search_id = sealed.open_number(svc(request).settings.secret_key, _SAVED_SEARCH, search_ref)
    except sealed.BadToken:
        raise NotFound("no such saved search") from None
    await call(store(request).delete_search, user, search_id)
    return redirect("/search", tr(request, "Saved search deleted."))
