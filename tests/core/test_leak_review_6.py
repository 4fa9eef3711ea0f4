"""Regression tests from a sixth leak review (web pages, the administration API and pages, accounts, search and list,
history, export).

Each test states what must hold under DOMAIN.md and the access policy (nothing a member did not release may reach
another member: not its content, its users, its activity nor its volumes); each failed on the code as reviewed."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import World, bearer, page_login


async def test_a_member_administrator_gets_no_token_for_the_hub_administrator(client: httpx.AsyncClient,
                                                                               world: World) -> None:
    """The hub administrator (``hub``) is one of ALPHA's users, as every user belongs to a member. ALPHA's member
    administrator manages ALPHA's users, but may not make a hub administrator (``add_user`` refuses the role). On the
    reviewed code it could still create an API token for ``hub`` (the user is of its own member) and, acting with
    it, list every member's users (BRAVO's and CHARLIE's usernames, roles, clearances, last logins) and read the
    whole audit trail with its chain positions: the other members' activity and volumes. A member administrator
    must be refused a token for a hub administrator, and the user listing it reads must stay its own member's."""
    h = bearer(world, "aadmin")
    r = await client.post("/api/v1/tokens", headers=h, json={"username": "hub", "name": "mine"})
    assert r.status_code == 403, f"a member administrator was issued a hub administrator's token: {r.text}"
    # Still its own member's other users' tokens to make, and its own.
    for username in ("alice", "aadmin"):
        r = await client.post("/api/v1/tokens", headers=h, json={"username": username})
        assert r.status_code == 201, r.text
    listed = (await client.get("/api/v1/users", headers=h)).json()["users"]
    assert {u["member"] for u in listed} == {"ALPHA"}


async def test_hub_account_changes_for_another_member_are_not_read_by_the_admins_own_member(
        client: httpx.AsyncClient, world: World) -> None:
    """The hub administrator (one of ALPHA's users) adds a user and a consumer to BRAVO, creates a token for BRAVO's
    user, revokes it and disables the user. On the reviewed code each audit record was filed under the acting
    user's member (ALPHA), so ALPHA's member administrator, who reads its own member's records, read BRAVO's new
    username, its role, its token and that it was disabled: another member's accounts and how busy their
    administration is. Account changes are filed under the member whose accounts they concern: ALPHA's
    administrator reads none of BRAVO's, BRAVO's administrator reads them all."""
    world.svc.accounts.add_user("badmin", "BRAVO", "member-admin", "password-badmin", clearance=2)
    world.tokens["badmin"] = world.svc.accounts.create_token("badmin").secret
    hub = bearer(world, "hub")
    r = await client.post("/api/v1/users", headers=hub, json={"username": "b-secret-agent", "member": "BRAVO",
                                                              "role": "analyst", "password": "password-bsa"})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/members/BRAVO/consumers", headers=hub, json={"code": "B-COVERT", "name": "c"})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/tokens", headers=hub, json={"username": "b-secret-agent"})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert (await client.delete(f"/api/v1/tokens/{tid}", headers=hub)).status_code == 204
    assert (await client.post("/api/v1/users/b-secret-agent/disable", headers=hub)).status_code == 200
    actions = {"user.add", "consumer.add", "token.create", "token.revoke", "user.disable"}

    async def trail(user: str) -> list[dict[str, object]]:
        r = await client.get("/api/v1/audit", headers=bearer(world, user), params={"limit": 1000})
        assert r.status_code == 200, r.text
        return [x for x in r.json()["records"] if x["action"] in actions and x["user"] == "hub"]

    seen = await trail("aadmin")
    assert seen == [], f"ALPHA's administrator reads BRAVO's account administration: {seen}"
    assert "b-secret-agent" not in (await client.get("/api/v1/audit", headers=bearer(world, "aadmin"),
                                                     params={"limit": 1000})).text
    assert {x["action"] for x in await trail("badmin")} == actions


async def test_no_member_is_shown_another_members_consumers(app: Any, client: httpx.AsyncClient,
                                                            world: World) -> None:
    """A member's consumers are its own downstream units: their codes and names, and how many it adds, are its
    organisation and its activity (the third review took their row ids out of the answers for that reason). A
    release names no consumer (only "and their consumers"), so no other member needs them. On the reviewed code
    GET /api/v1/members listed every member's consumers to every user, and the administration page showed them to
    every member administrator: alice and aadmin (ALPHA) read BRAVO's units and the one it added. A member's own
    users are shown its consumers; the hub administrator all."""
    world.svc.accounts.add_consumer("BRAVO", "B-COVERT", "Bravo covert unit")

    async def consumers(user: str) -> dict[str, list[str]]:
        r = await client.get("/api/v1/members", headers=bearer(world, user))
        assert r.status_code == 200, r.text
        return {m["code"]: [c["code"] for c in m.get("consumers", [])] for m in r.json()["members"]}

    for user in ("alice", "aadmin", "carol"):
        seen = await consumers(user)
        assert set(seen) == {"ALPHA", "BRAVO", "CHARLIE"}, seen  # the members themselves are public
        assert seen["BRAVO"] == [], f"{user} reads BRAVO's consumers: {seen}"
    assert (await consumers("bob"))["BRAVO"] == ["B-COVERT", "B-UNIT"]
    assert (await consumers("hub"))["BRAVO"] == ["B-COVERT", "B-UNIT"]
    aadmin, _ = page_login(app, "aadmin")
    page = aadmin.get("/admin").text
    assert "B-UNIT" not in page and "B-COVERT" not in page and "Bravo covert unit" not in page


async def test_a_member_administrator_neither_disables_the_hub_administrator_nor_revokes_its_tokens(
        client: httpx.AsyncClient, world: World) -> None:
    """The same boundary for the other account actions: ALPHA's member administrator manages ALPHA's users, of
    whom the hub administrator is one, but may not disable it nor revoke its tokens (which would leave the hub
    without its administrator until someone with shell access repaired it). Both were allowed on the reviewed
    code. Its own member's other users it still disables, and their tokens it still revokes."""
    h = bearer(world, "aadmin")
    r = await client.post("/api/v1/users/hub/disable", headers=h)
    assert r.status_code == 403, r.text
    hub_token = world.svc.accounts.create_token("hub").id
    r = await client.delete(f"/api/v1/tokens/{hub_token}", headers=h)
    assert r.status_code == 403, r.text
    assert world.svc.accounts.principal_for("hub").role == "hub-admin"
    r = await client.get("/api/v1/users", headers=bearer(world, "hub"))
    assert r.status_code == 200, "the hub administrator was locked out"
    alice_token = world.svc.accounts.create_token("alice").id
    assert (await client.delete(f"/api/v1/tokens/{alice_token}", headers=h)).status_code in (200, 204)
    assert (await client.post("/api/v1/users/alice/disable", headers=h)).status_code in (200, 204)
