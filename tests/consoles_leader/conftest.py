"""The real service with the shift-leader console wired in, a small center's directory, and HTTP/browser helpers."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from assist.app import Running
from assist.config import Settings
from tests.conftest import Http, start_shared

ROUTING = """
[deadlines]
renotify = 0
late_after = 0.5
[delivery]
tick = 0.05
[schedule]
timezone = "Asia/Shanghai"
daily_report_at = "17:00"
"""

CONTACTS = [
    ("sl", "王班长", "shift_leader", "s1"),
    ("sa", "赵管理员", "seat_admin", "sa1"),
    ("bo", "钱后台", "back_office_duty", "b1"),
    ("cm", "孙经理", "center_manager", "m1"),
    ("dl", "李部长", "department_leader", "d1"),
]
"""Everyone on the console channel only: nothing leaves the test machine."""


@pytest.fixture
def leader_settings(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "routing.toml"
    lines = [ROUTING]
    for cid, name, role, user in CONTACTS:
        lines += ["[[contacts]]", f'id = "{cid}"', f'name = "{name}"', f'roles = ["{role}"]', f'console = "{user}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dataclasses.replace(settings, routing=path)


@pytest.fixture
async def center(leader_settings: Settings) -> AsyncIterator[Running]:
    running = await start_shared(leader_settings)
    try:
        yield running
    finally:
        await running.close()


async def as_user(running: Running, session: aiohttp.ClientSession, user: str | None, role: str = "") -> Http:
    token = await running.store.issue_token(user, role, time.time()) if user else None
    return Http(session, f"http://127.0.0.1:{running.http_port}", token)
