"""The web pages: server-rendered Jinja2 with htmx for partial updates, Leaflet for the map, every asset served
from the package (no CDN: the hub runs on air-gapped networks).

``install(app)`` mounts the static files, adds the page routers and the HTML error renderer. The pages are thin:
each one reads and writes through the core services, so the access policy and the audit apply as for the API.
Other features add panels with ``app.state.web_dashboard_panels`` and ``app.state.web_item_panels`` and bulk
formats with ``accord.http.web.bulk.register_format``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["install"]


def install(app: FastAPI) -> None:
    from accord.http.web.routes import install as _install

    _install(app)
