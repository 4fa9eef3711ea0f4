"""Helpers shared by the API routers: reading JSON bodies with field-named errors, JSON responses."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from accord.errors import LimitExceeded, ValidationFailed

__all__ = ["json_body", "json_response", "request_id"]


async def json_body(request: Request) -> Any:
    limit = request.app.state.services.settings.max_body_bytes
    raw = await request.body()
    if len(raw) > limit:
        raise LimitExceeded(f"the request body is larger than {limit} bytes")
    if not raw:
        raise ValidationFailed.one("", "a JSON body is required")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed.one("", f"the body is not valid JSON ({exc.msg} at byte {exc.pos})") from None


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), status, headers=headers,
                    media_type="application/json")


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)
