"""Items over HTTP: /api/v1/items and friends. Thin: parse, call the Items service, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response, StreamingResponse

from accord.errors import ValidationFailed
from accord.http.api.common import json_body, json_response, request_id
from accord.http.auth import current_principal, services
from accord.sharing.handling import Principal
from accord.sharing.items import ItemFilter

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["items"])
Caller = Annotated[Principal, Depends(current_principal)]


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        parts = tuple(float(x) for x in value.split(","))
    except ValueError:
        raise ValidationFailed.one("bbox", "must be four numbers: min_lon,min_lat,max_lon,max_lat") from None
    if len(parts) != 4:
        raise ValidationFailed.one("bbox", "must be four numbers: min_lon,min_lat,max_lon,max_lat")
    return parts


def _filter(kind: str | None, originator: str | None, since: str | None, until: str | None,
            observed_after: str | None, observed_before: str | None, bbox: str | None, tag: str | None,
            q: str | None, include_revoked: bool, cursor: str | None, limit: int) -> ItemFilter:
    return ItemFilter(kind=kind, originator=originator, since=since, until=until, observed_after=observed_after,
                      observed_before=observed_before, bbox=_bbox(bbox), tag=tag, q=q,
                      include_revoked=include_revoked, cursor=cursor, limit=limit)


@router.get("/items", summary="List the items you may see, newest first, with filters and a cursor")
async def list_items(
    request: Request, caller: Caller,
    kind: str | None = None, originator: str | None = None,
    since: Annotated[str | None, Query(description="modified at or after (RFC 3339)")] = None,
    until: Annotated[str | None, Query(description="modified before (RFC 3339)")] = None,
    observed_after: str | None = None, observed_before: str | None = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    tag: str | None = None,
    q: Annotated[str | None, Query(max_length=500, description="full-text query, any script")] = None,
    include_revoked: bool = False, cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    svc = services(request)
    f = _filter(kind, originator, since, until, observed_after, observed_before, bbox, tag, q, include_revoked,
                cursor, limit or svc.settings.page_size_default)
    page = await run_in_threadpool(svc.items.list, caller, f, request_id(request))
    return json_response({"items": page.items, "next": page.next_cursor})


@router.post("/items", status_code=201, summary="Share one item")
async def create_item(request: Request, caller: Caller) -> Response:
    body = await json_body(request, nul_free=False)
    svc = services(request)
    item = await run_in_threadpool(svc.items.create, caller, body, request_id(request))
    return json_response(item, 201, {"Location": f"/api/v1/items/{item['id']}"})


@router.post("/items/bulk", summary="Share many items; each is accepted or rejected on its own")
async def bulk_create(request: Request, caller: Caller) -> Response:
    body = await json_body(request, nul_free=False)
    objects = body.get("items") if isinstance(body, dict) else body
    if not isinstance(objects, list):
        raise ValidationFailed.one("items", "must be a list of items")
    svc = services(request)
    results = await run_in_threadpool(svc.items.create_many, caller, objects, request_id(request))
    out = [{"index": r.index, "id": r.id, "status": "accepted" if r.ok else "rejected",
            **({"errors": [{"field": e.field, "message": e.message} for e in r.errors]} if not r.ok else {})}
           for r in results]
    accepted = sum(1 for r in results if r.ok)
    return json_response({"accepted": accepted, "rejected": len(results) - accepted, "results": out},
                         200 if accepted == len(results) else 207)


@router.get("/items/{item_id}", summary="One item")
async def get_item(request: Request, item_id: str, caller: Caller) -> Response:
    svc = services(request)
    return json_response(await run_in_threadpool(svc.items.get, caller, item_id, request_id(request)))


@router.patch("/items/{item_id}", summary="Change an item (originator only); creates a new version")
async def update_item(request: Request, item_id: str, caller: Caller) -> Response:
    body = await json_body(request, nul_free=False)
    svc = services(request)
    return json_response(await run_in_threadpool(svc.items.update, caller, item_id, body, request_id(request)))


@router.post("/items/{item_id}/revoke", summary="Revoke an item (originator only)")
async def revoke_item(request: Request, item_id: str, caller: Caller) -> Response:
    svc = services(request)
    return json_response(await run_in_threadpool(svc.items.revoke, caller, item_id, request_id(request)))


@router.post("/items/{item_id}/release", summary="Release an item to more members (originator only)")
async def release_item(request: Request, item_id: str, caller: Caller) -> Response:
    body = await json_body(request, nul_free=False)
    if not isinstance(body, dict) or not isinstance(body.get("members", []), list):
        raise ValidationFailed.one("members", "must be a list of member codes")
    consumers = body.get("consumers")
    if consumers is not None and not isinstance(consumers, bool):
        raise ValidationFailed.one("consumers", "must be true or false")
    svc = services(request)
    out = await run_in_threadpool(lambda: svc.items.release(caller, item_id, [str(m) for m in body.get("members", [])],
                                                            consumers=consumers, request_id=request_id(request)))
    return json_response(out)


@router.get("/items/{item_id}/history", summary="Every version of an item, oldest first")
async def item_history(request: Request, item_id: str, caller: Caller) -> Response:
    svc = services(request)
    return json_response({"versions": await run_in_threadpool(svc.items.history, caller, item_id,
                                                              request_id(request))})


@router.get("/stats", summary="Counts of the items you may see, by kind and originator")
async def stats(request: Request, caller: Caller, since: str | None = None, until: str | None = None,
                by: str = "kind,originator") -> Response:
    svc = services(request)
    groups = [b for b in by.split(",") if b]
    rows = await run_in_threadpool(svc.items.stats, caller, since, until, groups)
    return json_response({"groups": rows, "total": sum(r["count"] for r in rows)})


@router.get("/export", summary="Every item you may see, as newline-delimited JSON")
async def export(request: Request, caller: Caller, kind: str | None = None, originator: str | None = None,
                 since: str | None = None, until: str | None = None) -> Response:
    svc = services(request)
    f = _filter(kind, originator, since, until, None, None, None, None, None, True, None, 1)
    it = svc.items.export(caller, f, request_id(request))
    # The first batch is read before the response starts, so bad filters still get a proper error status.
    first = await run_in_threadpool(next, it, None)

    def lines() -> Any:
        if first is not None:
            yield orjson.dumps(first) + b"\n"
        for item in it:
            yield orjson.dumps(item) + b"\n"

    return StreamingResponse(iterate_in_threadpool(lines()), media_type="application/x-ndjson")
