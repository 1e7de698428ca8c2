"""Bearer-token checks for the HTTP side: the same tokens and roles as the websocket."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from assist.errors import AuthRequired, InvalidFormat, InvalidJSON, Unauthorized
from assist.server.store import Store
from assist.session import Principal


async def require_role(request: web.Request, store: Store, roles: Iterable[str]) -> Principal:
    """The caller, if its `Authorization: Bearer <token>` carries one of `roles` (admin always passes).

    Raises AuthRequired (401) without a valid token and Unauthorized (403) for another role;
    the HTTP error middleware turns both into the JSON error body.
    """
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token:
        raise AuthRequired("send Authorization: Bearer <token> (assist token issue)")
    found = await store.lookup_token(token)
    if found is None:
        raise AuthRequired("invalid or revoked token")
    user, role = found
    allowed = set(roles) | {"admin"}
    if role not in allowed:
        raise Unauthorized(f"role {role!r} may not use this; needs one of {sorted(allowed)}")
    lang = request.headers.get("Accept-Language", "zh-CN")
    return Principal(user, role, "en" if lang.lower().startswith("en") else "zh-CN")


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} without a body); anything else is a structured 400."""
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidJSON("the request body is not JSON") from None
    except RecursionError:  # thousands of nested brackets: refused like the websocket's, not a 500
        raise InvalidJSON("the request body nests too deeply") from None
    if not isinstance(data, dict):
        raise InvalidFormat("the request body must be a JSON object")
    return data
