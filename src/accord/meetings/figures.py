"""Figures: each one a query over the item records, defined so that it can be stored and re-run.

A figure is named by a *definition*, a small JSON-able dict::

    {"figure": "observations", "v": 1, "from": "2026-10-01T00:00:00.000Z", "to": "2026-11-01T00:00:00.000Z",
     "members": ["ALPHA", "BRAVO"], "kinds": [], "audience": "members", "basis": "members-own"}

and evaluates to a count plus the ids of the items counted. The same definition gives the same answer on the same
records, and later records do not change it, because:

- items are selected by ``created`` in the closed period ``[from, to)``; ``created`` never changes, and an item
  shared after ``to`` has a later ``created``;
- revoked items: an item revoked *before* ``to`` was withdrawn within the period and is not counted; one revoked
  at or after ``to`` was provided during the period and still counts. A revoked item never changes again, so its
  ``modified`` is the moment of revocation and the rule is stable once the period has closed;
- the release (who an item was provided to) is read from the current row. An originator who later widens an
  item's release changes the "provided to" figures of past periods; verification then reports exactly which
  items moved, because the frozen figure keeps their ids (see ``docs/arch/meetings.md``).

Who may be counted (the *basis*) is always a ``policy.visible`` condition:

- ``viewer``: what the asking principal may see (ad-hoc statistics, drill-down, activity reports);
- ``members-own``: for each member listed, the items it originated, seen as that member (a principal of the
  member with full clearance). This is what a member presents about itself at a meeting and what a communiqué
  adds up: each member's own contribution, which it approves before publication. Asked by one of the member's
  own people (a figure, a drafted summary), the member's items are counted as that person may see them.

Figures are registered in ``FIGURES``; other features add theirs with ``register`` (the correlation engine adds
"correlated", feedback and RFIs will add theirs) without touching this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, and_, exists, false, or_, select, true

from accord import clock
from accord.errors import FieldError, ValidationFailed
from accord.sharing.handling import CLASSIFICATIONS, ITEM_KINDS, Principal
from accord.sharing.policy import visible
from accord.storage.schema import item_release, items, members

__all__ = [
    "AUDIENCES",
    "FIGURES",
    "Evaluation",
    "FigureDef",
    "audience_condition",
    "check_definition",
    "digest_ids",
    "evaluate",
    "member_principal",
    "period_condition",
    "register",
    "selection",
]

DEFINITION_VERSION = 1
# Who the items were provided to: stored at all, released to at least one other member, released on to the
# members' consumers (downstream units), or released to one named member ("member:CODE").
AUDIENCES = ("any", "members", "consumers")
INFORMATION_KINDS = ("report", "entity", "relationship", "note")


@dataclass(frozen=True)
class FigureDef:
    """A registered figure: its key, the label key used by the renderers, and how it selects items.

    ``condition(conn, definition)`` returns an extra SQL condition over ``items`` (``None`` for none); the period,
    member, audience and basis conditions are added by ``selection`` for every figure alike."""

    key: str
    kinds: tuple[str, ...]
    label: str
    condition: Callable[[Connection, dict[str, Any]], ColumnElement[bool] | None] | None = None
    # Report labels by language for figures registered by other features ({"en": ..., "fr": ...}); the built-in
    # figures take theirs from i18n.py.
    labels: dict[str, str] | None = None
    # For figures about an item's relation to *other* records (correlated with another member's item): an extra
    # condition built once per counting principal, i.e. the viewer (viewer basis) or each listed member as a whole
    # (members-own). It must only look at what that principal may know (``visible(principal)`` on the other
    # records), so a count never carries a bit about an item its counter may not see.
    known: Callable[[Connection, dict[str, Any], Principal], ColumnElement[bool]] | None = None


FIGURES: dict[str, FigureDef] = {}


def register(fig: FigureDef) -> None:
    """Add a figure (used by other features: correlation, feedback, RFIs). Keys are unique."""
    FIGURES[fig.key] = fig


register(FigureDef("items", ITEM_KINDS, "items"))
register(FigureDef("observations", ("observation",), "observations"))
register(FigureDef("information", INFORMATION_KINDS, "information"))
register(FigureDef("reports", ("report",), "reports"))
register(FigureDef("entities", ("entity",), "entities"))


def member_principal(member_id: int, code: str) -> Principal:
    """The member as a whole, reading its own records: the basis of what a member presents about itself."""
    return Principal(user_id=0, username=f"member:{code}", member_id=member_id, member_code=code, role="reader",
                     clearance=len(CLASSIFICATIONS) - 1, via="cli")


def _ts(value: Any, name: str) -> str:
    try:
        return clock.format_ts(clock.parse_ts(value))
    except (ValueError, TypeError):
        raise ValidationFailed.one(name, "must be an RFC 3339 timestamp or a date (YYYY-MM-DD)") from None


def check_definition(raw: Any, *, basis: str | None = None) -> dict[str, Any]:
    """Validate a figure definition and return it in canonical form (normalised timestamps, sorted lists)."""
    if not isinstance(raw, dict):
        raise ValidationFailed.one("figure", "must be an object")
    errors: list[FieldError] = []
    key = raw.get("figure")
    if not isinstance(key, str) or key not in FIGURES:
        errors.append(FieldError("figure", f"must be one of {', '.join(sorted(FIGURES))}"))
    start, end = _ts(raw.get("from"), "from"), _ts(raw.get("to"), "to")
    if start >= end:
        errors.append(FieldError("to", "must be after from"))
    mems = raw.get("members") or []
    if not isinstance(mems, list) or not all(isinstance(m, str) for m in mems):
        errors.append(FieldError("members", "must be a list of member codes"))
        mems = []
    kinds = raw.get("kinds") or []
    if not isinstance(kinds, list) or any(k not in ITEM_KINDS for k in kinds):
        errors.append(FieldError("kinds", f"must be a list of {', '.join(ITEM_KINDS)}"))
        kinds = []
    audience = raw.get("audience") or "any"
    if not isinstance(audience, str) or not (audience in AUDIENCES or audience.startswith("member:")):
        errors.append(FieldError("audience", "must be any, members, consumers or member:CODE"))
    b = basis or raw.get("basis") or "viewer"
    if b not in ("viewer", "members-own"):
        errors.append(FieldError("basis", "must be viewer or members-own"))
    if b == "members-own" and not mems:
        errors.append(FieldError("members", "name the members whose own items are counted"))
    if errors:
        raise ValidationFailed(errors)
    return {"figure": key, "v": DEFINITION_VERSION, "from": start, "to": end,
            "members": sorted({m.upper() for m in mems}), "kinds": sorted(set(kinds)),
            "audience": audience if not audience.startswith("member:") else "member:" + audience[7:].upper(),
            "basis": b}


def period_condition(start: str, end: str, table: Any = items) -> ColumnElement[bool]:
    """Created in ``[start, end)`` and not withdrawn within the period (see the module docstring)."""
    return and_(table.c.created >= start, table.c.created < end,
                or_(table.c.revoked.is_(False), table.c.modified >= end))


def audience_condition(conn: Connection, audience: str, table: Any = items) -> ColumnElement[bool]:
    if audience == "any":
        return true()
    if audience == "members":
        cond: ColumnElement[bool] = table.c.release_scope.in_(("members", "all"))
        return cond
    if audience == "consumers":
        return and_(table.c.release_scope.in_(("members", "all")), table.c.release_consumers.is_(True))
    code = audience.split(":", 1)[1]
    mid = conn.execute(select(members.c.id).where(members.c.code == code)).scalar()
    if mid is None:
        raise ValidationFailed.one("audience", f"no member {code}")
    named = exists(select(item_release.c.item_seq).where(item_release.c.item_seq == table.c.seq,
                                                         item_release.c.member_id == mid))
    return and_(table.c.originator_id != mid,
                or_(table.c.release_scope == "all", and_(table.c.release_scope == "members", named)))


def _member_ids(conn: Connection, codes: Sequence[str]) -> dict[str, int]:
    found = {c: i for i, c in conn.execute(select(members.c.id, members.c.code).where(members.c.code.in_(codes)))}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationFailed.one("members", f"no member {', '.join(missing)}")
    return found


def selection(conn: Connection, definition: dict[str, Any], viewer: Principal | None) -> ColumnElement[bool]:
    """The full SQL condition over ``items`` for a canonical definition. ``viewer`` is required for the viewer
    basis; for members-own, when it is one of a listed member's people, that member's items and their relations
    (``known``) are counted as it may see them, and nothing else here (drill-down adds the viewer's own
    ``visible``, and ``known``, on top)."""
    fig = FIGURES[definition["figure"]]
    kinds = definition["kinds"] or list(fig.kinds)
    kinds = [k for k in kinds if k in fig.kinds]
    conds: list[ColumnElement[bool]] = [
        period_condition(definition["from"], definition["to"]),
        audience_condition(conn, definition["audience"]),
    ]
    if set(kinds) != set(ITEM_KINDS):  # every kind: no condition, so the planner may use the created index alone
        conds.append(items.c.kind.in_(kinds) if kinds else false())
    ids = _member_ids(conn, definition["members"]) if definition["members"] else {}
    if definition["basis"] == "viewer":
        if viewer is None:
            raise ValidationFailed.one("basis", "a viewer basis needs a viewer")
        conds.append(visible(viewer))
        if ids:
            conds.append(items.c.originator_id.in_(list(ids.values())))
        if fig.known is not None:
            conds.append(fig.known(conn, definition, viewer))
    else:
        per_member = []
        for code, mid in ids.items():
            who = member_principal(mid, code)
            # The member's items, and what they relate to, are counted as the member as a whole sees them (the
            # aggregate members approve), except when one of its people asks (a figure, a drafted summary): then
            # as that person may see them, so that no count says anything of an item above their clearance, the
            # member's own or another member's.
            judge = viewer if viewer is not None and viewer.member_id == mid else who
            cond = and_(items.c.originator_id == mid, visible(judge))
            if fig.known is not None:
                cond = and_(cond, fig.known(conn, definition, judge))
            per_member.append(cond)
        conds.append(or_(*per_member))
    if fig.condition is not None:
        extra = fig.condition(conn, definition)
        if extra is not None:
            conds.append(extra)
    return and_(*conds)


def digest_ids(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


@dataclass(frozen=True)
class Evaluation:
    definition: dict[str, Any]
    value: int
    item_ids: list[str]
    digest: str

    def as_dict(self) -> dict[str, Any]:
        return {"definition": self.definition, "value": self.value, "items_digest": self.digest}


def evaluate(conn: Connection, definition: dict[str, Any], viewer: Principal | None = None) -> Evaluation:
    """Run a canonical definition: the count and the sorted ids of the items behind it."""
    ids = sorted(conn.execute(select(items.c.id).where(selection(conn, definition, viewer))).scalars())
    return Evaluation(definition, len(ids), ids, digest_ids(ids))


def canonical_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
