"""Wiring of the web package into the application (called from ``accord.http.web.install``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from accord.errors import FieldError
from accord.http.web import admin, auth_routes, correlation_panels, item, meetings, pages, share, statistics
from accord.http.web.common import LoginRequired, redirect
from accord.http.web.i18n import render, tr

__all__ = ["install"]

STATIC = Path(__file__).resolve().parent / "static"


def _titles(request: Request) -> dict[int, str]:
    return {400: tr(request, "Bad request"), 401: tr(request, "Please log in"), 403: tr(request, "Not allowed"),
            404: tr(request, "Not found"), 405: tr(request, "Not allowed"), 409: tr(request, "Conflict"),
            413: tr(request, "Too large"), 422: tr(request, "Invalid input"), 500: tr(request, "Server error")}


def html_error(request: Request, status: int, title: str, detail: str, errors: list[FieldError] | None) -> Response:
    """Errors on page requests are pages, in the reader's language; the detail is the core's (English) text,
    which never carries data the reader may not see."""
    if status == 401 and request.method == "GET":
        return redirect("/login?next=" + request.url.path)
    return render(request, "error.html", {"status": status, "title": _titles(request).get(status, title),
                                          "detail": detail, "errors": errors or [],
                                          "request_id": getattr(request.state, "request_id", None)}, status=status)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    from urllib.parse import quote

    return redirect("/login?next=" + quote(exc.next_url, safe="/"))


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in (auth_routes.router, pages.router, share.bulk_router, share.router, item.router, admin.router,
                   meetings.router, statistics.router):
        app.include_router(router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.state.html_error = html_error
    app.state.web_dashboard_panels = []
    app.state.web_item_panels = []
    correlation_panels.install(app)
