"""Regression test from a leak review (it failed before member administrators were shown no hash either): a
member administrator was shown no chain position (seq, prev_hash), but still the record hash,
which is sha256(prev_hash + [seq, at, request_id, user_id, member, action, item_id, detail]); every field but seq
and prev_hash is listed. For two records of its own member that are adjacent in the chain, the older one's hash
is the newer one's prev_hash, so the seq falls out of a short search; two such seqs count every other member's
records in between, which is what hiding seq was meant to prevent."""

from __future__ import annotations

import itertools

import httpx

from accord.audit.chain import record_hash
from conftest import World, bearer


async def test_member_admin_recovers_chain_positions_from_hashes(client: httpx.AsyncClient, world: World) -> None:
    def burst(user: str) -> None:  # two records of one member in a row (one write of two items)
        world.svc.items.create_many(world.p(user), [{"kind": "report", "content": {"title": f"t{i}", "body": "b"}}
                                                    for i in range(2)])

    burst("alice")
    for _ in range(7):  # other members' activity in between: what ALPHA must not be able to count
        world.share("bob")
    burst("alice")
    r = await client.get("/api/v1/audit", headers=bearer(world, "aadmin"), params={"limit": 1000})
    assert r.status_code == 200, r.text
    recs = r.json()["records"]
    assert recs and all(x["seq"] is None and x["prev_hash"] is None for x in recs)

    recovered = []
    for newer, older in itertools.pairwise(recs):
        if not (newer["hash"] and older["hash"]):
            continue
        for seq in range(1, 5000):
            if record_hash(older["hash"], seq, newer["at"], newer["request_id"], newer["user_id"], newer["member"],
                           newer["action"], newer["item_id"], newer["detail"]) == newer["hash"]:
                recovered.append(seq)
                break
    assert recovered == [], f"chain positions recovered by a member administrator: {recovered}"
