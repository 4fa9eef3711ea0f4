"""Helpers shared by the API routers: reading JSON bodies with field-named errors, JSON responses."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from accord.errors import FieldError, LimitExceeded, ValidationFailed
from accord.sharing.validate import NUL_MESSAGE

__all__ = ["json_body", "json_response", "nul_fields", "request_id"]


def nul_fields(value: Any, path: str = "", out: list[str] | None = None) -> list[str]:
    """The paths (``content.title``, ``tags[0]``) of the strings in a decoded JSON value that hold a NUL
    character, in a key or a value. PostgreSQL refuses NUL in text, and no field of the hub takes one."""
    out = [] if out is None else out
    if isinstance(value, str):
        if "\x00" in value:
            out.append(path)
    elif isinstance(value, dict):
        for k, v in value.items():
            key = f"{path}.{k}" if path else str(k)
            if "\x00" in str(k):
                out.append(key)
            else:
                nul_fields(v, key, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            nul_fields(v, f"{path}[{i}]", out)
    return out


async def json_body(request: Request, *, nul_free: bool = True) -> Any:
    """The request's JSON body. A NUL character in any of its strings is refused here, naming the field, unless
    ``nul_free`` is false: the item routes, whose validation names such fields itself, per object of a bulk."""
    limit = request.app.state.services.settings.max_body_bytes
    raw = await request.body()
    if len(raw) > limit:
        raise LimitExceeded(f"the request body is larger than {limit} bytes")
    if not raw:
        raise ValidationFailed.one("", "a JSON body is required")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed.one("", f"the body is not valid JSON ({exc.msg} at byte {exc.pos})") from None
    if nul_free and b"\\u0000" in raw:  # JSON can carry a NUL only escaped: the walk is skipped for almost every body
        bad = nul_fields(body)
        if bad:
            raise ValidationFailed([FieldError(f, NUL_MESSAGE) for f in bad])
    return body


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), status, headers=headers,
                    media_type="application/json")


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)
