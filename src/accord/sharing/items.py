"""Items: share, read, list, search, edit (new version), revoke, release further, history, statistics, export.

Every read builds on ``policy.visible``; a denied item raises exactly the ``NotFound`` a missing one does. Every
write is one transaction: the item, its release rows, tags, full-text entry, version snapshot and audit records
commit together or not at all.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple, Protocol

import orjson
from sqlalchemy import Connection, Integer, Row, and_, func, literal, select, text, update

from accord import clock
from accord.audit.chain import AuditEvent, AuditLog
from accord.config import Settings
from accord.errors import Conflict, FieldError, LimitExceeded, NotFound, PermissionDenied, ValidationFailed
from accord.sharing import sealed
from accord.sharing.derived import Deriver
from accord.sharing.handling import ITEM_KINDS, Principal
from accord.sharing.policy import can_edit, visible, visible_version
from accord.sharing.validate import Draft, check_item, check_items, check_patch, parse_id
from accord.storage.bulk import existing_values, insert_rows
from accord.storage.database import Database
from accord.storage.schema import (
    item_release,
    item_spans,
    item_tags,
    item_version_release,
    item_versions,
    items,
    members,
)

__all__ = ["BulkResult", "ItemFilter", "ItemHook", "Items", "Page", "Prepared", "PreparedBatch", "WrittenItem",
           "fts_row", "prepare_items", "span_seconds", "stored_draft"]


@dataclass(frozen=True)
class WrittenItem:
    """What a hook learns about each stored item version."""

    seq: int
    id: str
    kind: str
    originator_id: int
    version: int
    revoked: bool
    draft: Draft


class ItemHook(Protocol):
    """Called inside the writing transaction after items are stored or changed (correlation indexing, alerts).
    A hook that raises rolls the whole write back, so hooks must only fail on real faults.

    A hook may also declare ``hook_name`` (str) and ``deferrable = True``: for writes larger than
    ``derive_inline_max`` it then runs just after the commit instead (``accord.sharing.derived``), called with
    ``principal=None`` and drafts rebuilt from the store. ``defer_ok()``, when present, may refuse deferral for
    the current write (the STIX store does while it holds an import's verbatim objects)."""

    def items_written(self, conn: Connection, principal: Principal | None, written: list[WrittenItem]) -> None: ...


@dataclass
class ItemFilter:
    kind: str | None = None
    originator: str | None = None
    since: str | None = None  # modified at or after
    until: str | None = None  # modified before
    observed_after: str | None = None
    observed_before: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    tag: str | None = None
    q: str | None = None
    include_revoked: bool = False
    cursor: str | None = None
    limit: int = 50


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass
class BulkResult:
    index: int
    id: str | None
    ok: bool
    errors: list[FieldError] = field(default_factory=list)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one bulk write. A batch allocates hundreds of thousands of small
    acyclic objects (drafts, rows, events), which would trigger repeated full collections scanning the caller's
    whole parsed input: a third of the ingest time. The batch is bounded by ``max_batch`` and creates no cycles,
    so nothing accumulates while paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The item columns prepare_items fills; the writer adds seq, originator, author and the times it stamps.
_ROW_COLUMNS = ("id", "kind", "version", "language", "reliability", "credibility", "tlp", "classification",
                "release_scope", "release_consumers", "revoked", "discoverable", "title", "lat", "lon", "t_from",
                "t_to", "body")


class Prepared(NamedTuple):
    """One validated object, with its rows built as far as they can be before the write transaction."""

    pos: int  # index in the request
    id: str
    kind: str
    refs: dict[str, str] | None
    release: builtins.list[str]
    classification: int
    created: str | None
    modified: str | None
    row: tuple[Any, ...]  # _ROW_COLUMNS
    tags: builtins.list[str]
    title: str
    text: str  # full text besides the title
    draft: Draft | None  # None when prepared in an import worker (not sent back between processes)


@dataclass
class PreparedBatch:
    entries: builtins.list[Prepared]
    errors: dict[int, builtins.list[FieldError]]  # objects rejected by validation, by index
    ids: dict[int, str | None]  # the ids those rejected objects carried, when they carried one


def _body_json(d: Draft) -> str:
    """The stored ``body`` column of an item version."""
    body: dict[str, Any] = {"tags": d.tags, "content": d.content, "identifiers": d.identifiers}
    if d.extensions:
        body["extensions"] = d.extensions
    return orjson.dumps(body).decode()


def _positions(d: Draft) -> tuple[float | None, float | None, str | None, str | None]:
    """lat, lon, t_from, t_to columns: set for observations only."""
    if d.kind == "observation":
        c = d.content
        return c["lat"], c["lon"], c["observed_from"], c.get("observed_to")
    return None, None, None, None


def span_seconds(times: Iterable[tuple[str | None, str | None]]) -> int:
    """The longest of the (t_from, t_to) intervals, in whole seconds rounded up; 0 for points and no intervals."""
    longest = 0.0
    for start, end in times:
        if start is not None and end is not None and end > start:  # stored times sort lexically
            longest = max(longest, (clock.parse_ts(end) - clock.parse_ts(start)).total_seconds())
    return math.ceil(longest)


_T_FROM, _T_TO = _ROW_COLUMNS.index("t_from"), _ROW_COLUMNS.index("t_to")
_LAST_TS = "9999-12-31T23:59:59.999Z"  # no stored time sorts after it


class _Window(NamedTuple):
    """How a list reads an observation window: ``low``, a bound on t_from no matching item is below (None when
    there is no lower end); ``indexed``, whether the t_from index drives the read (see ``Items._window``)."""

    low: str | None
    indexed: bool


def prepare_items(objects: Sequence[Any], settings: Settings, *, allow_times: bool = False,
                  keep_drafts: bool = True) -> PreparedBatch:
    """Validate objects and build their rows: the half of a bulk write that needs no database, so an import can
    run it in a worker process while the writer stores the previous batch (``accord.sharing.ingest``)."""
    errors: dict[int, builtins.list[FieldError]] = {}
    ids: dict[int, str | None] = {}
    entries: builtins.list[Prepared] = []
    seen: set[str] = set()
    for i, (raw, d) in enumerate(zip(objects, check_items(objects, settings, allow_times=allow_times), strict=True)):
        if isinstance(d, ValidationFailed):
            errors[i] = d.errors
            ids[i] = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            continue
        if d.id in seen:
            errors[i] = [FieldError("id", "appears twice in this request")]
            ids[i] = d.id
            continue
        seen.add(d.id)
        title = d.title
        row = (d.id, d.kind, 1, d.language, d.reliability, d.credibility, d.tlp, d.classification, d.release_scope,
               d.release_consumers, False, d.discoverable, title, *_positions(d), _body_json(d))
        entries.append(Prepared(i, d.id, d.kind, d.refs or None, d.release_members, d.classification, d.created,
                                d.modified, row, d.tags, title, d.text, d if keep_drafts else None))
    return PreparedBatch(entries, errors, ids)


def stored_draft(item_id: str, kind: str, body: str | bytes, **handling: Any) -> Draft:
    """A ``Draft`` of a stored item from its body (handling fields as given, neutral defaults otherwise)."""
    b = orjson.loads(body)
    fields: dict[str, Any] = {"language": None, "tlp": "clear", "classification": 0, "release_scope": "all",
                              "release_members": [], "release_consumers": False, "reliability": None,
                              "credibility": None, "discoverable": True, **handling}
    return Draft(id=item_id, kind=kind, tags=b.get("tags", []), content=b.get("content", {}),
                 identifiers=b.get("identifiers", []), extensions=b.get("extensions", {}), **fields)


def fts_row(seq: int, item_id: str, kind: str, body: str | bytes) -> tuple[int, str, str]:
    """(seq, title, text) of a stored item exactly as the full-text index was given them."""
    d = stored_draft(item_id, kind, body)
    return seq, d.title, d.text


_CURSOR = "item-cursor"  # the purpose label of list cursors (items.seq); see accord.sharing.sealed


def encode_cursor(secret: str, seq: int) -> str:
    """An opaque cursor for "items before ``seq``": sealed, so it shows no position (see accord.sharing.sealed)."""
    return sealed.seal_number(secret, _CURSOR, seq)


def decode_cursor(secret: str, value: str) -> int:
    try:
        return sealed.open_number(secret, _CURSOR, value)
    except sealed.BadToken:
        raise ValidationFailed.one("cursor", "is not a cursor this server issued") from None


_COLUMNS = (items.c.seq, items.c.id, items.c.kind, items.c.originator_id, items.c.created, items.c.modified,
            items.c.version, items.c.language, items.c.reliability, items.c.credibility, items.c.tlp,
            items.c.classification, items.c.release_scope, items.c.release_consumers, items.c.revoked,
            items.c.discoverable, items.c.body, members.c.code.label("originator"))


def _select() -> Any:
    return select(*_COLUMNS).join(members, members.c.id == items.c.originator_id)


def _normalise_times(f: ItemFilter) -> None:
    """The filter's times in the stored form (they compare as text), each checked; names the bad field."""
    for name in ("since", "until", "observed_after", "observed_before"):
        value = getattr(f, name)
        if value is not None:
            try:
                setattr(f, name, clock.format_ts(clock.parse_ts(value)))
            except (ValueError, TypeError, OverflowError):
                raise ValidationFailed.one(name, "must be an RFC 3339 timestamp") from None


def _earlier(ts: str, seconds: int) -> str | None:
    """``ts`` less ``seconds``, as stored; None (no bound) when that is before the first representable time."""
    try:
        return clock.format_ts(clock.parse_ts(ts) - timedelta(seconds=seconds))
    except OverflowError:
        return None


def _valid_box(bbox: tuple[float, float, float, float]) -> bool:
    min_lon, min_lat, max_lon, max_lat = bbox
    return -180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90


def _in_box(lat: Any, lon: Any, bbox: tuple[float, float, float, float]) -> Any:
    min_lon, min_lat, max_lon, max_lat = bbox
    lon_ok = (lon.between(min_lon, max_lon) if min_lon <= max_lon
              else (lon >= min_lon) | (lon <= max_lon))  # crosses the antimeridian
    return and_(lat.between(min_lat, max_lat), lon_ok)


class Items:
    def __init__(self, db: Database, audit: AuditLog, settings: Settings) -> None:
        self.db = db
        self.audit = audit
        self.settings = settings
        self.hooks: builtins.list[ItemHook] = []
        self.deriver = Deriver(self)

    def _split_hooks(self, n: int) -> tuple[builtins.list[ItemHook], builtins.list[str]]:
        """The hooks to run in a write of ``n`` items now, and the names of those deferred until after it."""
        if n <= self.settings.derive_inline_max:
            return self.hooks, []
        inline, later = [], []
        for hook in self.hooks:
            name = getattr(hook, "hook_name", None)
            if name and getattr(hook, "deferrable", False) and getattr(hook, "defer_ok", lambda: True)():
                later.append(name)
            else:
                inline.append(hook)
        return inline, later

    def _run_hooks(self, conn: Connection, principal: Principal, written: builtins.list[WrittenItem]) -> None:
        inline, later = self._split_hooks(len(written))
        for hook in inline:
            hook.items_written(conn, principal, written)
        if later:
            self.deriver.enqueue(conn, [w.seq for w in written], later)

    def written_from_store(self, conn: Connection, seqs: Sequence[int]) -> builtins.list[WrittenItem]:
        """The ``WrittenItem``s of stored items as they are now (for hooks run after the write)."""
        rows: builtins.list[Row[Any]] = []
        for start in range(0, len(seqs), 500):
            rows.extend(conn.execute(_select().where(items.c.seq.in_(list(seqs[start:start + 500])))).all())
        codes = self._release_codes(conn, [r.seq for r in rows if r.release_scope == "members"])
        out = []
        for r in sorted(rows, key=lambda r: r.seq):
            d = stored_draft(r.id, r.kind, r.body, language=r.language, tlp=r.tlp, classification=r.classification,
                             release_scope=r.release_scope, release_members=codes.get(r.seq, []),
                             release_consumers=bool(r.release_consumers), reliability=r.reliability,
                             credibility=r.credibility, discoverable=bool(r.discoverable), created=r.created,
                             modified=r.modified)
            out.append(WrittenItem(r.seq, r.id, r.kind, r.originator_id, r.version, bool(r.revoked), d))
        return out

    # ----- representation --------------------------------------------------------------------------------
    @staticmethod
    def _to_api(row: Row[Any], release: builtins.list[str]) -> dict[str, Any]:
        body = orjson.loads(row.body)
        out: dict[str, Any] = {
            "id": row.id, "kind": row.kind, "originator": row.originator, "created": row.created,
            "modified": row.modified, "version": row.version, "language": row.language,
            "handling": {"tlp": row.tlp, "classification": row.classification,
                         "release": {"scope": row.release_scope, "members": release,
                                     "consumers": bool(row.release_consumers)}},
            "grading": {"reliability": row.reliability, "credibility": row.credibility},
            "tags": body.get("tags", []), "revoked": bool(row.revoked), "discoverable": bool(row.discoverable),
            "content": body.get("content", {}), "identifiers": body.get("identifiers", []),
        }
        if body.get("extensions"):
            out["extensions"] = body["extensions"]
        return out

    def _release_codes(self, conn: Connection, seqs: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for start in range(0, len(seqs), 500):
            chunk = list(seqs[start:start + 500])
            rows = conn.execute(select(item_release.c.item_seq, members.c.code)
                                .join(members, members.c.id == item_release.c.member_id)
                                .where(item_release.c.item_seq.in_(chunk)).order_by(members.c.code))
            for seq, code in rows:
                out.setdefault(seq, []).append(code)
        return out

    def _render(self, conn: Connection, rows: Sequence[Row[Any]]) -> builtins.list[dict[str, Any]]:
        need = [r.seq for r in rows if r.release_scope == "members"]
        codes = self._release_codes(conn, need) if need else {}
        return [self._to_api(r, codes.get(r.seq, [])) for r in rows]

    def _visible_row(self, conn: Connection, principal: Principal, item_id: str, *, lock: bool = False) -> Row[Any]:
        if parse_id(item_id) is None:
            raise NotFound()
        q = _select().where(items.c.id == item_id, visible(principal))
        if lock:  # PostgreSQL: concurrent editors queue on the item's row and each sees the version before it
            q = q.with_for_update(of=items)
        row = conn.execute(q).first()
        if row is None:
            raise NotFound()
        return row

    def _read_event(self, principal: Principal, action: str, item_id: str | None, request_id: str | None,
                    detail: dict[str, Any] | None = None) -> AuditEvent:
        d = dict(detail or {})
        if principal.token_id is not None:
            d["token"] = principal.token_id
        d["via"] = principal.via
        return AuditEvent(action, principal.user_id, principal.member_code, item_id, request_id, d)

    def _audit_read(self, principal: Principal, action: str, item_id: str | None, request_id: str | None,
                    detail: dict[str, Any] | None = None) -> None:
        if self.settings.audit_reads:
            self.audit.record(self._read_event(principal, action, item_id, request_id, detail))

    # ----- reads -----------------------------------------------------------------------------------------
    def get(self, principal: Principal, item_id: str, request_id: str | None = None) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self._visible_row(conn, principal, item_id)
            out = self._render(conn, [row])[0]
        self._audit_read(principal, "item.read", item_id, request_id)
        return out

    def _filtered(self, principal: Principal, f: ItemFilter, *, dense_bbox: bool = False,
                  window: _Window | None = None) -> Any:
        """The visible items matching ``f`` (unordered). ``dense_bbox``: the bounding box holds many positions
        (see ``list``), so its test is kept out of the position index on SQLite. ``window``: how an observation
        window is read (``_window``); without it, its tests are the plain ones, with no added bound."""
        q = _select().where(visible(principal))
        # A tag or text filter names a set of items, read through its own index (item_tags, full text) and walked
        # in seq order, each item then tested for the rest; at most the whole set is read, and a page stops early.
        # SQLite keeps no statistics: given an equality on kind or originator beside such a set, its planner reads
        # every member of the set through the kind or originator index instead and sorts all the matches (30-90
        # ms at 100,000 items for a common tag or word, growing with the store, against 1.5-4 ms walking the set).
        # ``|| ''`` keeps those equalities out of index use (SQLite's documented way) with the same value.
        # PostgreSQL plans from statistics and gets the plain comparison.
        by_set = bool(f.tag or f.q) and self.db.dialect == "sqlite"
        if f.kind:
            if f.kind not in ITEM_KINDS:
                raise ValidationFailed.one("kind", f"must be one of {', '.join(ITEM_KINDS)}")
            q = q.where((items.c.kind.concat("") if by_set else items.c.kind) == f.kind)
        if f.originator:
            q = q.where((members.c.code.concat("") if by_set else members.c.code) == f.originator.upper())
        _normalise_times(f)
        if f.since:
            q = q.where(items.c.modified >= f.since)
        if f.until:
            q = q.where(items.c.modified < f.until)
        t_from = items.c.t_from if window is None or window.indexed else items.c.t_from.concat("")
        if f.observed_after:
            q = q.where(func.coalesce(items.c.t_to, items.c.t_from) >= f.observed_after)
        if f.observed_before:
            q = q.where(t_from < f.observed_before)
        if window is not None and window.indexed and self.db.dialect == "sqlite":
            # Without statistics SQLite takes an index for a range bounded at both ends only (one bound, it walks
            # the table in seq order): the missing end is the first or last of every stored time.
            q = q.where(t_from >= (window.low or ""))
            if not f.observed_before:
                q = q.where(t_from <= _LAST_TS)
        elif window is not None and window.low is not None:
            q = q.where(t_from >= window.low)
        if f.bbox:
            if not _valid_box(f.bbox):
                raise ValidationFailed.one("bbox", "must be min_lon,min_lat,max_lon,max_lat in WGS84 degrees")
            q = q.where(_in_box(*((items.c.lat + 0, items.c.lon + 0) if dense_bbox else (items.c.lat, items.c.lon)),
                                f.bbox))
        if f.tag:
            q = q.where(items.c.seq.in_(select(item_tags.c.item_seq).where(item_tags.c.tag == f.tag)))
        if f.q:
            q = q.where(items.c.seq.in_(self.db.full_text.matching(f.q)))
        if not f.include_revoked:
            q = q.where(items.c.revoked.is_(False))
        return q

    def list(self, principal: Principal, f: ItemFilter, request_id: str | None = None) -> Page:
        if not 1 <= f.limit <= self.settings.page_size_max:
            raise ValidationFailed.one("limit", f"must be between 1 and {self.settings.page_size_max}")
        with self.db.read() as conn:
            q = self._filtered(principal, f, dense_bbox=self._dense_bbox(conn, f), window=self._window(conn, f))
            if f.cursor:
                q = q.where(items.c.seq < decode_cursor(self.settings.secret_key, f.cursor))
            q = q.order_by(items.c.seq.desc()).limit(f.limit + 1)
            rows = conn.execute(q).all()
            more = len(rows) > f.limit
            rows = rows[: f.limit]
            out = self._render(conn, rows)
        if out:
            self._audit_read(principal, "item.list", None, request_id, {"ids": [i["id"] for i in out]})
        return Page(out, encode_cursor(self.settings.secret_key, rows[-1].seq) if more and rows else None)

    def _dense_bbox(self, conn: Connection, f: ItemFilter) -> bool:
        """Whether a page of ``f`` is cheaper found by walking items newest first and testing each position than
        through the position index. SQLite keeps no statistics and always takes the index: every position in the
        box is read and sorted to give one page (90 ms for a box round the world at 100,000 items, growing with
        the store). A walk reads about ``page * stored / in_box`` rows, the index ``in_box`` entries; the walk
        wins once ``in_box`` passes ``sqrt(page * stored)``, which a probe of at most that many index entries
        tells (about 3,000 at 100,000 items, 10,000 at 1,000,000; a millisecond or two)."""
        if not f.bbox or f.tag or f.q or self.db.dialect != "sqlite":
            return False  # a tag or text set drives the plan itself; PostgreSQL plans from statistics
        if not _valid_box(f.bbox):
            return False  # _filtered names the field
        stored = conn.execute(select(func.coalesce(func.max(items.c.seq), 0))).scalar_one()
        enough = int((f.limit * stored) ** 0.5) + 1
        probe = select(items.c.seq).where(_in_box(items.c.lat, items.c.lon, f.bbox)).limit(enough).subquery()
        return int(conn.execute(select(func.count()).select_from(probe)).scalar_one()) >= enough

    def _window(self, conn: Connection, f: ItemFilter) -> _Window | None:
        """How to read an observation window. Its lower end tests the end of each interval, which no index holds;
        the longest stored interval (``item_spans``) turns it into a bound on t_from, which the t_from index
        serves. On SQLite, which keeps no statistics and would always take that index, a probe of at most
        ``sqrt(page * stored)`` entries decides, as for a bounding box (``_dense_bbox``): a window holding more
        is cheaper found walking items newest first (its tests then kept out of the index), one holding fewer
        through the index. A tag or text set drives the plan itself. PostgreSQL plans from statistics."""
        if not (f.observed_after or f.observed_before):
            return None
        _normalise_times(f)
        low = None
        if f.observed_after:
            span = conn.execute(select(item_spans.c.max_span_s)).scalar()
            if span is not None:  # the row is written by the migration; without it, no bound is known
                low = _earlier(f.observed_after, int(span))
        if self.db.dialect != "sqlite":
            return _Window(low, True)
        if f.tag or f.q or (low is None and not f.observed_before):
            return _Window(low, False)
        stored = conn.execute(select(func.coalesce(func.max(items.c.seq), 0))).scalar_one()
        enough = int((f.limit * stored) ** 0.5) + 1
        probe = select(items.c.seq).where(items.c.t_from >= (low or ""),  # both ends: see _filtered
                                          items.c.t_from < f.observed_before if f.observed_before
                                          else items.c.t_from <= _LAST_TS)
        found = conn.execute(select(func.count()).select_from(probe.limit(enough).subquery())).scalar_one()
        return _Window(low, int(found) < enough)

    def count(self, principal: Principal, f: ItemFilter) -> int:
        with self.db.read() as conn:
            q = self._filtered(principal, f, window=self._window(conn, f)).with_only_columns(func.count())
            return int(conn.execute(q.order_by(None)).scalar_one())

    def history(self, principal: Principal, item_id: str,
                request_id: str | None = None) -> builtins.list[dict[str, Any]]:
        """The versions ``principal`` may see, oldest first: none unless the item is visible now (the same
        ``NotFound`` as a missing one), then the current one and each earlier one whose own handling admitted them
        too (``policy.visible_version``). Versions keep their numbers, so a hidden one leaves a gap."""
        with self.db.read() as conn:
            row = self._visible_row(conn, principal, item_id)
            current = self._render(conn, [row])[0]
            older = conn.execute(
                select(item_versions.c.snapshot).select_from(
                    item_versions.join(items, items.c.seq == item_versions.c.item_seq))
                .where(item_versions.c.item_seq == row.seq,
                       visible_version(principal, item_versions, item_version_release, items.c.originator_id))
                .order_by(item_versions.c.version)).scalars().all()
        self._audit_read(principal, "item.history", item_id, request_id)
        return [orjson.loads(s) for s in older] + [current]

    def stats(self, principal: Principal, since: str | None = None, until: str | None = None,
              by: Sequence[str] = ("kind", "originator")) -> builtins.list[dict[str, Any]]:
        """Counts of visible, unrevoked items created in the period, grouped by kind and/or originator."""
        cols = {"kind": items.c.kind, "originator": members.c.code.label("originator")}
        for b in by:
            if b not in cols:
                raise ValidationFailed.one("by", "must be kind and/or originator")
        group = [cols[b] for b in by]
        q = (select(*group, func.count().label("count")).select_from(items)
             .join(members, members.c.id == items.c.originator_id)
             .where(visible(principal), items.c.revoked.is_(False)))
        try:
            if since:
                q = q.where(items.c.created >= clock.format_ts(clock.parse_ts(since)))
            if until:
                q = q.where(items.c.created < clock.format_ts(clock.parse_ts(until)))
        except (ValueError, TypeError):
            raise ValidationFailed.one("since" if since else "until", "must be an RFC 3339 timestamp") from None
        if group:
            q = q.group_by(*group).order_by(*group)
        with self.db.read() as conn:
            return [{str(k): v for k, v in r._asdict().items()} for r in conn.execute(q)]

    def export(self, principal: Principal, f: ItemFilter | None = None, request_id: str | None = None,
               batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Stream every visible item matching the filter, oldest first; each batch is audited with its ids."""
        f = f or ItemFilter(include_revoked=True)
        last = 0
        while True:
            q = self._filtered(principal, f).where(items.c.seq > last).order_by(items.c.seq).limit(batch)
            with self.db.read() as conn:
                rows = conn.execute(q).all()
                out = self._render(conn, rows)
            if not rows:
                return
            self.audit.record(self._read_event(principal, "item.export", None, request_id,
                                               {"ids": [i["id"] for i in out]}))
            yield from out
            last = rows[-1].seq

    # ----- writes ----------------------------------------------------------------------------------------
    def _member_ids(self, conn: Connection) -> dict[str, int]:
        return {code: mid for mid, code in conn.execute(select(members.c.id, members.c.code))}

    def _allocate(self, conn: Connection, n: int) -> builtins.list[int]:
        if self.db.dialect == "sqlite":
            # Safe: the writer holds SQLite's write lock (BEGIN IMMEDIATE) until commit.
            top = conn.execute(select(func.coalesce(func.max(items.c.seq), 0))).scalar_one()
            return list(range(top + 1, top + 1 + n))
        rows = conn.execute(text("SELECT nextval(pg_get_serial_sequence('items', 'seq')) FROM generate_series(1, :n)"),
                            {"n": n})
        return [int(r[0]) for r in rows]

    def _check_refs(self, conn: Connection, principal: Principal, drafts: Sequence[tuple[int, Draft | Prepared]],
                    errors: dict[int, builtins.list[FieldError]], in_batch: dict[str, str] | None = None) -> None:
        wanted = {ref for _, d in drafts for ref in (d.refs or {}).values()}
        if not wanted:
            return
        in_batch = in_batch if in_batch is not None else {d.id: d.kind for _, d in drafts}
        found: dict[str, str] = {}
        wanted_list = sorted(wanted - in_batch.keys())
        for start in range(0, len(wanted_list), 500):
            chunk = wanted_list[start:start + 500]
            for rid, kind in conn.execute(select(items.c.id, items.c.kind)
                                          .where(items.c.id.in_(chunk), visible(principal))):
                found[rid] = kind
        for idx, d in drafts:
            for path, ref in (d.refs or {}).items():
                if ref not in found and ref not in in_batch:
                    # Same words for missing and not visible: a reference must not probe for hidden items.
                    errors.setdefault(idx, []).append(FieldError(path, "no such item"))

    def create_many(self, principal: Principal, objects: Sequence[Any], request_id: str | None = None, *,
                    allow_times: bool = False, conn: Connection | None = None) -> builtins.list[BulkResult]:
        """Validate and store objects; each is accepted or rejected on its own, and a rejected object leaves
        nothing behind. The accepted ones commit in one transaction: a new one, or the caller's write
        transaction ``conn`` (a STIX ingest stores items and raw objects together)."""
        if not principal.can_write:
            raise PermissionDenied("your role may not share items")
        if len(objects) > self.settings.max_batch:
            raise LimitExceeded(f"at most {self.settings.max_batch} objects per request")
        with _gc_paused():
            batch = prepare_items(objects, self.settings, allow_times=allow_times)
            return self.store_prepared(principal, batch, request_id, conn)

    def store_prepared(self, principal: Principal, batch: PreparedBatch, request_id: str | None = None,
                       conn: Connection | None = None) -> builtins.list[BulkResult]:
        """The database half of ``create_many``: ``batch`` was validated by ``prepare_items`` (here or in an
        import worker process, see ``accord.sharing.ingest``). In a transaction of its own, or in the caller's
        write transaction ``conn`` (an import commits several chunks together)."""
        if not principal.can_write:
            raise PermissionDenied("your role may not share items")
        errors = dict(batch.errors)
        entries: builtins.list[Prepared] = []
        for e in batch.entries:
            if e.classification > principal.clearance:
                errors[e.pos] = [FieldError("handling.classification", "is above your clearance")]
            else:
                entries.append(e)
        with _gc_paused(), (contextlib.nullcontext(conn) if conn is not None else self.db.write()) as conn:
            member_ids = self._member_ids(conn)
            for e in entries:
                unknown = [FieldError(f"handling.release.members[{j}]", f"no member {code}")
                           for j, code in enumerate(e.release) if code not in member_ids]
                if unknown:
                    errors.setdefault(e.pos, []).extend(unknown)
            by_id = {e.id: e.pos for e in entries}
            for existing in existing_values(conn, items, "id", builtins.list(by_id)):
                # Conflict on an id is not a leak of content: ids are random UUIDs the sender chose.
                errors.setdefault(by_id[existing], []).append(FieldError("id", "an item with this id already exists"))
            with_refs = [(e.pos, e) for e in entries if e.refs]
            if with_refs:
                self._check_refs(conn, principal, with_refs, errors, {e.id: e.kind for e in entries})
            accepted = [e for e in entries if e.pos not in errors]
            # A reference to an item of this batch that was itself rejected is now dangling: reject it too.
            rejected_ids = {e.id for e in entries if e.pos in errors}
            while rejected_ids and with_refs:
                ok_ids = {e.id for e in accepted}
                newly = set()
                for e in accepted:
                    bad = [p for p, r in (e.refs or {}).items() if r in rejected_ids and r not in ok_ids]
                    if bad:
                        errors[e.pos] = [FieldError(p, "refers to an object rejected in this request") for p in bad]
                        newly.add(e.id)
                if not newly:
                    break
                accepted = [e for e in accepted if e.id not in newly]
                rejected_ids |= newly
            if accepted:
                self._insert(conn, principal, accepted, member_ids, request_id)
        results = [BulkResult(e.pos, e.id, True) for e in accepted]
        id_of = {e.pos: e.id for e in batch.entries}
        for i, errs in errors.items():
            results.append(BulkResult(i, id_of[i] if i in id_of else batch.ids.get(i), False, errs))
        results.sort(key=lambda r: r.index)
        return results

    _ITEM_COLUMNS = ("seq", "originator_id", "author_id", "created", "modified", *_ROW_COLUMNS)

    def _insert(self, conn: Connection, principal: Principal, entries: builtins.list[Prepared],
                member_ids: dict[str, int], request_id: str | None) -> None:
        # Rows are plain tuples, mostly built by prepare_items, inserted with one executemany per table
        # (storage.bulk): this is the bulk-ingest hot path, where SQLAlchemy's per-row parameter processing would
        # cost more than SQLite's own work.
        seqs = self._allocate(conn, len(entries))
        now = clock.now()
        member, author, code, via = principal.member_id, principal.user_id, principal.member_code, principal.via
        item_rows, release_rows, tag_rows, fts_rows, events = [], [], [], [], []
        details: dict[str, dict[str, Any]] = {}
        for seq, e in zip(seqs, entries, strict=True):
            created = e.created or now
            item_rows.append((seq, member, author, created, e.modified or created, *e.row))
            for c in e.release:
                release_rows.append((member_ids[c], seq))
            for t in e.tags:
                tag_rows.append((t, seq))
            fts_rows.append((seq, e.title, e.text))
            detail = details.get(e.kind)
            if detail is None:
                detail = details[e.kind] = {"kind": e.kind, "via": via}
                if principal.token_id is not None:
                    detail["token"] = principal.token_id  # token use is audited with what it was used for
            events.append(AuditEvent("item.create", author, code, e.id, request_id, detail))
        insert_rows(conn, items, self._ITEM_COLUMNS, item_rows)
        self._widen_span(conn, [(e.row[_T_FROM], e.row[_T_TO]) for e in entries if e.row[_T_TO] is not None])
        insert_rows(conn, item_release, ("member_id", "item_seq"), release_rows)
        insert_rows(conn, item_tags, ("tag", "item_seq"), tag_rows)
        self.db.full_text.insert(conn, fts_rows)
        self.audit.append(conn, events)
        if self.hooks:
            self._after_create(conn, principal, seqs, entries)

    @staticmethod
    def _widen_span(conn: Connection, times: builtins.list[tuple[str | None, str | None]]) -> None:
        """Raise the longest stored observation interval (``item_spans``) to cover ``times``, in the write's own
        transaction: a window's bound on t_from (``_window``) must never exclude a stored interval."""
        span = span_seconds(times) if times else 0
        if span:
            conn.execute(update(item_spans).where(item_spans.c.max_span_s < span).values(max_span_s=span))

    def _after_create(self, conn: Connection, principal: Principal, seqs: builtins.list[int],
                      entries: builtins.list[Prepared]) -> None:
        inline, later = self._split_hooks(len(seqs))
        if inline:
            if all(e.draft is not None for e in entries):
                written = [WrittenItem(s, e.id, e.kind, principal.member_id, 1, False, e.draft)  # type: ignore[arg-type]
                           for s, e in zip(seqs, entries, strict=True)]
            else:  # prepared in an import worker, which does not send drafts back
                written = self.written_from_store(conn, seqs)
            for hook in inline:
                hook.items_written(conn, principal, written)
        if later:
            self.deriver.enqueue(conn, seqs, later)

    def create(self, principal: Principal, raw: Any, request_id: str | None = None) -> dict[str, Any]:
        result = self.create_many(principal, [raw], request_id)[0]
        if not result.ok:
            if any(e.message == "an item with this id already exists" for e in result.errors):
                raise Conflict("an item with this id already exists")
            raise ValidationFailed(result.errors)
        return self.get(principal, str(result.id), request_id)

    def _editable(self, conn: Connection, principal: Principal, item_id: str) -> tuple[Row[Any], dict[str, Any]]:
        row = self._visible_row(conn, principal, item_id, lock=True)
        if not can_edit(principal, row.originator_id):
            raise PermissionDenied("only the originator's analysts change or revoke an item")
        return row, self._render(conn, [row])[0]

    def _new_version(self, conn: Connection, principal: Principal, row: Row[Any], current: dict[str, Any],
                     d: Draft, *, revoked: bool, action: str, request_id: str | None,
                     modified: str | None = None) -> None:
        member_ids = self._member_ids(conn)
        unknown = [FieldError(f"handling.release.members[{j}]", f"no member {c}")
                   for j, c in enumerate(d.release_members) if c not in member_ids]
        if unknown:
            raise ValidationFailed(unknown)
        if d.classification > principal.clearance:
            raise ValidationFailed.one("handling.classification", "is above your clearance")
        self.deriver.catch_up(conn, row.seq)  # hooks see this item's versions in order
        # The old version keeps its own handling and release rows: history shows it only to those it admitted.
        conn.execute(item_versions.insert().values(item_seq=row.seq, version=row.version, modified=row.modified,
                                                   snapshot=orjson.dumps(current).decode(),
                                                   classification=row.classification,
                                                   release_scope=row.release_scope,
                                                   release_consumers=bool(row.release_consumers)))
        if row.release_scope == "members":
            conn.execute(item_version_release.insert().from_select(
                ["item_seq", "version", "member_id"],
                select(item_release.c.item_seq, literal(row.version, Integer), item_release.c.member_id)
                .where(item_release.c.item_seq == row.seq)))
        lat, lon, t_from, t_to = _positions(d)
        # An import carries its own later ``modified`` (STIX versions follow it); otherwise the hub stamps one.
        modified = modified if modified and modified > row.modified else clock.later_than(row.modified)
        conn.execute(update(items).where(items.c.seq == row.seq).values(
            version=row.version + 1, modified=modified, language=d.language, reliability=d.reliability,
            credibility=d.credibility, tlp=d.tlp, classification=d.classification, release_scope=d.release_scope,
            release_consumers=d.release_consumers, revoked=revoked, discoverable=d.discoverable, title=d.title,
            lat=lat, lon=lon, t_from=t_from, t_to=t_to, body=_body_json(d), author_id=principal.user_id))
        self._widen_span(conn, [(t_from, t_to)])
        conn.execute(item_release.delete().where(item_release.c.item_seq == row.seq))
        if d.release_members:
            conn.execute(item_release.insert(), [{"member_id": member_ids[c], "item_seq": row.seq}
                                                 for c in d.release_members])
        old_tags = current.get("tags", [])
        if old_tags:  # by full key: the table is keyed (tag, item)
            conn.execute(item_tags.delete().where(item_tags.c.item_seq == row.seq, item_tags.c.tag.in_(old_tags)))
        if d.tags:
            conn.execute(item_tags.insert(), [{"tag": t, "item_seq": row.seq} for t in d.tags])
        self.db.full_text.index(conn, [(row.seq, d.title, d.text)], [fts_row(row.seq, row.id, row.kind, row.body)])
        detail: dict[str, Any] = {"version": row.version + 1, "via": principal.via}
        if principal.token_id is not None:
            detail["token"] = principal.token_id
        self.audit.append(conn, [AuditEvent(action, principal.user_id, principal.member_code, row.id, request_id,
                                            detail)])
        if self.hooks:
            self._run_hooks(conn, principal, [WrittenItem(row.seq, row.id, row.kind, row.originator_id,
                                                          row.version + 1, revoked, d)])

    def update(self, principal: Principal, item_id: str, patch: Any, request_id: str | None = None) -> dict[str, Any]:
        with self.db.write() as conn:
            self.update_in(conn, principal, item_id, patch, request_id)
        return self.get(principal, item_id, request_id)

    def update_in(self, conn: Connection, principal: Principal, item_id: str, patch: Any,
                  request_id: str | None = None) -> None:
        """``update`` inside the caller's write transaction (a step of a larger change that commits or not as
        a whole)."""
        row, current = self._editable(conn, principal, item_id)
        if row.revoked:
            raise Conflict("the item is revoked; revoked items do not change")
        based_on = patch.get("version", row.version) if isinstance(patch, dict) else row.version
        if isinstance(based_on, bool) or not isinstance(based_on, int):
            raise ValidationFailed.one("version", "must be the whole version number the change is based on")
        if based_on != row.version:
            raise Conflict(f"the item is at version {row.version}, not {based_on}; reload and retry")
        d = check_patch(current, patch, self.settings)
        errors: dict[int, list[FieldError]] = {}
        self._check_refs(conn, principal, [(0, d)], errors)
        if errors:
            raise ValidationFailed(errors[0])
        self._new_version(conn, principal, row, current, d, revoked=False, action="item.update",
                          request_id=request_id)

    def release(self, principal: Principal, item_id: str, members_to_add: Sequence[str], *,
                consumers: bool | None = None, request_id: str | None = None) -> dict[str, Any]:
        """Widen an item's release in one step (used after a deconfliction notice)."""
        with self.db.write() as conn:
            self.release_in(conn, principal, item_id, members_to_add, consumers=consumers, request_id=request_id)
        return self.get(principal, item_id, request_id)

    def release_in(self, conn: Connection, principal: Principal, item_id: str, members_to_add: Sequence[str], *,
                   consumers: bool | None = None, request_id: str | None = None) -> None:
        """``release`` inside the caller's write transaction."""
        current = self._render(conn, [self._visible_row(conn, principal, item_id)])[0]
        rel = current["handling"]["release"]
        if rel["scope"] == "all":
            new_rel: dict[str, Any] = dict(rel)
        else:
            new_rel = {"scope": "members", "members": sorted({*rel["members"], *(m.upper() for m in members_to_add)}
                                                              - {current["originator"]}),
                       "consumers": rel["consumers"]}
            if not new_rel["members"]:
                raise ValidationFailed.one("members", "name at least one member other than the originator")
        if consumers is not None:
            new_rel["consumers"] = consumers
        self.update_in(conn, principal, item_id, {"handling": {"release": new_rel}}, request_id)

    def revoke(self, principal: Principal, item_id: str, request_id: str | None = None) -> dict[str, Any]:
        with self.db.write() as conn:
            row, current = self._editable(conn, principal, item_id)
            if row.revoked:
                raise Conflict("the item is already revoked")
            d = check_item({k: v for k, v in current.items() if k not in (
                "originator", "created", "modified", "version", "revoked")}, self.settings)
            self._new_version(conn, principal, row, current, d, revoked=True, action="item.revoke",
                              request_id=request_id)
        return self.get(principal, item_id, request_id)

    def import_version(self, principal: Principal, raw: dict[str, Any], *, revoked: bool = False,
                       request_id: str | None = None) -> None:
        """Store ``raw`` (an item as imports carry it, with ``created``/``modified``) as the next version of the
        existing item with its id, keeping its ``modified`` when later than the current one (STIX import)."""
        with self.db.write() as conn:
            row, current = self._editable(conn, principal, str(raw.get("id")))
            if row.revoked:
                raise Conflict("the item is revoked; revoked items do not change")
            d = check_item(raw, self.settings, allow_times=True)
            errors: dict[int, list[FieldError]] = {}
            self._check_refs(conn, principal, [(0, d)], errors)
            if errors:
                raise ValidationFailed(errors[0])
            self._new_version(conn, principal, row, current, d, revoked=revoked,
                              action="item.revoke" if revoked else "item.update", request_id=request_id,
                              modified=d.modified)

    def seq_of(self, conn: Connection, principal: Principal, item_id: str) -> int:
        return int(self._visible_row(conn, principal, item_id).seq)
