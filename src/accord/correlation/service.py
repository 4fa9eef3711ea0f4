"""The Correlation service: index keys as items are written, find related items at query time, and tell members
who cannot see each other's items that they hold related information (deconfliction notices).

Storage: each item stores its own keys (name blocking keys, canonical identifiers, cell-day keys, gazetteer place
ids) and, for entities, its names. Correlated pairs are never stored; they are found by joining on the key index
when asked, so storage is linear in items. The only pair-shaped rows are notices, one per member told.

Who learns what: every read joins the other item through ``policy.visible``; a reader sees a correlation only
between two items they may both see, and the "noisy" guard (a value shared by more items than the limit) is
evaluated over the reader's visible items only, so hidden items change nothing a reader receives. Notices are
computed server-side when an item is written; they name the other member and the kind of the match (with a name
match's strength to two decimals, and no score measured on the other item's place or time: ``told_score``),
never the other item.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, case, delete, exists, func, insert, literal, select, union_all

from accord import clock
from accord.audit.chain import AuditEvent, AuditLog
from accord.config import Settings
from accord.correlation import identifiers as ident
from accord.correlation.names import (
    NameForm,
    analyse,
    best_scores,
    blocking_keys,
    dump_form,
    least_hits,
    load_form,
    query_forms,
    shortlist,
    supports,
)
from accord.correlation.places import Gazetteer, cell_keys, haversine_m, neighbour_keys, time_gap_s
from accord.correlation.tables import corr_exclusions, corr_keys, corr_names, corr_notices, notice_other_held
from accord.errors import NotFound, PermissionDenied, ValidationFailed
from accord.sharing.handling import ADMIN_ROLES, Principal
from accord.sharing.items import Items, WrittenItem
from accord.sharing.policy import visible
from accord.sharing.validate import IDENTIFIER_TYPES, parse_id
from accord.storage.bulk import delete_where_in, insert_rows
from accord.storage.database import Database
from accord.storage.schema import item_release, items, members

__all__ = ["Correlation", "Related"]

EXCLUDABLE = (*IDENTIFIER_TYPES, "name", "place")
NOTICE_STATES = ("open", "released", "dismissed")
# The score a notice tells: where the kind of match fixes it (the same identifier or former name, the same named
# place), that score; for a name match, its strength to two decimals, as the issue's notice reads ("name match
# 0.93"): it is above the notice threshold (0.88) by construction, so it grades near-identical spellings and nothing
# else. A place-time match's score measures the other member's observation (1 - 0.5 d/D - 0.4 gap/W gave a probe
# spanning the time window its distance in metres, and three probes the place): those notices tell none (None).
# The stored score stays server-side.
TOLD_SCORES = {"identifier": 1.0, "lineage": 1.0, "place-name": 0.9}


def told_score(kind: str, stored: float) -> float | None:
    """The score a deconfliction notice of ``kind`` tells its recipient (see ``TOLD_SCORES``)."""
    if kind == "name":
        return round(stored, 2)
    return TOLD_SCORES.get(kind)


@dataclass(frozen=True)
class _Cond:
    """A condition on the other item, with a tag naming it when it holds no reader's policy (statements using it
    are then built once and reused; a reader's condition is rebuilt for each call)."""

    expr: Any
    tag: str | None


# Not the item asked about (parameter ``me``), not revoked: part of every condition on the other item.
_NOT_ME_LIVE = and_(items.c.seq != bindparam("me"), items.c.revoked.is_(False))


@dataclass
class Related:
    seq: int
    kind: str  # name | identifier | place-time | place-name
    score: float
    reasons: list[str] = field(default_factory=list)


def _key(raw: str) -> str:
    return raw if len(raw) <= 250 else raw[:200] + "#" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _padded(n: int) -> int:
    """Statements taking one parameter per key are built for a multiple of 8 keys, the rest given a key no item
    carries: built for every key count, the first call with each new count paid several milliseconds of
    compilation (a dozen of the first hundred entities written)."""
    return -(-n // 8) * 8


def _key_params(keys: Sequence[str], n: int = 0) -> dict[str, str]:
    """Parameters k0, k1... for ``keys``, padded to ``_padded`` (or ``n``) with the empty key, which no item
    carries (every stored key has a kind prefix)."""
    return {f"k{i}": keys[i] if i < len(keys) else "" for i in range(max(n, _padded(len(keys))))}


def _describe(key: str) -> dict[str, str]:
    """A noisy key as the reader may see it: the value comes from the reader's own visible item."""
    if key.startswith("i:"):
        _, typ, value = key.split(":", 2)
        return {"type": typ, "value": value}
    return {"type": {"g": "place", "c": "place-time", "e": "lineage"}.get(key[0], "other"), "value": key[2:]}


WALK_DEPTH = 10  # how many times the postings a reader's common-name ranking needs it may read (see `_ranked`)


class Correlation:
    """Registered as an ``ItemHook`` on ``Items.hooks``: keys and notices are written in the item's own
    transaction, or just after it for a large import (``deferrable``, see ``accord.sharing.derived``)."""

    hook_name = "correlation"
    deferrable = True

    def __init__(self, db: Database, audit: AuditLog, settings: Settings, items_service: Items, *,
                 distance_m: float = 500.0, window_hours: float = 48.0, noisy_limit: int = 50,
                 name_threshold: float = 0.82, notice_threshold: float = 0.88, shortlist: int = 50) -> None:
        self.db = db
        self.audit = audit
        self.settings = settings
        self.items = items_service
        self.distance_m = distance_m
        self.window_s = window_hours * 3600
        self.noisy_limit = noisy_limit
        self.name_threshold = name_threshold
        self.notice_threshold = notice_threshold
        self.shortlist = shortlist
        self.gazetteer = Gazetteer()
        self._stmts: dict[tuple[Any, ...], Any] = {}
        self._hub_wide = _Cond(_NOT_ME_LIVE, "all")

    # ----- keys ------------------------------------------------------------------------------------------
    def names_of(self, kind: str, content: dict[str, Any]) -> list[str]:
        if kind != "entity":
            return []
        return [n for n in [content.get("name", ""), *content.get("aliases", [])] if n and n.strip()]

    def keys_of(self, kind: str, content: dict[str, Any], identifiers: Sequence[dict[str, str]],
                item_id: str = "") -> set[str]:
        keys: set[str] = set()
        for n in self.names_of(kind, content):
            keys.update("n:" + k for k in blocking_keys(analyse(n)))
        if kind == "entity" and item_id:
            # Lineage: a group re-formed under a new name points at its earlier entity; both carry that
            # entity's id as a key, so the new name meets the old one whatever the names are.
            keys.add(f"e:{item_id}")
            keys.update(f"e:{ref}" for ref in content.get("formerly_known_as", []))
        found = [(i["type"], i["value"]) for i in identifiers]
        if kind in ("report", "note"):
            text = f"{content.get('title', '')}\n{content.get('body', '')}\n{content.get('content', '')}"
            found.extend(ident.extract(text))
            keys.update(f"g:{gid}" for gid in self.gazetteer.mentioned(text))
        for t, v in found:
            c = ident.canonical(t, v)
            if c:
                keys.add(_key(f"i:{t}:{c}"))
        if kind == "observation":
            keys.update(cell_keys(content["lat"], content["lon"], content["observed_from"],
                                  content.get("observed_to")))
            if content.get("place_name"):
                place = self.gazetteer.resolve(content["place_name"])
                if place:
                    keys.add(f"g:{place.geonameid}")
        return keys

    def _index(self, conn: Connection, seq: int, kind: str, content: dict[str, Any],
               identifiers: Sequence[dict[str, str]], revoked: bool, item_id: str = "") -> None:
        conn.execute(delete(corr_keys).where(corr_keys.c.item_seq == seq))
        conn.execute(delete(corr_names).where(corr_names.c.item_seq == seq))
        if revoked:
            return
        keys = self.keys_of(kind, content, identifiers, item_id)
        if keys:
            conn.execute(insert(corr_keys), [{"key": k, "item_seq": seq} for k in sorted(keys)])
        names = self.names_of(kind, content)
        if names:
            forms = [analyse(n) for n in names]
            conn.execute(insert(corr_names), [{"item_seq": seq, "ord": i, "name": f.original, "latin": f.latin,
                                               "script": f.script, "form": dump_form(f)}
                                              for i, f in enumerate(forms)])

    def _index_many(self, conn: Connection, written: list[WrittenItem]) -> dict[int, list[NameForm]]:
        """``_index`` for a batch: one delete and one insert per table. Returns each item's analysed names, which
        the notices of the same write use rather than reading them back."""
        # Replace whatever is indexed for these items: a first version normally has nothing, but a rebuild may
        # have indexed an item still queued for the deriver.
        again = [w.seq for w in written]
        for table in (corr_keys.name, corr_names.name):
            delete_where_in(conn, table, "item_seq", again)
        key_rows: list[tuple[str, int]] = []
        name_rows: list[tuple[int, int, str, str, str, str]] = []
        analysed: dict[int, list[NameForm]] = {}
        for w in written:
            if w.revoked:
                continue
            content = w.draft.content
            key_rows.extend((k, w.seq) for k in sorted(self.keys_of(w.kind, content, w.draft.identifiers, w.id)))
            forms = analysed[w.seq] = [analyse(n) for n in self.names_of(w.kind, content)]
            name_rows.extend((w.seq, i, f.original, f.latin, f.script, dump_form(f)) for i, f in enumerate(forms))
        insert_rows(conn, corr_keys, ("key", "item_seq"), key_rows)
        insert_rows(conn, corr_names, ("item_seq", "ord", "name", "latin", "script", "form"), name_rows)
        return analysed

    def items_written(self, conn: Connection, principal: Principal | None, written: list[WrittenItem]) -> None:
        analysed = self._index_many(conn, written)
        for w in written:
            valid: set[tuple[int, int, str]] = set()
            if not w.revoked and w.draft.discoverable:
                valid = self._notify(conn, w.seq, w, analysed.get(w.seq))
            if w.version > 1:
                self._withdraw(conn, w.seq, valid)

    def _withdraw(self, conn: Connection, seq: int, valid: set[tuple[int, int, str]]) -> None:
        """Open notices about item ``seq`` (either way round) that its new version no longer supports: it was
        revoked, made not discoverable, released to the other member, or no longer relates to the other item.
        ``valid`` holds the (item, other item, kind) notices the new version still supports. Notices a member has
        acted on (released, dismissed) are kept as the record of that action; `notices` hides those whose other
        item is no longer discoverable."""
        pairs = {(r.item_seq, r.other_item_seq, r.kind)
                 for r in conn.execute(self._stmt("notices_of"), {"me": seq})}
        stale = [p for p in pairs | {(o, s, k) for s, o, k in pairs} if p not in valid]
        if stale:
            conn.execute(delete(corr_notices).where(
                corr_notices.c.state == "open", corr_notices.c.item_seq == bindparam("a"),
                corr_notices.c.other_item_seq == bindparam("b"), corr_notices.c.kind == bindparam("k")),
                [{"a": a, "b": b, "k": k} for a, b, k in stale])

    # ----- finding related items -------------------------------------------------------------------------
    # Round trips per call of `related`: the item's own keys (exclusions folded in), one statement for every
    # exact key with its noisy check, one for name candidates with their names, and for observations one for the
    # place-time neighbours. Each is driven by the key index, and each reads a bounded number of postings.
    # Statements without a reader's policy in them (notices, the deriver, rebuilds) are built once with bound
    # parameters and reused: building a statement and its cache key cost more than running it.
    @staticmethod
    def _not_excluded(key_col: Any) -> Any:
        return ~exists(select(corr_exclusions.c.id).where(corr_exclusions.c.key == key_col))

    def _excluded(self, conn: Connection, keys: Iterable[str]) -> set[str]:
        ks = sorted(set(keys))
        if not ks:
            return set()
        return set(conn.execute(select(corr_exclusions.c.key).where(corr_exclusions.c.key.in_(ks))).scalars())

    def _base(self, principal: Principal | None) -> _Cond:
        """Condition on the other item (``items``): not the item asked about (parameter ``me``), not revoked,
        and visible to the reader. Without a reader (notices, the deriver) it is one expression, built once."""
        if principal is None:
            return self._hub_wide
        return _Cond(and_(_NOT_ME_LIVE, visible(principal)), None)

    def _noisy(self, conn: Connection, keys: list[str], cond: _Cond, limit: int,
               params: dict[str, Any]) -> dict[str, list[int]]:
        """The items under each exact key that ``cond`` admits, at most ``limit + 1`` per key (one more than the
        noisy limit: a key with that many is noisy), so a hot key (a hotline number) costs ``limit + 1`` rows,
        never its whole list. One small statement per key: items carry few exact keys."""
        q = self._cached(("noisy", cond.tag, limit), lambda: (
            select(corr_keys.c.item_seq).join(items, items.c.seq == corr_keys.c.item_seq)
            .where(corr_keys.c.key == bindparam("key"), cond.expr).order_by(corr_keys.c.item_seq)
            .limit(limit + 1)), cond)
        return {k: list(conn.execute(q, {**params, "key": k}).scalars()) for k in keys}

    def _cached(self, key: tuple[Any, ...], build: Callable[[], Any], cond: _Cond | None = None) -> Any:
        """A statement built once and reused, unless it carries a reader's policy (``cond.tag`` None)."""
        if cond is not None and cond.tag is None:
            return build()
        stmt = self._stmts.get(key)
        if stmt is None:
            stmt = self._stmts[key] = build()
        return stmt

    def _stmt(self, name: str, n: int = 0) -> Any:
        return self._cached((name, n), lambda: self._build_stmt(name, n))

    def _build_stmt(self, name: str, n: int) -> Any:
        if name == "sizes":
            # Postings of each of n keys, counted up to cap + 1 (hub-wide, a cost guard: see
            # `_name_candidates`); excluded keys count none.
            # The exclusion is tested on the parameter, not on each posting: one lookup per key, not cap + 1.
            cap = self._cap()
            parts = [select(literal(i).label("i"), func.count().label("n")).select_from(
                select(corr_keys.c.item_seq).where(corr_keys.c.key == bindparam(f"k{i}"),
                                                   self._not_excluded(bindparam(f"k{i}")))
                .limit(cap + 1).subquery()) for i in range(n)]
            return parts[0] if n == 1 else union_all(*parts)
        if name == "own_keys":
            return select(corr_keys.c.key).where(corr_keys.c.item_seq == bindparam("me"),
                                                 self._not_excluded(corr_keys.c.key))
        if name == "own_names":
            return (select(corr_names.c.name, corr_names.c.latin, corr_names.c.script, corr_names.c.form)
                    .where(corr_names.c.item_seq == bindparam("me")).order_by(corr_names.c.ord))
        if name == "names_of":
            return (select(corr_names.c.item_seq, corr_names.c.name, corr_names.c.latin, corr_names.c.script,
                           corr_names.c.form)
                    .where(corr_names.c.item_seq.in_(bindparam("seqs", expanding=True)))
                    .order_by(corr_names.c.item_seq, corr_names.c.ord))
        if name == "position":
            return select(items.c.lat, items.c.lon, items.c.t_from, items.c.t_to).where(items.c.seq == bindparam("me"))
        if name == "notify_me":
            return select(items.c.originator_id, items.c.discoverable, items.c.release_scope).where(
                items.c.seq == bindparam("me"))
        if name == "released_to":
            return select(item_release.c.member_id).where(item_release.c.item_seq == bindparam("me"))
        if name == "holders":
            return select(items.c.seq, items.c.originator_id, items.c.discoverable, items.c.release_scope).where(
                items.c.seq.in_(bindparam("seqs", expanding=True)))
        if name == "released_among":
            return select(item_release.c.item_seq, item_release.c.member_id).where(
                item_release.c.item_seq.in_(bindparam("seqs", expanding=True)))
        if name == "notices_of":
            return select(corr_notices.c.item_seq, corr_notices.c.other_item_seq, corr_notices.c.kind).where(
                corr_notices.c.item_seq == bindparam("me"))
        if name == "told":
            return select(corr_notices.c.item_seq, corr_notices.c.other_item_seq, corr_notices.c.kind).where(
                corr_notices.c.item_seq.in_(bindparam("seqs", expanding=True)),
                corr_notices.c.other_item_seq.in_(bindparam("others", expanding=True)))
        raise KeyError(name)

    def _ranked(self, cond: _Cond, common: int = 0, cap: int = 0) -> Any:
        """The first ``k`` items by the number of the given keys they carry (most first, from the key index
        alone), each with whether ``cond`` admits it: one statement, the policy applied to those ``k`` only.
        With ``common``, the keys are ``k0``... and only the newest ``cap`` postings of each are read."""
        if common:
            # For a reader, the newest postings *it may see*: the newest WALK_DEPTH x cap postings of the key, each
            # posting's item checked against the policy until `cap` are found. Newest postings read hub-wide and
            # filtered after would let a few hidden namesakes crowd out the visible ones, so what a reader gets
            # would depend on what it may not see; the depth bounds the cost (a reader who sees few items would
            # otherwise walk a common key's whole list, a policy check per posting), and only more hidden postings
            # than that, newer than every visible one, can still crowd them out. For notices (one hub-wide
            # expression), the newest postings hub-wide.
            def newest(i: int) -> Any:
                q = select(corr_keys.c.item_seq).where(corr_keys.c.key == bindparam(f"k{i}"))
                if cond.tag is None:
                    w = q.order_by(corr_keys.c.item_seq.desc()).limit(WALK_DEPTH * cap).subquery()
                    return (select(w.c.item_seq).join(items, items.c.seq == w.c.item_seq).where(cond.expr)
                            .order_by(w.c.item_seq.desc()).limit(cap).subquery())
                return q.order_by(corr_keys.c.item_seq.desc()).limit(cap).subquery()

            parts = [newest(i) for i in range(common)]
            u = union_all(*[select(p.c.item_seq) for p in parts]).subquery()
            r = (select(u.c.item_seq, func.count().label("hits")).group_by(u.c.item_seq)
                 .order_by(func.count().desc(), u.c.item_seq).limit(bindparam("k")).subquery())
        else:
            r = (select(corr_keys.c.item_seq, func.count().label("hits"))
                 .where(corr_keys.c.key.in_(bindparam("keys", expanding=True)))
                 .group_by(corr_keys.c.item_seq).order_by(func.count().desc(), corr_keys.c.item_seq)
                 .limit(bindparam("k")).subquery())
        return (select(r.c.item_seq, r.c.hits, case((cond.expr, 1), else_=0).label("ok"))
                .select_from(r.join(items, items.c.seq == r.c.item_seq)).order_by(r.c.hits.desc(), r.c.item_seq))

    def _cap(self) -> int:
        return max(self.noisy_limit * 20, 500)

    def related(self, conn: Connection, seq: int, principal: Principal | None,
                noisy_out: list[str] | None = None, *, notices_for: int | None = None,
                reached: Iterable[int] = (), names: list[NameForm] | None = None) -> list[Related]:
        """Items related to item ``seq``. With a principal, only items that principal may see (the caller has
        already checked that ``seq`` itself is visible); without, every item (for notices). ``notices_for``
        (the item's originator) narrows the name candidates to other members' discoverable items, the only ones
        a notice can be about: name scoring is the costly step, and bulk imports are mostly one member's.
        ``reached`` (the members the item is released to) narrows them further: a member who may already see
        the item, or whose item is released to every member, is never told of it. ``names``: the item's analysed
        names when the caller has them (the write that just stored them), else they are read from the store."""
        params: dict[str, Any] = {"me": seq}
        own = set(conn.execute(self._stmt("own_keys"), params).scalars())
        cond = self._base(principal)
        out: dict[tuple[int, str], Related] = {}

        def put(r: Related) -> None:
            k = (r.seq, r.kind)
            if k not in out or out[k].score < r.score:
                out[k] = r

        exact = sorted(k for k in own if k[0] in "ige")
        for key, others in self._noisy(conn, exact, cond, self.noisy_limit, params).items():
            if len(others) > self.noisy_limit:
                if noisy_out is not None:
                    noisy_out.append(key)
                continue
            for other in others:
                if key[0] == "i":
                    _, typ, value = key.split(":", 2)
                    put(Related(other, "identifier", 1.0, [f"same {typ} {value}"]))
                elif key[0] == "e":
                    put(Related(other, "lineage", 1.0, ["formerly known as / later known as"]))
                else:
                    put(Related(other, "place-name", 0.9, ["names the same place"]))
        if any(k[0] == "n" for k in own):
            if names is None:
                names = [load_form(r.name, r.latin, r.script, r.form)
                         for r in conn.execute(self._stmt("own_names"), params)]
            name_cond, name_params = cond, params
            if notices_for is not None:
                name_cond = self._notices_cond(cond)
                name_params = {**params, "notme": [notices_for, *reached]}
            # For notices the ranking is one read of a bounded depth, not widened: without a bound, an import by
            # a single member whose names share common words walks every such item of its own for each item it
            # writes; and a notice needs a near-identical name, which shares the most keys and ranks first.
            bound = None if notices_for is None else 8 * self.shortlist
            # A notice needs `notice_threshold`: weaker name matches are neither kept nor given reasons.
            th = None if notices_for is None else self.notice_threshold
            for r in self._name_candidates(conn, names, name_cond, noisy_out, threshold=th, max_rank=bound,
                                           params=name_params):
                put(r)
        if any(k[0] == "c" for k in own):
            for r in self._near(conn, cond, params, noisy_out):
                put(r)
        return sorted(out.values(), key=lambda r: (-r.score, r.seq))

    def _notices_cond(self, cond: _Cond) -> _Cond:
        """``cond`` narrowed to the items a notice can be about: other members' (parameter ``notme``: the
        originator and the members the item reaches), discoverable, not released to every member."""
        def build() -> _Cond:
            return _Cond(and_(cond.expr, items.c.originator_id.not_in(bindparam("notme", expanding=True)),
                              items.c.discoverable.is_(True), items.c.release_scope != "all"),
                         None if cond.tag is None else cond.tag + ":notices")
        if cond.tag is None:
            return build()
        return self._cached(("notices_cond", cond.tag), build)  # type: ignore[no-any-return]

    def _name_candidates(self, conn: Connection, forms: list[NameForm], cond: _Cond,
                         noisy_out: list[str] | None = None, threshold: float | None = None,
                         limit: int | None = None, max_rank: int | None = None,
                         params: dict[str, Any] | None = None) -> list[Related]:
        keys = sorted({"n:" + k for f in forms for k in blocking_keys(f)})
        if not keys:
            return []
        # Keys shared by very many items (a common given name) are skipped for candidate retrieval as long as a
        # rarer key remains. This is a cost decision counted hub-wide from the key index alone (counting over
        # the reader's visible items would scan those long lists on every query): what it can reveal is that a
        # name part is common in the hub, never an item. Results are still only visible items.
        cap = self._cap()
        sizes = dict(conn.execute(self._stmt("sizes", _padded(len(keys))), _key_params(keys)).all())
        present = [k for i, k in enumerate(keys) if sizes.get(i, 0)]
        usable = [k for i, k in enumerate(keys) if 0 < sizes.get(i, 0) <= cap]
        if not usable and not present:
            return []
        key_params: dict[str, Any] = {"keys": usable}
        ranked_q = self._cached(("ranked", cond.tag), lambda: self._ranked(cond), cond)
        if not usable:
            # Every part of the name is common in the hub: the ranking reads the newest postings of each key
            # (four shortlists' worth), so that a name made only of common words costs a bounded read, not one
            # growing with the hub (for a reader: growing only with the hidden postings newer than those it may see).
            # Such a name meets its newest namesakes, for a reader the newest it may see.
            n, newest = _padded(len(present)), 4 * self.shortlist
            key_params = _key_params(present, n)
            ranked_q = self._cached(("ranked_common", cond.tag, n), lambda: self._ranked(cond, n, newest), cond)
        # Rank by shared keys from the key index alone, then keep the ones the reader may see. The ranking is
        # widened until it holds `shortlist` visible items or runs out, so the visible items kept are exactly the
        # best visible ones: hidden items change which rows are read, never what is returned.
        # Within a bound (notices), the first read is half of it: the ranking is a total order (shared keys, then
        # item), so once a prefix holds `shortlist` admitted items, a longer one gives the same shortlist; only a
        # prefix with fewer is read again, to the bound. Each item ranked is one lookup of its policy columns,
        # the costly half of the statement.
        k = 2 * self.shortlist + 1 if max_rank is None else self._first_read(max_rank)
        while True:
            ranked = conn.execute(ranked_q, {**(params or {}), **key_params, "k": k}).all()
            hits = {r.item_seq: r.hits for r in ranked if r.ok}
            if len(hits) >= self.shortlist or len(ranked) < k or (max_rank is not None and k >= max_rank):
                break
            k = k * 4 if max_rank is None else min(k * 4, max_rank)
        seqs = shortlist(hits, self.shortlist, least_hits(forms))
        if not seqs:
            return []
        by_item: dict[int, list[NameForm]] = {}
        for s, n, lat, script, stored in conn.execute(self._stmt("names_of"), {"seqs": seqs}):
            by_item.setdefault(s, []).append(load_form(n, lat, script, stored))
        out = []
        th = self.name_threshold if threshold is None else threshold
        primary: set[int] = set()
        found = [s for s in seqs if s in by_item]
        for s, (score, reasons, matched) in zip(found, best_scores(forms, [by_item[s] for s in found],
                                                                   threshold=th, stored=True), strict=True):
            if score >= th:
                out.append(Related(s, "name", score, [*reasons, f"matched name {matched!r}"] if matched else reasons))
                if matched and matched == by_item[s][0].original:
                    primary.add(s)
        if not limit:
            return out  # every caller without a limit orders the results itself, by score and item
        # On equal scores, more of an entity's names agreeing is stronger evidence (see `supports`), and then its
        # own name rather than one of its aliases.
        scored = [(r.score, by_item[r.seq]) for r in out]
        support = {r.seq: n for r, n in zip(out, supports(forms, scored, limit), strict=True)}
        out.sort(key=lambda r: (-r.score, -support[r.seq], r.seq not in primary, r.seq))
        return out[:limit]

    def _first_read(self, max_rank: int) -> int:
        """How many ranked items a bounded ranking (notices) reads first: half the bound."""
        return min(max_rank, max(2 * self.shortlist + 1, max_rank // 2))

    def _near(self, conn: Connection, cond: _Cond, params: dict[str, Any],
              noisy_out: list[str] | None = None) -> list[Related]:
        me = conn.execute(self._stmt("position"), params).first()
        if me is None or me.lat is None or me.t_from is None:
            return []
        keys = neighbour_keys(me.lat, me.lon, me.t_from, me.t_to, self.distance_m, self.window_s)
        q = self._cached(("near", cond.tag), lambda: select(
            items.c.seq, items.c.lat, items.c.lon, items.c.t_from, items.c.t_to).where(
            items.c.seq.in_(select(corr_keys.c.item_seq).where(corr_keys.c.key.in_(bindparam("keys", expanding=True)),
                                                               self._not_excluded(corr_keys.c.key))), cond.expr),
            cond)
        rows = conn.execute(q, {**params, "keys": keys}).all()
        out = []
        for r in rows:
            d = haversine_m(me.lat, me.lon, r.lat, r.lon)
            gap = time_gap_s(me.t_from, me.t_to, r.t_from, r.t_to)
            if d <= self.distance_m and gap <= self.window_s:
                score = round(1.0 - 0.5 * (d / self.distance_m) - 0.4 * (gap / self.window_s), 3)
                out.append(Related(r.seq, "place-time", max(score, 0.1),
                                   [f"{d:.0f} m apart", "overlapping in time" if gap == 0 else
                                    f"{gap / 3600:.1f} h apart"]))
        if len(out) > self.noisy_limit:
            # A crowded place and time (a city centre, a checkpoint): flagged, not linked one by one.
            if noisy_out is not None:
                noisy_out.append(f"c:{me.lat:.4f},{me.lon:.4f}")
            return []
        return out

    # ----- deconfliction notices -------------------------------------------------------------------------
    def _notify(self, conn: Connection, seq: int, written: WrittenItem | None = None,
                names: list[NameForm] | None = None) -> set[tuple[int, int, str]]:
        """Notices for item ``seq``; ``written`` and ``names``, when the caller has just stored the item, stand in
        for reading its handling and names back. Returns the (item, other item, kind) notices, both ways round,
        that the item supports now (stored before or just now)."""
        supported: set[tuple[int, int, str]] = set()
        if written is None:
            me = conn.execute(self._stmt("notify_me"), {"me": seq}).first()
            if me is None:
                return supported
            originator, discoverable, scope = me.originator_id, me.discoverable, me.release_scope
        else:
            originator, discoverable = written.originator_id, written.draft.discoverable
            scope = written.draft.release_scope
        if not discoverable or scope == "all":
            return supported  # an item released to every member can never be news to another member
        reached = [] if scope != "members" else list(
            conn.execute(self._stmt("released_to"), {"me": seq}).scalars())
        # Names need a high score to bother two members; the other kinds are matches by construction
        # (same identifier, same place, within the distance and time window).
        related = [r for r in self.related(conn, seq, None, notices_for=originator, reached=reached, names=names)
                   if r.kind != "name" or r.score >= self.notice_threshold]
        if not related:
            return supported
        others = {r.seq: r for r in related}
        rows = conn.execute(self._stmt("holders"), {"seqs": list(others)}).all()
        # Whether each member (as an organisation) is among those the other item is released to.
        released: dict[int, set[int]] = {}
        listed = [o.seq for o in rows if o.release_scope == "members"]
        if listed:
            for s, m in conn.execute(self._stmt("released_among"), {"seqs": listed}):
                released.setdefault(s, set()).add(m)
        told = {(r.item_seq, r.other_item_seq, r.kind) for r in conn.execute(
            self._stmt("told"), {"seqs": [seq, *others], "others": [seq, *others]})}
        now = clock.now()
        fresh = []
        for o in rows:
            if o.originator_id == originator or not o.discoverable:
                continue
            # Neither member may already reach the other's item.
            if o.originator_id in reached or o.release_scope == "all" or (
                    o.release_scope == "members" and originator in released.get(o.seq, ())):
                continue
            r = others[o.seq]
            for mine, theirs, member, other_member in ((seq, o.seq, originator, o.originator_id),
                                                       (o.seq, seq, o.originator_id, originator)):
                supported.add((mine, theirs, r.kind))
                if (mine, theirs, r.kind) not in told:
                    told.add((mine, theirs, r.kind))
                    fresh.append({"id": "ntc_" + secrets.token_urlsafe(18), "member_id": member, "item_seq": mine,
                                  "other_member_id": other_member, "other_item_seq": theirs, "kind": r.kind,
                                  "score": r.score, "created": now, "state": "open"})
        if fresh:
            conn.execute(insert(corr_notices), fresh)
        return supported

    def notices(self, principal: Principal, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Notices addressed to the caller's member about items the caller may see."""
        if principal.is_consumer:
            return []
        other = members.alias("other")
        q = (select(corr_notices.c.id, items.c.id.label("item"), other.c.code.label("member"), corr_notices.c.kind,
                    corr_notices.c.score, corr_notices.c.created, corr_notices.c.state)
             .join(items, items.c.seq == corr_notices.c.item_seq)
             .join(other, other.c.id == corr_notices.c.other_member_id)
             .where(corr_notices.c.member_id == principal.member_id, visible(principal), items.c.revoked.is_(False),
                    notice_other_held())
             .order_by(corr_notices.c.created.desc(), corr_notices.c.id).limit(limit))
        if state:
            if state not in NOTICE_STATES:
                raise ValidationFailed.one("state", "must be open, released or dismissed")
            q = q.where(corr_notices.c.state == state)
        with self.db.read() as conn:
            out = []
            for r in conn.execute(q):
                score = told_score(r.kind, r.score)
                out.append({"id": r.id, "item": r.item, "member": r.member, "kind": r.kind, "score": score,
                            "created": r.created, "state": r.state,
                            "message": f"your item {r.item} relates to information held by member {r.member} "
                                       f"({r.kind} match{'' if score is None else f' {score:.2f}'})"})
        return out

    @staticmethod
    def _own_notice(conn: Connection, principal: Principal, notice_id: str, action: str) -> Any:
        """A notice addressed to the caller's member about an item the caller may see (else the same 404 as a
        missing one), and that the caller may act on."""
        row = conn.execute(
            select(corr_notices.c.id, corr_notices.c.state, items.c.id.label("item"), members.c.code.label("member"))
            .join(items, items.c.seq == corr_notices.c.item_seq)
            .join(members, members.c.id == corr_notices.c.other_member_id)
            .where(corr_notices.c.id == notice_id, corr_notices.c.member_id == principal.member_id,
                   visible(principal), items.c.revoked.is_(False), notice_other_held())).first()
        if row is None or principal.is_consumer:
            raise NotFound()
        if not principal.can_write:
            raise PermissionDenied(f"only the originator's analysts {action}")
        return row

    def release_notice(self, principal: Principal, notice_id: str, request_id: str | None = None) -> dict[str, Any]:
        """One step: release the caller's item to the member named in the notice."""
        with self.db.write() as conn:  # one transaction: the notice is marked released if and only if the item is
            row = self._own_notice(conn, principal, notice_id, "release an item")
            # Marked first: the release is a new version of the item, and a new version withdraws the open
            # notices it no longer supports (this one, once the other member may see the item).
            conn.execute(corr_notices.update().where(corr_notices.c.id == notice_id).values(state="released"))
            self.items.release_in(conn, principal, row.item, [row.member], request_id=request_id)
            self.audit.append(conn, [AuditEvent("correlation.notice.release", principal.user_id,
                                                principal.member_code, row.item, request_id,
                                                {"notice": notice_id, "to": row.member, "via": principal.via})])
        item = self.items.get(principal, row.item, request_id)
        return {"notice": notice_id, "state": "released", "item": item}

    def dismiss_notice(self, principal: Principal, notice_id: str, request_id: str | None = None) -> dict[str, Any]:
        """Mark a notice as dealt with, without releasing anything (the member decided not to share, or already
        talked to the other member). A dismissed notice stays, so the same match is not raised again."""
        with self.db.write() as conn:
            row = self._own_notice(conn, principal, notice_id, "deal with a notice")
            if row.state == "open":
                conn.execute(corr_notices.update().where(corr_notices.c.id == notice_id).values(state="dismissed"))
                self.audit.append(conn, [AuditEvent("correlation.notice.dismiss", principal.user_id,
                                                    principal.member_code, row.item, request_id,
                                                    {"notice": notice_id, "via": principal.via})])
        return {"notice": notice_id, "state": "dismissed" if row.state == "open" else row.state, "item": row.item}

    # ----- reads for readers -----------------------------------------------------------------------------
    def for_item(self, principal: Principal, item_id: str, request_id: str | None = None) -> dict[str, Any]:
        if parse_id(item_id) is None:
            raise NotFound()
        noisy: list[str] = []
        with self.db.read() as conn:
            me = conn.execute(select(items.c.seq).where(items.c.id == item_id, visible(principal))).first()
            if me is None:
                raise NotFound()
            rel = self.related(conn, me.seq, principal, noisy)
            meta = {}
            if rel:
                meta = {r.seq: r for r in conn.execute(
                    select(items.c.seq, items.c.id, items.c.kind, items.c.title, members.c.code)
                    .join(members, members.c.id == items.c.originator_id)
                    .where(items.c.seq.in_([x.seq for x in rel]), visible(principal)))}
        out = [{"id": meta[r.seq].id, "kind": meta[r.seq].kind, "title": meta[r.seq].title,
                "originator": meta[r.seq].code, "match": r.kind, "score": r.score, "reasons": r.reasons}
               for r in rel if r.seq in meta]
        noisy_out = [_describe(k) for k in noisy]
        self._audit(principal, "correlation.read", item_id, request_id, [o["id"] for o in out])
        return {"item": item_id, "correlations": out, "noisy": noisy_out}

    def match(self, principal: Principal, name: str, limit: int = 10,
              request_id: str | None = None) -> list[dict[str, Any]]:
        """Visible entities whose name or an alias matches ``name`` in any script, best first."""
        if not name or not name.strip() or len(name) > self.settings.max_name:
            raise ValidationFailed.one("name", f"must be 1-{self.settings.max_name} characters")
        if not 1 <= limit <= 100:
            raise ValidationFailed.one("limit", "must be between 1 and 100")
        with self.db.read() as conn:
            # Only entities carry names, so the kind is checked on the few results, not in the candidate filter:
            # an equality on kind there lets SQLite drive the query by its (kind, ...) index, a scan of every
            # entity, instead of by the primary keys of the candidates.
            cond = _Cond(and_(items.c.revoked.is_(False), visible(principal)), None)
            rel = self._name_candidates(conn, query_forms(name), cond, threshold=0.6, limit=limit)
            meta = {r.seq: r for r in conn.execute(
                select(items.c.seq, items.c.id, items.c.kind, items.c.title, members.c.code)
                .join(members, members.c.id == items.c.originator_id)
                .where(items.c.seq.in_([x.seq for x in rel]), visible(principal))) if r.kind == "entity"
            } if rel else {}
        out = [{"id": meta[r.seq].id, "name": meta[r.seq].title, "originator": meta[r.seq].code,
                "score": r.score, "reasons": r.reasons} for r in rel if r.seq in meta]
        self._audit(principal, "entity.match", None, request_id, [o["id"] for o in out])
        return out

    def _audit(self, principal: Principal, action: str, item_id: str | None, request_id: str | None,
               ids: list[str]) -> None:
        if self.settings.audit_reads:
            d: dict[str, Any] = {"ids": ids, "via": principal.via}
            if principal.token_id is not None:
                d["token"] = principal.token_id
            self.audit.record(AuditEvent(action, principal.user_id, principal.member_code, item_id, request_id, d))

    # ----- exclusions ------------------------------------------------------------------------------------
    @staticmethod
    def _admin(principal: Principal) -> None:
        if principal.role not in ADMIN_ROLES:
            raise PermissionDenied("only member administrators keep the exclusion list")

    def exclusion_keys(self, typ: str, value: str) -> list[str]:
        if typ not in EXCLUDABLE:
            raise ValidationFailed.one("type", f"must be one of {', '.join(EXCLUDABLE)}")
        if not isinstance(value, str) or not value.strip() or len(value) > self.settings.max_name:
            raise ValidationFailed.one("value", "must be a non-empty string")
        if typ == "name":
            f = analyse(value)
            return [f"n:j:{f.joined}"] if f.joined else []
        if typ == "place":
            place = self.gazetteer.resolve(value)
            return [f"g:{place.geonameid}"] if place else []
        c = ident.canonical(typ, value)
        return [_key(f"i:{typ}:{c}")] if c else []

    def exclusions(self, principal: Principal) -> list[dict[str, Any]]:
        self._admin(principal)
        with self.db.read() as conn:
            return [{"id": r.id, "type": r.type, "value": r.value, "key": r.key, "added_by": r.code,
                     "created": r.created}
                    for r in conn.execute(select(corr_exclusions, members.c.code)
                                          .join(members, members.c.id == corr_exclusions.c.member_id)
                                          .order_by(corr_exclusions.c.id))]

    def add_exclusion(self, principal: Principal, typ: str, value: str,
                      request_id: str | None = None) -> dict[str, Any]:
        self._admin(principal)
        keys = self.exclusion_keys(typ, value)
        if not keys:
            raise ValidationFailed.one("value", f"is not a {typ} that could correlate")
        with self.db.write() as conn:
            if conn.execute(select(corr_exclusions.c.id).where(corr_exclusions.c.key == keys[0])).first() is None:
                conn.execute(insert(corr_exclusions).values(key=keys[0], type=typ, value=value.strip(),
                                                            member_id=principal.member_id, created=clock.now()))
            self.audit.append(conn, [AuditEvent("correlation.exclusion.add", principal.user_id,
                                                principal.member_code, None, request_id,
                                                {"type": typ, "key": keys[0]})])
            row = conn.execute(select(corr_exclusions).where(corr_exclusions.c.key == keys[0])).one()
        return {"id": row.id, "type": row.type, "value": row.value, "key": row.key}

    def remove_exclusion(self, principal: Principal, exclusion_id: int, request_id: str | None = None) -> None:
        self._admin(principal)
        with self.db.write() as conn:
            n = conn.execute(delete(corr_exclusions).where(corr_exclusions.c.id == exclusion_id)).rowcount
            if not n:
                raise NotFound()
            self.audit.append(conn, [AuditEvent("correlation.exclusion.remove", principal.user_id,
                                                principal.member_code, None, request_id, {"id": exclusion_id})])

    # ----- rebuild ---------------------------------------------------------------------------------------
    def rebuild(self, batch: int = 2000, notices: bool = True) -> dict[str, int]:
        """Recompute every key (and, unless told not to, every open notice) from the stored items."""
        counts = {"items": 0, "keys": 0, "notices": 0}
        self.items.deriver.drain()  # queued items first, so nothing derives them again after the rebuild
        with self.db.write() as conn:
            conn.execute(delete(corr_keys))
            conn.execute(delete(corr_names))
            conn.execute(delete(corr_notices).where(corr_notices.c.state == "open"))
        last = 0
        while True:
            with self.db.write() as conn:
                rows = conn.execute(select(items.c.seq, items.c.id, items.c.kind, items.c.revoked, items.c.body)
                                    .where(items.c.seq > last).order_by(items.c.seq).limit(batch)).all()
                if not rows:
                    break
                for r in rows:
                    body = orjson.loads(r.body)
                    self._index(conn, r.seq, r.kind, body.get("content", {}), body.get("identifiers", []),
                                bool(r.revoked), r.id)
                counts["items"] += len(rows)
                last = rows[-1].seq
        if notices:
            last = 0
            while True:
                with self.db.write() as conn:
                    seqs = conn.execute(select(items.c.seq).where(items.c.seq > last, items.c.revoked.is_(False),
                                                                  items.c.discoverable.is_(True))
                                        .order_by(items.c.seq).limit(batch)).scalars().all()
                    if not seqs:
                        break
                    for s in seqs:
                        self._notify(conn, s)
                    last = seqs[-1]
        with self.db.read() as conn:
            counts["keys"] = int(conn.execute(select(func.count()).select_from(corr_keys)).scalar_one())
            counts["notices"] = int(conn.execute(select(func.count()).select_from(corr_notices)).scalar_one())
        return counts

    def storage(self) -> dict[str, int]:
        with self.db.read() as conn:
            return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                    for t in (corr_keys, corr_names, corr_notices)}

