"""Regression tests from a third leak review (live events, web pages, the REST item API, export, error texts).

Each test states what must hold under DOMAIN.md ("nothing a member did not release ever reaches another member",
and no member learns the others' activity volumes); each failed on the code as reviewed."""

from __future__ import annotations

import httpx

from conftest import World, bearer


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
