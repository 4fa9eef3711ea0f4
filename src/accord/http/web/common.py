"""Helpers shared by the page routers: who is logged in, reading forms, redirects."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse

from accord.errors import AuthenticationFailed, FieldError, PermissionDenied, ValidationFailed
from accord.http.auth import optional_principal
from accord.http.web.store import WebStore
from accord.services import Services
from accord.sharing.handling import ADMIN_ROLES, Principal
from accord.sharing.validate import NUL_MESSAGE

__all__ = ["Admin", "LoginRequired", "User", "admin_user", "call", "form", "page_user", "redirect", "store", "svc"]


class LoginRequired(Exception):
    """Raised by page dependencies; the web package turns it into a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def svc(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def store(request: Request) -> WebStore:
    return svc(request).web


async def page_user(request: Request) -> Principal:
    try:
        principal = await optional_principal(request)
    except AuthenticationFailed:
        principal = None
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/dashboard")
    return principal


async def admin_user(request: Request) -> Principal:
    principal = await page_user(request)
    if principal.role not in ADMIN_ROLES:
        raise PermissionDenied("administration is for hub and member administrators")
    return principal


async def form(request: Request) -> FormData:
    data = await request.form()
    # PostgreSQL refuses NUL in text, and no field of the hub takes one: refused here, naming the field.
    bad = sorted({k for k, v in data.multi_items() if "\x00" in k or (isinstance(v, str) and "\x00" in v)})
    if bad:
        raise ValidationFailed([FieldError(k.replace("\x00", ""), NUL_MESSAGE) for k in bad])
    return data


FLASH_COOKIE = "accord_flash"


def redirect(url: str, flash: str | None = None) -> RedirectResponse:
    """303 to ``url``; ``flash`` is shown once on the next page (a cookie, not the URL, so nobody can craft a
    link that makes the page say something)."""
    resp = RedirectResponse(url, status_code=303)
    if flash:
        resp.set_cookie(FLASH_COOKIE, quote(flash[:300]), samesite="strict", httponly=True, max_age=60)
    return resp


async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a (blocking) service call in the threadpool."""
    return await run_in_threadpool(fn, *args, **kwargs)


def safe_next(value: str | None) -> str:
    """Only local paths: an open redirect after login would help phishing."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


# Route parameters: ``user: User`` is the logged-in principal (or a redirect to the login page).
User = Annotated[Principal, Depends(page_user)]
Admin = Annotated[Principal, Depends(admin_user)]
