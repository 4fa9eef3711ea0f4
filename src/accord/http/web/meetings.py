"""Meeting pages: the list and the convening form, a meeting's page (agenda, participants, period, each member's
activity summary, minutes with decisions and action items, the communiqué with its approvals), and the
communiqué and activity report as HTML or PDF in a chosen language.

Every read and write goes through ``services.meetings`` (which decides who may see and do what, and audits) and
``services.stats``; the pages only hide buttons a role could not use anyway. Bad form input re-renders the page
with the message next to the field (HTTP 422) and changes nothing: the service validates before it writes, in one
transaction. Other refusals (not allowed, conflict, not found) are the pages' one error translator.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from accord import clock
from accord.errors import FieldError, ValidationFailed
from accord.http.web.common import User, call, form, redirect, svc
from accord.http.web.i18n import LANGUAGES, language_of, render, tr
from accord.meetings import FIGURES
from accord.meetings import render as documents
from accord.meetings.service import LANGUAGES as TEXT_LANGUAGES
from accord.sharing.handling import Principal

__all__ = ["FONTS_URL", "audience_label", "audience_labels", "day_start", "document_args", "document_response",
           "figure_label", "last_day", "router"]

router = APIRouter(include_in_schema=False)
AUDIENCES = ("members", "consumers", "any")
MINUTE_KINDS = ("decision", "action", "note")


def _rid(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def figure_label(request: Request, key: str) -> str:
    """A figure's name in the reader's language: the built-in ones from the catalogs, the ones other features
    registered from their own labels."""
    known = {"items": tr(request, "Items shared"), "observations": tr(request, "Geographic coordinates"),
             "information": tr(request, "Information items"), "reports": tr(request, "Reports"),
             "entities": tr(request, "Entities"),
             "correlated": tr(request, "Items correlated with another member's")}
    if key in known:
        return known[key]
    fig = FIGURES.get(key)
    if fig is not None and fig.labels:
        return fig.labels.get(language_of(request)) or fig.labels.get("en") or fig.label
    return fig.label if fig else key


def audience_labels(request: Request) -> dict[str, str]:
    return {"any": tr(request, "all items"), "members": tr(request, "provided to other members"),
            "consumers": tr(request, "passed on to consumers")}


def audience_label(request: Request, audience: str) -> str:
    if audience.startswith("member:"):
        return tr(request, "provided to %(member)s", member=audience.split(":", 1)[1])
    return audience_labels(request).get(audience, audience)


def day_start(value: str, field: str, *, end: bool = False) -> str | None:
    """A date field (YYYY-MM-DD) as the timestamp the services take; ``end`` makes an inclusive last day into
    the exclusive end of the period."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.one(field, "must be a date such as 2026-01-31") from None
    return (d + timedelta(days=1) if end else d).isoformat() + "T00:00:00.000Z"


def last_day(end_exclusive: str) -> str:
    """The inclusive last day of a period ending (exclusive) at ``end_exclusive``."""
    ts = clock.parse_ts(end_exclusive)
    if ts.hour == ts.minute == ts.second == ts.microsecond == 0:
        ts -= timedelta(days=1)
    return ts.date().isoformat()


async def _members(request: Request) -> list[dict[str, Any]]:
    return [{"code": m["code"], "name": m["name"], "role": m["role"]}
            for m in await call(svc(request).accounts.list_members)]


def may_convene(user: Principal, members: list[dict[str, Any]]) -> bool:
    own = next((m for m in members if m["code"] == user.member_code), None)
    return user.role == "member-admin" or (user.can_write and own is not None and own["role"] == "chair")


# ----- list and convene --------------------------------------------------------------------------------------
async def _list_page(request: Request, user: Principal, v: dict[str, Any], errors: list[FieldError],
                     status: int = 200) -> Response:
    s = svc(request)
    members = await _members(request)
    listed = await call(s.meetings.list_for, user)
    today = clock.utcnow().date()
    defaults = {"date": today.isoformat(), "period_from": (today.replace(day=1) - timedelta(days=1)).replace(
        day=1).isoformat(), "period_to": (today.replace(day=1) - timedelta(days=1)).isoformat(),
        "members": [m["code"] for m in members]}
    return render(request, "meetings.html", {
        "meetings": listed, "members": members, "can_convene": may_convene(user, members),
        "v": {**defaults, **v}, "errors": errors}, status=status)


@router.get("/meetings")
async def meetings_page(request: Request, user: User) -> Response:
    return await _list_page(request, user, {}, [])


def _convene_body(data: FormData) -> dict[str, Any]:
    period: dict[str, Any] = {}
    for name, key, end in (("period_from", "from", False), ("period_to", "to", True)):
        raw = str(data.get(name, ""))
        try:
            period[key] = day_start(raw, f"period.{key}", end=end)
        except ValidationFailed:
            period[key] = raw  # the service names it, together with every other bad field
    agenda = [line.strip() for line in str(data.get("agenda", "")).splitlines() if line.strip()]
    return {"title": str(data.get("title", "")), "date": str(data.get("date", "")) or None,
            "place": str(data.get("place", "")), "agenda": agenda,
            "members": [str(c) for c in data.getlist("members")], "period": period}


@router.post("/meetings")
async def convene(request: Request, user: User) -> Response:
    data = await form(request)
    try:
        m = await call(svc(request).meetings.create, user, _convene_body(data))
    except ValidationFailed as exc:
        v: dict[str, Any] = {k: str(x) for k, x in data.items() if isinstance(x, str) and k != "members"}
        v["members"] = [str(c) for c in data.getlist("members")]
        return await _list_page(request, user, v, exc.errors, status=422)
    return redirect(f"/meetings/{m['id']}", tr(request, "Meeting convened."))


# ----- one meeting -------------------------------------------------------------------------------------------
def _figure_rows(request: Request, figures: list[dict[str, Any]], own: bool) -> list[dict[str, Any]]:
    from accord.meetings.stats import drill_link

    rows = []
    for i, f in enumerate(figures):
        d = f["definition"]
        rows.append({"index": i, "label": figure_label(request, d["figure"]),
                     "audience": audience_label(request, d["audience"]), "value": f["value"],
                     "present": f.get("present", True),
                     "href": "/stats/items?" + drill_link(d).split("?", 1)[1] if own else None})
    return rows


async def _meeting_page(request: Request, user: Principal, meeting_id: str, *, errors: list[FieldError] | None = None,
                        v: dict[str, Any] | None = None, status: int = 200) -> Response:
    s = svc(request)
    m = await call(s.meetings.get, user, meeting_id)
    verification = None
    if request.query_params.get("verify") == "1" and m["communique"]["figures"]:
        verification = await call(s.meetings.verify, user, meeting_id)
    c = m["communique"]
    is_chair = user.can_write and user.member_code == m["chair"]["code"]
    summaries = []
    own_summary = None
    for sm in m["summaries"]:
        own = sm["member"] == user.member_code
        row = {**sm, "own": own, "figure_rows": _figure_rows(request, sm["figures"], own)}
        summaries.append(row)
        if own:
            own_summary = row
    approved_now = {a["member"] for a in c["approvals"] if a["revision"] == c["revision"] and
                    a["decision"] == "approve"}
    picks = {(p["figure"], p["audience"]) for p in c["picks"] if not p["kinds"]}
    pick_rows = [{"figure": key, "label": figure_label(request, key),
                  "cells": [{"value": f"{key}|{a}", "checked": (key, a) in picks} for a in AUDIENCES]}
                 for key in FIGURES]
    # Picks narrowed to some kinds (made through the API or the CLI) are kept as their own checkboxes.
    other_picks = [{"value": f"{p['figure']}|{p['audience']}|{','.join(p['kinds'])}",
                    "label": f"{figure_label(request, p['figure'])} ({', '.join(p['kinds'])}) · "
                             f"{audience_label(request, p['audience'])}"}
                   for p in c["picks"] if p["kinds"] or p["audience"] not in AUDIENCES]
    frozen = [{**f, "label": figure_label(request, f["figure"]),
               "audience": audience_label(request, f["definition"]["audience"]),
               "href": f"/meetings/{m['id']}/communique/figures/{f['position']}"} for f in c["figures"]]
    return render(request, "meeting.html", {
        "m": m, "c": c, "is_chair": is_chair, "summaries": summaries, "own_summary": own_summary,
        "participant_codes": [p["code"] for p in m["members"]], "approved_now": approved_now,
        "i_approved": user.member_code in approved_now, "pick_rows": pick_rows, "other_picks": other_picks,
        "audiences": [audience_labels(request)[a] for a in AUDIENCES], "frozen": frozen,
        "verification": verification, "period_last": last_day(m["period"]["to"]),
        "text_languages": [(code, LANGUAGES[code]) for code in TEXT_LANGUAGES],
        "minute_kinds": MINUTE_KINDS, "errors": errors or [], "v": v or {},
        "period_ended": m["period"]["to"] <= clock.now(),
    }, status=status)


@router.get("/meetings/{meeting_id}")
async def meeting_page(request: Request, meeting_id: str, user: User) -> Response:
    return await _meeting_page(request, user, meeting_id)


async def _act(request: Request, user: Principal, meeting_id: str, fn: Any, *args: Any, done: str,
               anchor: str, v: dict[str, Any] | None = None) -> Response:
    """Run one service action; field errors re-render the meeting page with the messages next to the fields."""
    try:
        await call(fn, user, meeting_id, *args)
    except ValidationFailed as exc:
        return await _meeting_page(request, user, meeting_id, errors=exc.errors, v=v, status=422)
    return redirect(f"/meetings/{meeting_id}#{anchor}", done)


@router.post("/meetings/{meeting_id}/summary")
async def draft_summary(request: Request, meeting_id: str, user: User) -> Response:
    return await _act(request, user, meeting_id, svc(request).meetings.draft_summary,
                      done=tr(request, "Summary prepared from the records."), anchor="summaries")


@router.post("/meetings/{meeting_id}/summary/edit")
async def edit_summary(request: Request, meeting_id: str, user: User) -> Response:
    data = await form(request)
    body: dict[str, Any] = {"narrative": str(data.get("narrative", "")), "final": data.get("final") == "1"}
    try:
        body["present_figures"] = [int(str(i)) for i in data.getlist("present_figures")]
    except ValueError:
        body["present_figures"] = data.getlist("present_figures")  # the service names the field
    body["present_highlights"] = [str(i) for i in data.getlist("present_highlights")]
    return await _act(request, user, meeting_id, svc(request).meetings.update_summary, body,
                      done=tr(request, "Summary saved."), anchor="summaries", v={"narrative": body["narrative"]})


@router.post("/meetings/{meeting_id}/minutes")
async def add_minute(request: Request, meeting_id: str, user: User) -> Response:
    data = await form(request)
    body = {"kind": str(data.get("kind", "")), "text": str(data.get("text", "")),
            "owner": str(data.get("owner", "")) or None, "due": str(data.get("due", "")) or None}
    v = {f"minute_{k}": val or "" for k, val in body.items()}
    return await _act(request, user, meeting_id, svc(request).meetings.add_minute, body,
                      done=tr(request, "Recorded in the minutes."), anchor="minutes", v=v)


@router.post("/meetings/{meeting_id}/minutes/{entry_id}/done")
async def close_action(request: Request, meeting_id: str, entry_id: str, user: User) -> Response:
    return await _act(request, user, meeting_id, svc(request).meetings.close_action, entry_id,
                      done=tr(request, "Action item marked done."), anchor="minutes")


@router.post("/meetings/{meeting_id}/communique")
async def draft_communique(request: Request, meeting_id: str, user: User) -> Response:
    data = await form(request)
    texts = {code: str(data.get(f"text_{code}", "")) for code in TEXT_LANGUAGES}
    picks = []
    for raw in data.getlist("pick"):
        figure, _, rest = str(raw).partition("|")
        audience, _, kinds = rest.partition("|")
        picks.append({"figure": figure, "audience": audience or "members",
                      "kinds": [k for k in kinds.split(",") if k]})
    body = {"texts": {k: t for k, t in texts.items() if t.strip()}, "figures": picks}
    v: dict[str, Any] = {f"text_{k}": t for k, t in texts.items()}
    v["picks"] = [str(p) for p in data.getlist("pick")]
    return await _act(request, user, meeting_id, svc(request).meetings.draft_communique, body,
                      done=tr(request, "Communiqué draft saved."), anchor="communique", v=v)


@router.post("/meetings/{meeting_id}/communique/submit")
async def submit_communique(request: Request, meeting_id: str, user: User) -> Response:
    return await _act(request, user, meeting_id, svc(request).meetings.submit_communique,
                      done=tr(request, "Figures frozen; the members are asked to approve."), anchor="communique")


@router.post("/meetings/{meeting_id}/communique/approve")
async def approve_communique(request: Request, meeting_id: str, user: User) -> Response:
    return await _act(request, user, meeting_id, svc(request).meetings.decide, "approve",
                      done=tr(request, "Approved for your member."), anchor="communique")


@router.post("/meetings/{meeting_id}/communique/changes")
async def request_changes(request: Request, meeting_id: str, user: User) -> Response:
    data = await form(request)
    comment = str(data.get("comment", ""))
    return await _act(request, user, meeting_id, svc(request).meetings.decide, "changes", comment,
                      done=tr(request, "Changes requested; the communiqué is back to draft."), anchor="communique",
                      v={"comment": comment})


@router.post("/meetings/{meeting_id}/communique/publish")
async def publish_communique(request: Request, meeting_id: str, user: User) -> Response:
    return await _act(request, user, meeting_id, svc(request).meetings.publish,
                      done=tr(request, "Communiqué published."), anchor="communique")


@router.get("/meetings/{meeting_id}/communique/figures/{position}")
async def communique_figure_items(request: Request, meeting_id: str, position: int, user: User) -> Response:
    s = svc(request)
    m = await call(s.meetings.get, user, meeting_id)
    cursor = request.query_params.get("cursor") or None
    out = await call(lambda: s.meetings.figure_items(user, meeting_id, position, cursor=cursor, limit=50,
                                                     request_id=_rid(request)))
    d = out["definition"]
    return render(request, "drilldown.html", {
        "out": out, "label": figure_label(request, d["figure"]), "audience": audience_label(request, d["audience"]),
        "period": (d["from"][:10], last_day(d["to"])), "back": (f"/meetings/{m['id']}#communique", m["title"]),
        "next_url": f"/meetings/{meeting_id}/communique/figures/{position}?cursor={out['next']}"
        if out["next"] else None})


def document_args(request: Request) -> tuple[str, str]:
    lang = request.query_params.get("lang", language_of(request))
    fmt = request.query_params.get("format", "pdf")
    errors = []
    if lang not in LANGUAGES:
        errors.append(FieldError("lang", f"must be one of {', '.join(LANGUAGES)}"))
    if fmt not in ("html", "pdf"):
        errors.append(FieldError("format", "must be html or pdf"))
    if errors:
        raise ValidationFailed(errors)
    return lang, fmt


def document_response(body: str, fmt: str, name: str) -> Response:
    if fmt == "html":
        return Response(body, media_type="text/html; charset=utf-8")
    return Response(documents.pdf(body), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})


FONTS_URL = "/api/v1/reports/fonts"  # served by the API router, to browsers with or without a session


@router.get("/meetings/{meeting_id}/communique/document")
async def communique_document(request: Request, meeting_id: str, user: User) -> Response:
    lang, fmt = document_args(request)
    s = svc(request)
    fonts = FONTS_URL if fmt == "html" else None
    body = await call(documents.communique_html, s, user, meeting_id, lang, fonts)
    resp: Response = await call(document_response, body, fmt, f"communique-{meeting_id}-{lang}")
    return resp
