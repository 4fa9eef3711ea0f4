"""taxii2-client, a client no one here wrote, against a real Accord server on loopback: the whole TAXII 2.1 cycle
with HTTP Basic authentication."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from taxii2client.v21 import Server, as_pages
from taxii_servers import HUB, shared_world

from accord.app import create_app
from live_server import serve_accord


def _malware(n: int, modified: str = "2020-01-01T00:00:00.000Z") -> dict[str, Any]:
    return {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}", "created":
            "2020-01-01T00:00:00.000Z", "modified": modified, "name": f"m{n}", "is_family": False,
            "x_vendor_score": n}


def test_full_round_trip() -> None:
    world = shared_world()
    app = create_app(world.settings, world.svc)
    objects = [_malware(i) for i in range(25)]
    group = {"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{uuid.uuid4()}",
             "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z", "name": "Red Dawn",
             "aliases": ["Красный рассвет", "الفجر الأحمر"]}
    with serve_accord(app) as base:
        server = Server(f"{base}/taxii2/", user="alice", password="password-alice")
        assert server.title == "Accord TAXII 2.1"
        root = server.default
        assert root is not None and root.versions == ["application/taxii+json;version=2.1"]
        coll = next(c for c in root.collections if c.id == HUB)
        assert coll.can_read and coll.can_write

        status = coll.add_objects({"objects": [*objects, group]})
        assert status.status == "complete" and status.success_count == 26 and status.failure_count == 0
        again = root.get_status(status.id)
        assert again.total_count == 26

        # Page through everything with next, 7 at a time.
        seen = []
        for envelope in as_pages(coll.get_objects, per_request=7):
            seen.extend(envelope.get("objects", []))
        by_id = {o["id"]: o for o in seen}
        for o in [*objects, group]:
            assert by_id[o["id"]] == o  # served back verbatim, custom property included
        assert len(seen) == len(by_id)  # no object twice across pages

        # Filters, as taxii2-client spells them.
        only = coll.get_objects(type="intrusion-set")["objects"]  # the hub may hold other tests' objects too
        assert {o["type"] for o in only} == {"intrusion-set"}
        assert coll.get_objects(type="intrusion-set", id=[group["id"], objects[0]["id"]])["objects"] == [group]
        assert coll.get_objects(id=objects[3]["id"])["objects"] == [objects[3]]
        assert coll.get_objects(spec_version="2.1", type="malware", limit=1000)["objects"]

        # A new version, then versions, version filters and the manifest.
        v2 = {**objects[0], "modified": "2021-01-01T00:00:00.000Z", "name": "m0 renamed"}
        assert coll.add_objects({"objects": [v2]}).success_count == 1
        assert coll.object_versions(objects[0]["id"])["versions"] == ["2020-01-01T00:00:00.000Z",
                                                                     "2021-01-01T00:00:00.000Z"]
        assert coll.get_object(objects[0]["id"])["objects"] == [v2]
        assert coll.get_object(objects[0]["id"], version="first")["objects"] == [objects[0]]
        assert len(coll.get_object(objects[0]["id"], version="all")["objects"]) == 2
        manifest = coll.get_manifest(id=objects[0]["id"], version="all")["objects"]
        assert {m["version"] for m in manifest} == {"2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z"}
        assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest)
        # added_after: of the first batch, only the object with a later version was added after it.
        first_added = coll.get_manifest(id=objects[3]["id"])["objects"][0]["date_added"]
        after = coll.get_objects(added_after=first_added, type="malware").get("objects", [])
        assert {o["id"] for o in after} & {o["id"] for o in objects} == {objects[0]["id"]}

        # The mapped object became an Accord entity with its aliases.
        entity = world.svc.items.get(world.p("alice"), "entity--" + group["id"].split("--")[1])
        assert entity["content"]["aliases"] == group["aliases"]

        # Delete, then it is gone.
        coll.delete_object(objects[1]["id"])
        with pytest.raises(requests.HTTPError) as exc:
            coll.get_object(objects[1]["id"])
        assert exc.value.response.status_code == 404

        # Another member's analyst reads it (the hub collection releases to all members) but may not delete it.
        bob = Server(f"{base}/taxii2/", user="bob", password="password-bob")
        bcoll = next(c for c in bob.default.collections if c.id == HUB)
        assert bcoll.get_object(objects[2]["id"])["objects"] == [objects[2]]
        with pytest.raises(requests.HTTPError) as exc:
            bcoll.delete_object(objects[2]["id"])
        assert exc.value.response.status_code == 403
        with pytest.raises(requests.HTTPError) as exc:
            Server(f"{base}/taxii2/", user="alice", password="wrong").refresh()
        assert exc.value.response.status_code == 401
