"""Routing fixtures: the real service with routing installed, a local HTTP receiver, a short-deadline center."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from assist.app import Running
from assist.config import Settings
from assist.server.routing.service import RoutingService
from tests.conftest import start_shared
from tests.routing.receiver import Receiver

SECRET = "s3cret"


def routing_toml(
    receiver: Receiver,
    *,
    manager_sms: bool = False,
    delivery: Mapping[str, Any] | None = None,
    extra: str = "",
    **deadlines: float,
) -> str:
    """A center whose deadlines are seconds; leaders on consoles, the department leader by SMS + webhook.
    `delivery` overrides [delivery] keys; `extra` is appended (more contacts, a [linking] table)."""
    d = {
        "fault_level12_first": 30,
        "fault_level12_second": 60,
        "fault_level34_first": 0.6,
        "fault_level34_second": 30,
        "about_agent_back_office": 30,
        "about_agent_center_manager": 30,
        "renotify": 0,
        "late_after": 0.5,
        **deadlines,
    }
    dl: dict[str, Any] = {
        "tick": 0.05,
        "backoff": 0.05,
        "backoff_max": 0.2,
        "max_attempts": 6,
        "timeout": 60,
        "sms_url": receiver.url("/sms"),
        **(delivery or {}),
    }
    lines = [
        "[deadlines]",
        *(f"{k} = {v}" for k, v in d.items()),
        "[delivery]",
        *(f"{k} = {json.dumps(v)}" for k, v in dl.items()),
        "[schedule]",
        'timezone = "Asia/Shanghai"',
    ]
    contacts = [
        ("sl", "王班长", "shift_leader", 'console = "s1"'),
        ("sa", "赵管理员", "seat_admin", 'console = "sa1"'),
        ("bo", "钱后台", "back_office_duty", 'console = "b1"'),
        ("cm", "孙经理", "center_manager", 'console = "m1"' + ('\nsms = "13800000004"' if manager_sms else "")),
        ("dl", "李部长", "department_leader", f'sms = "13800000005"\nwebhook = "{receiver.url("/hook/dl")}"'),
        ("eb", "电子银行部", "ebanking_dept", f'webhook = "{receiver.url("/hook/eb")}"'),
        ("it", "信息技术部", "it_support", 'phone = "0571-8709 9999"'),
    ]
    for cid, name, role, channels in contacts:
        lines += ["[[contacts]]", f'id = "{cid}"', f'name = "{name}"', f'roles = ["{role}"]', channels]
    lines += ["[[internal_numbers]]", 'name = "数据中心"', 'number = "021-6888 7777"']
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver(secret=SECRET).start()
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture
def routing_settings(settings: Settings, tmp_path: Path, receiver: Receiver) -> Settings:
    path = tmp_path / "routing.toml"
    path.write_text(routing_toml(receiver), encoding="utf-8")
    return dataclasses.replace(settings, routing=path, notify_secret=SECRET)


@pytest.fixture
async def center(routing_settings: Settings) -> AsyncIterator[tuple[Running, RoutingService]]:
    running = await start_shared(routing_settings)
    routing = running.routing
    try:
        yield running, routing
    finally:
        await routing.close()
        await running.close()
