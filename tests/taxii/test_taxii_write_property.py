"""Property-based: who may write over TAXII 2.1 (POST to a collection's objects, DELETE of an object) to STIX ids
that already exist.

A random world (policy_world: members, users of every role, clearance and consumer unit, items of every kind with
edits and revocations) is extended with objects pushed over STIX by the members' writers (raw indicators and
malware, identities and threat-actors mapped to entities), each under random handling. Then random users post
random versions of random existing ids: newer, older, an exact existing version, or the same UUID under another
STIX type (probing the object's kind).

The oracle is written from the rule (docs/arch/taxii.md, "Writes to an existing id"), not from the store's code:
- a caller whose role may not write is refused at the collection (403), whatever they post;
- a version of an existing id is taken only from a caller who may see the object now (a mapped object under its
  item's current handling, a raw one under the handling of its first version) and edit it (their member is the
  originator and their role writes); anyone else gets one answer, ``NOT_WRITABLE``, in a status resource of one
  shape, whether the object is hidden from them or visible but not theirs, of whatever type, revoked or not;
- an id of another STIX type whose item id is taken (threat-actor--U while intrusion-set--U exists) says the same;
- a rejected write changes nothing: every user's TAXII view (objects and manifest of every version in both
  collections, the target's object and versions resources) and REST view (items, the target item) are exactly
  as before;
- an accepted version is stored under the handling it declares: a reader is served it when the object's rule
  admits them now and that handling does (the intersection, as for every stored version); a newer version of an
  item becomes the item's handling, so it also decides who sees the item's other versions;
- a caller who may write the object but repeats the key (``modified``) of a version it holds is told that this
  version is already present, whether or not that version's own handling admits them: versions are unique per
  object, so a version key is "taken" as an id is (the message says no more: not the version's content,
  handling or author);
- a DELETE of every version (``check_delete``) from a caller who sees no version of the object is a 404, from one
  who sees it but is not among its originator's writers a 403, both changing nothing; otherwise it removes the
  versions the caller may see, never one kept from them, and revokes the object's item.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from accord.app import create_app
from accord.sharing.handling import WRITE_ROLES
from accord.stix import mapping
from accord.stix.store import NOT_WRITABLE
from accord.stix.tables import stix_versions
from core.policy_world import (  # the policy tests' random worlds
    Built,
    HandlingSpec,
    ItemSpec,
    UserSpec,
    WorldSpec,
    _handling,
    build,
    worlds,
)

TAXII = "application/taxii+json;version=2.1"
EXT = mapping.EXTENSION_ID
# The kind of item each mapped STIX type stands for (a sighting is an observation's companion, not an item).
KIND_OF = {"report": "report", "intrusion-set": "entity", "threat-actor": "entity", "identity": "entity",
           "location": "observation", "sighting": "observation", "relationship": "relationship", "note": "note"}
RAW_TYPES = ("indicator", "malware")
EXTRA_TYPES = ("indicator", "malware", "identity", "threat-actor")
RETYPES = ("intrusion-set", "threat-actor", "identity", "location", "report", "indicator", "malware")
HOWS = ("newer", "newer", "older", "same", "retype", "delete")


# ----- the model the oracle reasons over ---------------------------------------------------------------------
@dataclass
class ItemModel:
    originator: int
    handling: HandlingSpec  # current
    revoked: bool


@dataclass
class ObjModel:
    originator: int
    item: str | None  # the item id a mapped object belongs to
    handling: HandlingSpec | None  # a raw object's own (its first version's); None for a mapped one
    versions: dict[str, HandlingSpec] = field(default_factory=dict)  # version key -> handling stored under


@dataclass
class Model:
    items: dict[str, ItemModel]
    objs: dict[str, ObjModel]
    users: dict[str, tuple[int, str, int, bool]]  # name -> member, role, clearance, consumer

    def admits(self, user: str, originator: int, h: HandlingSpec) -> bool:
        member, _role, clearance, consumer = self.users[user]
        if h.classification > clearance:
            return False
        if not (originator == member or h.scope == "all" or (h.scope == "members" and member in h.named)):
            return False
        return h.consumers or not consumer

    def rule(self, sid: str) -> HandlingSpec:
        o = self.objs[sid]
        if o.item is not None:
            return self.items[o.item].handling
        assert o.handling is not None
        return o.handling

    def sees_object(self, user: str, sid: str) -> bool:
        return self.admits(user, self.objs[sid].originator, self.rule(sid))

    def sees_item(self, user: str, item_id: str) -> bool:
        it = self.items[item_id]
        return self.admits(user, it.originator, it.handling)

    def versions_seen(self, user: str) -> set[tuple[str, str]]:
        return {(sid, key) for sid, o in self.objs.items() if self.sees_object(user, sid)
                for key, h in o.versions.items() if self.admits(user, o.originator, h)}

    def may_edit(self, user: str, sid: str) -> bool:
        member, role, _clearance, _consumer = self.users[user]
        return self.sees_object(user, sid) and role in WRITE_ROLES and member == self.objs[sid].originator


def model_of(b: Built) -> Model:
    items: dict[str, ItemModel] = {}
    objs: dict[str, ObjModel] = {}
    for item_id in b.ids:
        s = b.specs[item_id]
        items[item_id] = ItemModel(s.originator, s.final, s.revoked)
        uid = item_id.split("--", 1)[1]
        main = f"{mapping.stix_type_for(item_id, 'group')}--{uid}"  # policy worlds' entities are groups
        for sid in [main, f"sighting--{uid}"] if s.kind == "observation" else [main]:
            objs[sid] = ObjModel(s.originator, item_id, None, {
                mapping.version_key(m): h for m, h in zip(b.version_modified[item_id], s.version_handling,
                                                          strict=True)})
    return Model(items, objs, dict(b.reader_specs))


# ----- what is posted ----------------------------------------------------------------------------------------
@dataclass
class Extra:
    originator: int  # member index
    stype: str
    handling: HandlingSpec


@dataclass
class Write:
    poster: int  # index into the users (taken modulo their number)
    own: bool  # the poster is one of the target's originator's users (else anyone)
    target: int  # index into the existing ids
    how: str
    handling: HandlingSpec
    marking: bool  # TLP as a marking (else the collection's default TLP)
    revoke: bool  # a newer version that revokes
    retype: str
    version: int  # which existing version an exact repeat names


@st.composite
def scenarios(draw: Any) -> tuple[Any, list[Extra], list[Write]]:
    spec = draw(worlds(max_items=5, max_users=4, max_edits=2))
    n = len(spec.member_roles)
    extras = [Extra(draw(st.integers(0, n - 1)), draw(st.sampled_from(EXTRA_TYPES)), _handling(draw, n))
              for _ in range(draw(st.integers(0, 4)))]
    writes = [Write(draw(st.integers(0, 20)), draw(st.booleans()), draw(st.integers(0, 50)),
                    draw(st.sampled_from(HOWS)), _handling(draw, n), draw(st.booleans()), draw(st.integers(0, 5)) == 0,
                    draw(st.sampled_from(RETYPES)), draw(st.integers(0, 10)))
              for _ in range(draw(st.integers(1, 4)))]
    return spec, extras, writes


def _ext(h: HandlingSpec, codes: list[str], base: dict[str, Any] | None = None) -> dict[str, Any]:
    api = h.api(codes)
    return {EXT: {**(base or {}), "extension_type": "property-extension", "classification": api["classification"],
                  "release": api["release"]}}


def _fresh(stype: str, uid: str, ts: str, name: str) -> dict[str, Any]:
    """A minimal valid object of ``stype``."""
    obj: dict[str, Any] = {"type": stype, "spec_version": "2.1", "id": f"{stype}--{uid}", "created": ts,
                           "modified": ts, "name": name}
    if stype == "indicator":
        obj.update(pattern="[ipv4-addr:value = '198.51.100.1']", pattern_type="stix", valid_from=ts)
    elif stype == "malware":
        obj["is_family"] = False
    elif stype == "identity":
        obj["identity_class"] = "organization"
    elif stype == "location":
        obj.update(latitude=10.0, longitude=20.0)
    elif stype == "report":
        obj.update(published=ts, object_refs=[f"identity--{uuid.uuid4()}"])
    return obj


def _latest_body(b: Built, sid: str) -> dict[str, Any]:
    with b.svc.db.read() as conn:
        body = conn.execute(stix_versions.select().with_only_columns(stix_versions.c.body)
                            .where(stix_versions.c.stix_id == sid, stix_versions.c.latest)).scalar_one()
    return dict(json.loads(body))


def _refs(body: dict[str, Any]) -> list[str]:
    """The item ids a relationship or note refers to."""
    if body["type"] == "relationship":
        stix_refs = [body["source_ref"], body["target_ref"]]
    elif body["type"] == "note":
        stix_refs = list(body["object_refs"])
    else:
        return []
    return [f"{KIND_OF[r.split('--', 1)[0]]}--{r.split('--', 1)[1]}" for r in stix_refs]


# ----- the views -----------------------------------------------------------------------------------------------
def _h(b: Built, user: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {b.tokens[user]}", **extra}


def _clean(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in ("error_id", "request_id", "instance")}
    return body


async def _pages(c: httpx.AsyncClient, url: str, headers: dict[str, str], params: dict[str, Any],
                 key: str, cursor: str) -> list[Any]:
    out: list[Any] = []
    params = {**params}
    while True:
        r = await c.get(url, headers=headers, params=params)
        assert r.status_code == 200, (url, r.text)
        body = r.json()
        out.append([body.get(key, []), {h: v for h, v in r.headers.items() if h.lower().startswith("x-taxii")}])
        nxt = body.get("next")
        if not nxt or (key != "items" and not body.get("more")):
            return out
        params[cursor] = nxt


async def snapshot(c: httpx.AsyncClient, b: Built, colls: dict[str, str], targets: list[str]) -> dict[str, Any]:
    """Every user's TAXII and REST view: what a rejected write must leave exactly as it was."""
    out: dict[str, Any] = {}
    for user in b.readers:
        t = _h(b, user, Accept=TAXII)
        view: dict[str, Any] = {}
        for alias, cid in colls.items():
            base = f"/taxii2/hub/collections/{cid}"
            view[f"{alias}.objects"] = await _pages(c, f"{base}/objects/", t, {"match[version]": "all", "limit": 500},
                                                    "objects", "next")
            view[f"{alias}.manifest"] = await _pages(c, f"{base}/manifest/", t,
                                                     {"match[version]": "all", "limit": 500}, "objects", "next")
        base = f"/taxii2/hub/collections/{colls['hub']}/objects"
        for sid in targets:
            for path, params in ((f"{base}/{sid}/", {"match[version]": "all"}), (f"{base}/{sid}/versions/", {})):
                r = await c.get(path, headers=t, params=params)
                view[path] = [r.status_code, _clean(r.json())]
            item_id = f"{KIND_OF.get(sid.split('--', 1)[0], 'none')}--{sid.split('--', 1)[1]}"
            for path in (f"/api/v1/items/{item_id}", f"/api/v1/items/{item_id}/history"):
                r = await c.get(path, headers=_h(b, user))
                view[path] = [r.status_code, _clean(r.json())]
        view["items"] = await _pages(c, "/api/v1/items", _h(b, user), {"include_revoked": "true", "limit": 100},
                                     "items", "cursor")
        out[user] = view
    return out


def served_versions(snap: dict[str, Any], identities: set[str]) -> dict[str, set[tuple[str, str]]]:
    return {user: {(o["id"], mapping.version_key(o["modified"])) for page, _ in view["hub.objects"] for o in page
                   if o["id"] not in identities} for user, view in snap.items()}


# ----- the test ------------------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=scenarios())
# The originator's own analyst at clearance 1 sees the sanitised report (v2, level 0) but not v1 (level 3), and
# repeats v1's key: told that the version is present, as for a version they see; nothing changes.
@example(scenario=(WorldSpec(["member", "member"], [0, 0], [UserSpec(0, "analyst", 1)], [ItemSpec(
    0, "report", HandlingSpec("amber", 3, "all", [], False), "heron", [], 0.0, 0.0,
    [HandlingSpec("amber", 0, "all", [], False)], False)]), [],
    [Write(1, True, 0, "same", HandlingSpec("green", 0, "all", [], False), False, False, "report", 0)]))
# The same analyst deletes the report over TAXII: v2 goes (and the item is revoked), v1 stays for those cleared.
@example(scenario=(WorldSpec(["member", "member"], [0, 0], [UserSpec(0, "analyst", 1)], [ItemSpec(
    0, "report", HandlingSpec("amber", 3, "all", [], False), "heron", [], 0.0, 0.0,
    [HandlingSpec("amber", 0, "all", [], False)], False)]), [],
    [Write(1, True, 0, "delete", HandlingSpec("green", 0, "all", [], False), False, False, "report", 0)]))
def test_only_who_may_see_and_edit_an_object_writes_its_id(scenario: tuple[Any, list[Extra], list[Write]]) -> None:
    spec, extras, writes = scenario
    b = build(spec, with_tokens=True)
    try:
        asyncio.run(check(b, extras, writes))
    finally:
        b.close()


async def check(b: Built, extras: list[Extra], writes: list[Write]) -> None:
    svc, codes = b.svc, b.spec.codes
    model = model_of(b)
    hub = next(coll for coll in svc.taxii.collections() if coll.alias == "hub")
    colls = {coll.alias or coll.id: coll.id for coll in svc.taxii.collections()}
    identities = {mapping.member_identity_id(code) for code in codes}
    for e in extras:  # objects pushed over STIX by the member's writer (analyst, clearance 4)
        uid, ts = str(uuid.uuid4()), "2026-02-01T00:00:00.000Z"
        obj = {**_fresh(e.stype, uid, ts, "extra"), "extensions": _ext(e.handling, codes),
               "object_marking_refs": [mapping.TLP_IDS[e.handling.tlp]]}
        assert svc.stix.ingest(b.readers[f"w{e.originator}"], [obj], hub.default_handling)[0].ok
        if e.stype in RAW_TYPES:
            model.objs[obj["id"]] = ObjModel(e.originator, None, e.handling, {mapping.version_key(ts): e.handling})
        else:
            item_id = f"entity--{uid}"
            model.items[item_id] = ItemModel(e.originator, e.handling, False)
            model.objs[obj["id"]] = ObjModel(e.originator, item_id, None, {mapping.version_key(ts): e.handling})
    users = list(b.readers)
    transport = httpx.ASGITransport(app=create_app(svc.settings, svc), raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        for n, w in enumerate(writes):
            existing = sorted(sid for sid, obj in model.objs.items() if obj.versions)  # not those deleted whole
            if not existing:
                break
            target = existing[w.target % len(existing)]
            o = model.objs[target]
            pool = [u for u in users if model.users[u][0] == o.originator] if w.own else users
            poster = pool[w.poster % len(pool)]
            if w.how == "delete":
                model = await check_delete(c, b, model, colls, hub.id, poster, target, identities)
                continue
            member, role, clearance, _consumer = model.users[poster]
            stype, uid = target.split("--", 1)
            body = _latest_body(b, target)
            ext_base = (body.get("extensions") or {}).get(EXT) or {}
            if w.how == "retype":
                stype = w.retype if w.retype != stype else "malware" if stype != "malware" else "indicator"
                body = _fresh(stype, uid, f"2099-01-01T00:00:{n:02d}.000Z", f"probe {n}")
                ext_base = {}
            elif w.how == "same":
                keys = sorted(o.versions)
                body["modified"] = keys[w.version % len(keys)]
            elif w.how == "older":
                body["created"] = body["modified"] = f"2001-01-01T00:00:{n:02d}.000Z"
            else:
                body["modified"] = f"2099-01-01T00:00:{n:02d}.000Z"
                if w.revoke:
                    body["revoked"] = True
            if "name" in body:
                body["name"] = f"probe {n}"
            body["x_probe"] = n
            body["extensions"] = {**(body.get("extensions") or {}), **_ext(w.handling, codes, ext_base)}
            if w.marking:
                body["object_marking_refs"] = [mapping.TLP_IDS[w.handling.tlp]]
            else:
                body.pop("object_marking_refs", None)
            sid, key = body["id"], mapping.version_key(body["modified"])

            # ----- the oracle ----------------------------------------------------------------------------
            expect: str  # "forbidden" | "neutral" | "rejected" | "accepted"
            after = copy.deepcopy(model)
            too_high = w.handling.classification > clearance
            if role not in WRITE_ROLES:
                expect = "forbidden"
            elif sid in model.objs:
                t = model.objs[sid]
                if not model.may_edit(poster, sid):
                    expect = "neutral"
                elif key in t.versions or too_high:
                    expect = "rejected"
                elif t.item is not None and stype != "sighting" and key > max(t.versions, default=""):
                    # The item's next version: the item's own rules (not revoked, references it may see).
                    it = model.items[t.item]
                    if it.revoked or not all(r in model.items and model.sees_item(poster, r) for r in _refs(body)):
                        expect = "rejected"
                    else:
                        expect = "accepted"
                        after.items[t.item] = ItemModel(it.originator, w.handling, w.revoke)
                        after.objs[sid].versions[key] = w.handling
                else:  # an older version, a companion sighting, a raw object: stored alongside
                    expect = "accepted"
                    after.objs[sid].versions[key] = w.handling
            elif stype in KIND_OF and f"{KIND_OF[stype]}--{uid}" in model.items:
                expect = "rejected" if too_high else "neutral"  # the item id is taken under another type
            elif too_high:
                expect = "rejected"
            else:  # a new id
                expect = "accepted"
                new_item = f"{KIND_OF[stype]}--{uid}" if stype in KIND_OF else None
                if new_item is not None:
                    after.items[new_item] = ItemModel(member, w.handling, False)
                after.objs[sid] = ObjModel(member, new_item, None if new_item else w.handling, {key: w.handling})

            event(f"{w.how} {'mapped' if o.item else 'raw'}: {expect}")
            if w.how == "same" and expect == "rejected" and not model.admits(poster, o.originator, o.versions[key]):
                event("same: a version hidden from its editor")  # rare: see the module docstring
            probes = sorted({target, sid})
            before = await snapshot(c, b, colls, probes)
            r = await c.post(f"/taxii2/hub/collections/{hub.id}/objects/", json={"objects": [body]},
                             headers=_h(b, poster, Accept=TAXII, **{"Content-Type": TAXII}))
            why = (poster, model.users[poster], sid, w, expect, r.text)
            if expect == "forbidden":
                assert r.status_code == 403, why
            else:
                assert r.status_code == 202, why
                status = r.json()
                if expect == "accepted":
                    assert status["success_count"] == 1, why
                else:
                    assert status["failure_count"] == 1, why
                if expect == "neutral":
                    # One shape for every refusal of an existing id: nothing in it tells hidden from visible.
                    shape = {k: v for k, v in status.items() if k not in ("id", "request_timestamp")}
                    assert shape == {"status": "complete", "total_count": 1, "success_count": 0, "failure_count": 1,
                                     "pending_count": 0, "failures": [{"id": sid, "version": body["modified"],
                                                                       "message": NOT_WRITABLE}]}, why
                elif expect == "rejected":  # for a reason of its own (the caller may see and edit the object)
                    message = status["failures"][0]["message"]
                    assert message != NOT_WRITABLE, why
                    if w.how == "same" and not too_high:
                        assert "already present" in message, why
            now = await snapshot(c, b, colls, probes)
            if expect != "accepted":
                for user in users:
                    assert now[user] == before[user], (user, *why)
            else:
                model = after
            got = served_versions(now, identities)
            for user in users:
                assert got[user] == model.versions_seen(user), (user, *why)
                items_seen = {i["id"] for page, _ in now[user]["items"] for i in page}
                assert items_seen == {i for i in model.items if model.sees_item(user, i)}, (user, *why)


async def check_delete(c: httpx.AsyncClient, b: Built, model: Model, colls: dict[str, str], hub_id: str, poster: str,
                       sid: str, identities: set[str]) -> Model:
    """A DELETE of every version of ``sid`` by ``poster`` (TAXII 2.1 section 5.7). The rule (docs/arch/taxii.md):
    an object with no version the caller may see is missing (404, nothing changes); one they see but whose
    member is not its originator, or whose role does not write, is refused (403, nothing changes); otherwise the
    versions they may see are removed, and those kept from them (above their clearance, or from before a
    release that left them out) stay for whom they admit; an item's object revokes the item first, which gives
    the item's other objects (an observation's sighting) a revoked version under the item's handling."""
    member, role, _clearance, _consumer = model.users[poster]
    o = model.objs[sid]
    seen = {k for k, h in o.versions.items() if model.admits(poster, o.originator, h)} \
        if model.sees_object(poster, sid) else set()
    expect = 404 if not seen else 403 if member != o.originator or role not in WRITE_ROLES else 200
    event(f"delete {'mapped' if o.item else 'raw'}: {expect}")
    before = await snapshot(c, b, colls, [sid])
    r = await c.delete(f"/taxii2/hub/collections/{hub_id}/objects/{sid}/", headers=_h(b, poster, Accept=TAXII))
    why = (poster, model.users[poster], sid, expect, r.text)
    assert r.status_code == expect, why
    now = await snapshot(c, b, colls, [sid])
    if expect != 200:
        for user in b.readers:
            assert now[user] == before[user], (user, *why)
        return model
    after = copy.deepcopy(model)
    after.objs[sid].versions = {k: h for k, h in o.versions.items() if k not in seen}
    if o.item is not None and not model.items[o.item].revoked:
        it = after.items[o.item]
        it.revoked = True
        for other, obj in after.objs.items():
            if obj.item == o.item and other != sid:
                obj.versions[mapping.version_key(_latest_body(b, other)["modified"])] = it.handling
    got = served_versions(now, identities)
    for user in b.readers:
        assert got[user] == after.versions_seen(user), (user, *why)
        items_seen = {i["id"]: i["revoked"] for page, _ in now[user]["items"] for i in page}
        assert items_seen == {i: m.revoked for i, m in after.items.items() if after.sees_item(user, i)}, (user, *why)
    return after
