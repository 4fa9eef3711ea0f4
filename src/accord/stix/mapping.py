"""Accord items <-> STIX 2.1 objects. The same UUID names an item and the objects it maps to.

- ``report--U`` -> ``report--U`` (``object_refs``: the originator's identity; an Accord report stands alone);
- ``entity--U`` -> ``intrusion-set--U`` (group), ``threat-actor--U`` (person) or ``identity--U`` (organisation,
  ``identity_class`` organization), with ``aliases``;
- ``observation--U`` -> ``location--U`` (where) + ``sighting--U`` (when: ``first_seen``/``last_seen``; its
  ``where_sighted_refs`` and ``sighting_of_ref`` are the location);
- ``relationship--U`` -> ``relationship--U``; ``note--U`` -> ``note--U``;
- the originator member CODE -> ``identity--uuid5(CODE)`` as ``created_by_ref``;
- TLP 2.0 -> the standard TLP 2.0 ``marking-definition`` ids in ``object_marking_refs``;
- classification, release, grading, tags, identifiers, entity type, lineage, discoverability -> the Accord property
  extension ``EXTENSION_ID`` (``extension_definition()``), never dropped.

Sighting rather than observed-data: observed-data must point at cyber observables, while an Accord observation is
a place and a time, which is what a sighting's ``where_sighted_refs`` and ``first_seen``/``last_seen`` say.

Import reads the same table backwards (``stix_to_item``); objects of any other type, and objects whose mapping fails
validation, are kept as they came and served back verbatim.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from accord import clock

__all__ = [
    "ACCORD_IDENTITY",
    "EXTENSION_ID",
    "TLP_IDS",
    "TLP_MARKINGS",
    "extension_definition",
    "item_to_stix",
    "member_identity",
    "member_identity_id",
    "stix_to_item",
    "tlp_of",
    "version_key",
]

_NS = uuid.UUID("8e6b1c5a-4f1e-4a55-9b0e-6f5f3c7d2a10")
EXTENSION_ID = "extension-definition--3c1b7a4e-5d2f-4c8e-9a61-0b7d6e2f4a11"
ACCORD_IDENTITY = "identity--" + str(uuid.uuid5(_NS, "accord-hub"))
_TLP2_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# TLP 1.0 markings (STIX 2.1 section 7.2.1.4) read as their TLP 2.0 successors on import.
_TLP1 = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
_TLP_BY_ID = {v: k for k, v in TLP_IDS.items()} | _TLP1
_SEVERITY = ("clear", "green", "amber", "amber+strict", "red")

TLP_MARKINGS = [
    {"type": "marking-definition", "spec_version": "2.1", "id": mid, "created": "2022-10-01T00:00:00.000Z",
     "name": f"TLP:{level.upper()}",
     "extensions": {_TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": level}}}
    for level, mid in TLP_IDS.items()
]

_ENTITY_TYPE_TO_STIX = {"group": "intrusion-set", "person": "threat-actor", "organisation": "identity"}
_STIX_TO_KIND = {"report": "report", "intrusion-set": "entity", "threat-actor": "entity", "identity": "entity",
                 "location": "observation", "sighting": "observation", "relationship": "relationship",
                 "note": "note"}
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def member_identity_id(code: str) -> str:
    return "identity--" + str(uuid.uuid5(_NS, "accord-member:" + code))


def member_identity(code: str, name: str, created: str) -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": member_identity_id(code), "created": created,
            "modified": created, "name": name, "identity_class": "organization",
            "object_marking_refs": [TLP_IDS["clear"]]}


def extension_definition() -> dict[str, Any]:
    """The definition of the Accord property extension carried by every object Accord produces."""
    return {
        "type": "extension-definition", "spec_version": "2.1", "id": EXTENSION_ID,
        "created_by_ref": ACCORD_IDENTITY, "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z", "name": "Accord handling and grading",
        "description": "Handling beyond TLP (classification level 0-4, releasability to members and their "
                       "consumers), Admiralty source grading, and the Accord item fields STIX has no property "
                       "for (kind, entity type, tags, identifiers, lineage, discoverability).",
        "schema": "https://accord.invalid/stix/extension/handling-v1.json", "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def accord_identity() -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": ACCORD_IDENTITY, "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z", "name": "Accord hub", "identity_class": "system"}


_CANON = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$")


def version_key(ts: str) -> str:
    """A STIX timestamp normalised to microseconds, so versions compare as text (raises ValueError)."""
    m = _CANON.match(ts) if isinstance(ts, str) else None
    if m is not None and m.group(1)[5:7] <= "12":  # the usual STIX form: string work only (bulk ingest)
        return f"{m.group(1)}.{(m.group(2) or '').ljust(6, '0')}Z"
    return clock.format_ts_us(clock.parse_ts(ts))


def tlp_of(obj: dict[str, Any]) -> str | None:
    """The strictest TLP level among an object's markings, or None."""
    found = [_TLP_BY_ID[m] for m in obj.get("object_marking_refs") or [] if isinstance(m, str) and m in _TLP_BY_ID]
    return max(found, key=_SEVERITY.index) if found else None


def stix_type_for(item_id: str, entity_type: str | None) -> str:
    kind = item_id.split("--", 1)[0]
    if kind == "entity":
        return _ENTITY_TYPE_TO_STIX.get(entity_type or "group", "intrusion-set")
    if kind == "observation":
        return "location"
    return kind


def _stix_ref(item_id: str, entity_types: dict[str, str]) -> str:
    return stix_type_for(item_id, entity_types.get(item_id)).split("--")[0] + "--" + item_id.split("--", 1)[1]


def item_to_stix(item: dict[str, Any], entity_types: dict[str, str]) -> list[dict[str, Any]]:
    """The STIX objects for one item in its API shape. ``entity_types`` gives the entity type of every entity
    the item refers to (a relationship's target decides whether it points at an intrusion-set or an identity)."""
    uid = item["id"].split("--", 1)[1]
    kind = item["kind"]
    c = item["content"]
    h = item["handling"]
    ext: dict[str, Any] = {"extension_type": "property-extension", "kind": kind,
                           "classification": h["classification"], "release": h["release"],
                           "discoverable": item["discoverable"]}
    grading = {k: v for k, v in (item.get("grading") or {}).items() if v is not None}
    if grading:
        ext["grading"] = grading
    if item.get("tags"):
        ext["tags"] = item["tags"]
    if item.get("identifiers"):
        ext["identifiers"] = item["identifiers"]
    if item.get("extensions"):
        ext["item_extensions"] = item["extensions"]
    common: dict[str, Any] = {"spec_version": "2.1", "created": item["created"], "modified": item["modified"],
                              "created_by_ref": member_identity_id(item["originator"]),
                              "object_marking_refs": [TLP_IDS[h["tlp"]]]}
    if item.get("language"):
        common["lang"] = item["language"]
    if item.get("revoked"):
        common["revoked"] = True
    if kind == "report":
        obj = {"type": "report", "id": f"report--{uid}", "name": c["title"], "published": item["created"],
               "object_refs": [common["created_by_ref"]]}
        if c.get("body"):
            obj["description"] = c["body"]
        out = [obj]
    elif kind == "entity":
        et = c["entity_type"]
        stype = _ENTITY_TYPE_TO_STIX[et]
        ext["entity_type"] = et
        obj = {"type": stype, "id": f"{stype}--{uid}", "name": c["name"]}
        if c.get("aliases"):
            if stype == "identity":
                ext["aliases"] = c["aliases"]
            else:
                obj["aliases"] = c["aliases"]
        if stype == "identity":
            obj["identity_class"] = "organization"
        if c.get("description"):
            obj["description"] = c["description"]
        if c.get("formerly_known_as"):
            ext["formerly_known_as"] = c["formerly_known_as"]
        out = [obj]
    elif kind == "observation":
        loc: dict[str, Any] = {"type": "location", "id": f"location--{uid}", "latitude": c["lat"],
                               "longitude": c["lon"]}
        if c.get("precision_m") is not None:
            loc["precision"] = c["precision_m"]
        if c.get("place_name"):
            loc["name"] = c["place_name"]
        sighting: dict[str, Any] = {"type": "sighting", "id": f"sighting--{uid}", "first_seen": c["observed_from"],
                                    "last_seen": c.get("observed_to") or c["observed_from"], "count": 1,
                                    "sighting_of_ref": loc["id"], "where_sighted_refs": [loc["id"]]}
        if c.get("description"):
            sighting["description"] = c["description"]
        out = [loc, sighting]
    elif kind == "relationship":
        obj = {"type": "relationship", "id": f"relationship--{uid}", "relationship_type": c["relationship_type"],
               "source_ref": _stix_ref(c["source_ref"], entity_types),
               "target_ref": _stix_ref(c["target_ref"], entity_types)}
        if c.get("description"):
            obj["description"] = c["description"]
        out = [obj]
    else:  # note
        out = [{"type": "note", "id": f"note--{uid}", "content": c["content"],
                "object_refs": [_stix_ref(r, entity_types) for r in c["object_refs"]]}]
    return [{**o, **common, "extensions": {EXTENSION_ID: ext}} for o in out]


def _accord_ref(stix_ref: Any) -> str | None:
    if not isinstance(stix_ref, str) or "--" not in stix_ref:
        return None
    stype, uid = stix_ref.split("--", 1)
    kind = _STIX_TO_KIND.get(stype)
    return f"{kind}--{uid}" if kind else None


def stix_to_item(obj: dict[str, Any], companion: dict[str, Any] | None,
                 default_handling: dict[str, Any]) -> dict[str, Any] | None:
    """The Accord item (input shape, for ``check_item(allow_times=True)``) that a STIX object maps to, or None
    when it maps to none. ``companion`` is the sighting of an observation's location (same UUID), if present.
    Handling comes from the Accord extension when the object carries one, then from its TLP marking, then
    from ``default_handling``."""
    stype = obj.get("type")
    kind = _STIX_TO_KIND.get(stype)  # type: ignore[arg-type]
    if kind is None or stype == "sighting":
        return None
    uid = str(obj["id"]).split("--", 1)[1]
    ext = (obj.get("extensions") or {}).get(EXTENSION_ID) or {}
    if not isinstance(ext, dict):
        ext = {}
    handling = {k: v for k, v in default_handling.items()}
    if "classification" in ext:
        handling["classification"] = ext["classification"]
    if isinstance(ext.get("release"), dict):
        handling["release"] = ext["release"]
    tlp = tlp_of(obj)
    if tlp:
        handling["tlp"] = tlp
    item: dict[str, Any] = {"id": f"{kind}--{uid}", "kind": kind, "handling": handling,
                            "created": obj.get("created"), "modified": obj.get("modified") or obj.get("created")}
    if isinstance(obj.get("lang"), str):
        item["language"] = obj["lang"]
    for key, dest in (("grading", "grading"), ("tags", "tags"), ("identifiers", "identifiers"),
                      ("discoverable", "discoverable"), ("item_extensions", "extensions")):
        if key in ext:
            item[dest] = ext[key]
    if kind == "report":
        item["content"] = {"title": obj.get("name"), "body": obj.get("description") or ""}
    elif kind == "entity":
        et = ext.get("entity_type") or {"intrusion-set": "group", "threat-actor": "person"}.get(stype)  # type: ignore[arg-type]
        if et is None:
            et = "person" if obj.get("identity_class") == "individual" else "organisation"
        content: dict[str, Any] = {"entity_type": et, "name": obj.get("name")}
        aliases = obj.get("aliases") or ext.get("aliases")
        if aliases:
            content["aliases"] = aliases
        if obj.get("description"):
            content["description"] = obj["description"]
        if ext.get("formerly_known_as"):
            content["formerly_known_as"] = ext["formerly_known_as"]
        item["content"] = content
    elif kind == "observation":
        if obj.get("latitude") is None or obj.get("longitude") is None:
            return None
        first = (companion or {}).get("first_seen") or obj.get("created")
        content = {"lat": obj["latitude"], "lon": obj["longitude"], "observed_from": first}
        last = (companion or {}).get("last_seen")
        if last and last != first:
            content["observed_to"] = last
        if obj.get("precision") is not None:
            content["precision_m"] = obj["precision"]
        if obj.get("name"):
            content["place_name"] = obj["name"]
        desc = (companion or {}).get("description") or obj.get("description")
        if desc:
            content["description"] = desc
        item["content"] = content
    elif kind == "relationship":
        src, tgt = _accord_ref(obj.get("source_ref")), _accord_ref(obj.get("target_ref"))
        if src is None or tgt is None:
            return None
        content = {"relationship_type": obj.get("relationship_type"), "source_ref": src, "target_ref": tgt}
        if obj.get("description"):
            content["description"] = obj["description"]
        item["content"] = content
    else:
        refs = [_accord_ref(r) for r in obj.get("object_refs") or []]
        if not refs or any(r is None for r in refs):
            return None
        item["content"] = {"content": obj.get("content"), "object_refs": refs}
    return item


def is_timestamp(value: Any) -> bool:
    return isinstance(value, str) and bool(_TS.match(value))
