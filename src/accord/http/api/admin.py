"""Sessions, members, users, tokens and the audit trail over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from accord.audit.listing import listing as audit_listing
from accord.audit.listing import presented as audit_presented
from accord.audit.listing import record_seq as audit_record_seq
from accord.errors import PermissionDenied
from accord.http.api.common import json_response, request_id
from accord.http.auth import SESSION_COOKIE, current_principal, services
from accord.sharing.handling import ADMIN_ROLES, Principal
from accord.sharing.validate import NUL_MESSAGE

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["administration"])
Caller = Annotated[Principal, Depends(current_principal)]


class _Body(BaseModel):
    # Unknown fields are refused, not ignored: a misspelt field must not pass silently.
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: object) -> object:
        # The JSON decoder lets through a NUL (which PostgreSQL refuses in text) and a lone surrogate escape
        # (which no database encodes): refused here, naming the field, rather than failing in the store.
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError(NUL_MESSAGE)
            try:
                value.encode()
            except UnicodeEncodeError:
                raise ValueError("must be valid Unicode text (a lone surrogate escape is not)") from None
        return value


class Login(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class NewMember(_Body):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    role: str = "member"


class NewConsumer(_Body):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class NewUser(_Body):
    username: str = Field(min_length=2, max_length=64)
    member: str = Field(min_length=1, max_length=32)
    role: str
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    clearance: int = Field(default=1, ge=0, le=4)
    display_name: str = Field(default="", max_length=200)
    consumer: str | None = None
    language: str = Field(default="en", pattern=r"^(en|fr|ar|ru|fa)$")


class NewToken(_Body):
    username: str | None = None
    name: str = Field(default="api", max_length=100)
    days: int = Field(default=90, ge=0, le=3650)


def _me(p: Principal) -> dict[str, object]:
    return {"username": p.username, "member": p.member_code, "role": p.role, "clearance": p.clearance,
            "language": p.language}


@router.post("/auth/login", summary="Open a session (sets a cookie); returns the CSRF token")
async def login(request: Request, body: Login) -> Response:
    svc = services(request)
    principal = await run_in_threadpool(svc.accounts.login, body.username, body.password, request_id(request))
    sid, csrf = await run_in_threadpool(svc.accounts.open_session, principal)
    resp = json_response({"user": _me(principal), "csrf_token": csrf})
    resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict",
                    secure=svc.settings.environment == "production", max_age=svc.settings.session_hours * 3600)
    return resp


@router.post("/auth/logout", summary="Close the session")
async def logout(request: Request, caller: Caller) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        await run_in_threadpool(services(request).accounts.close_session, sid, caller)
    resp = json_response({"ok": True})
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/me", summary="Who you are")
async def me(caller: Caller) -> Response:
    return json_response(_me(caller))


@router.get("/members", summary="Members of the centre and their consumers")
async def list_members(request: Request, caller: Caller) -> Response:
    return json_response({"members": await run_in_threadpool(services(request).accounts.list_members, caller)})


@router.post("/members", status_code=201, summary="Add a member (hub administrator)")
async def add_member(request: Request, body: NewMember, caller: Caller) -> Response:
    svc = services(request)
    out = await run_in_threadpool(lambda: svc.accounts.add_member(body.code, body.name, body.role, actor=caller))
    return json_response(out, 201)


@router.post("/members/{code}/consumers", status_code=201, summary="Add a consumer (downstream unit)")
async def add_consumer(request: Request, code: str, body: NewConsumer, caller: Caller) -> Response:
    svc = services(request)
    out = await run_in_threadpool(lambda: svc.accounts.add_consumer(code, body.code, body.name, actor=caller))
    return json_response(out, 201)


@router.get("/users", summary="Users (administrators see their member's; hub administrators all)")
async def list_users(request: Request, caller: Caller) -> Response:
    if caller.role not in ADMIN_ROLES:
        raise PermissionDenied("only administrators list users")
    member = None if caller.role == "hub-admin" else caller.member_code
    return json_response({"users": await run_in_threadpool(services(request).accounts.list_users, member)})


@router.post("/users", status_code=201, summary="Add a user (administrators)")
async def add_user(request: Request, body: NewUser, caller: Caller) -> Response:
    svc = services(request)
    out = await run_in_threadpool(lambda: svc.accounts.add_user(
        body.username, body.member, body.role, body.password, clearance=body.clearance,
        display_name=body.display_name, consumer=body.consumer, language=body.language, actor=caller))
    return json_response(out, 201)


@router.post("/users/{username}/disable", summary="Disable a user (administrators)")
async def disable_user(request: Request, username: str, caller: Caller) -> Response:
    await run_in_threadpool(lambda: services(request).accounts.set_disabled(username, True, actor=caller))
    return json_response({"ok": True})


@router.post("/tokens", status_code=201, summary="Create an API token; the secret is shown only in this response")
async def create_token(request: Request, body: NewToken, caller: Caller) -> Response:
    svc = services(request)
    issued = await run_in_threadpool(lambda: svc.accounts.create_token(
        body.username or caller.username, body.name, body.days, actor=caller))
    return json_response({"id": issued.id, "token": issued.secret, "expires": issued.expires}, 201)


@router.get("/tokens", summary="Your tokens")
async def list_tokens(request: Request, caller: Caller) -> Response:
    return json_response({"tokens": await run_in_threadpool(services(request).accounts.list_tokens, caller.username)})


@router.delete("/tokens/{token_id}", summary="Revoke a token")
async def revoke_token(request: Request, token_id: str, caller: Caller) -> Response:
    await run_in_threadpool(lambda: services(request).accounts.revoke_token(token_id, actor=caller))
    return Response(status_code=204)


@router.get("/audit", summary="The audit trail (administrators; member administrators see their member's records)")
async def audit(request: Request, caller: Caller, action: str | None = None, item_id: str | None = None,
                before: str | None = None, limit: int = 100) -> Response:
    """``before``: the ``ref`` of a listed record (the next page starts after the last one listed)."""
    if caller.role not in ADMIN_ROLES:
        raise PermissionDenied("only administrators read the audit trail")
    svc = services(request)
    member = None if caller.role == "hub-admin" else caller.member_code
    secret = svc.settings.secret_key
    before_seq = audit_record_seq(caller, secret, before)

    def run() -> list[dict[str, object]]:
        with svc.db.read() as conn:
            return audit_presented(caller, secret, audit_listing(
                conn, caller, member=member, action=action, item_id=item_id, limit=max(1, min(limit, 1000)),
                before=before_seq))

    return json_response({"records": await run_in_threadpool(run)})


@router.get("/audit/verify", summary="Verify the audit chain (hub administrator)")
async def audit_verify(request: Request, caller: Caller) -> Response:
    if caller.role != "hub-admin":
        raise PermissionDenied("only the hub administrator verifies the chain")
    v = await run_in_threadpool(services(request).audit.verify)
    return json_response({"ok": v.ok, "records": v.records, "first_bad_seq": v.first_bad_seq, "reason": v.reason})
