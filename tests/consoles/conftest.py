"""A real service with the trainer console wired in, as the lead wires it in make_app."""

from __future__ import annotations

import time

import aiohttp
import pytest

from assist.app import Running
from tests.conftest import Http


@pytest.fixture
def trainer_service(service: Running) -> Running:
    """The service exactly as `assist serve` starts it (make_app adds the trainer routes)."""
    return service


async def as_user(running: Running, session: aiohttp.ClientSession, user: str, role: str) -> Http:
    token = await running.store.issue_token(user, role, time.time())
    return Http(session, f"http://127.0.0.1:{running.http_port}", token)
