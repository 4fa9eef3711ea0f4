"""The Statistics page: a period / member / kind / audience form, every registered figure with its trend against
the previous period of the same length, each linking to the list of items behind it (only those the reader may
see, paged), counts by member and kind, CSV / JSON downloads, and the activity report as HTML or PDF.

All of it comes from ``services.stats`` with the reader as the viewer basis, so every count is a query over
``policy.visible`` and every drill-down adds the reader's ``visible`` on top.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from accord import clock
from accord.errors import FieldError, ValidationFailed
from accord.http.web.common import User, call, svc
from accord.http.web.i18n import render
from accord.http.web.meetings import (
    FONTS_URL,
    audience_label,
    day_start,
    document_args,
    document_response,
    figure_label,
    last_day,
)
from accord.http.web.pages import kind_labels
from accord.meetings import render as documents
from accord.sharing.handling import ITEM_KINDS, Principal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE = 50


def _rid(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _query(request: Request) -> dict[str, str]:
    """The form's values, with a default period of the last 30 whole days."""
    q = request.query_params
    today = clock.utcnow().date()
    return {"from": q.get("from") or (today - timedelta(days=30)).isoformat(),
            "to": q.get("to") or today.isoformat(), "member": (q.get("member") or "").upper(),
            "kind": q.get("kind") or "", "audience": q.get("audience") or "any"}


def _period(p: dict[str, str]) -> tuple[str, str]:
    errors: list[FieldError] = []
    out = []
    for name, end in (("from", False), ("to", True)):
        try:
            ts = day_start(p[name], name, end=end)
            if ts is None:
                raise ValidationFailed.one(name, "must be a date such as 2026-01-31")
            out.append(ts)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return out[0], out[1]


def _compute(s: Any, user: Principal, p: dict[str, str]) -> dict[str, Any]:
    start, end = _period(p)
    member, kind = p["member"] or None, p["kind"] or None
    table = s.stats.figure_table(user, start, end, member, kind, p["audience"])
    groups = s.stats.activity(user, start, end, ["member", "kind"], member, p["audience"])
    if kind:
        groups["groups"] = [g for g in groups["groups"] if g["kind"] == kind]
    return {"table": table, "groups": groups}


@router.get("/stats")
async def stats_page(request: Request, user: User) -> Response:
    s = svc(request)
    p = _query(request)
    errors: list[FieldError] = []
    result = None
    try:
        result = await call(_compute, s, user, p)
    except ValidationFailed as exc:
        errors = exc.errors
    members = [m["code"] for m in await call(s.accounts.list_members)]
    rows = []
    if result:
        for f in result["table"]["figures"]:
            rows.append({**f, "label": figure_label(request, f["figure"]),
                         "href": "/stats/items?" + f["items"].split("?", 1)[1]})
    query = urlencode({k: v for k, v in p.items() if v})
    return render(request, "stats.html", {
        "p": p, "errors": errors, "rows": rows, "result": result, "members": members, "kinds": ITEM_KINDS,
        "kind_labels": kind_labels(request), "query": query,
        "audiences": [("any", audience_label(request, "any")), ("members", audience_label(request, "members")),
                      ("consumers", audience_label(request, "consumers"))]
        + [(f"member:{m}", audience_label(request, f"member:{m}")) for m in members],
        "previous_last": last_day(result["table"]["previous"]["to"]) if result else None,
    }, status=422 if errors else 200)


@router.get("/stats/items")
async def stats_items(request: Request, user: User) -> Response:
    """Drill-down: the items behind one figure that the reader may see, newest first, paged."""
    s = svc(request)
    q = request.query_params
    raw = {"figure": q.get("figure"), "from": q.get("from"), "to": q.get("to"), "members": q.getlist("member"),
           "kinds": q.getlist("kind"), "audience": q.get("audience") or "any", "basis": q.get("basis") or "viewer"}
    d = s.stats.check_figure(user, raw)
    cursor = q.get("cursor") or None
    out = await call(lambda: s.stats.drilldown(user, d, cursor=cursor, limit=PAGE, request_id=_rid(request)))
    next_url = None
    if out["next"]:
        next_url = "/stats/items?" + urlencode([(k, v) for k, v in q.multi_items() if k != "cursor"]
                                               + [("cursor", out["next"])])
    back = "/stats?" + urlencode({"from": d["from"][:10], "to": last_day(d["to"]), "audience": d["audience"],
                                  **({"member": d["members"][0]} if len(d["members"]) == 1 else {}),
                                  **({"kind": d["kinds"][0]} if len(d["kinds"]) == 1 else {})})
    return render(request, "drilldown.html", {
        "out": out, "label": figure_label(request, d["figure"]), "audience": audience_label(request, d["audience"]),
        "period": (d["from"][:10], last_day(d["to"])), "back": (back, None), "next_url": next_url})


@router.get("/stats/download")
async def stats_download(request: Request, user: User) -> Response:
    """The page's figures and counts by member and kind, as CSV (the counts) or JSON (both)."""
    p = _query(request)
    fmt = request.query_params.get("format", "csv")
    if fmt not in ("csv", "json"):
        raise ValidationFailed.one("format", "must be csv or json")
    result = await call(_compute, svc(request), user, p)
    if fmt == "json":
        return Response(orjson.dumps({"figures": result["table"], "activity": result["groups"]}),
                        media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="accord-statistics.json"'})
    buf = io.StringIO()
    out = csv.DictWriter(buf, ["member", "kind", "count", "previous", "change"], lineterminator="\n")
    out.writeheader()
    out.writerows(result["groups"]["groups"])
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="accord-statistics.csv"'})


@router.get("/stats/report")
async def activity_report(request: Request, user: User) -> Response:
    """The activity report for the form's period (and member), as the reader may see it, HTML or PDF."""
    lang, fmt = document_args(request)
    p = _query(request)
    start, end = _period(p)
    s = svc(request)
    fonts = FONTS_URL if fmt == "html" else None
    body = await call(documents.activity_html, s, user, start, end, lang, p["member"] or None, fonts)
    resp: Response = await call(document_response, body, fmt, f"activity-{p['member'] or 'all'}-{lang}")
    return resp
