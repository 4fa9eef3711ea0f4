"""References to entities a reader may not see, as TAXII serves stored STIX objects.

A stored object keeps the references its author wrote (``threat-actor--U`` for a person, ``identity--U`` for an
organisation). Served to a reader who may not see entity U, such a reference would tell the entity's type; it is
served as ``HIDDEN_ENTITY_REF_TYPE--U`` instead, in every object type, the rest of the body unchanged
(``served``). A reader who may see the entity gets the stored body byte for byte.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, select

from accord.sharing.handling import Principal
from accord.sharing.policy import visible
from accord.storage.schema import items

__all__ = ["HIDDEN_ENTITY_REF_TYPE", "entity_refs", "may_name_entities", "neutralise", "served"]

# A reference to an Accord entity the reader may not see is served with this STIX type whatever the entity's type
# (person, group, organisation): the type of a ref must tell nothing about an item the reader cannot see. It is
# the type Accord gives an entity of unknown type, a valid relationship/note target, and imports back as an entity.
HIDDEN_ENTITY_REF_TYPE = "intrusion-set"
_ENTITY_STIX_TYPES = frozenset({"intrusion-set", "threat-actor", "identity"})  # mapping's entity types
# The objects whose references name items (Accord generates relationships' and notes' from the items they refer to;
# a report imported from STIX keeps its object_refs). Any other object (a grouping, an opinion, a sighting stored
# raw) may name an entity too, by the type its author saw: `may_name_entities` tells from the stored text.
_REF_HOLDERS = frozenset({"relationship", "note", "report"})
# References whose type STIX fixes (an identity; for a sighting's places, an identity or a location): the type
# there tells nothing of the entity, and another would make the object invalid. Never rewritten.
_TYPED_BY_SPEC = frozenset({"created_by_ref", "where_sighted_refs"})


@lru_cache(maxsize=8)
def _row_type(fields: tuple[str, ...]) -> Any:
    return namedtuple("ServedRow", fields)  # the page query's own columns, whatever they are


def neutralise(body: dict[str, Any], hidden: set[str]) -> bool:
    """Give every reference in ``body`` to a hidden entity (its item id in ``hidden``) the fixed type; whether any
    changed."""
    changed = False

    def one(ref: Any) -> Any:
        nonlocal changed
        if isinstance(ref, str) and "--" in ref:
            stype, uid = ref.split("--", 1)
            if stype in _ENTITY_STIX_TYPES and stype != HIDDEN_ENTITY_REF_TYPE and f"entity--{uid}" in hidden:
                changed = True
                return f"{HIDDEN_ENTITY_REF_TYPE}--{uid}"
        return ref

    for key, value in body.items():
        if key in _TYPED_BY_SPEC:
            continue
        if key.endswith("_ref"):
            body[key] = one(value)
        elif key.endswith("_refs") and isinstance(value, list):
            body[key] = [one(r) for r in value]
    return changed


def may_name_entities(stype: str, body: str) -> bool:
    """Whether a stored body (compact JSON, as the store writes it) may refer to an entity by a type that tells it
    (threat-actor, identity): a cheap test on the text, so that only such bodies are parsed. The object's own id
    and its ``created_by_ref`` (an identity by definition) do not count."""
    if stype in _REF_HOLDERS:
        return True
    if body.count("threat-actor--") > (stype == "threat-actor"):
        return True
    return body.count("identity--") > (stype == "identity") + body.count('"created_by_ref":"identity--')


def entity_refs(body: dict[str, Any]) -> set[str]:
    """The item ids of the entities ``body`` refers to by a STIX entity type (top-level ``*_ref``/``*_refs``)."""
    out: set[str] = set()
    for key, value in body.items():
        if key in _TYPED_BY_SPEC:
            continue
        if key.endswith("_ref"):
            refs = [value]
        elif key.endswith("_refs") and isinstance(value, list):
            refs = value
        else:
            continue
        for ref in refs:
            if isinstance(ref, str) and "--" in ref:
                stype, uid = ref.split("--", 1)
                if stype in _ENTITY_STIX_TYPES:
                    out.add(f"entity--{uid}")
    return out


def served(conn: Connection, principal: Principal, rows: Sequence[Any]) -> list[Any]:
    """Rows of versions (with ``stix_id`` and ``body``) as ``principal`` is to be served them: a reference to
    an entity they may not see carries ``HIDDEN_ENTITY_REF_TYPE``, not the entity's own STIX type (which tells
    a person from a group or an organisation). The stored body keeps the type its author saw; a reader who may
    see the entity gets it unchanged, byte for byte. One query per page, and only for pages with references."""
    parsed: list[tuple[int, dict[str, Any]]] = []
    wanted: set[str] = set()
    for n, r in enumerate(rows):
        if may_name_entities(r.stix_id.split("--", 1)[0], r.body):
            body = orjson.loads(r.body)
            refs = entity_refs(body)
            if refs:
                parsed.append((n, body))
                wanted |= refs
    if not wanted:
        return list(rows)
    hidden: set[str] = set()
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):
        q = select(items.c.id, visible(principal).label("ok")).where(items.c.id.in_(ids[start:start + 500]))
        hidden.update(iid for iid, ok in conn.execute(q) if not ok)
    out = list(rows)
    for n, body in parsed:
        if hidden and neutralise(body, hidden):
            r = rows[n]
            out[n] = _row_type(tuple(r._fields))(**{**r._asdict(), "body": orjson.dumps(body).decode()})
    return out
