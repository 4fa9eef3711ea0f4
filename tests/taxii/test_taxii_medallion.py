"""Differential tests: the same scripted requests to medallion (the OASIS reference TAXII 2.1 server, memory
backend) and to Accord, on the same small data, must agree on status codes, envelope shapes, headers and object
sets. Every allowed difference is listed here with the spec section that allows it:

1. Paths and collection ids differ (section 4.1: a server chooses its API root URLs; 5.2: collection ids).
2. Accord adds its members' ``identity`` objects (the targets of ``created_by_ref`` on objects it maps); they are
   left out of the comparison (section 3.7: a collection's content is the server's to define).
3. Status ``id`` and ``request_timestamp`` values differ (section 4.3.1: server-chosen), and failure ``message``
   texts differ (free text).
4. Error ``description`` texts differ (section 3.6.1: free text); both carry ``title`` and ``http_status``.
5. DELETE without ``match[version]``: Accord removes every version, medallion only the latest. Section 5.7 lets the
   version filter select what is deleted; we compare DELETE only on an object with a single version.
6. ``next`` tokens differ in form (section 3.4: opaque); the pages' union is compared, not the tokens.
7. ``date_added`` values differ (each server stamps its own clock).
8. Without credentials medallion answers 401 with Flask-HTTPAuth's text/html page; Accord answers 401 with the
   TAXII error message (section 3.6.1 gives errors that shape). Only the status code is compared there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from taxii_servers import HUB, MEDALLION_COLLECTION, TAXII, serve_medallion

from accord.app import create_app
from accord.config import load_settings
from accord.services import build_services
from conftest import build_world
from live_server import serve_accord

H = {"Accept": TAXII}
POST = {"Accept": TAXII, "Content-Type": TAXII}


def _objects() -> list[dict[str, Any]]:
    t = "2020-02-02T00:00:00.000Z"
    ind = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": t,
            "modified": t, "name": f"i{n}", "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix",
            "valid_from": t} for n in range(4)]
    mal = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}", "created": t, "modified": t,
           "name": "m", "is_family": True}
    mal2 = {**mal, "modified": "2021-03-03T00:00:00.000Z", "name": "m2"}
    group = {"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{uuid.uuid4()}", "created": t,
             "modified": t, "name": "Group", "aliases": ["G"]}
    custom = {"type": "x-acme-widget", "spec_version": "2.1", "id": f"x-acme-widget--{uuid.uuid4()}", "created": t,
              "modified": t, "x_colour": "blue"}
    return [*ind, mal, mal2, group, custom]


class Peer:
    def __init__(self, client: httpx.Client, root: str, collection: str) -> None:
        self.c = client
        self.root = root
        self.coll = f"{root}collections/{collection}/"

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
        return self.c.get(path, headers=H if headers is None else headers, params=params)


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Peer, Peer]]:
    tmp = tmp_path_factory.mktemp("diff")
    settings = load_settings(env={}, data=str(tmp / "data"), database_url=f"sqlite:///{tmp / 'a.db'}",
                             secret_key="t" * 40)
    svc = build_services(settings)
    build_world(svc)
    with serve_accord(create_app(settings, svc)) as accord_base, \
            serve_medallion(tmp, {"alice": "password-alice"}) as med_base:
        auth = ("alice", "password-alice")
        with httpx.Client(base_url=accord_base, auth=auth, timeout=30) as a, \
                httpx.Client(base_url=med_base, auth=auth, timeout=30) as m:
            yield Peer(a, "/taxii2/hub/", HUB), Peer(m, "/api1/", MEDALLION_COLLECTION)
    svc.close()


def _both(peers: tuple[Peer, Peer], fn: Any) -> tuple[httpx.Response, httpx.Response]:
    return fn(peers[0]), fn(peers[1])


def _set(r: httpx.Response, key: str = "objects") -> set[tuple[str, str]]:
    return {(o["id"], o.get("modified") or o.get("version", "")) for o in r.json().get(key, [])
            if not o["id"].startswith("identity--")}  # difference 2


def _same_status(a: httpx.Response, m: httpx.Response) -> None:
    assert a.status_code == m.status_code, (a.text, m.text)
    assert a.headers["content-type"].replace(" ", "") == m.headers["content-type"].replace(" ", "")


def test_same_behaviour(peers: tuple[Peer, Peer]) -> None:
    objs = _objects()
    # 5.5 Add Objects: 202 and a complete status resource with the same counts.
    a, m = _both(peers, lambda p: p.c.post(p.coll + "objects/", headers=POST, json={"objects": objs}))
    _same_status(a, m)
    assert a.status_code == 202
    sa, sm = a.json(), m.json()
    assert set(sa) == set(sm)
    for k in ("status", "total_count", "success_count", "failure_count", "pending_count"):
        assert sa[k] == sm[k], k
    assert sorted((s["id"], s["version"]) for s in sa["successes"]) == \
        sorted((s["id"], s["version"]) for s in sm["successes"])
    # 4.3 Get Status.
    a, m = peers[0].get(f"{peers[0].root}status/{sa['id']}/"), peers[1].get(f"{peers[1].root}status/{sm['id']}/")
    _same_status(a, m)
    assert a.json()["total_count"] == m.json()["total_count"]
    # The same version again: both report a failure for it.
    a, m = _both(peers, lambda p: p.c.post(p.coll + "objects/", headers=POST, json={"objects": objs[:1]}))
    assert (a.json()["failure_count"], m.json()["failure_count"]) == (1, 1)

    # 5.4 Get Objects with each filter.
    cases: list[dict[str, Any]] = [
        {}, {"match[type]": "indicator"}, {"match[type]": "malware,x-acme-widget"}, {"match[id]": objs[0]["id"]},
        {"match[version]": "all"}, {"match[version]": "first"}, {"match[version]": "last"},
        {"match[version]": objs[5]["modified"]}, {"match[spec_version]": "2.1"}, {"match[type]": "campaign"},
    ]
    for params in cases:
        a, m = _both(peers, lambda p, params=params: p.get(p.coll + "objects/", **params))
        _same_status(a, m)
        assert _set(a) == _set(m), params
        if _set(m):
            assert {k for k in a.json() if k != "next"} == {k for k in m.json() if k != "next"}, params
            for h in ("X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
                assert h in a.headers and h in m.headers
        else:
            assert a.json() == m.json() == {}
    # Verbatim content.
    a, m = _both(peers, lambda p: p.get(p.coll + "objects/", **{"match[id]": objs[-1]["id"]}))
    assert a.json()["objects"] == m.json()["objects"] == [objs[-1]]

    # Paging with limit and next: same union, every page flags more until the last (difference 6).
    for p_ in peers:
        seen: set[tuple[str, str]] = set()
        r = p_.get(p_.coll + "objects/", limit=2)
        while True:
            body = r.json()
            assert len(body.get("objects", [])) <= 2
            seen |= _set(r)
            if not body.get("more"):
                break
            r = p_.get(p_.coll + "objects/", limit=2, next=body["next"])
        assert seen == {(o["id"], o["modified"]) for o in objs if o is not objs[4]}

    # 5.3 Manifest.
    a, m = _both(peers, lambda p: p.get(p.coll + "manifest/", **{"match[version]": "all"}))
    _same_status(a, m)
    assert _set(a) == _set(m)
    assert {k for k in a.json()["objects"][0]} == {k for k in m.json()["objects"][0]}
    # 5.6 Get An Object, 5.8 Versions.
    a, m = _both(peers, lambda p: p.get(p.coll + f"objects/{objs[4]['id']}/"))
    _same_status(a, m)
    assert a.json()["objects"] == m.json()["objects"] == [objs[5]]
    a, m = _both(peers, lambda p: p.get(p.coll + f"objects/{objs[4]['id']}/versions/"))
    _same_status(a, m)
    assert sorted(a.json()["versions"]) == sorted(m.json()["versions"])
    assert set(a.json()) == set(m.json())

    # Errors: unknown object, unknown collection, bad Accept, bad Content-Type, no credentials.
    missing = f"indicator--{uuid.uuid4()}"
    for call in (lambda p: p.get(p.coll + f"objects/{missing}/"),
                 lambda p: p.get(p.root + f"collections/{uuid.uuid4()}/"),
                 lambda p: p.get(p.coll + "objects/", headers={"Accept": "application/json"}),
                 lambda p: p.c.post(p.coll + "objects/", headers={"Accept": TAXII, "Content-Type": "text/plain"},
                                    content=b"{}")):
        a, m = _both(peers, call)
        _same_status(a, m)
        assert {"title", "http_status"} <= set(a.json()) and {"title", "http_status"} <= set(m.json())
        assert a.json()["http_status"] == m.json()["http_status"] == str(a.status_code)

    a, m = _both(peers, lambda p: httpx.get(str(p.c.base_url).rstrip("/") + p.coll + "objects/", headers=H))
    assert a.status_code == m.status_code == 401  # difference 8
    assert a.json()["http_status"] == "401"

    # 5.7 Delete (an object with one version: difference 5), then it is gone.
    a, m = _both(peers, lambda p: p.c.delete(p.coll + f"objects/{objs[1]['id']}/", headers=H))
    assert a.status_code == m.status_code == 200
    a, m = _both(peers, lambda p: p.get(p.coll + f"objects/{objs[1]['id']}/"))
    assert a.status_code == m.status_code == 404
    # Discovery and API root carry the same keys.
    a, m = _both(peers, lambda p: p.get("/taxii2/"))
    _same_status(a, m)
    assert {"title", "default", "api_roots"} <= set(a.json()) & set(m.json())
    a, m = _both(peers, lambda p: p.get(p.root))
    assert set(a.json()) == set(m.json())
    a, m = _both(peers, lambda p: p.get(p.root + "collections/"))
    assert set(a.json()["collections"][0]) - {"alias"} == set(m.json()["collections"][0])
