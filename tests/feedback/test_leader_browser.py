"""A shift leader corrects an escalated call's category in the leader console's resolve dialog (Debian chromium)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from assist.app import Running
from tests.conftest import issue, open_client
from tests.consoles_leader.test_leader_browser import open_console

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ASSIST_SCREENSHOTS", tempfile.gettempdir())) / "assist-screenshots"


async def test_a_shift_leader_corrects_the_category_when_resolving(service: Running, browser: Any) -> None:
    agent = await open_client(service)
    await agent.call("call.start", call_id="fb-esc-1", context={"queue": "retail"})
    await agent.call("call.transcript", call_id="fb-esc-1", speaker="customer", text="我要投诉你们，办个卡这么慢")
    esc = await agent.call("call.escalate", call_id="fb-esc-1", kind="complaint", reason="客户投诉办卡慢")
    esc_id = esc["escalation_id"]

    page = await open_console(browser, service, await issue(service, "s1", "shift_leader"))
    await page.get_by_test_id(f"resolve-{esc_id}").click()
    await page.get_by_test_id("dlg-resolution").fill("已向客户解释办卡流程")
    category = page.get_by_test_id("dlg-category")
    await expect(category.locator("option")).to_have_count(9)  # "no correction" and the pack's eight categories
    await category.select_option("none")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "leader-resolve-category.png"))
    await page.get_by_test_id("dlg-submit").click()
    await expect(page.locator("#toast")).to_contain_text("已记录类别更正：一般咨询")
    await expect(page.get_by_test_id(f"esc-{esc_id}")).to_have_count(0)

    assert service.feedback is not None
    items, _ = await service.feedback.items("open", "category", 10)
    assert [(i.source, i.user, i.call_id, i.corrected, i.escalation_id) for i in items] == [
        ("leader", "s1", "fb-esc-1", "none", esc_id)
    ]
    await agent.ws.close()
