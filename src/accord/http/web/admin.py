"""Administration pages: members, consumers, users, tokens, default handling, and the audit trail.

Permissions are the core's: every change passes ``actor=principal`` to the Accounts service, which decides. The
pages only hide what a role could not do anyway. None of these pages shows item content.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from accord.audit.listing import listing as audit_listing
from accord.audit.listing import presented as audit_presented
from accord.audit.listing import record_seq as audit_record_seq
from accord.errors import PermissionDenied, ValidationFailed
from accord.http.web.common import Admin, call, form, redirect, store, svc
from accord.http.web.i18n import render, tr
from accord.http.web.store import Defaults
from accord.sharing.handling import MEMBER_ROLES, USER_ROLES

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)


def _int(value: Any, field: str, default: int | None = None) -> int | None:
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise ValidationFailed.one(field, "must be a whole number") from None


@router.get("")
async def admin_page(request: Request, user: Admin) -> Response:
    s = svc(request)
    members = await call(s.accounts.list_members, user)
    scope = None if user.role == "hub-admin" else user.member_code
    users = await call(s.accounts.list_users, scope)
    tokens = {u["username"]: await call(s.accounts.list_tokens, u["username"]) for u in users}
    own = next(m for m in members if m["code"] == user.member_code)
    defaults = await call(store(request).defaults, own["id"])
    new_token = request.cookies.get("accord_new_token")
    resp = render(request, "admin.html", {
        "members": members, "users": users, "tokens": tokens, "defaults": defaults, "new_token": new_token,
        "member_roles": MEMBER_ROLES,
        "user_roles": [r for r in USER_ROLES if user.role == "hub-admin" or r != "hub-admin"],
        "member_codes": [m["code"] for m in members],
    })
    if new_token:
        resp.delete_cookie("accord_new_token", path="/admin")
    return resp


@router.post("/members")
async def add_member(request: Request, user: Admin) -> Response:
    data = await form(request)
    await call(svc(request).accounts.add_member, str(data.get("code", "")), str(data.get("name", "")),
               str(data.get("role", "member")), user)
    return redirect("/admin#members", tr(request, "Member added."))


@router.post("/consumers")
async def add_consumer(request: Request, user: Admin) -> Response:
    data = await form(request)
    member = str(data.get("member", user.member_code))
    await call(svc(request).accounts.add_consumer, member, str(data.get("code", "")), str(data.get("name", "")),
               user)
    return redirect("/admin#members", tr(request, "Consumer added."))


@router.post("/users")
async def add_user(request: Request, user: Admin) -> Response:
    data = await form(request)
    await call(svc(request).accounts.add_user, str(data.get("username", "")),
               str(data.get("member", user.member_code)), str(data.get("role", "analyst")),
               str(data.get("password", "")) or None, clearance=_int(data.get("clearance"), "clearance", 1),
               display_name=str(data.get("display_name", "")), consumer=str(data.get("consumer", "")) or None,
               language=str(data.get("language", "en")), actor=user)
    return redirect("/admin#users", tr(request, "User added."))


@router.post("/users/{username}/disable")
async def disable_user(request: Request, username: str, user: Admin) -> Response:
    data = await form(request)
    disabled = data.get("disabled", "1") == "1"
    await call(svc(request).accounts.set_disabled, username, disabled, user)
    return redirect("/admin#users", tr(request, "Account updated."))


@router.post("/tokens")
async def create_token(request: Request, user: Admin) -> Response:
    data = await form(request)
    issued = await call(svc(request).accounts.create_token, str(data.get("username", user.username)),
                        str(data.get("name", "api")) or "api", _int(data.get("days"), "days"), user)
    resp = redirect("/admin#tokens", tr(request, "Token created. Copy it now: it is shown once."))
    # Shown once on the next page; the cookie is scoped to /admin, HttpOnly, and lives one minute.
    resp.set_cookie("accord_new_token", issued.secret, httponly=True, samesite="strict", max_age=60, path="/admin")
    return resp


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: str, user: Admin) -> Response:
    await call(svc(request).accounts.revoke_token, token_id, user)
    return redirect("/admin#tokens", tr(request, "Token revoked."))


@router.post("/defaults")
async def set_defaults(request: Request, user: Admin) -> Response:
    data = await form(request)
    scope = str(data.get("release_scope", "members"))
    d = Defaults(tlp=str(data.get("tlp", "amber")), classification=_int(data.get("classification"), "classification",
                                                                          0) or 0,
                 release_scope=scope,
                 release_members=[str(m) for m in data.getlist("release_members")] if scope == "members" else [],
                 release_consumers=data.get("release_consumers") == "1",
                 reliability=str(data.get("reliability", "")) or None,
                 credibility=_int(data.get("credibility"), "credibility"))
    await call(store(request).set_defaults, user, str(data.get("member", user.member_code)), d)
    return redirect("/admin#defaults", tr(request, "Default handling saved."))


@router.get("/audit")
async def audit_page(request: Request, user: Admin) -> Response:
    """Hub administrators see the whole trail; a member administrator sees the records of its own member."""
    s = svc(request)
    q = request.query_params
    member = (q.get("member") or "").upper() or None
    if user.role != "hub-admin":
        if member and member != user.member_code:
            raise PermissionDenied("a member administrator sees its own member's records")
        member = user.member_code
    secret = s.settings.secret_key
    before = audit_record_seq(user, secret, q.get("before") or None)

    def search() -> list[dict[str, Any]]:
        with s.db.read() as conn:
            return audit_presented(user, secret, audit_listing(
                conn, user, member=member, action=q.get("action") or None, item_id=q.get("item") or None,
                limit=100, before=before))

    records = await call(search)
    for r in records:
        r["username"] = r["user"] or ""
    verification = await call(s.audit.verify) if user.role == "hub-admin" else None
    next_before = records[-1]["ref"] if len(records) == 100 else None
    return render(request, "audit.html", {"records": records, "verification": verification, "p": q,
                                          "next_before": next_before, "member": member})
