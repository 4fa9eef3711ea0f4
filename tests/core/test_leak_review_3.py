"""Regression tests from a third leak review (live events, web pages, the REST item API, export, error texts).

Each test states what must hold under DOMAIN.md ("nothing a member did not release ever reaches another member",
and no member learns the others' activity volumes); each failed on the code as reviewed."""

from __future__ import annotations

import re
import warnings
from typing import Any

import httpx

from conftest import World, bearer, page_login

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

HTML = {"accept": "text/html"}


def login(app: Any, username: str) -> tuple[TestClient, str]:
    return page_login(app, username)


async def test_member_admin_adding_a_user_reads_no_hub_wide_user_counter(client: httpx.AsyncClient,
                                                                         world: World) -> None:
    """aadmin (ALPHA's member administrator) adds two users to ALPHA; between the two, BRAVO's administrator adds
    three of its own. The users list no longer shows row ids (a hub-wide counter), but the answer to POST
    /api/v1/users still carried the new user's row id: the difference of the two ids told aadmin how many users
    the other members added in between. The same held for a consumer's row id (POST .../consumers)."""
    h = bearer(world, "aadmin")
    first = await client.post("/api/v1/users", headers=h, json={"username": "a-one", "member": "ALPHA",
                                                                "role": "analyst", "password": "password-a1"})
    assert first.status_code == 201, first.text
    for n in range(3):
        world.svc.accounts.add_user(f"b-extra{n}", "BRAVO", "analyst", "password-bx")
    world.svc.accounts.add_consumer("BRAVO", "B-TWO", "Bravo second unit")
    second = await client.post("/api/v1/users", headers=h, json={"username": "a-two", "member": "ALPHA",
                                                                 "role": "reader", "password": "password-a2"})
    assert second.status_code == 201, second.text
    for r in (first, second):
        assert "id" not in r.json(), "the user's row id (a hub-wide counter) reaches a member administrator"
        assert r.json()["username"] in ("a-one", "a-two")
    cons = await client.post("/api/v1/members/ALPHA/consumers", headers=h, json={"code": "A-UNIT", "name": "A"})
    assert cons.status_code == 201, cons.text
    assert "id" not in cons.json(), "the consumer's row id (a hub-wide counter) reaches a member administrator"
    assert cons.json()["code"] == "A-UNIT"


def test_saved_search_ids_count_no_other_members_searches(app: Any, world: World) -> None:
    """bob (BRAVO) saves a search, carol (CHARLIE) saves three, bob saves another. The search page named each of
    bob's saved searches by its row id (in its delete form), a counter of the whole hub: the gap between bob's two
    told him how many searches other members' users saved in between. The reference must count nothing, still
    delete bob's own search, and be refused (the same 404 as a missing one) to anyone else."""
    bob, csrf = login(app, "bob")
    carol, ccsrf = login(app, "carol")
    assert bob.post("/search/save", data={"csrf_token": csrf, "name": "First", "query": "q=a"}).status_code == 303
    for n in range(3):
        assert carol.post("/search/save", data={"csrf_token": ccsrf, "name": f"C{n}",
                                                "query": "q=c"}).status_code == 303
    assert bob.post("/search/save", data={"csrf_token": csrf, "name": "Second", "query": "q=b"}).status_code == 303
    page = bob.get("/search").text
    refs = re.findall(r'/search/saved/([^/"]+)/delete', page)
    assert len(refs) == 2
    assert not any(r.isdigit() for r in refs), f"saved-search row ids reach the page: {refs}"
    assert carol.post(f"/search/saved/{refs[0]}/delete", data={"csrf_token": ccsrf}).status_code == 404
    assert bob.post("/search/saved/1/delete", data={"csrf_token": csrf}).status_code == 404
    assert bob.post(f"/search/saved/{refs[0]}/delete", data={"csrf_token": csrf}).status_code == 303
    assert len(re.findall(r'/search/saved/([^/"]+)/delete', bob.get("/search").text)) == 1


async def test_account_answers_do_not_tell_which_usernames_other_members_have(client: httpx.AsyncClient,
                                                                               world: World) -> None:
    """Reported by the review, fixed after: asking for a token for another user, or disabling one, answered 404
    for a missing username but 403 for another member's user, so anyone could test which usernames exist. Now a
    non-administrator is refused on its role before any lookup, and a member administrator is told of another
    member's user exactly what it is told of no user."""
    async def ask(user: str, method: str, path: str, **kw: Any) -> tuple[int, str]:
        r = await client.request(method, path, headers=bearer(world, user), **kw)
        body = r.json()
        return r.status_code, str(body.get("detail", "")).replace("nobody", "X").replace("bob", "X")

    # An analyst: the same refusal whatever the username.
    assert await ask("alice", "POST", "/api/v1/tokens", json={"username": "bob"}) == \
        await ask("alice", "POST", "/api/v1/tokens", json={"username": "nobody"})
    assert (await ask("alice", "POST", "/api/v1/tokens", json={"username": "bob"}))[0] == 403
    assert await ask("alice", "POST", "/api/v1/users/bob/disable") == \
        await ask("alice", "POST", "/api/v1/users/nobody/disable")
    # ALPHA's member administrator: BRAVO's user bob is no user at all.
    for method, path, kw in (("POST", "/api/v1/tokens", {"json": {"username": "{u}"}}),
                             ("POST", "/api/v1/users/{u}/disable", {})):
        def fill(v: Any, u: str) -> Any:
            return {k: fill(x, u) for k, x in v.items()} if isinstance(v, dict) else v.format(u=u)
        other = await ask("aadmin", method, path.format(u="bob"), **fill(kw, "bob"))
        missing = await ask("aadmin", method, path.format(u="nobody"), **fill(kw, "nobody"))
        assert other == missing and other[0] == 404
    # And its own member's users are still its to administer.
    assert (await client.post("/api/v1/tokens", headers=bearer(world, "aadmin"),
                              json={"username": "alice"})).status_code == 201
