"""Who may add versions to an existing STIX id over TAXII: only a user who may both see the object (the policy) and
edit it (the items' rule: the originator's analysts and administrators). Anyone else gets one neutral answer,
whether the object is another member's, hidden from them, or visible but not theirs, so that a TAXII push cannot
tell a hidden id from another member's, confirm a version, or add one (the reviewer's leak_taxii_same_member)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from taxii_servers import HUB, TAXII

from accord.stix.mapping import EXTENSION_ID
from accord.stix.store import NOT_WRITABLE
from conftest import World, bearer

LOW = "alow"  # an ALPHA analyst at clearance 0: ALPHA originates the objects below, alow may not see them


def _add_low(world: World) -> None:
    acc = world.svc.accounts
    acc.add_user(LOW, "ALPHA", "analyst", "password-" + LOW, clearance=0)
    world.users[LOW] = acc.principal_for(LOW)
    world.tokens[LOW] = acc.create_token(LOW).secret


def _h(world: World, user: str) -> dict[str, str]:
    return {**bearer(world, user), "Accept": TAXII, "Content-Type": TAXII}


async def _post(client: httpx.AsyncClient, world: World, user: str, obj: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"/taxii2/hub/collections/{HUB}/objects/", json={"objects": [obj]},
                          headers=_h(world, user))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["total_count"] == 1
    return body


def _failure(status: dict[str, Any]) -> str | None:
    """The failure message of a one-object status, or None when it succeeded."""
    return status["failures"][0]["message"] if status.get("failures") else None


def _report(sid: str, ts: str, name: str = "probe") -> dict[str, Any]:
    return {"type": "report", "spec_version": "2.1", "id": sid, "created": ts, "modified": ts, "name": name,
            "published": ts, "object_refs": [f"identity--{uuid.uuid4()}"]}


async def _versions(client: httpx.AsyncClient, world: World, user: str, sid: str) -> list[tuple[str, Any]]:
    r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/{sid}/", params={"match[version]": "all"},
                         headers=_h(world, user))
    return sorted((o["modified"], o.get("name")) for o in r.json().get("objects", []))


async def test_a_hidden_item_of_ones_own_member_is_neither_probed_nor_written(client: httpx.AsyncClient,
                                                                                 world: World) -> None:
    _add_low(world)
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"), json={
        "kind": "report", "content": {"title": "Secret op", "body": "b"},
        "handling": {"tlp": "amber", "classification": 3, "release": {"scope": "all"}}})
    it = r.json()
    sid = "report--" + it["id"].split("--")[1]
    assert (await client.get(f"/api/v1/items/{it['id']}", headers=bearer(world, LOW))).status_code == 404
    newer = _failure(await _post(client, world, LOW, _report(sid, "2099-01-01T00:00:00.000Z")))
    exact = _failure(await _post(client, world, LOW, _report(sid, it["modified"])))
    older = _failure(await _post(client, world, LOW, _report(sid, "2000-01-01T00:00:00.000Z", "INJECTED")))
    # Another member's analyst, who may see the report (released to all) but not edit it: the same words.
    other = _failure(await _post(client, world, "carol", _report(sid, "2099-01-01T00:00:00.000Z")))
    assert newer == exact == older == other == NOT_WRITABLE
    assert "member" not in NOT_WRITABLE and "version" not in NOT_WRITABLE
    free = await _post(client, world, LOW, _report(f"report--{uuid.uuid4()}", "2099-01-01T00:00:00.000Z"))
    assert free["success_count"] == 1
    assert await _versions(client, world, "alice", sid) == [(it["modified"], "Secret op")]
    assert world.svc.items.get(world.p("alice"), it["id"])["version"] == 1
    # The originator's analyst who may see it still adds versions, older and newer.
    assert _failure(await _post(client, world, "alice", _report(sid, "2000-01-01T00:00:00.000Z", "old"))) is None
    assert _failure(await _post(client, world, "alice", _report(sid, "2099-01-01T00:00:00.000Z", "new"))) is None
    assert [n for _, n in await _versions(client, world, "alice", sid)] == ["old", "Secret op", "new"]


async def test_a_hidden_raw_object_of_ones_own_member_is_neither_probed_nor_written(client: httpx.AsyncClient,
                                                                                       world: World) -> None:
    _add_low(world)
    mid = f"malware--{uuid.uuid4()}"

    def malware(ts: str, name: str, classification: int = 3) -> dict[str, Any]:
        return {"type": "malware", "spec_version": "2.1", "id": mid, "created": "2026-01-01T00:00:00.000Z",
                "modified": ts, "name": name, "is_family": False,
                "extensions": {EXTENSION_ID: {"extension_type": "property-extension",
                                              "classification": classification, "release": {"scope": "all"}}}}

    v1 = "2026-01-01T00:00:00.000Z"
    assert _failure(await _post(client, world, "alice", malware(v1, "dropper"))) is None
    answers = [_failure(await _post(client, world, LOW, malware(ts, "INJECTED", 0)))
               for ts in ("2099-01-01T00:00:00.000Z", v1, "2000-01-01T00:00:00.000Z")]
    answers.append(_failure(await _post(client, world, "bob", malware("2099-01-01T00:00:00.000Z", "x", 0))))
    assert answers == [NOT_WRITABLE] * 4
    assert await _versions(client, world, "alice", mid) == [(v1, "dropper")]
    assert await _versions(client, world, LOW, mid) == []
    # A raw object alow may see (classification 0) is theirs to version, like an item of their member.
    seen = f"malware--{uuid.uuid4()}"
    assert _failure(await _post(client, world, "alice", {**malware(v1, "a", 0), "id": seen})) is None
    assert _failure(await _post(client, world, LOW, {**malware("2026-02-01T00:00:00.000Z", "b", 0),
                                                     "id": seen})) is None


async def test_an_item_id_taken_under_another_stix_type_says_only_taken(client: httpx.AsyncClient,
                                                                         world: World) -> None:
    """A person is threat-actor--U; sending intrusion-set--U or identity--U names the same item id. Each answer
    is the same, so trying the types one by one does not tell which one the hidden entity has."""
    _add_low(world)
    r = await client.post("/api/v1/items", headers=bearer(world, "alice"), json={
        "kind": "entity", "content": {"entity_type": "person", "name": "Informant"},
        "handling": {"tlp": "amber", "classification": 3, "release": {"scope": "all"}}})
    uid = r.json()["id"].split("--")[1]
    ts = "2099-01-01T00:00:00.000Z"
    answers = []
    for stype in ("intrusion-set", "threat-actor", "identity"):
        obj = {"type": stype, "spec_version": "2.1", "id": f"{stype}--{uid}", "created": ts, "modified": ts,
               "name": "probe"}
        if stype == "identity":
            obj["identity_class"] = "organization"
        answers.append(_failure(await _post(client, world, LOW, obj)))
    assert answers == [NOT_WRITABLE] * 3


async def test_the_item_api_conflict_says_only_taken(client: httpx.AsyncClient, world: World) -> None:
    """POST /api/v1/items with a taken id: 409 with the same body for a hidden item as for a visible one."""
    hidden = world.share("alice", handling={"tlp": "red", "classification": 0, "release": {"scope": "originator"}})
    shown = world.share("alice", handling={"tlp": "green", "classification": 0, "release": {"scope": "all"}})
    bodies = []
    for item_id in (hidden["id"], shown["id"]):
        r = await client.post("/api/v1/items", headers=bearer(world, "bob"), json={
            "id": item_id, "kind": "report", "content": {"title": "t", "body": "b"}})
        assert r.status_code == 409
        b = {k: v for k, v in r.json().items() if k not in ("instance", "request_id", "error_id")}
        assert item_id not in str(b) and "ALPHA" not in str(b)
        bodies.append(b)
    assert bodies[0] == bodies[1]
    assert bodies[0]["detail"] == "an item with this id already exists"


async def test_custom_properties_do_not_follow_an_item_into_a_wider_release(client: httpx.AsyncClient,
                                                                             world: World) -> None:
    """Properties the mapping does not own (custom ones) were shared under the version that brought them: an edit
    that keeps or narrows the handling keeps them, a sanitising edit (lower classification) drops them, so a reader
    the new version admits never reads what only the old one held."""
    sid = f"report--{uuid.uuid4()}"
    ts = "2026-01-01T00:00:00.000Z"
    obj = {**_report(sid, ts, "Source report"), "x_source": "KINGFISHER",
           "extensions": {EXTENSION_ID: {"extension_type": "property-extension", "classification": 3,
                                         "release": {"scope": "all"}}}}
    assert _failure(await _post(client, world, "alice", obj)) is None
    item_id = "report--" + sid.split("--", 1)[1]

    async def latest(user: str) -> dict[str, Any]:
        r = await client.get(f"/taxii2/hub/collections/{HUB}/objects/{sid}/", headers=_h(world, user))
        return r.json()["objects"][0] if r.status_code == 200 and r.json().get("objects") else {}

    world.svc.items.update(world.p("alice"), item_id, {"tags": ["kept"]})  # same handling: kept
    assert (await latest("alice")).get("x_source") == "KINGFISHER"
    assert await latest("bob") == {}  # bob (clearance 2) may not see it at all
    world.svc.items.update(world.p("alice"), item_id, {"handling": {"classification": 0, "release": {"scope": "all"}},
                                                       "content": {"title": "Sanitised", "body": "a meeting"}})
    now = await latest("bob")
    assert now.get("name") == "Sanitised" and "x_source" not in now
    assert "x_source" not in await latest("alice")
