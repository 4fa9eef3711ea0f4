"""Correlation over HTTP: an item's correlations, entity name matching, the gazetteer, deconfliction notices
(list, release in one step) and the exclusion list. Thin: parse, call the Correlation service, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from accord.errors import ValidationFailed
from accord.http.api.common import json_body, json_response, request_id
from accord.http.auth import current_principal, services
from accord.sharing.handling import Principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["correlation"])
Caller = Annotated[Principal, Depends(current_principal)]


@router.get("/items/{item_id}/correlations", summary="Items related to this one that you may also see")
async def item_correlations(request: Request, item_id: str, caller: Caller) -> Response:
    svc = services(request)
    return json_response(await run_in_threadpool(svc.correlation.for_item, caller, item_id, request_id(request)))


@router.get("/entities/match", summary="Entities you may see whose name or alias matches, in any script")
async def entity_match(request: Request, caller: Caller, name: Annotated[str, Query(max_length=1000)],
                       limit: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    svc = services(request)
    out = await run_in_threadpool(svc.correlation.match, caller, name, limit, request_id(request))
    return json_response({"name": name, "matches": out})


@router.get("/places", summary="Candidate places for a name in any script (offline gazetteer)")
async def places(request: Request, caller: Caller, name: Annotated[str, Query(min_length=1, max_length=200)],
                 limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    svc = services(request)
    found = await run_in_threadpool(svc.correlation.gazetteer.search, name, limit)
    return json_response({"name": name, "places": [p.as_dict() for p in found]})


@router.get("/correlation/notices", summary="Deconfliction notices addressed to your member")
async def notices(request: Request, caller: Caller, state: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    svc = services(request)
    return json_response({"notices": await run_in_threadpool(svc.correlation.notices, caller, state, limit)})


@router.post("/correlation/notices/{notice_id}/release",
             summary="Release your item to the member named in the notice, in one step")
async def release_notice(request: Request, notice_id: str, caller: Caller) -> Response:
    svc = services(request)
    return json_response(await run_in_threadpool(svc.correlation.release_notice, caller, notice_id,
                                                 request_id(request)))


@router.post("/correlation/notices/{notice_id}/dismiss",
             summary="Mark a notice as dealt with, releasing nothing (it is not raised again)")
async def dismiss_notice(request: Request, notice_id: str, caller: Caller) -> Response:
    svc = services(request)
    return json_response(await run_in_threadpool(svc.correlation.dismiss_notice, caller, notice_id,
                                                 request_id(request)))


@router.get("/correlation/exclusions", summary="Values that never correlate (member administrators)")
async def exclusions(request: Request, caller: Caller) -> Response:
    svc = services(request)
    return json_response({"exclusions": await run_in_threadpool(svc.correlation.exclusions, caller)})


@router.post("/correlation/exclusions", status_code=201, summary="Add a value to the exclusion list")
async def add_exclusion(request: Request, caller: Caller) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed.one("", "must be an object with type and value")
    svc = services(request)
    out = await run_in_threadpool(svc.correlation.add_exclusion, caller, str(body.get("type", "")),
                                  body.get("value", ""), request_id(request))
    return json_response(out, 201)


@router.delete("/correlation/exclusions/{exclusion_id}", status_code=204, summary="Remove an exclusion")
async def remove_exclusion(request: Request, exclusion_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)],
                           caller: Caller) -> Response:
    svc = services(request)
    await run_in_threadpool(svc.correlation.remove_exclusion, caller, exclusion_id, request_id(request))
    return Response(status_code=204)
