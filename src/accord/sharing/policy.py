"""The access policy: the one place that decides which items a principal may see.

A principal sees an item when all of these hold:

1. their role may read (``READ_ROLES``);
2. their clearance is at least the item's classification level;
3. their member originated the item, or the item is released to all members, or to their member by name;
4. if they are a consumer (a member's downstream unit), the release also includes consumers.

A hub administrator gets no exception: content needs a release like everyone else's. Every read path (list, get,
search, history, statistics, export, TAXII, correlation, alerts) builds its query on ``visible()``, so the rule is
applied inside the database and a denied item is never loaded into the process at all.

An earlier version of an item (its history, a STIX object's older versions) is seen only when the item is seen now
*and* that version's own stored handling admits the principal under the same four points (``visible_version``):
the intersection. Sanitising an item (classification lowered, text removed) or widening its release therefore
opens only the new version; narrowing it closes every version, since the item itself is no longer seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, and_, exists, false, or_, select, true

from accord.sharing.handling import READ_ROLES, WRITE_ROLES, Principal
from accord.storage.schema import item_release, items

__all__ = ["can_edit", "cleared", "visible", "visible_ids", "visible_version"]


def visible(principal: Principal, table=items,  # type: ignore[no-untyped-def]
            release=item_release) -> ColumnElement[bool]:
    """SQL condition over ``items`` (or an alias of it) true exactly for the rows ``principal`` may see.

    ``table``/``release`` may name another handling-bearing table with the same handling columns and its own
    release table (columns ``member_id``, ``item_seq``), e.g. the STIX store's raw objects, so that one rule
    governs every kind of stored content."""
    if principal.role not in READ_ROLES:
        return false()
    released_to_member = exists(
        select(release.c.item_seq).where(
            release.c.item_seq == table.c.seq, release.c.member_id == principal.member_id
        )
    )
    return _admits(principal, table, table.c.originator_id, released_to_member)


def visible_ids(conn: Connection, principal: Principal, ids: Iterable[str]) -> set[str]:
    """Which of the item ids ``principal`` may see (decided by ``visible`` in SQL, 500 ids a statement)."""
    wanted = sorted(set(ids))
    out: set[str] = set()
    for start in range(0, len(wanted), 500):
        out.update(conn.execute(select(items.c.id).where(items.c.id.in_(wanted[start:start + 500]),
                                                         visible(principal))).scalars())
    return out


def visible_version(principal: Principal, version: FromClause, release: FromClause,
                    originator_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL condition over a table of stored versions, true for the rows whose *own* handling admits ``principal``.

    ``version`` carries the handling columns of ``items`` (``classification``, ``release_scope``,
    ``release_consumers``) as they were for that version; ``release`` holds its members released by name: a
    ``member_id`` and the columns of ``version``'s primary key, named alike; ``originator_id`` is the (unchanging)
    originator, from the item or handle the query joins. Callers compose it with ``visible`` on the item or
    handle (the intersection: see the module docstring), never use it alone."""
    if principal.role not in READ_ROLES:
        return false()
    key = [release.c[c.name] == c for c in version.primary_key]
    released_to_member = exists(select(release.c.member_id).where(*key, release.c.member_id == principal.member_id))
    return _admits(principal, version, originator_id, released_to_member)


def _admits(principal: Principal, handling: Any, originator_id: ColumnElement[Any],
            released_to_member: ColumnElement[bool]) -> ColumnElement[bool]:
    """Points 2-4 of the rule over one row's handling columns."""
    reachable = or_(
        originator_id == principal.member_id,
        handling.c.release_scope == "all",
        and_(handling.c.release_scope == "members", released_to_member),
    )
    consumer_ok = handling.c.release_consumers.is_(True) if principal.is_consumer else true()
    return and_(handling.c.classification <= principal.clearance, reachable, consumer_ok)


def cleared(principal: Principal, level: int) -> bool:
    """Point 2 of the rule for something derived at a clearance rather than from one row: whether ``principal``
    may be shown what was computed as someone cleared for ``level`` saw the items (a colleague's drafted figure
    counts the member's items within the drafter's clearance; read by someone cleared lower, it tells them that
    items above their clearance exist)."""
    return principal.clearance >= level


def can_edit(principal: Principal, originator_id: int) -> bool:
    """Only the originator's analysts and administrators change or revoke an item (the row must already have
    passed ``visible``)."""
    return principal.role in WRITE_ROLES and principal.member_id == originator_id
