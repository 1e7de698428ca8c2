"""The HTTP side (aiohttp): health, readiness and metrics, the plugin's files, the demo and the consoles.

Every error body has one shape: {"error": {"code", "message"}}.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from assist import __version__
from assist.config import Settings
from assist.errors import AssistError
from assist.server.ops.http import add_ops_routes
from assist.server.ops.logs import request_ids
from assist.server.packs.http import add_trainer_routes
from assist.server.packs.service import PackWorkers
from assist.server.packs.training import ModelTrainer
from assist.server.web.gate import GatedSite, body_deadline
from assist.server.web.plugin_routes import add_plugin_routes

log = logging.getLogger(__name__)

HUB_KEY: web.AppKey[Any] = web.AppKey("hub", object)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@web.middleware
async def errors_as_json(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response(
            error_body(exc.reason.lower().replace(" ", "_"), exc.text or exc.reason), status=exc.status
        )
    except AssistError as exc:
        status = {"not_found": 404, "unauthorized": 403, "auth_required": 401, "conflict": 409}.get(exc.code, 400)
        return web.json_response({"error": exc.to_json()}, status=status)
    except Exception:
        log.exception("http: unexpected error on %s %s", request.method, request.path)
        return web.json_response(error_body("internal_error", "internal error; logged"), status=500)


async def healthz(request: web.Request) -> web.Response:
    hub = request.app[HUB_KEY]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "pack_version": hub.desk.pack_version,
            "live_calls": len(hub.desk.calls),
            "connections": len(hub.connections),
        }
    )


LINGERING_SECONDS = 1.0
"""How long a connection answered before its body arrived (408, 413) is kept reading and dropping what still
comes, so that the client reads the answer rather than a reset. aiohttp's default, 10 s, kept a trickled body's
connection under the connection cap for ten seconds after its 408."""


async def start_http(app: web.Application, settings: Settings, *, shutdown_timeout: float = 60.0) -> web.AppRunner:
    """Serve `app`: a connection gets `http_header_timeout` to send each request's headers (its first through
    the `Gate`, later ones through aiohttp's keep-alive timeout) and at most `http_max_connections` are open.
    A request still running `shutdown_timeout` after the runner is told to stop is cut off."""
    runner = web.AppRunner(
        app,
        access_log=None,
        keepalive_timeout=settings.http_header_timeout,
        shutdown_timeout=shutdown_timeout,
        lingering_time=LINGERING_SECONDS,
    )
    await runner.setup()
    try:
        await GatedSite(
            runner,
            settings.host,
            settings.http_port,
            header_timeout=settings.http_header_timeout,
            max_connections=settings.http_max_connections,
        ).start()
    except BaseException:
        await runner.cleanup()  # the app's background tasks (cleanup_ctx) started with the setup
        raise
    return runner


def make_app(hub: Any, trainer: ModelTrainer | None = None, pack_workers: PackWorkers | None = None) -> web.Application:
    # Pack imports carry the whole pack (samples included): allow what a zip import may unpack to.
    app = web.Application(
        middlewares=[request_ids, errors_as_json, body_deadline(hub.settings.http_body_timeout)],
        client_max_size=8 * 1024 * 1024,
    )
    app[HUB_KEY] = hub
    app.router.add_get("/healthz", healthz)
    add_ops_routes(app, hub, getattr(hub, "metrics", None))  # /metrics, /readyz (docs/operations.md)
    add_trainer_routes(app, hub, trainer=trainer, workers=pack_workers)
    add_plugin_routes(app, hub.settings, hub.store, clock=hub.clock)
    return app
