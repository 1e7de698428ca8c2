"""The trainer console in Debian chromium: edit a keyword, try it, approve as a second trainer, publish live;
edit a talking point in its card and save it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from assist.app import Running
from tests.conftest import Http, issue, open_client

pytestmark = [pytest.mark.browser, pytest.mark.small_pack]
expect.set_options(timeout=60_000)  # an upper bound: a keyword save takes seconds on a busy machine

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
    trainer_service: Running, browser: Browser
) -> None:
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
    await expect(category).to_have_attribute("data-category", "system_outage")
    await page.screenshot(path=str(SHOTS / "edit.png"), full_page=False)

    await page.get_by_test_id("go-review").click()
    await expect(page.get_by_test_id("blockers")).to_contain_text("请先提交审批", timeout=300_000)
    await page.get_by_test_id("action-submit").click()  # runs every sample first: seconds on a busy machine
    await expect(page.get_by_test_id("draft-status")).to_have_text("待审批", timeout=300_000)
    await expect(page.get_by_test_id("action-approve")).to_have_count(0)  # the author cannot approve

    second = await sign_in(browser, trainer_service, await issue(trainer_service, "t2", "trainer"))
    await second.get_by_test_id("go-review").click()
    await second.get_by_test_id("action-approve").click()
    await expect(second.get_by_test_id("approvals")).to_contain_text("1/1")
    await second.get_by_test_id("run-samples").click()
    await expect(second.get_by_test_id("samples-result")).to_contain_text("样例通过", timeout=300_000)
    # The back-test shows rules, model and combined side by side, with the cross-validated estimate.
    parts = second.get_by_test_id("parts")
    await expect(parts).to_contain_text("仅规则")
    await expect(parts).to_contain_text("综合·交叉验证")
    await expect(second.get_by_test_id("cv-summary")).to_contain_text(re.compile(r"综合判断宏F1 \d+\.\d%"))
    assert await parts.locator("td[data-part=cv_combined]").count() == 8
    await second.screenshot(path=str(SHOTS / "review.png"), full_page=True)
    await second.get_by_test_id("action-publish").click()
    await expect(second.get_by_test_id("published-version")).to_have_text("v2", timeout=300_000)

    update = await agent.push(
        "assist.update", call_id="c1", pack_version="v2", category="system_outage"
    )  # after the first update: the call re-decided
    assert update["category"] == "system_outage"
    await agent.ws.close()


async def test_an_agent_token_cannot_use_the_console(trainer_service: Running, browser: Browser) -> None:
    page = await sign_in(browser, trainer_service, await issue(trainer_service, "a1", "agent"))
    await expect(page.get_by_test_id("login-error")).to_contain_text("无权使用培训台")
    await expect(page.locator("#app")).to_be_hidden()


async def test_talking_points_and_steps_are_fields_and_a_trainer_edits_and_saves_a_talking_point(
    trainer_service: Running, browser: Browser, http_session: aiohttp.ClientSession
) -> None:
    token = await issue(trainer_service, "t1", "trainer")
    trainer = Http(http_session, f"http://127.0.0.1:{trainer_service.http_port}", token)
    published = (await trainer.call("GET", "/api/pack/current"))["structured"]["scripts.yaml"]["categories"]
    script = published["system_outage"]
    page = await sign_in(browser, trainer_service, token)
    await page.get_by_test_id("nav-system_outage").click()

    # 话术: one field per talking point and language, holding its template (not "[object HTMLLabelElement]")
    points = page.get_by_test_id("talking-points")
    await expect(points.locator("textarea")).to_have_count(2 * len(script["talking_points"]))
    for tp in script["talking_points"]:
        for lang in ("zh-CN", "en"):
            await expect(points.get_by_test_id(f"tp-{tp['id']}-{lang}")).to_have_value(tp[lang])
    steps = page.get_by_test_id("steps")
    for lang in ("zh-CN", "en"):
        await expect(steps.get_by_test_id(f"steps-{lang}")).to_have_value("\n".join(script["steps"][lang]))
    assert "[object" not in await page.locator("body").inner_text()

    first = script["talking_points"][0]
    new = "{{ customer_name or '您' }}好，系统正在升级，给您添麻烦了。建议您先到柜台或自助终端办理。"
    await points.get_by_test_id(f"tp-{first['id']}-zh-CN").fill(new)
    await expect(points.get_by_test_id(f"tp-{first['id']}-zh-CN-preview")).to_contain_text("系统正在升级，给您添麻烦了")
    await points.get_by_test_id(f"save-tp-{first['id']}").click()
    await expect(page.get_by_test_id("draft-status")).to_have_text("编辑中")
    saved = page.get_by_test_id("talking-points").get_by_test_id(f"tp-{first['id']}-zh-CN")
    await expect(saved).to_have_value(new)  # the card, drawn again from the draft
    assert "[object" not in await page.locator("body").inner_text()

    drafts = (await trainer.call("GET", "/api/pack/drafts"))["drafts"]
    draft = await trainer.call("GET", f"/api/pack/drafts/{drafts[0]['id']}")
    assert draft["problems"] == []
    edited = draft["structured"]["scripts.yaml"]["categories"]
    assert edited["system_outage"]["talking_points"][0] == {**first, "zh-CN": new}
    assert {c: v for c, v in edited.items() if c != "system_outage"} == {
        c: v for c, v in published.items() if c != "system_outage"
    }, "only that talking point changed"
