"""Authentication rules: lock-out after repeated failed logins, token expiry and revocation, CSRF on cookie
sessions, disabled users, and the 401 shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture
from sqlalchemy import update

from accord import clock
from accord.config import Settings, load_settings
from accord.errors import AuthenticationFailed
from accord.sharing.items import ItemFilter
from accord.storage.schema import sessions, tokens, users
from conftest import World, bearer

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(env={}, data=str(tmp_path / "data"), database_url=db_url, secret_key="t" * 40,
                         login_max_failures=3, login_lock_minutes=15)


def report() -> dict[str, object]:
    return {"kind": "report", "content": {"title": "t", "body": "b"}}


async def login(client, username: str, password: str):
    return await client.post(LOGIN, json={"username": username, "password": password})


async def test_repeated_failures_lock_the_account_even_for_the_right_password(client, world: World) -> None:
    for _ in range(3):
        r = await login(client, "bob", "wrong-password")
        assert r.status_code == 401
    r = await login(client, "bob", "password-bob")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert "WWW-Authenticate" in r.headers
    # Another account is not affected.
    assert (await login(client, "carol", "password-carol")).status_code == 200
    # When the lock has passed, the right password works again and the failure count starts afresh.
    with world.svc.db.write() as conn:
        conn.execute(update(users).where(users.c.username == "bob")
                     .values(locked_until=clock.format_ts(clock.utcnow().replace(year=2020))))
    assert (await login(client, "bob", "password-bob")).status_code == 200
    assert (await login(client, "bob", "wrong-password")).status_code == 401
    assert (await login(client, "bob", "password-bob")).status_code == 200


async def test_failures_below_the_limit_do_not_lock(client, world: World) -> None:
    for _ in range(2):
        assert (await login(client, "bob", "wrong-password")).status_code == 401
    assert (await login(client, "bob", "password-bob")).status_code == 200


async def test_unknown_and_wrong_password_answer_the_same(client, world: World) -> None:
    a = (await login(client, "nobody", "whatever-pw")).json()
    b = (await login(client, "bob", "wrong-password")).json()
    strip = lambda x: {k: v for k, v in x.items() if k != "request_id"}  # noqa: E731
    assert strip(a) == strip(b)


async def test_an_expired_token_is_refused(client, world: World) -> None:
    assert (await client.get("/api/v1/me", headers=bearer(world, "bob"))).status_code == 200
    with world.svc.db.write() as conn:
        conn.execute(update(tokens).values(expires="2020-01-01T00:00:00.000Z"))
    r = await client.get("/api/v1/items", headers=bearer(world, "bob"))
    assert r.status_code == 401 and r.json()["type"] == "urn:accord:problem:authentication"
    with pytest.raises(AuthenticationFailed):
        world.svc.accounts.token_principal(world.tokens["bob"])


async def test_a_token_created_with_days_expires_then(client, world: World) -> None:
    issued = world.svc.accounts.create_token("bob", "short", days=1)
    assert issued.expires is not None and issued.expires > clock.now()
    forever = world.svc.accounts.create_token("bob", "forever", days=0)
    assert forever.expires is None
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forever.secret}"})).status_code == 200


async def test_a_revoked_token_is_refused_at_once(client, world: World) -> None:
    h = bearer(world, "bob")
    r = await client.post("/api/v1/tokens", headers=h, json={"name": "second"})
    assert r.status_code == 201
    second = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.get("/api/v1/me", headers=second)).status_code == 200
    assert (await client.delete(f"/api/v1/tokens/{r.json()['id']}", headers=h)).status_code == 204
    assert (await client.get("/api/v1/me", headers=second)).status_code == 401
    assert (await client.get("/api/v1/me", headers=h)).status_code == 200  # the other token still works
    listed = {t["id"]: t for t in (await client.get("/api/v1/tokens", headers=h)).json()["tokens"]}
    assert listed[r.json()["id"]]["revoked"] and "token_hash" not in listed[r.json()["id"]]


async def test_garbage_credentials_are_401(client, world: World) -> None:
    for header in ("Bearer acc_nonsense", "Bearer ", "Basic !!!", "Token abc", "Basic " + "Ym9iOndyb25n"):
        r = await client.get("/api/v1/items", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.headers["content-type"] == "application/problem+json"


async def test_cookie_sessions_need_the_csrf_token_on_writes(client, world: World) -> None:
    r = await login(client, "alice", "password-alice")
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    assert "accord_session" in client.cookies
    assert (await client.get("/api/v1/items")).status_code == 200  # reads need no CSRF token
    before = world.svc.items.count(world.p("alice"), ItemFilter())
    no_csrf = await client.post("/api/v1/items", json=report())
    assert no_csrf.status_code == 403 and no_csrf.headers["content-type"] == "application/problem+json"
    wrong = await client.post("/api/v1/items", json=report(), headers={"X-CSRF-Token": csrf + "x"})
    assert wrong.status_code == 403
    after = world.svc.items.count(world.p("alice"), ItemFilter())
    assert after == before
    ok = await client.post("/api/v1/items", json=report(), headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    # Logout is a write too; afterwards the cookie no longer works.
    assert (await client.post("/api/v1/auth/logout")).status_code == 403
    assert (await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 200
    assert (await client.get("/api/v1/items")).status_code == 401


async def test_a_bearer_token_needs_no_csrf_token(client, world: World) -> None:
    assert (await client.post("/api/v1/items", json=report(), headers=bearer(world, "alice"))).status_code == 201


async def test_a_disabled_user_loses_tokens_sessions_and_login(client, world: World) -> None:
    r = await login(client, "bob", "password-bob")
    assert r.status_code == 200
    assert (await client.get("/api/v1/me")).status_code == 200
    disabled = await client.post("/api/v1/users/bob/disable", headers=bearer(world, "hub"))
    assert disabled.status_code == 200
    assert (await client.get("/api/v1/me")).status_code == 401  # the session ended
    client.cookies.clear()
    assert (await client.get("/api/v1/me", headers=bearer(world, "bob"))).status_code == 401
    assert (await login(client, "bob", "password-bob")).status_code == 401
    with pytest.raises(AuthenticationFailed):
        world.svc.accounts.principal_for("bob")


async def test_a_member_admin_disables_only_their_own_members_users(client, world: World) -> None:
    r = await client.post("/api/v1/users/bob/disable", headers=bearer(world, "aadmin"))
    assert r.status_code == 404  # another member's user is as missing as no user (tells no username exists)
    assert (await client.get("/api/v1/me", headers=bearer(world, "bob"))).status_code == 200
    r = await client.post("/api/v1/users/alice/disable", headers=bearer(world, "aadmin"))
    assert r.status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(world, "alice"))).status_code == 401


async def test_an_expired_session_is_refused(client, world: World) -> None:
    assert (await login(client, "bob", "password-bob")).status_code == 200

    with world.svc.db.write() as conn:
        conn.execute(update(sessions).values(expires="2020-01-01T00:00:00.000Z"))
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_an_id_taken_by_a_concurrent_request_is_a_conflict(client: Any, world: Any, monkeypatch: Any) -> None:
    """The service checks ids before inserting; a concurrent request (another worker, on PostgreSQL) can take an
    id in between. The database's unique key then refuses the insert: 409 problem+json, nothing stored, and the
    database's message (which names the value) not echoed."""
    first = world.share("alice", kind="report", content={"title": "t", "body": "b"})
    monkeypatch.setattr("accord.sharing.items.existing_values", lambda *args, **kwargs: [])
    before = world.svc.items.count(world.p("alice"), ItemFilter())
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"),
                          json={**report(), "id": first["id"]})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:accord:problem:conflict" and first["id"] not in r.text
    assert world.svc.items.count(world.p("alice"), ItemFilter()) == before
