"""Real STIX 2.1 content that ships offline round-trips unchanged: the example bundles inside stix2-validator, and
MISP's threat-actor galaxy converted to intrusion-set objects with their aliases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pymispgalaxies
import pytest
import stix2validator
from pymispgalaxies import Cluster
from taxii_servers import shared_world

from accord.stix.taxii import Collection, ObjectQuery


@pytest.fixture(scope="module")
def world() -> Any:
    return shared_world()

HUB_HANDLING = {"tlp": "green", "classification": 0, "release": {"scope": "all"}}
_ALL = Collection(0, "", None, "", "", False, False, {})


def _examples() -> list[dict[str, Any]]:
    root = Path(stix2validator.__file__).parent / "schemas-2.1" / "examples"
    out: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*.json")):
        data = json.loads(path.read_text())
        out.extend(data["objects"] if data.get("type") == "bundle" else [data])
    return out


def _served(world: Any, user: str) -> dict[tuple[str, str], dict[str, Any]]:
    svc = world.svc
    q = ObjectQuery(versions=["all"], limit=1000)
    out = {}
    while True:
        page = svc.taxii.objects(world.p(user), _ALL, q)
        for r in page.rows:
            out[(r.stix_id, r.version)] = json.loads(r.body)
        if not page.more:
            return out
        q.next = page.next


def test_validator_examples_round_trip(world: Any) -> None:
    objects = _examples()
    assert len(objects) > 200
    outcomes = world.svc.stix.ingest(world.p("alice"), objects, HUB_HANDLING)
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for o, result in zip(objects, outcomes, strict=True):
        key = (o["id"], o.get("modified") or o.get("created"))
        if key in unique:
            assert not result.ok  # the same id and version again is refused, as TAXII servers do
            continue
        assert result.ok, (o["id"], result.message)
        unique[key] = o
    served = _served(world, "bob")  # another member reads them back: everything was released to all members
    by_id = {k[0]: v for k, v in served.items()}
    for key, original in unique.items():
        if key[1] is None:  # a cyber observable has no version of its own; TAXII versions it by date_added
            assert by_id[key[0]] == original
        else:
            assert served[key] == original, key
    # Mapped types became Accord items too.
    ta = next(o for o in objects if o["type"] == "threat-actor")
    item = world.svc.items.get(world.p("bob"), "entity--" + ta["id"].split("--")[1])
    assert item["content"]["name"] == ta["name"]


def _intrusion_sets() -> list[dict[str, Any]]:
    out = []
    # The threat-actor cluster alone (Clusters() would parse every galaxy the package ships).
    path = Path(pymispgalaxies.__file__).parent / "data" / "misp-galaxy" / "clusters" / "threat-actor.json"
    for v in Cluster(json.loads(path.read_text())).cluster_values.values():
        obj: dict[str, Any] = {"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{v.uuid}",
                               "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
                               "name": v.value}
        synonyms = sorted(getattr(v.meta, "synonyms", None) or []) if v.meta else []
        if synonyms:
            obj["aliases"] = synonyms
        if v.description:
            obj["description"] = v.description
        out.append(obj)
    return out


def test_misp_threat_actors_round_trip(world: Any) -> None:
    objects = _intrusion_sets()
    assert len(objects) > 500
    outcomes = world.svc.stix.ingest(world.p("carol"), objects, HUB_HANDLING)
    assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok][:3]
    served = _served(world, "alice")
    for o in objects:
        assert served[(o["id"], o["modified"])] == o
    # Each became an Accord entity (group) carrying the aliases, searchable like any other entity.
    with_aliases = [o for o in objects if o.get("aliases")]
    for o in with_aliases[:50]:
        item = world.svc.items.get(world.p("alice"), "entity--" + o["id"].split("--")[1])
        assert item["content"]["entity_type"] == "group"
        assert item["content"]["aliases"] == list(dict.fromkeys(a.strip() for a in o["aliases"]))
