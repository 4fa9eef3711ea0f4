"""Who is calling: a bearer token, HTTP Basic (TAXII 2.1 requires servers to support it), or a session cookie.

Cookie sessions must also present their CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``) on
every unsafe method; bearer and Basic callers are not exposed to CSRF (browsers do not attach them on their own).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from accord.errors import AuthenticationFailed, PermissionDenied
from accord.services import Services
from accord.sharing.handling import Principal

__all__ = ["SESSION_COOKIE", "current_principal", "optional_principal", "services"]

SESSION_COOKIE = "accord_session"
_SAFE = {"GET", "HEAD", "OPTIONS"}
# Basic auth verifies an argon2 hash (tens of ms); a verified pair is remembered briefly so that a TAXII client
# polling with Basic credentials does not pay that on every request. Keyed by a digest, never the password.
_BASIC_TTL = 60.0
_basic_cache: dict[str, tuple[float, Principal]] = {}


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def _basic(svc: Services, header: str, request_id: str | None) -> Principal:
    try:
        user, _, password = base64.b64decode(header, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("malformed Basic credentials") from None
    key = hashlib.sha256(f"{user}\x00{password}".encode()).hexdigest()
    hit = _basic_cache.get(key)
    if hit and hit[0] > time.monotonic():
        principal = await run_in_threadpool(svc.accounts.principal_for, hit[1].username)
    else:
        principal = await run_in_threadpool(svc.accounts.login, user, password, request_id)
        if len(_basic_cache) > 10_000:
            _basic_cache.clear()
        _basic_cache[key] = (time.monotonic() + _BASIC_TTL, principal)
    return Principal(**{**principal.__dict__, "via": "basic"})


async def optional_principal(request: Request) -> Principal | None:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    svc = services(request)
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    principal: Principal | None = None
    if scheme.lower() == "bearer" and value:
        principal = await run_in_threadpool(svc.accounts.token_principal, value.strip(),
                                            getattr(request.state, "request_id", None))
    elif scheme.lower() == "basic" and value:
        principal = await _basic(svc, value.strip(), getattr(request.state, "request_id", None))
    elif auth:
        raise AuthenticationFailed("use a Bearer token or Basic credentials")
    else:
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            principal, csrf = await run_in_threadpool(svc.accounts.session_principal, sid)
            request.state.csrf = csrf
            if request.method not in _SAFE:
                sent = request.headers.get("x-csrf-token")
                if sent is None and request.headers.get("content-type", "").startswith(
                        ("application/x-www-form-urlencoded", "multipart/form-data")):
                    sent = (await request.form()).get("csrf_token")  # type: ignore[assignment]
                if not isinstance(sent, str) or not secrets.compare_digest(sent.encode("utf-8", "surrogatepass"),
                                                                           csrf.encode()):
                    raise PermissionDenied("missing or wrong CSRF token")
    request.state.principal = principal
    return principal


async def current_principal(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise AuthenticationFailed("log in, or send a Bearer token")
    return principal
