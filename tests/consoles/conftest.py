"""A real service with the trainer console wired in, as the lead wires it in make_app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from assist.app import Running, start
from assist.config import Settings


async def start_with_trainer(settings: Settings) -> Running:
    """The service exactly as `assist serve` starts it (make_app adds the trainer routes)."""
    return await start(settings)


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
