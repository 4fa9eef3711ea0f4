"""The one translator from domain errors to HTTP responses.

API clients get problem+json (RFC 9457) with an ``errors`` list naming each bad field; TAXII clients get the TAXII
2.1 error message shape (section 3.6.1); page requests get an HTML page. Status codes live here and nowhere else.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from accord.errors import (
    AccordError,
    AuthenticationFailed,
    ConfigError,
    Conflict,
    FieldError,
    IntegrityError,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

__all__ = ["install", "problem_response", "status_for"]

log = logging.getLogger("accord.http")

_STATUS: list[tuple[type[AccordError], int, str]] = [
    (ValidationFailed, 422, "validation"),
    (AuthenticationFailed, 401, "authentication"),
    (PermissionDenied, 403, "permission"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (LimitExceeded, 413, "limit"),
    (IntegrityError, 500, "integrity"),
    (ConfigError, 500, "configuration"),
]
PROBLEM = "application/problem+json"
TAXII = "application/taxii+json;version=2.1"


def status_for(exc: AccordError) -> tuple[int, str]:
    for cls, status, slug in _STATUS:
        if isinstance(exc, cls):
            return status, slug
    return 400, "bad-request"


def _fields(errors: list[FieldError]) -> list[dict[str, str]]:
    return [{"field": e.field, "message": e.message} for e in errors]


def problem_body(status: int, slug: str, title: str, detail: str, instance: str, request_id: str | None,
                 errors: list[FieldError] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": f"urn:accord:problem:{slug}", "title": title, "status": status,
                            "detail": detail, "instance": instance}
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = _fields(errors)
    return body


def _is_taxii(request: Request) -> bool:
    return request.url.path.startswith("/taxii2")


def problem_response(request: Request, status: int, slug: str, title: str, detail: str,
                     errors: list[FieldError] | None = None) -> Response:
    rid = getattr(request.state, "request_id", None)
    headers = {"WWW-Authenticate": 'Bearer realm="accord", Basic realm="accord"'} if status == 401 else {}
    if _is_taxii(request):
        # TAXII 2.1 section 3.6.1: title required; description, error_id, http_status optional.
        body: dict[str, Any] = {"title": title, "description": detail, "http_status": str(status)}
        if rid:
            body["error_id"] = rid
        if errors:
            body["details"] = {"errors": _fields(errors)}
        return Response(orjson.dumps(body), status, headers=headers, media_type=TAXII)
    accept = request.headers.get("accept", "")
    renderer = getattr(request.app.state, "html_error", None)
    if renderer is not None and "text/html" in accept and not request.url.path.startswith("/api/"):
        return renderer(request, status, title, detail, errors)  # type: ignore[no-any-return]
    body = problem_body(status, slug, title, detail, request.url.path, rid, errors)
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM)


async def _accord_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccordError)
    status, slug = status_for(exc)
    if status >= 500:
        log.error("server error: %s", exc.detail)
    errors = exc.errors if isinstance(exc, ValidationFailed) else None
    return problem_response(request, status, slug, exc.title, exc.detail, errors)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or ".".join(str(p) for p in loc)


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(_loc(tuple(e.get("loc", ()))), str(e.get("msg", "is invalid"))) for e in exc.errors()]
    detail = f"{errors[0].field}: {errors[0].message}" if errors else "Invalid input"
    return problem_response(request, 422, "validation", "Invalid input", detail, errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 406: "Not acceptable", 415: "Unsupported media type"}
    title = titles.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404:
        detail = "No such object."
    return problem_response(request, exc.status_code, "http", title, detail)


async def _store_conflict(request: Request, exc: Exception) -> Response:
    # A unique key taken between the service's own check and its insert, by a concurrent request on another
    # connection (PostgreSQL with several workers): the transaction was rolled back, nothing was stored. The
    # database's message is not echoed (it names the key's value).
    log.warning("write conflict: %s", type(getattr(exc, "orig", exc)).__name__)
    return problem_response(request, 409, "conflict", "Conflict",
                            "A concurrent request wrote the same object; nothing of this request was stored. "
                            "Retry it.")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    # Never echo the exception: its text may carry data the caller may not see.
    return problem_response(request, 500, "internal", "Internal error",
                            "The server failed; the request id identifies it in the logs.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(AccordError, _accord_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sqlalchemy.exc.IntegrityError, _store_conflict)
    app.add_exception_handler(Exception, _unexpected)
