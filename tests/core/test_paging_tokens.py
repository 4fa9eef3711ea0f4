"""Paging tokens show no position: the API/drill-down cursor and the TAXII ``next`` are sealed (sharing/sealed.py).

Before, the cursor was base64('s<items.seq>') and the TAXII token base64('<date_added>|<stix_versions.seq>'): a
reader who sees only public items counted from the gaps how many items it may not see were stored in between
(the reviewer's /tmp/leakA/leak_cursor_seq.py). The regression test replays that; the properties walk random
worlds page by page, over the Items service and over TAXII, and check that the pages hold exactly what the
oracle permits and that no token shows the position it stands for."""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from policy_world import Built, build, worlds
from sqlalchemy import select

from accord.errors import ValidationFailed
from accord.sharing import sealed
from accord.sharing.items import ItemFilter, decode_cursor, encode_cursor
from accord.stix.taxii import ObjectQuery, decode_next, encode_next
from accord.storage.schema import items
from conftest import World, bearer

TAXII = "application/taxii+json;version=2.1"
ALL = {"tlp": "green", "classification": 0, "release": {"scope": "all"}}
ORIGINATOR = {"tlp": "red", "classification": 0, "release": {"scope": "originator"}}
PROPS = settings(max_examples=8, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def shows(token: str, seq: int) -> bool:
    """Does ``token`` hold ``seq`` in a form a reader could decode: as text inside base64 or hex, or as 4- or
    8-byte binary (shorter binary forms would turn up by chance in any random bytes)?"""
    blobs = []
    with contextlib.suppress(binascii.Error, ValueError):
        blobs.append(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    with contextlib.suppress(ValueError):
        blobs.append(bytes.fromhex(token))
    forms = [seq.to_bytes(n, order) for n in (4, 8) for order in ("big", "little")]
    for blob in blobs:
        try:
            if str(seq) in blob.decode():
                return True
        except UnicodeDecodeError:
            pass
        if any(f in blob for f in forms):
            return True
    return str(seq) in token and len(str(seq)) >= 6  # a long decimal run would be no accident


def item_seqs(b: Any) -> dict[str, int]:
    with b.svc.db.read() as conn:
        return {r.id: r.seq for r in conn.execute(select(items.c.id, items.c.seq))}


# ----- the reviewer's reproduction ---------------------------------------------------------------------------
async def test_cursor_and_next_do_not_count_hidden_items(client: httpx.AsyncClient, world: World) -> None:
    def report(title: str, handling: dict[str, Any]) -> dict[str, Any]:
        return world.share("alice", content={"title": title, "body": "b"}, handling=handling)

    public = [report("p1", ALL)]
    for i in range(4):
        report(f"h{i}", ORIGINATOR)
    public.append(report("p2", ALL))
    for i in range(9):
        report(f"h{i}", ORIGINATOR)
    public.append(report("p3", ALL))
    seqs = item_seqs(world)
    served, tokens, cursor = [], [], None
    while True:
        r = await client.get("/api/v1/items", params={"limit": 1, **({"cursor": cursor} if cursor else {})},
                             headers=bearer(world, "bob"))
        assert r.status_code == 200
        served += [i["id"] for i in r.json()["items"]]
        cursor = r.json()["next"]
        if not cursor:
            break
        tokens.append(cursor)
    assert served == [p["id"] for p in reversed(public)]
    assert len({len(t) for t in tokens}) == 1 and all(len(t) <= 64 for t in tokens)  # URL-safe, short
    assert all(t.replace("-", "").replace("_", "").isalnum() for t in tokens)
    assert not any(shows(t, s) for t in tokens for s in seqs.values())
    # The same position twice: two different tokens (a fresh nonce each), both valid.
    again = (await client.get("/api/v1/items", params={"limit": 1}, headers=bearer(world, "bob"))).json()["next"]
    assert again != tokens[0]
    r = await client.get("/api/v1/items", params={"limit": 1, "cursor": again}, headers=bearer(world, "bob"))
    assert [i["id"] for i in r.json()["items"]] == [public[1]["id"]]

    taxii = {**bearer(world, "bob"), "Accept": TAXII}
    coll = next(c for c in world.svc.taxii.collections() if c.alias == "hub").id
    with world.svc.db.read() as conn:
        from accord.stix.tables import stix_versions
        version_seqs = list(conn.execute(select(stix_versions.c.seq)).scalars())
    params: dict[str, Any] = {"limit": 1, "match[type]": "report"}
    seen, nexts = [], []
    while True:
        r = await client.get(f"/taxii2/hub/collections/{coll}/objects/", params=params, headers=taxii)
        assert r.status_code == 200
        seen += [o["name"] for o in r.json().get("objects", [])]
        if not r.json()["more"]:
            break
        params["next"] = r.json()["next"]
        nexts.append(params["next"])
    assert seen == ["p1", "p2", "p3"]
    assert len({len(t) for t in nexts}) == 1 and all(len(t) <= 96 for t in nexts)
    assert not any(shows(t, s) for t in nexts for s in version_seqs)


async def test_a_bad_token_gets_todays_error(client: httpx.AsyncClient, world: World) -> None:
    for _ in range(3):
        world.share("alice", handling=ALL)
    good = (await client.get("/api/v1/items", params={"limit": 1}, headers=bearer(world, "bob"))).json()["next"]
    raw = bytearray(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    raw[-1] ^= 1
    flipped = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    old_style = base64.urlsafe_b64encode(b"s2").decode().rstrip("=")
    other_secret = encode_cursor("x" * 40, 2)
    taxii_token = encode_next("t" * 40, "2026-01-01T00:00:00.000000Z", 2)  # right secret, wrong purpose
    for bad in (flipped, old_style, other_secret, taxii_token, "!!!", "", "A" * 200, good[:-4]):
        if not bad:
            continue
        r = await client.get("/api/v1/items", params={"cursor": bad}, headers=bearer(world, "bob"))
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == ["cursor"]
    taxii = {**bearer(world, "bob"), "Accept": TAXII}
    coll = next(c for c in world.svc.taxii.collections() if c.alias == "hub").id
    for bad in (encode_cursor("t" * 40, 2), base64.urlsafe_b64encode(b"2026-01-01T00:00:00Z|2").decode(), "x"):
        r = await client.get(f"/taxii2/hub/collections/{coll}/objects/", params={"next": bad}, headers=taxii)
        assert r.status_code == 400 and r.headers["content-type"] == TAXII
        assert {"title", "http_status"} <= set(r.json()) and "next" in r.text


def test_tokens_round_trip_and_are_bound_to_secret_and_purpose() -> None:
    for seq in (0, 1, 2**40, 2**63):
        assert decode_cursor("k" * 40, encode_cursor("k" * 40, seq)) == seq
        with pytest.raises(ValidationFailed):
            decode_cursor("j" * 40, encode_cursor("k" * 40, seq))
    assert decode_next("k" * 40, encode_next("k" * 40, "2026-01-01T00:00:00.000000Z", 9)) == (
        "2026-01-01T00:00:00.000000Z", 9)
    with pytest.raises(sealed.BadToken):
        sealed.open_token("k" * 40, "item-cursor", sealed.seal("k" * 40, "taxii-next", b"\0" * 8))


# ----- properties over random worlds --------------------------------------------------------------------------
@given(spec=worlds(max_items=16, max_users=4), limit=st.integers(1, 5))
@PROPS
def test_api_pages_hold_exactly_the_visible_set_and_tokens_show_no_position(spec, limit) -> None:
    b: Built = build(spec)
    try:
        seqs = item_seqs(b)
        walks: dict[str, list[str]] = {}
        for user, principal in b.readers.items():
            out, tokens, cursor = [], [], None
            for _ in range(1000):
                page = b.svc.items.list(principal, ItemFilter(limit=limit, cursor=cursor))
                out += [i["id"] for i in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
                tokens.append(cursor)
                # The token names the last item served: neither its seq nor any other shows.
                assert not any(shows(cursor, s) for s in seqs.values())
            assert out == list(reversed(b.visible_ids(user)))
            assert len({len(t) for t in tokens}) <= 1
            walks[user] = tokens
            if tokens:  # asking again for the same page: a different token (random nonce), same next page
                again = b.svc.items.list(principal, ItemFilter(limit=limit)).next_cursor
                assert again is not None and again != tokens[0]
        # A token from another reader is no key to anything: it pages through the holder's own visible set only.
        users = list(b.readers)
        for giver, taker in zip(users, users[1:] + users[:1], strict=True):
            for token in walks[giver][:2]:
                got = b.svc.items.list(b.readers[taker], ItemFilter(limit=1000, cursor=token)).items
                assert {i["id"] for i in got} <= set(b.visible_ids(taker))
    finally:
        b.close()


@given(spec=worlds(max_items=12, max_users=4), limit=st.integers(1, 5))
@PROPS
def test_taxii_pages_hold_exactly_the_visible_versions_and_tokens_show_no_position(spec, limit) -> None:
    from accord.stix.tables import stix_handles, stix_versions

    b: Built = build(spec)
    try:
        taxii = b.svc.taxii
        coll = next(c for c in taxii.collections() if c.alias == "hub")
        with b.svc.db.read() as conn:
            rows = conn.execute(select(items.c.id, stix_versions.c.stix_id, stix_versions.c.version,
                                       stix_versions.c.seq)
                                .select_from(stix_versions.join(stix_handles,
                                                                stix_handles.c.seq == stix_versions.c.handle_seq)
                                             .join(items, items.c.seq == stix_handles.c.item_seq))).all()
        mapped = {r.stix_id for r in rows}
        by_object: dict[tuple[str, str], list[str]] = {}
        for r in rows:
            by_object.setdefault((r.id, r.stix_id), []).append(r.version)
        for user, principal in b.readers.items():
            # The oracle decides which items the reader may see; the store only says which STIX versions each
            # item became. (The members' identity objects carry handling of their own: not counted here.)
            # An old version is seen under its own handling too (the oracle's intersection rule): each STIX
            # object of an item has one version per item version, in order.
            expected = sorted((sid, v) for (item_id, sid), vs in by_object.items()
                              for n, v in enumerate(sorted(vs), 1) if n in b.visible_versions(user, item_id))
            got, nxt = [], None
            for _ in range(1000):
                page = taxii.objects(principal, coll, ObjectQuery(versions=["all"], limit=limit, next=nxt))
                got += [(r.stix_id, r.version) for r in page.rows]
                nxt = page.next
                if nxt is None:
                    break
                assert not any(shows(nxt, r.seq) for r in rows)
            assert len(got) == len(set(got))
            assert sorted(g for g in got if g[0] in mapped) == expected
    finally:
        b.close()
