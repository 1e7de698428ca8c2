"""The shift leader's journeys: the real service with a full center directory (leaders on the console, the
emergency contact by SMS and webhook to a local receiver), agents on real websocket clients, Debian chromium.

Screens go to build/screens/leader/ (git-ignored), each at 1366×768 and 1920×1080.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from assist.app import Running
from assist.config import Settings
from tests.conftest import Client, issue, open_client, start_shared
from tests.routing.receiver import Receiver

SCREENS = Path(__file__).resolve().parents[3] / "build" / "screens" / "leader"
SIZES = ((1366, 768), (1920, 1080))
SECRET = "journey-secret"
CENTER_TZ = "Asia/Shanghai"


def center_toml(receiver: Receiver) -> str:
    """The plan's deadlines, and one person for every role the plan routes to."""
    contacts = [
        ("sl", "王班长", "shift_leader", 'console = "s1"'),
        ("sa", "赵管理员", "seat_admin", 'console = "sa1"'),
        ("bo", "钱后台", "back_office_duty", 'console = "b1"'),
        ("cm", "孙经理", "center_manager", 'console = "m1"'),
        ("dl", "李部长", "department_leader", f'webhook = "{receiver.url("/hook/dl")}"'),
        ("eb", "电子银行部", "ebanking_dept", f'webhook = "{receiver.url("/hook/eb")}"'),
        (
            "ec",
            "周主任",
            "emergency_contact",
            f'phone = "13800000009"\nsms = "13800000009"\nwebhook = "{receiver.url("/hook/ec")}"',
        ),
    ]
    lines = [
        "[deadlines]",
        "renotify = 0",
        "late_after = 5",
        "[delivery]",
        "tick = 0.05",
        "backoff = 0.05",
        "backoff_max = 0.2",
        "timeout = 2",
        f'sms_url = "{receiver.url("/sms")}"',
        "[schedule]",
        f'timezone = "{CENTER_TZ}"',
        'daily_report_at = "17:00"',
    ]
    for cid, name, role, channels in contacts:
        lines += ["[[contacts]]", f'id = "{cid}"', f'name = "{name}"', f'roles = ["{role}"]', channels]
    return "\n".join(lines) + "\n"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver(secret=SECRET).start()
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture
async def center(settings: Settings, tmp_path: Path, receiver: Receiver) -> AsyncIterator[Running]:
    path = tmp_path / "routing.toml"
    path.write_text(center_toml(receiver), encoding="utf-8")
    running = await start_shared(dataclasses.replace(settings, routing=path, notify_secret=SECRET))
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def bare_center(settings: Settings) -> AsyncIterator[Running]:
    """Out of the box: no routing file, so nobody is in the directory."""
    running = await start_shared(settings)
    try:
        yield running
    finally:
        await running.close()


class Console:
    """The leader's browser tab, and the errors its scripts raised (a journey ends with none)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def shoot(self, name: str) -> None:
        """The current screen at both sizes (the page re-lays itself out; nothing else changes)."""
        SCREENS.mkdir(parents=True, exist_ok=True)
        for w, h in SIZES:
            await self.page.set_viewport_size({"width": w, "height": h})
            # What a leader notices first on a small screen: nothing wider than the window.
            wide = await self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{name}: the page is {wide}px wider than a {w}px window"
            await self.page.screenshot(path=str(SCREENS / f"{name}-{w}x{h}.png"))
        await self.page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


async def open_console(
    browser: Browser,
    running: Running,
    user: str = "s1",
    role: str = "shift_leader",
    *,
    lang: str = "zh-CN",
    browser_tz: str = CENTER_TZ,
    token: str | None = None,
) -> Console:
    """Sign in as the docs say: open /console/leader, paste the token (issued now unless given), click 登录."""
    context = await browser.new_context(
        viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, locale=lang, timezone_id=browser_tz
    )
    page = await context.new_page()
    console = Console(page)
    await page.clock.install()  # time flows as usual, and a test can move it on
    await page.goto(f"http://127.0.0.1:{running.http_port}/console/leader")
    if lang == "en":
        await page.get_by_role("button", name="English").click()
    await page.get_by_test_id("token").fill(token or await issue(running, user, role))
    await page.get_by_test_id("login").click()
    await expect(page.get_by_test_id("conn")).to_have_text("已连接" if lang == "zh-CN" else "Live")
    return console


async def agent_on_call(running: Running, user: str, call_id: str, lines: list[str], **context: Any) -> Client:
    """An agent's softphone: a call with the customer's lines said on it."""
    agent = await open_client(running, user=user, role="agent")
    started = await agent.call("call.start", call_id=call_id, context=context)
    assert started["success"], started
    for text in lines:
        said = await agent.call("call.transcript", call_id=call_id, speaker="customer", text=text)
        assert said["success"], said
    return agent
