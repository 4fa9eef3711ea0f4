"""Statistics, drill-down, reports and the meeting cycle over HTTP. Thin: parse, call the services, shape.

    GET  /api/v1/stats/activity        counts by member/kind with the previous period (JSON or CSV)
    GET  /api/v1/stats/released        who the period's items were released to
    GET  /api/v1/stats/figure          one figure: value, canonical definition, digest, drill-down link
    GET  /api/v1/stats/items           drill-down: the items behind a figure that the caller may see
    GET  /api/v1/reports/activity      activity report, HTML or PDF
    /api/v1/meetings/...               convene, summaries, minutes, communiqué, approvals, publication
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from accord.errors import NotFound, ValidationFailed
from accord.http.api.common import json_body, json_response, request_id
from accord.http.auth import current_principal, services
from accord.meetings import render
from accord.sharing.handling import Principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["meetings"])
Caller = Annotated[Principal, Depends(current_principal)]
FONTS_URL = "/api/v1/reports/fonts"


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    out = csv.DictWriter(buf, columns, extrasaction="ignore", lineterminator="\n")
    out.writeheader()
    out.writerows(rows)
    return buf.getvalue()


def _document(body: str, fmt: str, name: str) -> Response:
    if fmt == "html":
        return Response(body, media_type="text/html; charset=utf-8")
    return Response(render.pdf(body), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})


def _format(fmt: str, allowed: tuple[str, ...]) -> str:
    if fmt not in allowed:
        raise ValidationFailed.one("format", f"must be {' or '.join(allowed)}")
    return fmt


# ----- statistics --------------------------------------------------------------------------------------------
@router.get("/stats/activity", summary="Items you may see, shared in a period, by member and kind, with trend")
async def stats_activity(
    request: Request, caller: Caller,
    start: Annotated[str, Query(alias="from", description="start, RFC 3339 or YYYY-MM-DD (inclusive)")],
    end: Annotated[str, Query(alias="to", description="end, RFC 3339 or YYYY-MM-DD (exclusive)")],
    by: str = "member,kind", member: str | None = None,
    audience: Annotated[str, Query(description="any | members | consumers | member:CODE")] = "any",
    format: str = "json",
) -> Response:
    fmt = _format(format, ("json", "csv"))
    groups = [b for b in by.split(",") if b]
    out = await run_in_threadpool(services(request).stats.activity, caller, start, end, groups, member, audience)
    if fmt == "csv":
        return Response(_csv(out["groups"], [*groups, "count", "previous", "change"]), media_type="text/csv")
    return json_response(out)


@router.get("/stats/released", summary="Who the period's items you may see were released to")
async def stats_released(request: Request, caller: Caller, start: Annotated[str, Query(alias="from")],
                         end: Annotated[str, Query(alias="to")], member: str | None = None) -> Response:
    return json_response(await run_in_threadpool(services(request).stats.released_to, caller, start, end, member))


def _definition(figure: str, start: str, end: str, member: list[str] | None, kind: list[str] | None,
                audience: str, basis: str) -> dict[str, Any]:
    return {"figure": figure, "from": start, "to": end, "members": member or [], "kinds": kind or [],
            "audience": audience, "basis": basis}


@router.get("/stats/figure", summary="One figure: its value, canonical definition and the digest of its items")
async def stats_figure(
    request: Request, caller: Caller, figure: str, start: Annotated[str, Query(alias="from")],
    end: Annotated[str, Query(alias="to")], member: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None, audience: str = "any", basis: str = "viewer",
) -> Response:
    raw = _definition(figure, start, end, member, kind, audience, basis)
    return json_response(await run_in_threadpool(services(request).stats.figure, caller, raw))


@router.get("/stats/items", summary="Drill-down: the items behind a figure that you may see")
async def stats_items(
    request: Request, caller: Caller, figure: str, start: Annotated[str, Query(alias="from")],
    end: Annotated[str, Query(alias="to")], member: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None, audience: str = "any", basis: str = "viewer",
    cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    svc = services(request)
    d = svc.stats.check_figure(caller, _definition(figure, start, end, member, kind, audience, basis))
    out = await run_in_threadpool(lambda: svc.stats.drilldown(caller, d, cursor=cursor, limit=limit,
                                                               request_id=request_id(request)))
    return json_response(out)


# ----- reports -----------------------------------------------------------------------------------------------
@router.get("/reports/activity", summary="Activity report for a period (HTML or PDF), as you may see it")
async def report_activity(request: Request, caller: Caller, start: Annotated[str, Query(alias="from")],
                          end: Annotated[str, Query(alias="to")], member: str | None = None, lang: str = "en",
                          format: str = "pdf") -> Response:
    fmt = _format(format, ("html", "pdf"))
    svc = services(request)
    fonts = FONTS_URL if fmt == "html" else None
    body = await run_in_threadpool(lambda: render.activity_html(svc, caller, start, end, lang, member, fonts))
    return await run_in_threadpool(_document, body, fmt, f"activity-{member or 'all'}-{lang}")


@router.get("/reports/fonts/{name}", include_in_schema=False)
async def report_font(name: str) -> Response:
    """The shipped fonts, for HTML reports viewed in a browser (no font is fetched from anywhere else)."""
    path = render.FONTS / name
    if "/" in name or not name.endswith(".ttf") or not path.is_file():
        raise NotFound()
    return FileResponse(Path(path), media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})


# ----- meetings ----------------------------------------------------------------------------------------------
@router.get("/meetings", summary="Meetings your member takes part in")
async def list_meetings(request: Request, caller: Caller) -> Response:
    return json_response({"meetings": await run_in_threadpool(services(request).meetings.list_for, caller)})


@router.post("/meetings", status_code=201, summary="Convene a meeting (chair)")
async def create_meeting(request: Request, caller: Caller) -> Response:
    body = await json_body(request)
    m = await run_in_threadpool(services(request).meetings.create, caller, body)
    return json_response(m, 201, {"Location": f"/api/v1/meetings/{m['id']}"})


@router.get("/meetings/{meeting_id}", summary="A meeting: summaries, minutes, communiqué")
async def get_meeting(request: Request, meeting_id: str, caller: Caller) -> Response:
    return json_response(await run_in_threadpool(services(request).meetings.get, caller, meeting_id))


@router.post("/meetings/{meeting_id}/summary", summary="Draft (or refresh the figures of) your member's summary")
async def draft_summary(request: Request, meeting_id: str, caller: Caller) -> Response:
    return json_response(await run_in_threadpool(services(request).meetings.draft_summary, caller, meeting_id))


@router.patch("/meetings/{meeting_id}/summary", summary="Edit your member's summary; choose what to present")
async def update_summary(request: Request, meeting_id: str, caller: Caller) -> Response:
    body = await json_body(request)
    return json_response(await run_in_threadpool(services(request).meetings.update_summary, caller, meeting_id,
                                                 body))


@router.post("/meetings/{meeting_id}/minutes", status_code=201, summary="Record a note, decision or action")
async def add_minute(request: Request, meeting_id: str, caller: Caller) -> Response:
    body = await json_body(request)
    return json_response(await run_in_threadpool(services(request).meetings.add_minute, caller, meeting_id, body),
                         201)


@router.post("/meetings/{meeting_id}/minutes/{entry_id}/done", summary="Mark an action item done")
async def close_action(request: Request, meeting_id: str, entry_id: str, caller: Caller) -> Response:
    return json_response(await run_in_threadpool(services(request).meetings.close_action, caller, meeting_id,
                                                 entry_id))


@router.put("/meetings/{meeting_id}/communique", summary="Draft the communiqué: texts per language, figure picks")
async def draft_communique(request: Request, meeting_id: str, caller: Caller) -> Response:
    body = await json_body(request)
    return json_response(await run_in_threadpool(services(request).meetings.draft_communique, caller, meeting_id,
                                                 body))


@router.post("/meetings/{meeting_id}/communique/submit", summary="Freeze the figures and ask for approval")
async def submit_communique(request: Request, meeting_id: str, caller: Caller) -> Response:
    return json_response(await run_in_threadpool(services(request).meetings.submit_communique, caller,
                                                 meeting_id))


@router.post("/meetings/{meeting_id}/communique/approve", summary="Approve the current revision for your member")
async def approve_communique(request: Request, meeting_id: str, caller: Caller) -> Response:
    return json_response(await run_in_threadpool(services(request).meetings.decide, caller, meeting_id, "approve"))


@router.post("/meetings/{meeting_id}/communique/changes", summary="Ask for changes (back to draft)")
async def request_changes(request: Request, meeting_id: str, caller: Caller) -> Response:
    body = await json_body(request)
    comment = body.get("comment", "") if isinstance(body, dict) else ""
    return json_response(await run_in_threadpool(services(request).meetings.decide, caller, meeting_id, "changes",
                                                 comment))


@router.post("/meetings/{meeting_id}/communique/publish", summary="Publish once every member approved")
async def publish_communique(request: Request, meeting_id: str, caller: Caller) -> Response:
    return json_response(await run_in_threadpool(services(request).meetings.publish, caller, meeting_id))


@router.get("/meetings/{meeting_id}/communique/verify", summary="Re-run the frozen figures on today's records")
async def verify_communique(request: Request, meeting_id: str, caller: Caller) -> Response:
    return json_response(await run_in_threadpool(services(request).meetings.verify, caller, meeting_id))


@router.get("/meetings/{meeting_id}/communique/figures/{position}/items",
            summary="Drill-down from a communiqué figure: your share of the items behind it")
async def communique_figure_items(request: Request, meeting_id: str,
                                  position: Annotated[int, PathParam(ge=0, le=2**31 - 1)], caller: Caller,
                                  cursor: str | None = None,
                                  limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> Response:
    svc = services(request)
    out = await run_in_threadpool(lambda: svc.meetings.figure_items(caller, meeting_id, position, cursor=cursor,
                                                                    limit=limit, request_id=request_id(request)))
    return json_response(out)


@router.get("/meetings/{meeting_id}/communique/document", summary="The communiqué as HTML or PDF")
async def communique_document(request: Request, meeting_id: str, caller: Caller, lang: str = "en",
                              format: str = "pdf") -> Response:
    fmt = _format(format, ("html", "pdf"))
    svc = services(request)
    fonts = FONTS_URL if fmt == "html" else None
    body = await run_in_threadpool(lambda: render.communique_html(svc, caller, meeting_id, lang, fonts))
    return await run_in_threadpool(_document, body, fmt, f"communique-{meeting_id}-{lang}")

