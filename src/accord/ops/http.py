"""The operations surface of the HTTP app: ``/healthz``, ``/readyz``, ``/metrics``, request ids and access logs.

- ``/healthz`` (liveness): the process answers; it checks nothing else, so a slow database does not get healthy
  workers killed by an orchestrator.
- ``/readyz`` (readiness): the database answers and its schema is at the migrations' heads; a load balancer sends
  traffic only to ready workers. 503 with the failing check otherwise.
- ``/metrics``: Prometheus text format (see metrics.py). It reveals route names and counts, never content; the
  deployment guide restricts it to the monitoring network at the reverse proxy.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.ops.logs import request_id_var
from accord.ops.metrics import Metrics, pool_in_use

__all__ = ["install", "router"]

access_log = logging.getLogger("accord.access")
router = APIRouter(include_in_schema=False)


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


@router.get("/healthz")
async def healthz() -> Response:
    return _json({"status": "ok"})


def _schema_heads() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    c = Config()
    c.set_main_option("script_location", "accord.storage:migrations")
    return set(ScriptDirectory.from_config(c).get_heads())


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    svc = request.app.state.services
    heads: set[str] | None = getattr(request.app.state, "schema_heads", None)
    if heads is None:
        heads = request.app.state.schema_heads = await run_in_threadpool(_schema_heads)

    def check() -> dict[str, str]:
        out: dict[str, str] = {}
        try:
            with svc.db.read() as conn:
                conn.execute(text("SELECT 1"))
                applied = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
            out["database"] = "ok"
            out["schema"] = "ok" if applied == heads else f"at {sorted(applied)}, expected {sorted(heads)}"
        except Exception as exc:
            out["database"] = f"unavailable: {type(exc).__name__}"
        return out

    checks = await run_in_threadpool(check)
    ok = all(v == "ok" for v in checks.values()) and "schema" in checks
    return _json({"status": "ready" if ok else "not ready", "checks": checks}, 200 if ok else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    m: Metrics = request.app.state.metrics
    svc = request.app.state.services
    events = getattr(svc, "events", None)
    backlog = await run_in_threadpool(svc.items.deriver.backlog)
    body, ctype = m.render(db_in_use=pool_in_use(svc.db), event_queue=events.queue_depth() if events else 0,
                           derive_backlog=backlog)
    return Response(body, media_type=ctype)


def request_id_of(scope: Scope) -> str:
    """The request's ``X-Request-Id`` when it is a sane one (from the proxy, or as ``OpsMiddleware`` fixed it),
    else a new one."""
    sent = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
    return sent if 0 < len(sent) <= 64 and sent.isascii() and sent.isprintable() else uuid.uuid4().hex


class OpsMiddleware:
    """Outermost: fixes the request id (accepting a sane ``X-Request-Id`` from the proxy), times the whole
    response including streamed bodies, counts in-flight requests and writes one access-log record."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"x-request-id"]
        scope = {**scope, "headers": [*headers, (b"x-request-id", rid.encode())]}
        token = request_id_var.set(rid)
        status = 500
        start = time.perf_counter()
        self.metrics.in_flight.inc()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            self.metrics.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.request_seconds.labels(scope["method"], template, str(status)).observe(elapsed)
            access_log.info("%s %s %s", scope["method"], scope["path"], status,
                            extra={"method": scope["method"], "path": scope["path"], "route": template,
                                   "status": status, "duration_ms": round(elapsed * 1000, 2), "request_id": rid})
            request_id_var.reset(token)


def install(app: FastAPI) -> None:
    """Wire the operations surface into an app built by create_app."""
    m = Metrics()
    app.state.metrics = m
    items = app.state.services.items
    # One counting hook per Items service: an app built again on the same services takes it over.
    items.hooks[:] = [h for h in items.hooks if not isinstance(h, Metrics)] + [m]
    app.include_router(router)
    app.add_middleware(OpsMiddleware, metrics=m)
