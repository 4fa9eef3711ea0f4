"""Login, logout and the language switcher."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from accord.errors import AuthenticationFailed, PermissionDenied
from accord.http.auth import SESSION_COOKIE, optional_principal
from accord.http.web.common import User, call, form, redirect, safe_next, svc
from accord.http.web.i18n import LANG_COOKIE, LANGUAGES, render, tr

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/login")
async def login_page(request: Request) -> Response:
    try:
        if await optional_principal(request) is not None:
            return redirect(safe_next(request.query_params.get("next")))
    except AuthenticationFailed:
        pass
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next")), "error": None})


def _cross_site(request: Request) -> bool:
    """Login has no session yet, hence no CSRF token: a browser's Origin header tells a cross-site form post
    (which could log a victim into an attacker's account) from our own form."""
    origin = request.headers.get("origin")
    return origin is not None and origin not in ("null", f"{request.url.scheme}://{request.url.netloc}")


@router.post("/login")
async def login(request: Request) -> Response:
    if _cross_site(request):
        raise PermissionDenied("log in from this site's own login page")
    data = await form(request)
    username, password = str(data.get("username", ""))[:64], str(data.get("password", ""))[:1024]
    next_url = safe_next(str(data.get("next", "")))
    s = svc(request)
    try:
        principal = await call(s.accounts.login, username, password, getattr(request.state, "request_id", None))
    except AuthenticationFailed:
        msg = tr(request, "Wrong username or password, or the account is locked for a while after repeated failures.")
        return render(request, "login.html", {"next": next_url, "error": msg, "username": username}, status=401)
    sid, _csrf = await call(s.accounts.open_session, principal)
    resp = redirect(next_url)
    resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict",
                    secure=s.settings.environment == "production", max_age=s.settings.session_hours * 3600)
    resp.set_cookie(LANG_COOKIE, principal.language, samesite="strict", max_age=365 * 86400)
    return resp


@router.post("/logout")
async def logout(request: Request, user: User) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        await call(svc(request).accounts.close_session, sid, user)
    resp = redirect("/login")
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.post("/language")
async def language(request: Request) -> Response:
    try:
        principal = await optional_principal(request)  # checks the CSRF token when a session is open
    except AuthenticationFailed:
        principal = None
    data = await form(request)
    lang = str(data.get("lang", "en"))
    if lang not in LANGUAGES:
        lang = "en"
    if principal is not None:
        await call(svc(request).accounts.set_language, principal, lang)
    resp = redirect(safe_next(str(data.get("next", ""))) if principal else "/login")
    resp.set_cookie(LANG_COOKIE, lang, samesite="strict", max_age=365 * 86400)
    return resp
