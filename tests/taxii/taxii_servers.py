"""Real servers on loopback for the interop tests: Accord under uvicorn, medallion under werkzeug, each in a
thread on a free port."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from live_server import free_port

HUB = "5f9c2e9c-7e57-4c1b-9d43-2b7c3a0c0001"  # the "hub" collection every Accord store starts with
OWN = "5f9c2e9c-7e57-4c1b-9d43-2b7c3a0c0002"
TAXII = "application/taxii+json;version=2.1"
MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def medallion_data(base: str) -> dict[str, Any]:
    return {
        "/discovery": {"title": "medallion", "description": "reference server", "default": f"{base}/api1/",
                       "api_roots": [f"{base}/api1/"]},
        "api1": {
            "information": {"title": "api1", "description": "reference", "versions": [TAXII],
                            "max_content_length": 33554432},
            "status": [],
            "collections": [{"id": MEDALLION_COLLECTION, "title": "c", "description": "", "can_read": True,
                             "can_write": True, "media_types": ["application/stix+json;version=2.1"],
                             "objects": [], "manifest": []}],
        },
    }


@contextmanager
def serve_medallion(tmp: Path, users: dict[str, str], page_size: int = 1000) -> Iterator[str]:
    """medallion's memory backend, configured as its own run script does (medallion.set_config)."""
    import medallion
    from werkzeug.serving import make_server

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = tmp / "medallion-data.json"
    data.write_text(json.dumps(medallion_data(base)))
    app = medallion.application_instance
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": str(data)},
              "users": users, "taxii": {"max_page_size": page_size}}
    medallion.set_config(app, "users", config)
    medallion.set_config(app, "taxii", config)
    medallion.set_config(app, "backend", config)
    if "objects" not in app.blueprints:
        medallion.register_blueprints(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(10)


@contextmanager
def module_hub(tmp: Path) -> Iterator[Any]:
    """A store with the shared test world, for a whole module (building users costs an argon2 hash each)."""
    from accord.config import load_settings
    from accord.services import build_services
    from conftest import build_world

    settings = load_settings(env={}, data=str(tmp / "data"), database_url=f"sqlite:///{tmp / 'accord.db'}",
                             secret_key="t" * 40)
    svc = build_services(settings)
    try:
        world = build_world(svc)
        world.settings = settings  # type: ignore[attr-defined]
        yield world
    finally:
        svc.close()


_SHARED: Any = None


def shared_world() -> Any:
    """One hub per test process for the modules whose tests use fresh random ids and only check their own objects
    (saves building the users' argon2 hashes again for each module)."""
    global _SHARED
    if _SHARED is None:
        import atexit
        import shutil
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="accord-taxii-"))
        cm = module_hub(tmp)
        _SHARED = cm.__enter__()
        atexit.register(shutil.rmtree, tmp, True)
        atexit.register(cm.__exit__, None, None, None)
    return _SHARED
