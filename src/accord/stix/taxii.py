"""TAXII 2.1 semantics over the STIX store, without HTTP: collections, object pages, manifests, versions,
delete, status resources. The HTTP adapter (``accord.http.taxii``) only parses and shapes.

A collection is a view: the objects a principal may see (``policy.visible`` in SQL, over the item for mapped
objects and over the object's own handling otherwise), optionally narrowed to the caller's own member, and of
those the versions whose own stored handling admits the principal too (``policy.visible_version``): an object
sanitised or released more widely shows its new readers only the versions shared with them. Every listing, the
``first``/``last`` flags (the object's real first and latest version, served when visible), the manifest, the
versions resource, their paging and date headers are computed over those versions alone. Pages are
keyset pages over (date_added, seq): the ``next`` token names the last row served, so a page costs the same at any
depth and holds no server state. The token is sealed (``accord.sharing.sealed``): the seq is global and would
count the versions between two pages that the reader may not see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, or_, select, tuple_

from accord import clock
from accord.audit.chain import AuditEvent
from accord.errors import LimitExceeded, NotFound, PermissionDenied, ValidationFailed
from accord.sharing import sealed
from accord.sharing.handling import Principal
from accord.sharing.policy import visible_version
from accord.stix import mapping, refs
from accord.stix.store import Outcome, StixStore
from accord.stix.tables import (
    handle_visible,
    stix_handles,
    stix_version_release,
    stix_versions,
    taxii_collections,
    taxii_status,
)
from accord.storage.schema import items

__all__ = ["STIX_MEDIA", "Collection", "ObjectQuery", "Page", "TaxiiService"]

STIX_MEDIA = "application/stix+json;version=2.1"


@dataclass(frozen=True)
class Collection:
    seq: int
    id: str
    alias: str | None
    title: str
    description: str
    can_write: bool
    only_own: bool
    default_handling: dict[str, Any]

    def resource(self, principal: Principal) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "description": self.description,
                               "can_read": True, "can_write": self.can_write and principal.can_write,
                               "media_types": [STIX_MEDIA]}
        if self.alias:
            out["alias"] = self.alias
        return out


@dataclass
class ObjectQuery:
    """The TAXII filters (section 3.4): all optional."""

    ids: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)  # "first", "last", "all" or timestamps; default last
    spec_versions: list[str] = field(default_factory=list)
    added_after: str | None = None
    limit: int = 1000
    next: str | None = None


@dataclass
class Page:
    rows: list[Any]
    more: bool
    next: str | None

    @property
    def first_added(self) -> str | None:
        return self.rows[0].date_added if self.rows else None

    @property
    def last_added(self) -> str | None:
        return self.rows[-1].date_added if self.rows else None


_NEXT = "taxii-next"  # the purpose label of TAXII page tokens; see accord.sharing.sealed


def encode_next(secret: str, date_added: str, seq: int) -> str:
    """The ``next`` token after (date_added, seq), sealed so that it shows no position (the seq is global)."""
    return sealed.seal(secret, _NEXT, seq.to_bytes(8, "big") + date_added.encode())


def decode_next(secret: str, token: str) -> tuple[str, int]:
    try:
        raw = sealed.open_token(secret, _NEXT, token)
        added = raw[8:].decode()
        mapping.version_key(added)
        return added, int.from_bytes(raw[:8], "big")
    except (ValueError, UnicodeDecodeError):  # BadToken is a ValueError
        raise ValidationFailed.one("next", "is not a token this server issued") from None


class TaxiiService:
    def __init__(self, store: StixStore) -> None:
        self.store = store
        self.db = store.db
        self.settings = store.settings
        self.audit = store.audit

    # ----- collections ---------------------------------------------------------------------------------
    def collections(self) -> list[Collection]:
        with self.db.read() as conn:
            rows = conn.execute(select(taxii_collections).order_by(taxii_collections.c.seq)).all()
        return [Collection(r.seq, r.id, r.alias, r.title, r.description, bool(r.can_write), bool(r.only_own),
                           orjson.loads(r.default_handling)) for r in rows]

    def collection(self, collection_id: str) -> Collection:
        for c in self.collections():
            if c.id == collection_id:
                return c
        raise NotFound(f"no collection {collection_id}")

    def add_collection(self, title: str, *, alias: str | None = None, description: str = "",
                       only_own: bool = False, can_write: bool = True,
                       default_handling: dict[str, Any] | None = None) -> Collection:
        handling = default_handling or {"tlp": "amber", "classification": 0, "release": {"scope": "originator"}}
        from accord.sharing.validate import _Checker, _handling

        c = _Checker(self.settings)
        _handling(c, handling)
        if c.errors:
            raise ValidationFailed(c.errors)
        cid = str(uuid.uuid4())
        with self.db.write() as conn:
            conn.execute(taxii_collections.insert().values(
                id=cid, alias=alias, title=title, description=description, can_write=can_write, only_own=only_own,
                default_handling=orjson.dumps(handling).decode(), created=clock.now()))
        return self.collection(cid)

    # ----- reads -----------------------------------------------------------------------------------------
    @staticmethod
    def _visible(principal: Principal, coll: Collection) -> Any:
        cond = handle_visible(principal)
        if coll.only_own:
            cond = and_(cond, stix_handles.c.originator_id == principal.member_id)
        return cond

    @staticmethod
    def _from() -> Any:
        h = stix_handles
        return stix_versions.join(h, h.c.seq == stix_versions.c.handle_seq).outerjoin(
            items, items.c.seq == h.c.item_seq)

    def _base(self, principal: Principal, coll: Collection, q: ObjectQuery, *, version_filter: bool,
              columns: tuple[Any, ...]) -> Any:
        v = stix_versions
        stmt = select(*columns).select_from(self._from()).where(
            self._visible(principal, coll),
            visible_version(principal, v, stix_version_release, stix_handles.c.originator_id))
        if q.ids:
            stmt = stmt.where(stix_handles.c.stix_id.in_(q.ids))  # the handle's unique index, then its versions
        if q.types:
            stmt = stmt.where(v.c.stix_type.in_(q.types))
        if q.spec_versions:
            stmt = stmt.where(v.c.spec_version.in_(q.spec_versions))
        if version_filter:
            wanted = q.versions or ["last"]
            if "all" not in wanted:
                conds = []
                keys = []
                # With ids, the flags are tested per row, not through the (latest, date_added) index: SQLite's
                # planner (no statistics) would otherwise read every latest version instead of the few of those ids.
                latest, first = ((func.coalesce(v.c.latest, False), func.coalesce(v.c.first, False)) if q.ids
                                 else (v.c.latest, v.c.first))
                for w in wanted:
                    if w == "last":
                        conds.append(latest.is_(True))
                    elif w == "first":
                        conds.append(first.is_(True))
                    else:
                        try:
                            keys.append(mapping.version_key(w))
                        except (ValueError, TypeError):
                            raise ValidationFailed.one("match[version]", "must be first, last, all or a "
                                                       "timestamp") from None
                if keys:
                    conds.append(v.c.version_key.in_(keys))
                stmt = stmt.where(or_(*conds))
        if q.added_after:
            try:
                after = mapping.version_key(q.added_after)
            except (ValueError, TypeError):
                raise ValidationFailed.one("added_after", "must be a timestamp") from None
            stmt = stmt.where(v.c.date_added > after)
        if q.next:
            added, seq = decode_next(self.settings.secret_key, q.next)
            stmt = stmt.where(tuple_(v.c.date_added, v.c.seq) > tuple_(added, seq))
        return stmt.order_by(v.c.date_added, v.c.seq).limit(q.limit + 1)

    def _page(self, principal: Principal, coll: Collection, q: ObjectQuery, *, version_filter: bool = True,
              body: bool = True) -> Page:
        v = stix_versions
        cols = (v.c.seq, v.c.stix_id, v.c.version, v.c.date_added, v.c.spec_version) + ((v.c.body,) if body else ())
        with self.db.read() as conn:
            rows = conn.execute(self._base(principal, coll, q, version_filter=version_filter, columns=cols)).all()
            more = len(rows) > q.limit
            rows = rows[: q.limit]
            if body:  # references to entities the reader may not see say nothing of them (refs.served)
                rows = refs.served(conn, principal, rows)
        token = encode_next(self.settings.secret_key, rows[-1].date_added, rows[-1].seq) if more and rows else None
        return Page(list(rows), more, token)

    def _audit(self, principal: Principal, action: str, page: Page, request_id: str | None,
               item_id: str | None = None) -> None:
        if page.rows and self.settings.audit_reads:
            d: dict[str, Any] = {"via": principal.via, "ids": [r.stix_id for r in page.rows]}
            if principal.token_id is not None:
                d["token"] = principal.token_id
            self.audit.record(AuditEvent(action, principal.user_id, principal.member_code, item_id, request_id, d))

    def objects(self, principal: Principal, coll: Collection, q: ObjectQuery, request_id: str | None = None) -> Page:
        page = self._page(principal, coll, q)
        self._audit(principal, "taxii.objects", page, request_id)
        return page

    def manifest(self, principal: Principal, coll: Collection, q: ObjectQuery) -> Page:
        # Manifests name ids and versions only, no content: not a content read, so not audited per object.
        return self._page(principal, coll, q, body=False)

    def object(self, principal: Principal, coll: Collection, stix_id: str, q: ObjectQuery,
               request_id: str | None = None) -> Page:
        q.ids = [stix_id]
        page = self._page(principal, coll, q)
        self._audit(principal, "taxii.object", page, request_id, stix_id)
        return page

    def exists(self, principal: Principal, coll: Collection, stix_id: str) -> bool:
        q = ObjectQuery(ids=[stix_id], versions=["all"], limit=1)
        with self.db.read() as conn:
            return conn.execute(self._base(principal, coll, q, version_filter=True,
                                           columns=(stix_versions.c.seq,))).first() is not None

    def versions(self, principal: Principal, coll: Collection, stix_id: str, q: ObjectQuery) -> Page:
        q.ids = [stix_id]
        return self._page(principal, coll, q, version_filter=False, body=False)

    # ----- writes ----------------------------------------------------------------------------------------
    def add_body(self, principal: Principal, collection_id: str, raw: bytes, request_id: str | None = None
                 ) -> dict[str, Any]:
        """Section 5.5 from the request body: the collection must exist (404), then the body must be within the
        size limit (413) and JSON (400), then ``add``."""
        coll = self.collection(collection_id)
        if len(raw) > self.settings.max_body_bytes:
            raise LimitExceeded(f"the request body is larger than {self.settings.max_body_bytes} bytes")
        try:
            envelope = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ValidationFailed.one("", f"the body is not valid JSON ({exc.msg})") from None
        return self.add(principal, coll, envelope, request_id)

    def add(self, principal: Principal, coll: Collection, envelope: Any, request_id: str | None = None
            ) -> dict[str, Any]:
        if not (coll.can_write and principal.can_write):
            raise PermissionDenied("you may not add objects to this collection")
        if not isinstance(envelope, dict) or not isinstance(envelope.get("objects", []), list):
            raise ValidationFailed.one("objects", "an envelope with a list of objects is required")
        objects = envelope.get("objects", [])
        if len(objects) > self.settings.max_batch:
            raise LimitExceeded(f"at most {self.settings.max_batch} objects per request")
        stamp = clock.format_ts(clock.utcnow())
        saved: list[dict[str, Any]] = []

        def save(conn: Connection, outcomes: list[Outcome]) -> None:
            # In the objects' own transaction: a status resource exists exactly when what it reports does.
            saved.append(self._save_status(conn, principal, stamp, outcomes))

        self.store.ingest(principal, objects, coll.default_handling, request_id, finish=save)
        return saved[0]

    @staticmethod
    def _save_status(conn: Connection, principal: Principal, stamp: str, outcomes: list[Outcome]
                     ) -> dict[str, Any]:
        ok = [{"id": o.id, "version": o.version} for o in outcomes if o.ok]
        bad = [{"id": o.id, "version": o.version, "message": o.message} for o in outcomes if not o.ok]
        status: dict[str, Any] = {"id": str(uuid.uuid4()), "status": "complete", "request_timestamp": stamp,
                                  "total_count": len(outcomes), "success_count": len(ok),
                                  "failure_count": len(bad), "pending_count": 0}
        if ok:
            status["successes"] = ok
        if bad:
            status["failures"] = bad
        conn.execute(taxii_status.insert().values(id=status["id"], user_id=principal.user_id,
                                                  request_timestamp=stamp, body=orjson.dumps(status).decode()))
        return status

    def status(self, principal: Principal, status_id: str) -> dict[str, Any]:
        """A status resource is its submitter's alone: it lists ids others may not see."""
        with self.db.read() as conn:
            body = conn.execute(select(taxii_status.c.body).where(taxii_status.c.id == status_id,
                                                                  taxii_status.c.user_id == principal.user_id)
                                ).scalar()
        if body is None:
            raise NotFound(f"no status {status_id}")
        return orjson.loads(body)  # type: ignore[no-any-return]

    def delete(self, principal: Principal, coll: Collection, stix_id: str, q: ObjectQuery,
               request_id: str | None = None) -> None:
        """TAXII 2.1 section 5.7: removes the matching versions (all of them unless ``match[version]`` says)."""
        v, h = stix_versions, stix_handles
        with self.db.read() as conn:
            rows = conn.execute(self._base(principal, coll, ObjectQuery(
                ids=[stix_id], versions=q.versions or ["all"], spec_versions=q.spec_versions, limit=100_000),
                version_filter=True, columns=(v.c.version_key, h.c.seq.label("handle"), h.c.originator_id,
                                              h.c.item_seq, items.c.id.label("item_id")))).all()
        if not rows:
            raise NotFound(f"no object {stix_id}")
        if rows[0].originator_id != principal.member_id or not principal.can_write:
            raise PermissionDenied("only the originator's analysts delete an object")
        all_versions = not q.versions or "all" in q.versions
        self.store.delete_versions(principal, rows[0].handle, stix_id, rows[0].item_id,
                                   [r.version_key for r in rows], all_versions, request_id)

    def export(self, principal: Principal, batch: int = 1000, request_id: str | None = None) -> Any:
        """Every version of every object ``principal`` may see, oldest first, audited batch by batch."""
        coll = Collection(0, "", None, "", "", False, False, {})
        q = ObjectQuery(versions=["all"], limit=batch)
        while True:
            page = self._page(principal, coll, q)
            self._audit(principal, "stix.export", page, request_id)
            for r in page.rows:
                yield r.body
            if not page.more:
                return
            q.next = page.next
