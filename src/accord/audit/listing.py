"""The audit trail as an administrator reads it: every record, but nothing about items the reader may not see.

The chain itself (``chain.py``) is complete and ``verify`` walks it untouched. A listing is read by a person, and
the access policy holds for administrators too (``policy.py``: a hub administrator gets no exception), so a
record that names an item or STIX object the reader may not see (``policy.visible``, decided in SQL by an EXISTS
over ``items`` and ``stix_handles``) is listed with:

- ``item_id`` null and a detail cut to how the access was made (``via``, ``token``): no kind, version, member
  released to, or other words about the item;
- in the detail of any other record, such ids left out of its ``ids`` / ``objects`` lists;
- ``hash`` null for a record so cut, and ``prev_hash`` null for the record after it: each is a SHA-256 over the
  full record, so a reader holding a guessed id could otherwise confirm it offline;
- ``redacted`` true on such a record (false on every other).

Filtering by the id of an item the reader may not see returns exactly what filtering by an id that names
nothing returns: no records. Records that name no item (logins, token use, member and user administration) are
listed as stored.

How a record is then shown (`presented`): every record carries ``ref``, a sealed reference (the paging token for
``before``). A member administrator reads only its own member's records, and their chain positions would count the
records of everyone else between two of them (how busy the other members were, hour by hour): so it is shown no
``seq``, ``prev_hash`` or ``hash`` (the hash covers the other two; the hub administrator, who verifies the chain,
sees all three).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, and_, case, exists, not_, or_, select

from accord.audit.chain import filtered
from accord.errors import ValidationFailed
from accord.sharing import sealed
from accord.sharing.handling import Principal
from accord.sharing.policy import visible, visible_ids
from accord.stix.tables import handle_visible, stix_handles
from accord.storage.schema import audit_log, items, users

__all__ = ["listing", "presented", "record_seq"]

_KEPT = ("token", "via")  # what a cut detail keeps: how the access was made, nothing about the item
_CHUNK = 500


def _names_content(ref: Any) -> Any:
    return or_(exists(select(items.c.seq).where(items.c.id == ref)),
               exists(select(stix_handles.c.seq).where(stix_handles.c.stix_id == ref)))


def _seen_by(viewer: Principal, ref: Any) -> Any:
    """True when ``ref`` names an item, or a STIX object (mapped from an item or raw), that ``viewer`` may see."""
    h = stix_handles
    return or_(
        exists(select(items.c.seq).where(items.c.id == ref, visible(viewer))),
        exists(select(h.c.seq).select_from(h.outerjoin(items, items.c.seq == h.c.item_seq))
               .where(h.c.stix_id == ref, handle_visible(viewer))))


def withheld(viewer: Principal, ref: Any) -> Any:
    """SQL: ``ref`` names content that exists and that ``viewer`` may not see."""
    return and_(ref.is_not(None), _names_content(ref), not_(_seen_by(viewer, ref)))


def _hidden_ids(conn: Connection, viewer: Principal, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` name content ``viewer`` may not see (the policy decides in SQL, a chunk at a time)."""
    wanted = sorted(set(ids))
    hidden: set[str] = set()
    h = stix_handles
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start:start + _CHUNK]
        known = set(conn.execute(select(items.c.id).where(items.c.id.in_(part))).scalars())
        known |= set(conn.execute(select(h.c.stix_id).where(h.c.stix_id.in_(part))).scalars())
        if not known:
            continue
        seen = visible_ids(conn, viewer, known)
        seen |= set(conn.execute(
            select(h.c.stix_id).select_from(h.outerjoin(items, items.c.seq == h.c.item_seq))
            .where(h.c.stix_id.in_(known), handle_visible(viewer))).scalars())
        hidden |= known - seen
    return hidden


def _loads(detail: str) -> Any:
    try:
        return orjson.loads(detail)
    except orjson.JSONDecodeError:
        return None


def _listed_ids(detail: Any) -> list[str]:
    if not isinstance(detail, dict):
        return []
    out = [i for i in detail.get("ids") or [] if isinstance(i, str)]
    out += [o[0] for o in detail.get("objects") or [] if isinstance(o, list) and o and isinstance(o[0], str)]
    return out


def _cut(detail: dict[str, Any], hidden: set[str]) -> dict[str, Any] | None:
    """The detail without the hidden ids of its lists, or None when it names none."""
    out = dict(detail)
    changed = False
    if isinstance(out.get("ids"), list):
        kept = [i for i in out["ids"] if i not in hidden]
        changed |= len(kept) != len(out["ids"])
        out["ids"] = kept
    if isinstance(out.get("objects"), list):
        kept = [o for o in out["objects"] if not (isinstance(o, list) and o and o[0] in hidden)]
        changed |= len(kept) != len(out["objects"])
        out["objects"] = kept
    return out if changed else None


def _shown(rows: Sequence[Any], hidden: set[str]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        rec = {c: getattr(r, c) for c in ("seq", "at", "request_id", "user_id", "member", "action", "item_id",
                                          "detail", "prev_hash", "hash")}
        detail = _loads(r.detail)
        redacted = bool(r.withheld)
        if redacted:
            rec["item_id"] = None
            kept = {k: detail[k] for k in _KEPT if k in detail} if isinstance(detail, dict) else {}
            rec["detail"] = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()
        elif isinstance(detail, dict):
            cut = _cut(detail, hidden)
            if cut is not None:
                redacted = True
                rec["detail"] = orjson.dumps(cut, option=orjson.OPT_SORT_KEYS).decode()
        if redacted:
            rec["hash"] = None
        rec["redacted"] = redacted
        out[r.seq] = rec
    return out


def _select(viewer: Principal) -> Any:
    hidden = withheld(viewer, audit_log.c.item_id)
    return select(audit_log, case((hidden, True), else_=False).label("withheld"))


def listing(conn: Connection, viewer: Principal, *, member: str | None = None, action: str | None = None,
            item_id: str | None = None, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """Records newest first, as ``viewer`` may read them (see the module docstring)."""
    q = filtered(_select(viewer), member=member, action=action, limit=limit, before=before)
    if item_id:
        # An item the viewer may not see is no filter at all: the same empty answer as an id naming nothing.
        q = q.where(audit_log.c.item_id == item_id, not_(withheld(viewer, audit_log.c.item_id)))
    rows = conn.execute(q).all()
    if not rows:
        return []
    # The record before each one listed: if it is cut, the listed record's prev_hash (its hash) is withheld too.
    wanted = {r.seq - 1 for r in rows} - {r.seq for r in rows}
    prev_rows = conn.execute(_select(viewer).where(audit_log.c.seq.in_(wanted))).all() if wanted else []
    every = [*rows, *prev_rows]
    hidden = _hidden_ids(conn, viewer, (i for r in every if not r.withheld
                                        for i in _listed_ids(_loads(r.detail))))
    shown = _shown(every, hidden)
    who = {int(u): n for u, n in conn.execute(select(users.c.id, users.c.username).where(
        users.c.id.in_(sorted({int(r.user_id) for r in rows if r.user_id is not None}))))}
    out = []
    for r in rows:
        rec = shown[r.seq]
        rec["user"] = who.get(int(r.user_id)) if r.user_id is not None else None
        before_it = shown.get(r.seq - 1)
        if before_it is not None and before_it["redacted"]:
            rec["prev_hash"] = None
        out.append(rec)
    return out


_REF = "audit-record"


def presented(viewer: Principal, secret: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records of `listing` as ``viewer`` is shown them (see the module docstring): a sealed ``ref`` on each; for
    anyone but the hub administrator, no chain position (``seq``, ``prev_hash``, ``hash``), and the acting user by
    name only (``user``: user ids are a counter of the whole hub, whose gaps count the other members' users)."""
    for r in records:
        r["ref"] = sealed.seal_number(secret, _REF, int(r["seq"]))
        if viewer.role != "hub-admin":
            r["user_id"] = None
            # The hash too: it covers seq and prev_hash, so two adjacent records' hashes give the position back.
            r["seq"] = None
            r["prev_hash"] = None
            r["hash"] = None
    return records


def record_seq(viewer: Principal, secret: str, value: str | None, field: str = "before") -> int | None:
    """The chain position a ``before`` value names: a record's ``ref``, or for the hub administrator also its
    ``seq``."""
    if value is None or value == "":
        return None
    if viewer.role == "hub-admin" and value.isascii() and value.isdigit():
        if len(value) > 18:  # past any stored seq (a 64-bit integer): the store could not compare it
            raise ValidationFailed.one(field, "must be the ref or seq of a listed record")
        return int(value)
    try:
        return sealed.open_number(secret, _REF, value)
    except sealed.BadToken:
        raise ValidationFailed.one(field, "must be the ref of a listed record") from None
