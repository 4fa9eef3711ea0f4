"""Serving: one process, or several uvicorn workers sharing one PostgreSQL.

Why an app factory reading the environment: uvicorn starts each worker as a fresh process that imports the app
by name, so the settings travel as ``ACCORD_*`` environment variables (the same ones an operator may set by
hand) and each worker builds its own engines and services. Migrations run once, in the parent, before the
workers start. Sessions, tokens, login lock-outs and the audit chain live in the database, so any worker serves
any request; live events cross workers through PostgreSQL LISTEN/NOTIFY (accord.events).

Graceful shutdown: on SIGTERM or SIGINT uvicorn stops accepting connections, lets in-flight requests finish for
up to ``shutdown_grace`` seconds, then runs the app's lifespan shutdown, which closes the services.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from accord.config import SETTINGS, Settings, load_settings

__all__ = ["app_from_env", "run", "settings_env"]


def settings_env(settings: Settings) -> dict[str, str]:
    out = {}
    for s in SETTINGS:
        value = getattr(settings, s.name)
        out[s.env] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def app_from_env() -> Any:
    """The factory each worker process calls (``uvicorn accord.ops.server:app_from_env --factory``)."""
    from accord.app import create_app
    from accord.ops.logs import configure_logging
    from accord.services import build_services

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings, build_services(settings, migrate=False))


def run(settings: Settings, workers: int = 1, services: Any = None) -> None:
    import uvicorn

    from accord.ops.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    common: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_config": None,
                              "access_log": False, "timeout_graceful_shutdown": settings.shutdown_grace,
                              "proxy_headers": True, "server_header": False,
                              # "auto" takes httptools' C parser and uvloop, which Accord installs (uvicorn's
                              # "standard" extra): about a quarter more objects/s over TAXII (bench/taxii.py).
                              "http": "auto", "loop": "auto"}
    if workers <= 1:
        from accord.app import create_app
        from accord.services import build_services

        svc = services or build_services(settings)
        uvicorn.run(create_app(settings, svc), **common)
        return
    os.environ.update(settings_env(settings))
    made = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its counters here; a scrape of any worker sums them (accord.ops.metrics).
        made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="accord-metrics-")
    try:
        uvicorn.run("accord.ops.server:app_from_env", factory=True, workers=workers, **common)
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)
