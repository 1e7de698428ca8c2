"""The contact directory over HTTP, for `admin`: GET and PUT /api/directory with a bearer token.

Errors use the service's one JSON body, {"error": {"code", "message"}}, whatever
middleware the app has.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from assist.errors import AssistError, InvalidJSON
from assist.server.routing.service import RoutingService
from assist.server.web.auth import require_role

SERVICE_KEY: web.AppKey[RoutingService] = web.AppKey("routing", RoutingService)

_STATUS = {"auth_required": 401, "unauthorized": 403, "not_found": 404, "conflict": 409}


def _error(exc: AssistError) -> web.Response:
    return web.json_response({"error": exc.to_json()}, status=_STATUS.get(exc.code, 400))


async def _admin(request: web.Request) -> str:
    who = await require_role(request, request.app[SERVICE_KEY].hub.store, ("admin",))
    return who.user


async def get_directory(request: web.Request) -> web.Response:
    try:
        await _admin(request)
    except AssistError as exc:
        return _error(exc)
    return web.json_response(request.app[SERVICE_KEY].directory.to_json())


async def put_directory(request: web.Request) -> web.Response:
    try:
        user = await _admin(request)
        try:
            body: Any = await request.json()
        except ValueError:
            raise InvalidJSON("the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise InvalidJSON("the body must be a JSON object")
        directory = await request.app[SERVICE_KEY].set_directory(body, user)
    except AssistError as exc:
        return _error(exc)
    return web.json_response(directory.to_json())


def add_routing_routes(app: web.Application, service: RoutingService) -> None:
    """Add /api/directory to `app` (before its runner is set up)."""
    app[SERVICE_KEY] = service
    app.router.add_get("/api/directory", get_directory)
    app.router.add_put("/api/directory", put_directory)
