"""The audit trail as administrators read it (audit/listing.py): complete as a chain, but nothing about items the
reader may not see: no id, no detail describing the item, no hash that would confirm a guessed id, and a filter
by such an id answers exactly as a filter by an id that names nothing.

The regression test replays the reviewer's /tmp/leakA/leak_audit_ids.py; the property builds random worlds,
records reads of every kind of id (items, their STIX objects, lists of ids) and checks every viewer's listing
against the oracle in ``policy_world``."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from policy_world import Built, build, worlds
from sqlalchemy import select

from accord.audit.chain import AuditEvent, record_hash
from accord.audit.listing import listing, record_seq
from accord.stix.tables import stix_handles
from accord.storage.schema import items
from conftest import World, bearer

MISSING = "report--00000000-0000-4000-8000-000000000000"
PROPS = settings(max_examples=10, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ORIGINATOR = {"tlp": "red", "classification": 0, "release": {"scope": "originator"}}


def stored(svc: Any) -> dict[int, dict[str, Any]]:
    with svc.db.read() as conn:
        return {r["seq"]: r for r in svc.audit.search(conn, limit=10**9)}


def check_hashes(shown: list[dict[str, Any]], raw: dict[int, dict[str, Any]]) -> None:
    """Every hash a listing shows can be recomputed from what it shows (so none covers a withheld word), and
    every prev_hash shown is the stored hash of the record before."""
    for r in shown:
        if r["hash"] is not None:
            assert r["hash"] == record_hash(raw[r["seq"]]["prev_hash"], r["seq"], r["at"], r["request_id"],
                                            r["user_id"], r["member"], r["action"], r["item_id"], r["detail"])
            assert not r["redacted"]
        else:
            assert r["redacted"]
        if r["prev_hash"] is not None:
            assert r["prev_hash"] == (raw[r["seq"] - 1]["hash"] if r["seq"] > 1 else "0" * 64)


# ----- the reviewer's reproduction ---------------------------------------------------------------------------
async def test_admins_read_nothing_of_items_they_may_not_see(client: httpx.AsyncClient, world: World) -> None:
    svc = world.svc
    svc.accounts.add_user("badmin", "BRAVO", "member-admin", "password-badmin", clearance=0)
    world.tokens["badmin"] = svc.accounts.create_token("badmin").secret
    hidden = (await client.post("/api/v1/items", headers=bearer(world, "carol"), json={
        "kind": "entity", "content": {"entity_type": "person", "name": "Asset"}, "handling": ORIGINATOR})).json()
    hid = hidden["id"]
    assert (await client.get(f"/api/v1/items/{hid}", headers=bearer(world, "hub"))).status_code == 404

    async def audit(user: str, **params: Any) -> list[dict[str, Any]]:
        r = await client.get("/api/v1/audit", params=params, headers=bearer(world, user))
        assert r.status_code == 200
        return list(r.json()["records"])

    # The hub administrator: a filter by the hidden id answers as one by a missing id.
    assert await audit("hub", item_id=hid) == await audit("hub", item_id=MISSING) == []
    everything = await audit("hub", limit=1000)
    raw = stored(svc)
    assert [r["seq"] for r in everything] == sorted(raw, reverse=True)  # complete as a chain
    create = next(r for r in everything if raw[r["seq"]]["item_id"] == hid and r["action"] == "item.create")
    assert create["action"] == "item.create" and create["item_id"] is None and create["redacted"]
    assert orjson.loads(create["detail"]) == {"token": svc.accounts.list_tokens("carol")[0]["id"], "via": "token"}
    assert create["hash"] is None
    assert hid not in orjson.dumps(everything).decode() and "entity" not in create["detail"]
    check_hashes(everything, raw)
    # Records about no item (logins, token use, user administration) read as before, hashes and all.
    def plain(seq: int) -> bool:
        return seq not in raw or (raw[seq]["item_id"] is None and not _listed(raw[seq]))

    for r in everything:
        if plain(r["seq"]) and plain(r["seq"] - 1):
            shown = {k: v for k, v in r.items() if k not in ("redacted", "ref", "user")}
            assert shown == raw[r["seq"]] and not r["redacted"]
    assert any(r["action"] == "user.add" and r["hash"] for r in everything)

    # A member administrator below the item's classification: its analyst's reads show no id it may not see.
    sec = (await client.post("/api/v1/items", headers=bearer(world, "carol"), json={
        "kind": "report", "content": {"title": "t", "body": "b"},
        "handling": {"tlp": "amber", "classification": 2, "release": {"scope": "members", "members": ["BRAVO"]}}
    })).json()["id"]
    assert (await client.get(f"/api/v1/items/{sec}", headers=bearer(world, "bob"))).status_code == 200
    assert (await client.get("/api/v1/items", headers=bearer(world, "bob"))).status_code == 200
    assert (await client.get(f"/api/v1/items/{sec}", headers=bearer(world, "badmin"))).status_code == 404
    reads = await audit("badmin", action="item.read")
    assert [r["item_id"] for r in reads] == [None]
    lists = await audit("badmin", action="item.list")
    assert lists and all(sec not in orjson.loads(r["detail"])["ids"] for r in lists)
    assert await audit("badmin", item_id=sec) == await audit("badmin", item_id=MISSING) == []
    mine = await audit("badmin", limit=1000)
    assert sec not in orjson.dumps(mine).decode()
    # No chain position for a member administrator: gaps in it would count the other members' records (and the
    # hash covers the position).
    assert mine and all(r["seq"] is None and r["prev_hash"] is None and r["hash"] is None for r in mine)
    raw_now = stored(svc)
    for r in mine:
        seq = record_seq(world.p("hub"), svc.settings.secret_key, r["ref"])
        assert seq is not None and raw_now[seq]["action"] == r["action"] and raw_now[seq]["at"] == r["at"]
    # Paging by ref: the records before the newest one listed, and a ref this server did not issue refused.
    older = await audit("badmin", limit=1000, before=mine[0]["ref"])
    assert [r["ref"] for r in older] != [] and len(older) == len(mine) - 1
    bad = await client.get("/api/v1/audit", params={"before": "123"}, headers=bearer(world, "badmin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "before"
    # The web page is the same listing.
    web = httpx.AsyncClient(transport=client._transport, base_url="http://testserver",
                            headers={"Accept": "text/html"})
    async with web:
        r = await web.post("/login", data={"username": "hub", "password": "password-hub", "next": "/dashboard"})
        assert r.status_code == 303
        page = (await web.get("/admin/audit")).text
        assert "The hash chain verifies" in page and hid not in page
        page = (await web.get("/admin/audit", params={"item": hid})).text
        assert "No records." in page


# ----- property over random worlds ----------------------------------------------------------------------------
@given(spec=worlds(max_items=14, max_users=4), picks=st.lists(st.integers(0, 10**6), min_size=4, max_size=12))
@PROPS
def test_listings_never_name_an_item_the_viewer_may_not_see(spec, picks) -> None:
    b: Built = build(spec)
    try:
        svc = b.svc
        with svc.db.read() as conn:
            stix_of = {r.id: r.stix_id for r in conn.execute(
                select(items.c.id, stix_handles.c.stix_id).join(stix_handles, stix_handles.c.item_seq == items.c.seq))}
        item_of = {s: i for i, s in stix_of.items()} | {i: i for i in b.ids}
        users = list(b.readers)
        # Reads of every shape the services record (the world is built with read audit off): one item by its id,
        # a STIX object by its id, lists of ids, STIX (id, version) pairs.
        events = []
        for n, pick in enumerate(picks):
            reader = b.readers[users[pick % len(users)]]
            seen = b.visible_ids(reader.username)
            one = seen[pick % len(seen)] if seen else None
            ev = [AuditEvent("item.read", reader.user_id, reader.member_code, one, None, {"via": "token"}),
                  AuditEvent("item.list", reader.user_id, reader.member_code, None, None,
                             {"ids": seen, "via": "session"}),
                  AuditEvent("taxii.object", reader.user_id, reader.member_code, stix_of.get(one or ""), None,
                             {"ids": [stix_of[i] for i in seen if i in stix_of], "via": "token"}),
                  AuditEvent("stix.add", reader.user_id, reader.member_code, None, None,
                             {"objects": [[stix_of[i], "v"] for i in seen if i in stix_of], "via": "token"}),
                  AuditEvent("login", reader.user_id, reader.member_code)]
            events.append(ev[n % len(ev)])
        svc.audit.record(*events)
        raw = stored(svc)
        assert svc.audit.verify().ok
        with svc.db.read() as conn:
            for user, viewer in b.readers.items():
                def names_hidden(ref: Any, user: str = user) -> bool:
                    return isinstance(ref, str) and ref in item_of and not b.may_see(user, item_of[ref])

                for member in (None, viewer.member_code):
                    shown = listing(conn, viewer, member=member, limit=10**6)
                    expect = sorted((s for s, r in raw.items() if member is None or r["member"] == member),
                                    reverse=True)
                    assert [r["seq"] for r in shown] == expect  # complete: every record, in order
                    for r in shown:
                        stored_r = raw[r["seq"]]
                        d = orjson.loads(r["detail"])
                        assert not names_hidden(r["item_id"])
                        listed = list(d.get("ids", [])) + [o[0] for o in d.get("objects", [])]
                        assert not any(names_hidden(i) for i in listed)
                        if names_hidden(stored_r["item_id"]):
                            assert r["item_id"] is None and set(d) <= {"via", "token"}
                        elif not any(names_hidden(i) for i in _listed(stored_r)):
                            assert r["item_id"] == stored_r["item_id"] and r["detail"] == stored_r["detail"]
                    check_hashes(shown, raw)
                # Filtering by an id the viewer may not see == filtering by one naming nothing; a visible id
                # finds its records.
                missing = listing(conn, viewer, item_id=MISSING)
                assert missing == []
                for ref in item_of:
                    got = listing(conn, viewer, item_id=ref, limit=10**6)
                    if names_hidden(ref):
                        assert got == missing
                    else:
                        assert [r["seq"] for r in got] == sorted(
                            (s for s, r in raw.items() if r["item_id"] == ref), reverse=True)
    finally:
        b.close()


def _listed(record: dict[str, Any]) -> list[str]:
    d = orjson.loads(record["detail"])
    return list(d.get("ids", [])) + [o[0] for o in d.get("objects", [])]


async def test_member_admins_read_users_by_name_not_by_hub_wide_ids(world: World, client: Any) -> None:
    """User ids are a counter of the whole hub: a member administrator is shown the acting user's name only."""
    world.share("bob")
    r = await client.get("/api/v1/audit", params={"limit": 1000}, headers=bearer(world, "aadmin"))
    records = r.json()["records"]
    assert records and all(x["user_id"] is None for x in records)
    assert {x["user"] for x in records if x["user"]} <= {"alice", "aadmin", "hub"}
    hub = (await client.get("/api/v1/audit", params={"limit": 1000}, headers=bearer(world, "hub"))).json()["records"]
    assert any(x["user_id"] is not None and x["user"] == "bob" for x in hub)
    users = (await client.get("/api/v1/users", headers=bearer(world, "aadmin"))).json()["users"]
    assert users and all("id" not in u for u in users)
