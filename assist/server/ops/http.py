"""The operator's HTTP side: `/metrics` (Prometheus), `/readyz`, and what runs beside the service for as
long as its HTTP app does: the serving lock on the database, private file modes, the daily purge, and
feeding the live calls' names to the log masker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from assist.server.ops import files, logs, retention
from assist.server.ops.backup import hold_serving_lock
from assist.server.ops.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

DB_CHECK_TIMEOUT = 2.0
"""Seconds `/readyz` waits for the database to answer before it says the database is unreachable."""


@dataclass
class Ops:
    """One instance's operator state: its metrics and whether it is draining (no new work)."""

    hub: Any
    metrics: Metrics
    draining: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    in_flight: int = 0
    """HTTP requests being answered (a drain waits for them)."""
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def drain(self) -> None:
        """From now on `/readyz` says 503, so a load balancer sends new work elsewhere, and every other new
        request is refused with 503 (`refuse_while_draining`)."""
        self.draining = True

    def request_done(self) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            self._idle.set()

    async def requests_done(self) -> None:
        """Returns once no HTTP request is being answered (during a drain no new one starts)."""
        while self.in_flight:
            self._idle.clear()
            await self._idle.wait()

    async def readiness(self) -> dict[str, str]:
        """Each check's problem (empty: ready)."""
        problems: dict[str, str] = {}
        try:
            async with asyncio.timeout(DB_CHECK_TIMEOUT):
                async with self.hub.store.db.execute("SELECT 1 FROM schema_versions LIMIT 1") as cur:
                    await cur.fetchone()
        except Exception as exc:
            problems["database"] = f"not reachable: {type(exc).__name__}: {exc}".rstrip(": ")
        desk = self.hub.desk
        if getattr(desk, "pack", None) is None or not getattr(desk, "pack_version", ""):
            problems["pack"] = "no pack loaded"
        if self.draining:
            problems["draining"] = "the instance is shutting down"
        return problems


OPS_KEY: web.AppKey[Ops] = web.AppKey("ops", Ops)

WHILE_DRAINING = frozenset({"/healthz", "/readyz", "/metrics"})
"""What the HTTP side still answers during a drain: the operator's and the load balancer's questions."""


@web.middleware
async def refuse_while_draining(request: web.Request, handler: Any) -> web.StreamResponse:
    """During a drain a new request gets 503 (nginx retries an idempotent one on another instance,
    `deploy/nginx-two-instances.conf`); requests under way finish before the listener closes."""
    ops = request.app[OPS_KEY]
    if ops.draining and request.path not in WHILE_DRAINING:
        return web.json_response(
            {"error": {"code": "draining", "message": "this instance is shutting down; try again"}},
            status=503,
            headers={"Retry-After": "1", "Connection": "close"},
        )
    ops.in_flight += 1
    try:
        response: web.StreamResponse = await handler(request)
        return response
    finally:
        ops.request_done()


async def metrics_handler(request: web.Request) -> web.Response:
    ops = request.app[OPS_KEY]
    await ops.metrics.refresh(ops.hub, ops.hub.clock())
    return web.Response(body=ops.metrics.render(), headers={"Content-Type": CONTENT_TYPE})


async def readyz(request: web.Request) -> web.Response:
    problems = await request.app[OPS_KEY].readiness()
    if not problems:
        return web.json_response({"status": "ready"})
    message = "; ".join(f"{k}: {v}" for k, v in problems.items())
    return web.json_response({"error": {"code": "not_ready", "message": message}, "checks": problems}, status=503)


def _live_contexts(hub: Any) -> Iterable[Mapping[str, Any]]:
    return [c.context for c in list(hub.desk.calls.values())]


def add_ops_routes(app: web.Application, hub: Any, metrics: Metrics | None = None) -> Ops:
    """`/metrics` and `/readyz`, and the instance's operator tasks started and stopped with the app."""
    ops = Ops(hub, metrics or Metrics())
    app[OPS_KEY] = ops
    app.middlewares.append(refuse_while_draining)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/readyz", readyz)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        store = hub.store
        lock = await asyncio.to_thread(hold_serving_lock, store.file) if store.file is not None else None
        if store.file is not None:  # a SQLite file (PostgreSQL keeps its own files)
            files.tighten(store.file)
        await ops.metrics.start(store.db)
        masks = logs.mask_filters()

        def contexts() -> Iterable[Mapping[str, Any]]:
            return _live_contexts(hub)

        for mask in masks:
            mask.watch_contexts(contexts)
        ops.tasks.append(
            asyncio.create_task(
                retention.purge_daily(store, lambda: float(hub.settings.retention_days), hub.clock),
                name="retention-purge",
            )
        )
        try:
            yield
        finally:
            ops.drain()
            for task in ops.tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for mask in masks:
                mask.unwatch(contexts)
            if lock is not None:
                lock.close()

    app.cleanup_ctx.append(lifetime)
    return ops
