"""Correlation on the pages: a "Correlations" panel on the item page and a "Deconfliction notices" panel on the
dashboard, with the one-step release a notice offers.

Both read through the Correlation service only: it joins every other item through the access policy (a reader
sees a correlation only between two items they may both see) and audits the read; a notice carries the other
member and the kind of the match (a score where one is told: `told_score`), never the other item, and this panel
shows nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from markupsafe import Markup
from starlette.responses import Response

from accord.errors import NotFound
from accord.http.web.common import User, call, redirect, svc
from accord.http.web.i18n import environment, language_of, tr
from accord.sharing.handling import Principal

__all__ = ["install", "router"]

router = APIRouter(include_in_schema=False)
NOTICE_LIMIT = 20


def _rid(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def match_labels(request: Request) -> dict[str, str]:
    return {"name": tr(request, "name"), "identifier": tr(request, "identifier"),
            "place-time": tr(request, "place and time"), "place-name": tr(request, "place name"),
            "lineage": tr(request, "lineage")}


def _reason_patterns(request: Request) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]:
    """The service states its reasons in English; the known shapes are shown in the reader's language (the
    values inside them, a phone number or a name, stay as written)."""
    return [
        (re.compile(r"same consonant skeleton"), lambda m: tr(request, "same consonant skeleton")),
        (re.compile(r"same words in another order or subset"),
         lambda m: tr(request, "same words in another order or subset")),
        (re.compile(r"names the same place"), lambda m: tr(request, "names the same place")),
        (re.compile(r"formerly known as / later known as"), lambda m: tr(request, "formerly or later known as")),
        (re.compile(r"overlapping in time"), lambda m: tr(request, "overlapping in time")),
        (re.compile(r"transliterated (\w+) to (\w+)"),
         lambda m: tr(request, "transliterated from %(a)s to %(b)s", a=m[1], b=m[2])),
        (re.compile(r"spelling ([\d.]+)"), lambda m: tr(request, "spelling similarity %(n)s", n=m[1])),
        (re.compile(r"consonant skeleton ([\d.]+)"), lambda m: tr(request, "consonant skeleton similarity %(n)s",
                                                                  n=m[1])),
        (re.compile(r"matched name (['\"])(.*)\1"), lambda m: tr(request, "matched name %(name)s", name=m[2])),
        (re.compile(r"(\d+) m apart"), lambda m: tr(request, "%(n)s m apart", n=m[1])),
        (re.compile(r"([\d.]+) h apart"), lambda m: tr(request, "%(n)s h apart", n=m[1])),
        (re.compile(r"same ([\w-]+) (.+)"), lambda m: tr(request, "same %(type)s: %(value)s", type=m[1],
                                                          value=m[2])),
    ]


def reason_text(request: Request, reason: str) -> str:
    for pattern, text in _reason_patterns(request):
        m = pattern.fullmatch(reason)
        if m:
            return text(m)
    return reason


def _fragment(request: Request, template: str, context: dict[str, Any]) -> Markup:
    """A panel's HTML from a template of the page's own environment, so its strings use the same catalogs."""
    ctx = {"csrf": getattr(request.state, "csrf", ""), "lang": language_of(request), **context}
    return Markup(environment(language_of(request)).get_template(template).render(ctx))  # noqa: S704 - autoescaped


def href_of(item_id: str, kind: str | None = None) -> str:
    kind = kind or item_id.split("--", 1)[0]
    return ("/entity/" if kind == "entity" else "/item/") + item_id


def correlations_panel(request: Request, principal: Principal, item: dict[str, Any]) -> tuple[str, Markup]:
    """Related items the viewer may see, best first, with the match and its reasons (called in the threadpool
    by the item page, so the service is called directly)."""
    out = svc(request).correlation.for_item(principal, item["id"], _rid(request))
    rows = [{**c, "href": href_of(c["id"], c["kind"]), "reasons": [reason_text(request, r) for r in c["reasons"]]}
            for c in out["correlations"]]
    return tr(request, "Correlations"), _fragment(request, "panel_correlations.html", {
        "rows": rows, "matches": match_labels(request), "noisy": out["noisy"]})


def notices_panel(request: Request, principal: Principal) -> tuple[str, Markup] | None:
    """Deconfliction notices addressed to the viewer's member (called in the threadpool by the dashboard): the
    member's own item, the other member, the kind of the match (and the score told, if any). Analysts
    who may edit the item release it to that member in one step."""
    notices = svc(request).correlation.notices(principal, None, NOTICE_LIMIT)
    if not notices:
        return None
    rows = [{**n, "href": href_of(n["item"])} for n in notices]
    return tr(request, "Deconfliction notices"), _fragment(request, "panel_notices.html", {
        "rows": rows, "matches": match_labels(request), "can_release": principal.can_write})


@router.post("/correlation/notices/{notice_id}/release")
async def release_notice(request: Request, notice_id: str, user: User) -> Response:
    s = svc(request)
    notices = await call(s.correlation.notices, user, None, 1000)
    member = next((n["member"] for n in notices if n["id"] == notice_id), None)
    if member is None:
        raise NotFound()
    await call(s.correlation.release_notice, user, notice_id, _rid(request))
    return redirect("/dashboard", tr(request, "Released to %(member)s.", member=member))


@router.post("/correlation/notices/{notice_id}/dismiss")
async def dismiss_notice(request: Request, notice_id: str, user: User) -> Response:
    await call(svc(request).correlation.dismiss_notice, user, notice_id, _rid(request))
    return redirect("/dashboard", tr(request, "Notice dismissed."))


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.state.web_item_panels.append(correlations_panel)
    app.state.web_dashboard_panels.append(notices_panel)
