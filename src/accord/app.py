"""create_app(settings) -> the ASGI application. The one place where things are wired together."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord import __version__
from accord.config import Settings, load_settings
from accord.errors import FieldError
from accord.http import errors, taxii, web
from accord.http.api import admin, items
from accord.http.api import correlation as correlation_api
from accord.http.api import meetings as meetings_api
from accord.ops import http as ops_http
from accord.services import Services, build_services
from accord.sharing.validate import NUL_MESSAGE

__all__ = ["create_app"]

log = logging.getLogger("accord")


_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))


class RequestContext:
    """Every request: its id on ``request.state`` (the one ``OpsMiddleware``, outermost, fixed in the headers), a
    body announced larger than the limit refused before it is read (413), and on every response the request id
    and the headers no page or API answer goes without. Plain ASGI: a function middleware (``@app.middleware``)
    runs each request through an extra task and memory stream."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ops_http.request_id_of(scope)  # as OpsMiddleware, outermost, fixed it
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                present = {k.lower() for k, _ in out}
                out.append((b"x-request-id", rid.encode()))
                out.extend(h for h in _HEADERS if h[0] not in present)
                message = {**message, "headers": out}
            await send(message)

        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            response = errors.problem_response(Request(scope), 413, "limit", "Limit exceeded",
                                               f"the request body is larger than {self.max_body_bytes} bytes")
            await response(scope, receive, send_with_headers)
            return
        refused = _nul_in_url(scope)
        if refused is not None:
            await refused(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _nul_in_url(scope: Scope) -> Response | None:
    """A NUL character in the path or a query parameter: no object is named with one, and PostgreSQL refuses
    it in text, so the request is answered here: the path with 404, a query parameter with 422 naming it."""
    if "\x00" in scope.get("path", ""):
        return errors.problem_response(Request(scope), 404, "http", "Not found", "No such object.")
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    names = sorted({k for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                    if "\x00" in k or "\x00" in v})
    if not names:
        return None
    return errors.problem_response(Request(scope), 422, "validation", "Invalid input",
                                   f"{names[0]}: {NUL_MESSAGE}",
                                   [FieldError(n.replace("\x00", ""), NUL_MESSAGE)
                                    for n in names])


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or load_settings()
    svc = services or build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        svc.items.deriver.start()  # derived work of large imports (accord.sharing.derived)
        # Everything loaded so far (modules, gazetteer, caches) lives as long as the process: keep it out of the
        # cyclic collector's scans, which otherwise pause requests for tens of milliseconds.
        gc.freeze()
        yield
        svc.items.deriver.stop()
        if services is None:
            svc.close()

    app = FastAPI(title="Accord", version=__version__, lifespan=lifespan, docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None,
                  description="Information-exchange hub for member organisations: sharing under handling rules, "
                              "correlation, deconfliction, STIX 2.1 / TAXII 2.1.")
    app.state.services = svc
    app.state.settings = settings
    errors.install(app)

    app.add_middleware(RequestContext, max_body_bytes=settings.max_body_bytes)

    app.include_router(items.router)
    app.include_router(admin.router)
    ops_http.install(app)  # /healthz, /readyz, /metrics, request ids, access log
    app.include_router(meetings_api.router)
    app.include_router(taxii.router)
    app.include_router(correlation_api.router)
    web.install(app)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/dashboard")

    return app
