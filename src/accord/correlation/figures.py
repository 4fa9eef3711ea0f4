"""The "correlated with another member's item" figure, plugged into the meetings' figure registry.

Definition (also in docs/arch/meetings.md). An item of the figure's selection (the usual period, revocation,
audience and basis rules of ``accord.meetings.figures``) is counted when, for the principal the basis counts as
(the viewer, or each listed member as a whole), at least one of these holds:

1. **shared exact key**: the item carries an exact correlation key — a canonical identifier (``i:``), a named
   place resolved in the gazetteer (``g:``), an entity lineage (``e:``) or a place-time cell, H3 resolution 8 ×
   UTC day (``c:``) — that is not on the hub's exclusion list, and an item of *another member* carries the same
   key, where that other item is not revoked, was created before the period's end, and is **visible to the
   counting principal**;
2. **deconfliction notice**: the hub addressed a deconfliction notice about the item to the counting principal's
   member before the period's end (the member was told that another member holds related information).

Name keys (``n:``) are blocking keys, not matches, and are left out: a strong name match between two members who
cannot see each other shows up as a notice (2.). The "noisy" guard of the item panels (a value shared by very
many items is flagged rather than linked) is a display rule and does not apply: the figure counts every exact
match. Both halves only look at what the counting principal may know, so the count never carries a bit about an
item its counter may not see; the drill-down adds the viewer's ``visible`` on top, as for every figure.

Reproducibility: later items never change a closed period's figure (the other item must be created before the
end, a notice sent before the end). Keys are those of the items' current versions: an edit that changes an
identifier or a position, a later revocation of the other item, or a new exclusion can move a past figure; the
frozen figure keeps its item ids, so ``verify`` reports exactly which items moved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, false, func, or_, select

from accord.correlation.tables import corr_exclusions, corr_keys, corr_notices, notice_other_held
from accord.meetings.figures import FIGURES, FigureDef, period_condition, register
from accord.meetings.stats import Statistics
from accord.sharing.handling import ITEM_KINDS, READ_ROLES, Principal
from accord.sharing.policy import visible
from accord.storage.schema import item_release, items

__all__ = ["CORRELATED", "EXACT_KEY_PREFIXES", "correlated_condition", "install", "most_correlated"]

CORRELATED = "correlated"
EXACT_KEY_PREFIXES = ("i:", "g:", "e:", "c:")
LABELS = {
    "en": "Items correlated with another member's",
    "fr": "Éléments corrélés avec ceux d'un autre membre",
    "ar": "عناصر مترابطة مع عناصر عضو آخر",
    "ru": "Материалы, связанные с материалами другого участника",
    "fa": "موارد مرتبط با موارد عضوی دیگر",
}


def correlated_condition(_conn: Connection, definition: dict[str, Any], who: Principal) -> ColumnElement[bool]:
    """SQL condition over ``items``: the item is correlated with another member's item that ``who`` may see, or
    ``who``'s member received a deconfliction notice about it, before the period's end."""
    if who.role not in READ_ROLES:
        return false()
    end = definition["to"]
    mine, theirs = corr_keys.alias("fig_mine"), corr_keys.alias("fig_theirs")
    other, other_release = items.alias("fig_other"), item_release.alias("fig_other_release")
    shared = exists(
        select(theirs.c.item_seq)
        .select_from(mine.join(theirs, theirs.c.key == mine.c.key).join(other, other.c.seq == theirs.c.item_seq))
        .where(mine.c.item_seq == items.c.seq,
               or_(*[mine.c.key.startswith(p) for p in EXACT_KEY_PREFIXES]),
               mine.c.key.not_in(select(corr_exclusions.c.key)),
               other.c.originator_id != items.c.originator_id,
               other.c.revoked.is_(False),
               other.c.created < end,
               visible(who, other, other_release)))
    if who.is_consumer:  # notices are told to a member's users, never to its consumers
        return shared
    told = exists(select(corr_notices.c.id).where(corr_notices.c.item_seq == items.c.seq,
                                                  corr_notices.c.member_id == who.member_id,
                                                  corr_notices.c.created < end, notice_other_held()))
    return or_(shared, told)


def most_correlated(conn: Connection, member: Principal, start: str, end: str, limit: int = 5) -> list[str]:
    """Highlights for a member's activity summary: its own items of the period that share exact keys with the
    most other members' items it may see (the same matches as the figure's first half), most first."""
    mine, theirs = corr_keys.alias("hl_mine"), corr_keys.alias("hl_theirs")
    other, other_release = items.alias("hl_other"), item_release.alias("hl_other_release")
    n = func.count(func.distinct(other.c.seq))
    q = (select(items.c.id, n.label("n"))
         .select_from(items.join(mine, mine.c.item_seq == items.c.seq).join(theirs, theirs.c.key == mine.c.key)
                      .join(other, other.c.seq == theirs.c.item_seq))
         .where(items.c.originator_id == member.member_id, visible(member), period_condition(start, end),
                or_(*[mine.c.key.startswith(p) for p in EXACT_KEY_PREFIXES]),
                mine.c.key.not_in(select(corr_exclusions.c.key)),
                other.c.originator_id != member.member_id, other.c.revoked.is_(False), other.c.created < end,
                visible(member, other, other_release))
         .group_by(items.c.id).order_by(n.desc(), items.c.id).limit(limit))
    return [r.id for r in conn.execute(q)]


def install(stats: Statistics | None = None) -> None:
    """Register the figure (idempotent: the registry is keyed by figure name) and, given the statistics service,
    propose a member's most correlated items as highlights of its activity summary."""
    if CORRELATED not in FIGURES:
        register(FigureDef(CORRELATED, ITEM_KINDS, "items correlated with another member's", labels=LABELS,
                           known=correlated_condition))
    if stats is not None and most_correlated not in stats.highlight_sources:
        stats.highlight_sources.insert(0, most_correlated)

