"""TAXII 2.1 over HTTP (OASIS TAXII 2.1 CS01): discovery, one API root, collections, objects, manifest, versions,
delete, status. Thin: parse the request, call ``TaxiiService``, shape the resource. Errors take the TAXII error
shape through ``accord.http.errors`` (every path here is under /taxii2)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from accord.errors import NotFound, ValidationFailed
from accord.http.auth import current_principal, services
from accord.sharing.handling import Principal
from accord.stix.taxii import Collection, ObjectQuery, Page, TaxiiService

__all__ = ["API_ROOT", "TAXII_MEDIA", "router"]

TAXII_MEDIA = "application/taxii+json;version=2.1"
API_ROOT = "/taxii2/hub/"
_MEDIA = re.compile(r"^application/taxii\+json(;version=(\d\.\d))?$")


def _accepts(request: Request) -> None:
    """Section 1.6.8: clients send the TAXII media type in Accept; version 2.1 is the only one served."""
    for part in request.headers.get("accept", "").replace(" ", "").split(","):
        m = _MEDIA.match(part)
        if m and m.group(2) in (None, "2.1"):
            return
    raise HTTPException(406, "the Accept header must name application/taxii+json;version=2.1")


async def _caller(request: Request) -> Principal:
    principal = await current_principal(request)  # authentication first, as medallion does
    _accepts(request)
    return principal


Caller = Annotated[Principal, Depends(_caller)]
router = APIRouter(prefix="/taxii2", tags=["taxii"], include_in_schema=False)


def _svc(request: Request) -> TaxiiService:
    return services(request).taxii


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type=TAXII_MEDIA)


def _query(request: Request, allow: tuple[str, ...]) -> ObjectQuery:
    """Section 3.4 filters. Unknown parameters are ignored, as the spec lets servers do."""
    p = request.query_params
    settings = services(request).settings
    q = ObjectQuery(limit=settings.page_size_max)

    def split(name: str) -> list[str]:
        value = p.get(name)
        return [v for v in value.split(",") if v] if value else []

    if "id" in allow:
        q.ids = split("match[id]")
    if "type" in allow:
        q.types = split("match[type]")
    if "version" in allow:
        q.versions = split("match[version]")
    if "spec_version" in allow:
        q.spec_versions = split("match[spec_version]")
    q.added_after = p.get("added_after")
    q.next = p.get("next") or None
    if p.get("limit") is not None:
        try:
            limit = int(p["limit"])
        except ValueError:
            raise ValidationFailed.one("limit", "must be a positive whole number") from None
        if limit <= 0:
            raise ValidationFailed.one("limit", "must be a positive whole number")
        q.limit = min(limit, settings.page_size_max)  # section 3.4.1: the server may return fewer than asked
    return q


def _page_headers(page: Page) -> dict[str, str]:
    if not page.rows:
        return {}
    return {"X-TAXII-Date-Added-First": str(page.first_added), "X-TAXII-Date-Added-Last": str(page.last_added)}


def _envelope(page: Page) -> Response:
    """Section 3.7 envelope. The stored JSON of each object is spliced in unparsed (served byte for byte)."""
    if not page.rows:
        return _json({})
    head = b'{"more":' + (b"true" if page.more else b"false")
    if page.next:
        head += b',"next":' + orjson.dumps(page.next)
    body = head + b',"objects":[' + b",".join(r.body.encode() for r in page.rows) + b"]}"
    return Response(body, 200, headers=_page_headers(page), media_type=TAXII_MEDIA)


async def _read(fn: Any, *args: Any) -> Any:
    """Run a read in the thread pool; a bad filter is TAXII's 400 (section 3.6), not the API's 422."""
    try:
        return await run_in_threadpool(fn, *args)
    except ValidationFailed as exc:
        raise HTTPException(400, "; ".join(f"{e.field}: {e.message}" for e in exc.errors)) from None


async def _collection(request: Request, collection_id: str) -> Collection:
    return await run_in_threadpool(_svc(request).collection, collection_id)


# ----- section 4: server information ---------------------------------------------------------------------
@router.get("/")
async def discovery(request: Request, caller: Caller) -> Response:
    """4.1 Server Discovery."""
    # Absolute URLs (section 4.1.1 names them URLs; some clients do not resolve relative ones).
    root = str(request.base_url).rstrip("/") + API_ROOT
    return _json({"title": "Accord TAXII 2.1", "description": "The hub's shared objects, under each member's "
                  "handling rules.", "default": root, "api_roots": [root]})


@router.get("/hub/")
async def api_root(request: Request, caller: Caller) -> Response:
    """4.2 API Root Information."""
    return _json({"title": "Accord hub", "description": "Collections are views over the hub: each shows what "
                  "you may see.", "versions": [TAXII_MEDIA],
                  "max_content_length": services(request).settings.max_body_bytes})


@router.get("/hub/status/{status_id}/")
async def status(request: Request, caller: Caller, status_id: str) -> Response:
    """4.3 Get Status."""
    return _json(await run_in_threadpool(_svc(request).status, caller, status_id))


# ----- section 5: collections ----------------------------------------------------------------------------
@router.get("/hub/collections/")
async def collections(request: Request, caller: Caller) -> Response:
    """5.1 Get Collections."""
    colls = await run_in_threadpool(_svc(request).collections)
    return _json({"collections": [c.resource(caller) for c in colls]})


@router.get("/hub/collections/{collection_id}/")
async def collection(request: Request, caller: Caller, collection_id: str) -> Response:
    """5.2 Get A Collection."""
    return _json((await _collection(request, collection_id)).resource(caller))


@router.get("/hub/collections/{collection_id}/manifest/")
async def manifest(request: Request, caller: Caller, collection_id: str) -> Response:
    """5.3 Get Object Manifests."""
    coll = await _collection(request, collection_id)
    q = await _read(_query, request, ("id", "type", "version", "spec_version"))
    page = await _read(_svc(request).manifest, caller, coll, q)
    if not page.rows:
        return _json({})
    out: dict[str, Any] = {"more": page.more}
    if page.next:
        out["next"] = page.next
    out["objects"] = [{"id": r.stix_id, "date_added": r.date_added, "version": r.version,
                       "media_type": f"application/stix+json;version={r.spec_version}"} for r in page.rows]
    return _json(out, headers=_page_headers(page))


@router.get("/hub/collections/{collection_id}/objects/")
async def get_objects(request: Request, caller: Caller, collection_id: str) -> Response:
    """5.4 Get Objects."""
    coll = await _collection(request, collection_id)
    q = await _read(_query, request, ("id", "type", "version", "spec_version"))
    page = await _read(_svc(request).objects, caller, coll, q, getattr(request.state, "request_id", None))
    return _envelope(page)


@router.post("/hub/collections/{collection_id}/objects/", status_code=202)
async def add_objects(request: Request, caller: Caller, collection_id: str) -> Response:
    """5.5 Add Objects: processed before the response, so the status is already complete."""
    ctype = request.headers.get("content-type", "").replace(" ", "")
    m = _MEDIA.match(ctype)
    if not m or m.group(2) not in (None, "2.1"):
        raise HTTPException(415, "the Content-Type must be application/taxii+json;version=2.1")
    raw = await request.body()
    # One trip to the thread pool: the collection (404 first), the body's size and JSON, then the objects.
    result = await run_in_threadpool(_svc(request).add_body, caller, collection_id, raw,
                                     getattr(request.state, "request_id", None))
    return _json(result, 202)


@router.get("/hub/collections/{collection_id}/objects/{object_id}/")
async def get_object(request: Request, caller: Caller, collection_id: str, object_id: str) -> Response:
    """5.6 Get An Object."""
    coll = await _collection(request, collection_id)
    q = await _read(_query, request, ("version", "spec_version"))
    svc = _svc(request)
    page = await _read(svc.object, caller, coll, object_id, q, getattr(request.state, "request_id", None))
    if not page.rows and not await run_in_threadpool(svc.exists, caller, coll, object_id):
        raise NotFound(f"no object {object_id}")
    return _envelope(page)


@router.delete("/hub/collections/{collection_id}/objects/{object_id}/")
async def delete_object(request: Request, caller: Caller, collection_id: str, object_id: str) -> Response:
    """5.7 Delete An Object."""
    coll = await _collection(request, collection_id)
    q = await _read(_query, request, ("version", "spec_version"))
    await run_in_threadpool(_svc(request).delete, caller, coll, object_id, q,
                            getattr(request.state, "request_id", None))
    return Response(b"", 200, media_type=TAXII_MEDIA)


@router.get("/hub/collections/{collection_id}/objects/{object_id}/versions/")
async def versions(request: Request, caller: Caller, collection_id: str, object_id: str) -> Response:
    """5.8 Get Object Versions."""
    coll = await _collection(request, collection_id)
    q = await _read(_query, request, ("spec_version",))
    svc = _svc(request)
    page = await _read(svc.versions, caller, coll, object_id, q)
    if not page.rows:
        if not await run_in_threadpool(svc.exists, caller, coll, object_id):
                raise NotFound(f"no object {object_id}")
        return _json({})
    out: dict[str, Any] = {"more": page.more}
    if page.next:
        out["next"] = page.next
    out["versions"] = [r.version for r in page.rows]
    return _json(out, headers=_page_headers(page))
