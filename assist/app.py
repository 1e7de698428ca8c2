"""Composition root: settings -> store -> pack -> desk -> websocket and HTTP servers.

Also the orderly shutdown (`Running.drain`, on SIGTERM): stop accepting, tell every client to reconnect
elsewhere, let the work under way and the store writer finish, close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from websockets.asyncio.server import Server

from assist.config import Settings, describe_db
from assist.live.desk import Desk
from assist.problems import PackError, Problem
from assist.scripts.file_cache import FileCache
from assist.scripts.pack import Pack, load_pack, read_pack_dir
from assist.scripts.pack_model import training_digest
from assist.server.cluster import open_bus
from assist.server.feedback.http import add_feedback_routes
from assist.server.feedback.service import FeedbackService, start_feedback
from assist.server.leader.http import add_leader_routes, unstaffed
from assist.server.live.ws import RESTART_REASON, SERVICE_RESTART, Hub, start_ws
from assist.server.ops.crypto import load_cipher
from assist.server.ops.http import OPS_KEY
from assist.server.packs import store as ps
from assist.server.packs.service import PackWorkers
from assist.server.packs.training import ModelTrainer
from assist.server.routing.http import add_routing_routes
from assist.server.routing.service import RoutingService, start_routing
from assist.server.schema import SCHEMA
from assist.server.store import Store
from assist.server.web.http import make_app, start_http

log = logging.getLogger("assist")

HTTP_SHUTDOWN_TIMEOUT = 1.0
"""Seconds an HTTP request still running when the HTTP side closes may take (a drain has waited for it)."""


async def pack_in_force(store: Store, settings: Settings, trainer: ModelTrainer, now: float) -> tuple[Pack, str]:
    """The latest published pack with its models; the pack directory is imported as a new version (and
    its models trained) when its files change."""
    if not settings.pack.is_dir():
        raise PackError([Problem((), f"pack directory not found: {settings.pack}")])
    files = read_pack_dir(settings.pack)
    # one cache for the three loads below: the version in force is usually the disk's files, compiled once
    cache = FileCache()
    disk = await asyncio.to_thread(load_pack, files, cache=cache)  # validated before anything is trained or stored
    current = await ps.current(store.db)
    if current is None or await ps.disk_digest(store.db) != disk.digest:
        log.info(
            "assist: importing pack %s from %s: training its model on %d samples (a few seconds)",
            disk.id,
            settings.pack,
            len(disk.samples),
        )
        model = await trainer.train(files, in_process=True)
        pack = await asyncio.to_thread(load_pack, files, models=model, cache=cache)
        async with store.unit() as db:
            version = await ps.save_version(
                db, pack.id, pack.version, pack.digest, files, "published", f"disk:{settings.pack}", now, model=model
            )
        log.info(
            "assist: pack %s imported as v%d, model trained from %d samples (%s)",
            pack.id,
            version,
            len(pack.samples),
            training_digest(files),
        )
        return pack, f"v{version}"
    version, stored, stored_model = current
    pack = await asyncio.to_thread(load_pack, stored, models=stored_model, cache=cache)
    if pack.model_problem:
        log.warning("assist: pack v%d runs on its rules alone: %s", version, pack.model_problem)
    return pack, f"v{version}"


@dataclass
class Running:
    hub: Hub
    store: Store
    ws_server: Server
    http_runner: web.AppRunner
    ws_port: int
    http_port: int
    routing: RoutingService
    sweeper: asyncio.Task[None]
    trainer: ModelTrainer
    feedback: FeedbackService | None = None

    async def drain(self, timeout: float) -> bool:
        """Take the instance out of service without cutting anyone off mid-command (docs/operations.md,
        "Drain and restart"): `/readyz` says 503 and new HTTP requests get 503 at once, the websocket
        listener closes, the timers stop (pending deadlines stay in the store for the next start), every
        websocket is closed with 1012 once its command under way is answered, deliveries under way finish,
        then everything closes and the store writer commits what it holds. What is still running after
        `timeout` seconds is cut off. True when the drain finished in time."""
        ops = self.http_runner.app[OPS_KEY]
        ops.drain()
        self.ws_server.server.close()  # the listening socket only; connections are closed below, with 1012
        self.sweeper.cancel()
        deliveries = asyncio.create_task(self.routing.close(grace=timeout), name="drain-routing")
        clean = True
        try:
            async with asyncio.timeout(timeout):
                await self.hub.drain()
                # a connection that authenticated while the drain began, if any, runs nothing: 1012 too
                self.ws_server.close(code=SERVICE_RESTART, reason=RESTART_REASON)
                await self.ws_server.wait_closed()
                await asyncio.shield(deliveries)
                await ops.requests_done()
        except TimeoutError:
            clean = False
            log.warning("assist: the drain took over %g s; cutting off what is left", timeout)
            await self.hub.cut_off()
            self.ws_server.close()  # 1001 to the other connections left (a no-op once it closed with 1012)
        await deliveries  # bounded by its own grace; the routing loops end before the store closes
        await self.close()
        return clean

    async def close(self) -> None:
        self.sweeper.cancel()
        self.trainer.close()
        if self.feedback is not None:
            await self.feedback.close()
        await self.routing.close()  # stop the scheduler before the store closes
        await _closed(self.ws_server)
        await self.http_runner.cleanup()
        await self.hub.bus.close()
        await self.store.close()


async def start(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    trainer: ModelTrainer | None = None,
    pack_workers: PackWorkers | None = None,
) -> Running:
    """Start the service. `clock` is its time: calls, deadlines, deliveries, demo tokens and pack versions are
    stamped and scheduled by it (a test may make it stand still). `trainer` and `pack_workers` may be shared
    (tests start many services on the same pack); the service closes only those it made."""
    owned = trainer is None
    trainer = trainer or ModelTrainer()
    # What has started is stopped again if a later part fails (a port in use, an invalid pack, a database
    # that went away): otherwise the store's thread and the timers kept the process alive, and `serve`
    # hung after printing its error instead of exiting.
    async with contextlib.AsyncExitStack() as undo:
        if owned:
            undo.callback(trainer.close)
        store = await Store.open(
            settings.db, SCHEMA, load_cipher(settings.db, settings.data_key, settings.data_key_file)
        )
        undo.push_async_callback(store.close)
        pack, version = await pack_in_force(store, settings, trainer, clock())
        store.start_writer()
        hub = Hub(settings, Desk(pack, version), store, clock)
        hub.bus = await open_bus(settings.db)
        undo.push_async_callback(hub.bus.close)
        hub.listen()  # before the features add theirs: a call another instance took is let go before it is shown
        restored = await hub.restore_live_calls()
        if restored:
            log.info("assist: %d live call(s) taken back from the store", restored)
        routing = await start_routing(hub, settings)
        undo.push_async_callback(routing.close)  # its scheduler stops before the store closes
        feedback = start_feedback(hub, routing)
        undo.push_async_callback(feedback.close)
        ws_server = await start_ws(hub)
        undo.push_async_callback(_closed, ws_server)
        sweeper = asyncio.create_task(hub.expire_abandoned(), name="expire-abandoned-calls")
        undo.callback(sweeper.cancel)
        app = make_app(hub, trainer, pack_workers)
        add_routing_routes(app, routing)
        add_leader_routes(app, routing, ws_server)
        add_feedback_routes(app, feedback)
        # a request still running at the end of a drain (`Running.drain` waited drain_timeout for it) is cut off
        runner = await start_http(app, settings, shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT)
        ws_port = next(iter(ws_server.sockets)).getsockname()[1]
        assert runner.addresses
        http_port = runner.addresses[0][1]
        undo.pop_all()  # started whole: `Running.close` stops it from here on
    return Running(hub, store, ws_server, runner, ws_port, http_port, routing, sweeper, trainer, feedback)


async def _closed(server: Server) -> None:
    server.close()
    await server.wait_closed()


async def serve_forever(settings: Settings) -> None:
    running = await start(settings)
    # Live calls keep many small objects; with the default thresholds the cyclic collector's
    # passes over them stalled every connection for 100-300 ms at 2,000 calls (bench.connections:
    # p99 385 ms -> 31 ms). Startup objects (the pack's automata) are frozen out of it entirely,
    # and so is each newly published pack (`Hub.freeze_after_publish`); docs/performance.md.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    running.hub.freeze_after_publish = True
    host = settings.host
    print(
        f"assist: pack {running.hub.desk.pack.id} {running.hub.desk.pack_version}, database {describe_db(settings.db)}",
        flush=True,
    )
    print(f"assist: websocket ws://{host}:{running.ws_port}/ws", flush=True)
    print(f"assist: http      http://{host}:{running.http_port}/  (health: /healthz, demo: /demo)", flush=True)
    nobody = unstaffed(running.routing)
    if nobody:  # out of the box (no routing file) that is every role: escalations would reach nobody unnoticed
        print(
            f"assist: the contact directory has nobody for {len(nobody)} role(s): {', '.join(nobody)}; their "
            'escalation steps reach nobody (only audited as unrouted). Fill it as docs/routing.md "The routing '
            'file" says ([[contacts]] in the routing file, or PUT /api/directory).',
            flush=True,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("assist: draining (up to %g s): clients are told to reconnect", settings.drain_timeout)
    clean = await running.drain(settings.drain_timeout)
    log.info("assist: stopped%s", "" if clean else " (drain cut short)")
