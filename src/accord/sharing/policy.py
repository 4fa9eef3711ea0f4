"""The access policy: the one place that decides which items a principal may see.

A principal sees an item when all of these hold:

1. their role may read (``READ_ROLES``);
2. their clearance is at least the item's classification level;
3. their member originated the item, or the item is released to all members, or to their member by name;
4. if they are a consumer (a member's downstream unit), the release also includes consumers.

A hub administrator gets no exception: content needs a release like everyone else's. Every read path (list, get,
search, history, statistics, export, TAXII, correlation, alerts) builds its query on ``visible()``, so the rule is
applied inside the database and a denied item is never loaded into the process at all.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from accord.sharing.handling import READ_ROLES, WRITE_ROLES, Principal
from accord.storage.schema import item_release, items

__all__ = ["can_edit", "visible"]


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
    reachable = or_(
        table.c.originator_id == principal.member_id,
        table.c.release_scope == "all",
        and_(table.c.release_scope == "members", released_to_member),
    )
    consumer_ok = table.c.release_consumers.is_(True) if principal.is_consumer else true()
    return and_(table.c.classification <= principal.clearance, reachable, consumer_ok)


def can_edit(principal: Principal, originator_id: int) -> bool:
    """Only the originator's analysts and administrators change or revoke an item (the row must already have
    passed ``visible``)."""
    return principal.role in WRITE_ROLES and principal.member_id == originator_id
