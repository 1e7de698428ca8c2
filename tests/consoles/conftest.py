"""A real service with the trainer console wired in, as the lead wires it in make_app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from assist.app import Running, pack_in_force
from assist.config import Settings
from assist.desk import Desk
from assist.scripts.lifecycle import Policy
from assist.server.http import make_app
from assist.server.store import Store
from assist.server.trainer_http import add_trainer_routes
from assist.server.ws import Hub, start_ws


async def start_with_trainer(settings: Settings, policy: Policy | None = None) -> Running:
    store = await Store.open(settings.db)
    pack, version = await pack_in_force(store, settings, time.time())
    store.start_writer()
    hub = Hub(settings, Desk(pack, version), store)
    ws_server = await start_ws(hub)
    app = make_app(hub)
    add_trainer_routes(app, hub, policy)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.http_port)
    await site.start()
    ws_port = next(iter(ws_server.sockets)).getsockname()[1]
    assert runner.addresses
    return Running(hub, store, ws_server, runner, ws_port, runner.addresses[0][1])


@pytest.fixture
async def trainer_service(settings: Settings) -> AsyncIterator[Running]:
    running = await start_with_trainer(settings)
    try:
        yield running
    finally:
        await running.close()


@dataclass
class Http:
    """A JSON client for the API with one token."""

    session: aiohttp.ClientSession
    base: str
    token: str | None

    async def call(self, method: str, path: str, body: Any = None, *, expect: int | None = 200) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(method, self.base + path, json=body, headers=headers) as resp:
            data = await resp.json() if resp.content_type == "application/json" else await resp.read()
            if expect is not None:
                assert resp.status == expect, (resp.status, data)
            return data


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def as_user(running: Running, session: aiohttp.ClientSession, user: str, role: str) -> Http:
    token = await running.store.issue_token(user, role, time.time())
    return Http(session, f"http://127.0.0.1:{running.http_port}", token)
