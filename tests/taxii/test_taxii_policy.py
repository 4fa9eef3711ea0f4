"""Property-based: what a user reads over TAXII is exactly what the access policy permits, for random members'
objects (mapped items and raw STIX objects alike) under random handling. The oracle below is written from the
policy's words (sharing/policy.py docstring), not from its code."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taxii_servers import HUB, OWN, TAXII

from accord.app import create_app
from accord.config import load_settings
from accord.services import build_services
from accord.stix import mapping
from conftest import World, build_world
from live_server import serve_accord

MEMBERS = ("ALPHA", "BRAVO", "CHARLIE")
WRITERS = ("alice", "aadmin", "bob", "carol")
USERS = {  # username: (member, role, clearance, consumer)
    "hub": ("ALPHA", "hub-admin", 4, False), "alice": ("ALPHA", "analyst", 3, False),
    "aadmin": ("ALPHA", "member-admin", 3, False), "bob": ("BRAVO", "analyst", 2, False),
    "breader": ("BRAVO", "reader", 1, False), "bunit": ("BRAVO", "consumer", 1, True),
    "carol": ("CHARLIE", "analyst", 4, False),
}


@dataclass
class Shared:
    ids: list[str]
    originator: str
    classification: int
    scope: str
    members: list[str]
    consumers: bool


def may_see(user: str, o: Shared) -> bool:
    member, _role, clearance, consumer = USERS[user]
    if o.classification > clearance:
        return False
    if not (o.originator == member or o.scope == "all" or (o.scope == "members" and member in o.members)):
        return False
    return not consumer or o.consumers


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, httpx.Client, list[Shared]]]:
    tmp: Path = tmp_path_factory.mktemp("policy")
    s = load_settings(env={}, data=str(tmp / "data"), database_url=f"sqlite:///{tmp / 'a.db'}", secret_key="t" * 40)
    svc = build_services(s)
    world = build_world(svc)
    with serve_accord(create_app(s, svc)) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield world, client, []
    svc.close()


handling = st.fixed_dictionaries({
    "classification": st.integers(0, 4),
    "scope": st.sampled_from(["originator", "members", "all"]),
    "members": st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=2, unique=True),
    "consumers": st.booleans(),
    "tlp": st.sampled_from(["clear", "green", "amber", "amber+strict", "red"]),
})
share = st.tuples(st.sampled_from(WRITERS), st.sampled_from(["entity", "observation", "report", "malware"]), handling)


def _do_share(world: World, writer: str, kind: str, h: dict[str, Any]) -> Shared | None:
    member = USERS[writer][0]
    release: dict[str, Any] = {"scope": h["scope"], "consumers": h["consumers"]}
    members = [m for m in h["members"] if m != member] if h["scope"] == "members" else []
    if h["scope"] == "members":
        if not members:
            return None
        release["members"] = members
    hand = {"tlp": h["tlp"], "classification": h["classification"], "release": release}
    p = world.p(writer)
    if kind == "malware":
        sid = f"malware--{uuid.uuid4()}"
        obj = {"type": "malware", "spec_version": "2.1", "id": sid, "created": "2020-01-01T00:00:00.000Z",
               "modified": "2020-01-01T00:00:00.000Z", "name": "m", "is_family": False}
        ok = world.svc.stix.ingest(p, [obj], hand)[0].ok
        ids = [sid]
    else:
        content = {"report": {"title": "t"}, "entity": {"entity_type": "group", "name": "G"},
                   "observation": {"lat": 1.0, "lon": 2.0, "observed_from": "2026-01-01T00:00:00Z"}}[kind]
        r = world.svc.items.create_many(p, [{"kind": kind, "content": content, "handling": hand}])[0]
        ok = r.ok
        uid = str(r.id).split("--")[1] if r.id else ""
        ids = {"report": [f"report--{uid}"], "entity": [f"intrusion-set--{uid}"],
               "observation": [f"location--{uid}", f"sighting--{uid}"]}[kind]
    assert ok == (h["classification"] <= USERS[writer][2])
    return Shared(ids, member, h["classification"], h["scope"], members, h["consumers"]) if ok else None


def _read_all(client: httpx.Client, world: World, user: str, collection: str, what: str = "objects") -> set[str]:
    headers = {"Authorization": f"Bearer {world.tokens[user]}", "Accept": TAXII}
    seen: set[str] = set()
    params: dict[str, Any] = {"limit": 25}  # several pages: the keyset and the policy together
    while True:
        r = client.get(f"/taxii2/hub/collections/{collection}/{what}/", headers=headers, params=params)
        assert r.status_code == 200
        body = r.json()
        seen |= {o["id"] for o in body.get("objects", [])}
        if not body.get("more"):
            return seen
        params["next"] = body["next"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shares=st.lists(share, min_size=1, max_size=4))
def test_taxii_shows_exactly_what_policy_permits(hub: tuple[World, httpx.Client, list[Shared]],
                                                 shares: list[tuple[str, str, dict[str, Any]]]) -> None:
    world, client, shared = hub
    for writer, kind, h in shares:
        s = _do_share(world, writer, kind, h)
        if s is not None:
            shared.append(s)
    identities = {mapping.member_identity_id(m) for m in MEMBERS}
    for user in USERS:
        expected = {i for s in shared if may_see(user, s) for i in s.ids}
        got = _read_all(client, world, user, HUB)
        assert got - identities == expected, user
        assert _read_all(client, world, user, HUB, "manifest") == got, user
        own = {i for s in shared if may_see(user, s) and s.originator == USERS[user][0] for i in s.ids}
        assert _read_all(client, world, user, OWN) - identities == own, user
    # An object a user may not see answers exactly like one that does not exist.
    hidden = next((s for s in shared if not may_see("bunit", s)), None)
    if hidden is not None:
        headers = {"Authorization": f"Bearer {world.tokens['bunit']}", "Accept": TAXII}
        a = client.get(f"/taxii2/hub/collections/{HUB}/objects/{hidden.ids[0]}/", headers=headers)
        b = client.get(f"/taxii2/hub/collections/{HUB}/objects/malware--{uuid.uuid4()}/", headers=headers)
        assert a.status_code == b.status_code == 404
        same = {k: v for k, v in a.json().items() if k != "error_id"}
        same["description"] = same["description"].replace(hidden.ids[0], "X")
        other = {k: v for k, v in b.json().items() if k != "error_id"}
        other["description"] = other["description"].replace(b.request.url.path.split("/")[-2], "X")
        assert same == other
        v = client.get(f"/taxii2/hub/collections/{HUB}/objects/{hidden.ids[0]}/versions/", headers=headers)
        assert v.status_code == 404
