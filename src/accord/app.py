"""create_app(settings) -> the ASGI application. The one place where things are wired together."""

from __future__ import annotations

import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from accord import __version__
from accord.config import Settings, load_settings
from accord.http import errors, taxii, web
from accord.http.api import admin, items
from accord.http.api import correlation as correlation_api
from accord.http.api import meetings as meetings_api
from accord.ops import http as ops_http
from accord.services import Services, build_services

__all__ = ["create_app"]

log = logging.getLogger("accord")


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

    @app.middleware("http")
    async def request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id", "")
        request.state.request_id = rid if 0 < len(rid) <= 64 and rid.isascii() else uuid.uuid4().hex
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            return errors.problem_response(request, 413, "limit", "Limit exceeded",
                                           f"the request body is larger than {settings.max_body_bytes} bytes")
        response = await call_next(request)
        response.headers["X-Request-Id"] = request.state.request_id
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

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
