"""Sharing pages: one form per kind of item, editing an item, and bulk upload with a preview."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from accord.errors import FieldError, PermissionDenied, ValidationFailed
from accord.http.web import bulk
from accord.http.web.common import User, call, form, redirect, store, svc
from accord.http.web.forms import defaults_from_item, form_values, item_from_form
from accord.http.web.i18n import render, tr
from accord.http.web.store import Defaults
from accord.sharing.handling import ENTITY_TYPES, Principal
from accord.sharing.items import ItemFilter
from accord.sharing.validate import check_item

__all__ = ["bulk_router", "router"]

router = APIRouter(include_in_schema=False)
# Included before ``router``, whose ``/share/{kind}`` would otherwise catch ``/share/bulk``.
bulk_router = APIRouter(include_in_schema=False)
SHARE_KINDS = ("report", "observation", "entity", "relationship")
RELATIONSHIP_TYPES = ("member-of", "leads", "located-at", "uses", "funds", "affiliated-with", "related-to")


def _rid(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _context(request: Request, user: Principal, kind: str) -> dict[str, Any]:
    s = svc(request)
    members = [m["code"] for m in await call(s.accounts.list_members)]
    entities: list[dict[str, Any]] = []
    if kind in ("entity", "relationship"):
        entities = (await call(s.items.list, user, ItemFilter(kind="entity", limit=200), _rid(request))).items
    return {"kind": kind, "kinds": SHARE_KINDS, "members": members, "entity_types": ENTITY_TYPES,
            "relationship_types": RELATIONSHIP_TYPES, "entities": entities}


def _require_writer(user: Principal) -> None:
    if not user.can_write:
        raise PermissionDenied("your role may read but not share items")


@router.get("/share")
async def share_page(request: Request, user: User) -> Response:
    kind = request.query_params.get("kind", "report")
    kind = kind if kind in SHARE_KINDS else "report"
    ctx = await _context(request, user, kind)
    d = await call(store(request).defaults, user.member_id)
    ctx.update({"d": d, "v": {}, "errors": [], "action": f"/share/{kind}", "can_write": user.can_write})
    return render(request, "share.html", ctx)


@router.post("/share/{kind}")
async def share(request: Request, kind: str, user: User) -> Response:
    _require_writer(user)
    if kind not in SHARE_KINDS:
        raise ValidationFailed.one("kind", "is not a kind of item this form shares")
    data = await form(request)
    raw, errors = item_from_form(kind, data)
    if not errors:
        try:
            item = await call(svc(request).items.create, user, raw, _rid(request))
            target = "/entity/" if kind == "entity" else "/item/"
            return redirect(target + item["id"], tr(request, "Shared."))
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = await _context(request, user, kind)
    d = Defaults(raw["handling"]["tlp"], raw["handling"]["classification"] if isinstance(
        raw["handling"]["classification"], int) else 0, raw["handling"]["release"]["scope"],
        raw["handling"]["release"]["members"], raw["handling"]["release"]["consumers"],
        raw["grading"].get("reliability"), raw["grading"].get("credibility"))
    ctx.update({"d": d, "v": {k: str(v) for k, v in data.items() if isinstance(v, str)}, "errors": errors,
                "action": f"/share/{kind}", "can_write": True})
    return render(request, "share.html", ctx, status=422)


@router.get("/item/{item_id}/edit")
async def edit_page(request: Request, item_id: str, user: User) -> Response:
    item = await call(svc(request).items.get, user, item_id, _rid(request))
    ctx = await _context(request, user, item["kind"])
    ctx.update({"d": defaults_from_item(item), "v": form_values(item), "errors": [], "item": item,
                "action": f"/item/{item_id}/edit", "can_write": user.can_write})
    return render(request, "share.html", ctx)


@router.post("/item/{item_id}/edit")
async def edit(request: Request, item_id: str, user: User) -> Response:
    s = svc(request)
    item = await call(s.items.get, user, item_id, _rid(request))
    data = await form(request)
    raw, errors = item_from_form(item["kind"], data)
    if not errors:
        patch: dict[str, Any] = {k: raw[k] for k in ("content", "handling", "grading", "tags") if k in raw}
        if raw.get("language"):
            patch["language"] = raw["language"]
        try:
            await call(s.items.update, user, item_id, patch, _rid(request))
            return redirect(("/entity/" if item["kind"] == "entity" else "/item/") + item_id, tr(request, "Saved."))
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = await _context(request, user, item["kind"])
    ctx.update({"d": defaults_from_item(item), "v": {k: str(v) for k, v in data.items() if isinstance(v, str)},
                "errors": errors, "item": item, "action": f"/item/{item_id}/edit", "can_write": True})
    return render(request, "share.html", ctx, status=422)


# ----- bulk upload ---------------------------------------------------------------------------------------
@bulk_router.get("/share/bulk")
async def bulk_page(request: Request, user: User) -> Response:
    return render(request, "bulk.html", {"formats": bulk.formats(), "rows": None, "results": None})


@bulk_router.post("/share/bulk")
async def bulk_preview(request: Request, user: User) -> Response:
    """Parse the file and validate every row without storing anything: the preview."""
    _require_writer(user)
    s = svc(request)
    data = await form(request)
    upload = data.get("file")
    errors: list[FieldError] = []
    rows: list[bulk.Row] = []
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.append(FieldError("file", tr(request, "choose a file to upload")))
    else:
        content = await upload.read()
        await data.close()
        try:
            rows = await call(bulk.parse, upload.filename, content, str(data.get("format", "auto")))
        except ValidationFailed as exc:
            errors = exc.errors
    members = {m["code"] for m in await call(s.accounts.list_members)}
    for row in rows:
        if row.raw is None:
            continue
        try:
            d = check_item(row.raw, s.settings)
            unknown = [c for c in d.release_members if c not in members]
            row.errors.extend(FieldError("handling.release.members", f"no member {c}") for c in unknown)
            if d.classification > user.clearance:
                row.errors.append(FieldError("handling.classification", "is above your clearance"))
            row.summary = d.title
        except ValidationFailed as exc:
            # An unreadable position already says why; the core's "lat is required" would only repeat it.
            skip = {"content.lat", "content.lon"} if any(e.field == "position" for e in row.errors) else set()
            row.errors.extend(e for e in exc.errors if e.field not in skip)
    good = [r.raw for r in rows if r.raw is not None and not r.errors]
    payload = orjson.dumps(good).decode()
    return render(request, "bulk.html", {"formats": bulk.formats(), "rows": rows, "errors": errors,
                                         "payload": payload, "good": len(good), "results": None})


@bulk_router.post("/share/bulk/commit")
async def bulk_commit(request: Request, user: User) -> Response:
    _require_writer(user)
    data = await form(request)
    try:
        objects = orjson.loads(str(data.get("payload", "[]")))
    except orjson.JSONDecodeError:
        raise ValidationFailed.one("payload", "the preview was altered; upload the file again") from None
    if not isinstance(objects, list):
        raise ValidationFailed.one("payload", "the preview was altered; upload the file again")
    results = await call(svc(request).items.create_many, user, objects, _rid(request))
    return render(request, "bulk.html", {"formats": bulk.formats(), "rows": None, "results": results,
                                         "created": sum(1 for r in results if r.ok)})
