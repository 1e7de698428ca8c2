"""A real service with the trainer console wired in, as the lead wires it in make_app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from assist.app import Running, start
from assist.config import Settings
from tests.conftest import Http


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




async def as_user(running: Running, session: aiohttp.ClientSession, user: str, role: str) -> Http:
    token = await running.store.issue_token(user, role, time.time())
    return Http(session, f"http://127.0.0.1:{running.http_port}", token)
