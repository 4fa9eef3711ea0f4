"""Shared fixtures: settings on a fresh store, services, the ASGI app, an HTTP client, and a small world of
members and users to act as.

The ``db_url`` fixture is the one place that chooses the backend; every other fixture builds on it. It is
parametrised over sqlite | postgres, so every test that touches the store runs on both (see pg_backend.py for the
PostgreSQL side: one database per xdist worker, reset before each test; skipped with a reason when no server is
reachable, a failure under CI=true).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.app import create_app
from accord.config import Settings, load_settings
from accord.services import Services, build_services
from accord.sharing.handling import Principal
from pg_backend import BACKENDS, PgTestDatabase, admin_url, worker_database_name


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> None:
    """Argon2 at production cost takes ~0.2 s a hash, and every test's world hashes seven passwords on each
    backend; tests use the same algorithm at its cheapest parameters."""
    from argon2 import PasswordHasher

    from accord.sharing import accounts

    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts._DUMMY_HASH = accounts._hasher.hash("not-a-password")


@pytest.fixture(scope="session")
def pg_database(request: pytest.FixtureRequest) -> Iterator[PgTestDatabase]:
    """This worker's PostgreSQL database, created and migrated once for the whole run."""
    import os

    import psycopg

    worker_id = getattr(request.config, "workerinput", {}).get("workerid", "main")
    db = PgTestDatabase(admin_url(), worker_database_name(worker_id, request.config.rootpath))
    try:
        db.create()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL not reachable at {admin_url()} (set ACCORD_TEST_POSTGRES_URL): {exc}".strip()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true requires the PostgreSQL server: " + reason)
        pytest.skip(reason)
    yield db
    db.drop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.sqlite_only`` / ``@pytest.mark.postgres_only`` (with a reason) drop the other backend's run
    of a test, for the few tests about one backend's own behaviour (file paths, LISTEN/NOTIFY, ...)."""
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("db_url")
        for name, keep in (("sqlite_only", "sqlite"), ("postgres_only", "postgres")):
            mark = item.get_closest_marker(name)
            if mark is not None and backend and backend != keep:
                reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else f"{keep} only")
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(params=[pytest.param(b, marks=[pytest.mark.postgres] if b == "postgres" else [])
                        for b in BACKENDS])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        pg: PgTestDatabase = request.getfixturevalue("pg_database")
        pg.reset()
        return pg.url
    return f"sqlite:///{tmp_path / 'accord.db'}"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(env={}, data=str(tmp_path / "data"), database_url=db_url, secret_key="t" * 40,
                         argon2_memory_kib=1024, argon2_time_cost=1)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = build_services(settings)
    yield svc
    svc.close()


@dataclass
class World:
    """Three members (ALPHA chairs), a consumer unit, and users of every role."""

    svc: Services
    users: dict[str, Principal]
    tokens: dict[str, str]

    def p(self, username: str) -> Principal:
        return self.users[username]

    def share(self, username: str, **kw: Any) -> dict[str, Any]:
        kind = kw.pop("kind", "report")
        content = kw.pop("content", None) or {"report": {"title": "t", "body": "b"},
                                              "entity": {"entity_type": "group", "name": "Group"},
                                              "observation": {"lat": 1.0, "lon": 2.0,
                                                              "observed_from": "2026-01-01T00:00:00Z"}}[kind]
        return self.svc.items.create(self.p(username), {"kind": kind, "content": content, **kw})


def build_world(svc: Services) -> World:
    acc = svc.accounts
    acc.add_member("ALPHA", "Alpha Service", "chair")
    acc.add_member("BRAVO", "Bravo Service")
    acc.add_member("CHARLIE", "Charlie Service")
    acc.add_consumer("BRAVO", "B-UNIT", "Bravo field unit")
    specs = [
        ("hub", "ALPHA", "hub-admin", 4, None), ("alice", "ALPHA", "analyst", 3, None),
        ("aadmin", "ALPHA", "member-admin", 3, None), ("bob", "BRAVO", "analyst", 2, None),
        ("breader", "BRAVO", "reader", 1, None), ("bunit", "BRAVO", "consumer", 1, "B-UNIT"),
        ("carol", "CHARLIE", "analyst", 4, None),
    ]
    users, tokens = {}, {}
    for name, member, role, clearance, consumer in specs:
        acc.add_user(name, member, role, "password-" + name, clearance=clearance, consumer=consumer)
        users[name] = acc.principal_for(name)
        tokens[name] = acc.create_token(name).secret
    return World(svc, users, tokens)


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


@pytest.fixture
def app(settings: Settings, services: Services) -> Any:
    return create_app(settings, services)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def bearer(world: World, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[username]}"}


def downgrade_and_upgrade(db: Any, revision: str) -> None:
    """Back to migration ``revision`` (the later revisions' own downgrades run), then up to the heads again."""
    from alembic import command

    from accord.storage.migrate import alembic_config, upgrade

    cfg = alembic_config(db)
    with db.writer.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()
    upgrade(db)


def page_login(app: Any, username: str) -> tuple[Any, str]:
    """A page client (Starlette's TestClient, HTML, no redirects followed) logged in as ``username`` (password
    ``password-<username>``), and the CSRF token its pages carry."""
    import re
    import warnings

    with warnings.catch_warnings():
        # Starlette asks for its httpx fork; the bundled httpx works and is what the rest of the suite uses.
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    c = TestClient(app, headers={"accept": "text/html"}, follow_redirects=False)
    r = c.post("/login", data={"username": username, "password": "password-" + username, "next": "/dashboard"})
    assert r.status_code == 303, r.text
    page = c.get("/dashboard")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return c, csrf.group(1)
