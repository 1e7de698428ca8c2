"""Composition root: settings -> store -> pack -> desk -> websocket and HTTP servers.

Also the orderly shutdown: stop accepting, let the store writer drain, close.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from websockets.asyncio.server import Server

from assist.config import Settings
from assist.live.desk import Desk
from assist.problems import PackError, Problem
from assist.scripts.pack import Pack, load_pack, read_pack_dir
from assist.scripts.pack_model import training_digest
from assist.server.feedback.http import add_feedback_routes
from assist.server.feedback.service import FeedbackService, start_feedback
from assist.server.leader.http import add_leader_routes
from assist.server.live.ws import Hub, start_ws
from assist.server.ops.crypto import load_cipher
from assist.server.packs import store as ps
from assist.server.packs.training import ModelTrainer
from assist.server.routing.http import add_routing_routes
from assist.server.routing.service import RoutingService, start_routing
from assist.server.schema import SCHEMA
from assist.server.store import Store
from assist.server.web.http import make_app

log = logging.getLogger("assist")


async def pack_in_force(store: Store, settings: Settings, trainer: ModelTrainer, now: float) -> tuple[Pack, str]:
    """The latest published pack with its models; the pack directory is imported as a new version (and
    its models trained) when its files change."""
    if not settings.pack.is_dir():
        raise PackError([Problem((), f"pack directory not found: {settings.pack}")])
    files = read_pack_dir(settings.pack)
    disk = await asyncio.to_thread(load_pack, files)  # validates before anything is trained or stored
    current = await ps.current(store.db)
    if current is None or await ps.disk_digest(store.db) != disk.digest:
        log.info("assist: importing pack %s from %s: training its model on %d samples (a few seconds)",
                 disk.id, settings.pack, len(disk.samples))
        model = await trainer.train(files, in_process=True)
        pack = await asyncio.to_thread(load_pack, files, models=model)
        async with store.unit() as db:
            version = await ps.save_version(db, pack.id, pack.version, pack.digest, files, "published",
                                            f"disk:{settings.pack}", now, model=model)
        log.info("assist: pack %s imported as v%d, model trained from %d samples (%s)", pack.id, version,
                 len(pack.samples), training_digest(files))
        return pack, f"v{version}"
    version, stored, stored_model = current
    pack = await asyncio.to_thread(load_pack, stored, models=stored_model)
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

    async def close(self) -> None:
        self.sweeper.cancel()
        self.trainer.close()
        if self.feedback is not None:
            await self.feedback.close()
        await self.routing.close()  # stop the scheduler before the store closes
        self.ws_server.close()
        await self.ws_server.wait_closed()
        await self.http_runner.cleanup()
        await self.store.close()


async def start(settings: Settings, *, clock: Callable[[], float] = time.time,
                trainer: ModelTrainer | None = None) -> Running:
    """Start the service. `clock` is its time: calls, deadlines, deliveries, demo tokens and pack versions are
    stamped and scheduled by it (a test may make it stand still). `trainer` may be shared (tests start many
    services on the same pack)."""
    trainer = trainer or ModelTrainer()
    store = await Store.open(settings.db, SCHEMA,
                             load_cipher(settings.db, settings.data_key, settings.data_key_file))
    try:
        pack, version = await pack_in_force(store, settings, trainer, clock())
    except BaseException:
        await store.close()  # an invalid pack must not leave the database's thread behind (the process would hang)
        raise
    store.start_writer()
    hub = Hub(settings, Desk(pack, version), store, clock)
    restored = await hub.restore_live_calls()
    if restored:
        log.info("assist: %d live call(s) taken back from the store", restored)
    routing = await start_routing(hub, settings)
    feedback = start_feedback(hub, routing)
    ws_server = await start_ws(hub)
    sweeper = asyncio.create_task(hub.expire_abandoned(), name="expire-abandoned-calls")
    app = make_app(hub, trainer)
    add_routing_routes(app, routing)
    add_leader_routes(app, routing, ws_server)
    add_feedback_routes(app, feedback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.http_port)
    await site.start()
    ws_port = next(iter(ws_server.sockets)).getsockname()[1]
    assert runner.addresses
    http_port = runner.addresses[0][1]
    return Running(hub, store, ws_server, runner, ws_port, http_port, routing, sweeper, trainer, feedback)


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
    print(f"assist: pack {running.hub.desk.pack.id} {running.hub.desk.pack_version}, database {settings.db}",
          flush=True)
    print(f"assist: websocket ws://{host}:{running.ws_port}/ws", flush=True)
    print(f"assist: http      http://{host}:{running.http_port}/  (health: /healthz, demo: /demo)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("assist: shutting down")
    await running.close()
