"""The trainer console in Debian chromium: edit a keyword, try it, approve as a second trainer, publish live."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from assist.app import Running
from tests.conftest import issue, open_client

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ASSIST_SCREENSHOTS", "/tmp/assist-trainer-shots"))


async def sign_in(browser: Browser, running: Running, token: str) -> Page:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page = await context.new_page()
    page.on("dialog", lambda d: d.accept())
    await page.goto(f"http://127.0.0.1:{running.http_port}/console/trainer")
    await page.get_by_test_id("token").fill(token)
    await page.get_by_test_id("login").click()
    return page


async def test_trainer_edits_keyword_second_trainer_approves_and_agents_get_the_new_version(
        trainer_service: Running, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    agent = await open_client(trainer_service)
    await agent.call("call.start", call_id="c1", context={})
    await agent.call("call.transcript", call_id="c1", speaker="customer", text="我的手机银行页面全是火星文")

    page = await sign_in(browser, trainer_service, await issue(trainer_service, "t1", "trainer"))
    await page.get_by_test_id("try-input").fill("客户：我的手机银行页面全是火星文")
    category = page.get_by_test_id("try-category")
    await expect(category).to_have_attribute("data-category", "none")

    await page.get_by_test_id("nav-system_outage").click()
    keywords = page.get_by_test_id("keywords-error_message")
    await keywords.fill(await keywords.input_value() + "，火星文")
    await page.get_by_test_id("save-rule-error_message").click()
    await expect(page.get_by_test_id("draft-status")).to_have_text("编辑中")
    await expect(category).to_have_attribute("data-category", "system_outage", timeout=10_000)
    await page.screenshot(path=str(SHOTS / "edit.png"), full_page=False)

    await page.get_by_test_id("go-review").click()
    await expect(page.get_by_test_id("blockers")).to_contain_text("approval", timeout=10_000)
    await page.get_by_test_id("action-submit").click()  # runs every sample first: seconds on a busy machine
    await expect(page.get_by_test_id("draft-status")).to_have_text("待审批", timeout=60_000)
    await expect(page.get_by_test_id("action-approve")).to_have_count(0)  # the author cannot approve

    second = await sign_in(browser, trainer_service, await issue(trainer_service, "t2", "trainer"))
    await second.get_by_test_id("go-review").click()
    await second.get_by_test_id("action-approve").click()
    await expect(second.get_by_test_id("approvals")).to_contain_text("1/1")
    await second.get_by_test_id("run-samples").click()
    await expect(second.get_by_test_id("samples-result")).to_contain_text("样例通过", timeout=90_000)
    # The back-test shows rules, model and combined side by side, with the cross-validated estimate.
    parts = second.get_by_test_id("parts")
    await expect(parts).to_contain_text("仅规则")
    await expect(parts).to_contain_text("综合·交叉验证")
    await expect(second.get_by_test_id("cv-summary")).to_contain_text(re.compile(r"综合判断宏F1 \d+\.\d%"))
    assert await parts.locator("td[data-part=cv_combined]").count() == 8
    await second.screenshot(path=str(SHOTS / "review.png"), full_page=True)
    await second.get_by_test_id("action-publish").click()
    await expect(second.get_by_test_id("published-version")).to_have_text("v2", timeout=10_000)

    update = await agent.push("assist.update", call_id="c1", pack_version="v2")
    assert update["category"] == "system_outage"
    await agent.ws.close()


async def test_an_agent_token_cannot_use_the_console(trainer_service: Running, browser: Browser) -> None:
    page = await sign_in(browser, trainer_service, await issue(trainer_service, "a1", "agent"))
    await expect(page.get_by_test_id("login-error")).to_contain_text("无权使用培训台")
    await expect(page.locator("#app")).to_be_hidden()
