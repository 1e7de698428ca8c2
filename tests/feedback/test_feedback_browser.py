"""Feedback end to end in Debian chromium: an agent corrects a call's category and reports a wrong warning in the
sidebar (the /demo softphone), a trainer opens the console's 反馈 tab, sees the item, accepts it, and the draft's
samples hold it with the corrected label."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from assist.app import Running
from tests.browser.conftest import PageErrors
from tests.conftest import issue
from tests.consoles.conftest import as_user
from tests.consoles.test_trainer_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.small_pack]

SHOTS = Path(os.environ.get("ASSIST_SCREENSHOTS", tempfile.gettempdir())) / "assist-screenshots"

PLAY = """async ([callId]) => {
  const sb = window.assistDemo.sidebar;
  await sb.startCall(callId, { queue: "retail", customer_name: "李女士", caller_number: "13800138000" });
  await sb.addTranscript("customer", "手机银行转账一直提示系统繁忙", true);
  await sb.addTranscript("agent", "不好意思，这是我们系统的问题，我们系统坏了", true);
}"""


async def demo_page(browser: Any, running: Running, errors: PageErrors, lang: str = "zh-CN", width: int = 1100) -> Any:
    page = errors.watch(await browser.new_page(viewport={"width": width, "height": 900}, locale=lang))
    await page.goto(
        f"http://127.0.0.1:{running.http_port}/demo?autoplay=0&lang={lang}&server=ws://127.0.0.1:{running.ws_port}/ws"
    )
    await page.locator("assist-sidebar .conn[data-state=open]").wait_for(timeout=10_000)
    return page


async def test_agent_corrects_the_category_and_a_trainer_accepts_it_into_the_draft(
    service: Running, browser: Any, http_session: aiohttp.ClientSession
) -> None:
    errors = PageErrors()
    page = await demo_page(browser, service, errors)
    await page.evaluate(PLAY, ["fb-journey-1"])
    sidebar = page.locator("assist-sidebar")
    await expect(sidebar.locator(".badge")).to_have_attribute("data-category", "system_outage")

    # one tap: the category is wrong → the list of the pack's categories → the right one
    await sidebar.locator(".fb-category").click()
    await expect(sidebar.locator(".fb-pick li button")).to_have_count(8)
    SHOTS.mkdir(parents=True, exist_ok=True)
    await sidebar.screenshot(path=str(SHOTS / "sidebar-feedback-pick.png"))
    await sidebar.locator(".fb-pick button[data-category='complaint.general']").click()
    sent = sidebar.locator(".category .feedback .sent")
    await expect(sent).to_contain_text("已反馈：一般性投诉")
    # the agent changes their mind: an ordinary request after all
    await sidebar.locator(".fb-change").click()
    await expect(sidebar.locator(".fb-pick button[data-category='complaint.general']")).to_be_disabled()
    await sidebar.locator(".fb-pick button[data-category='none']").click()
    await expect(sent).to_contain_text("已反馈：一般咨询")
    # one tap on the warning
    warning = sidebar.locator(".alert .warning")
    await warning.locator(".fb-warning").click()
    await expect(warning.locator(".feedback .sent")).to_have_text("已反馈")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "sidebar-feedback.png"))

    # the trainer's queue
    trainer = await sign_in(browser, service, await issue(service, "t1", "trainer"))
    trainer_errors = PageErrors()
    trainer_errors.watch(trainer)
    await trainer.get_by_test_id("nav-feedback").click()
    await expect(trainer.get_by_test_id("feedback-open")).to_contain_text("2")
    row = trainer.locator("[data-call='fb-journey-1']", has_text="类别更正")
    await row.click()
    detail = trainer.get_by_test_id("feedback-detail")
    await expect(detail.get_by_test_id("fb-corrected")).to_have_attribute("data-category", "none")
    await expect(detail.get_by_test_id("fb-predicted")).to_have_text("系统故障")
    await expect(detail.get_by_test_id("fb-call")).to_contain_text("手机银行转账一直提示系统繁忙")
    await expect(detail.get_by_test_id("fb-call")).to_contain_text("138****8000")
    await expect(detail.get_by_test_id("fb-call")).not_to_contain_text("13800138000")
    await expect(trainer.get_by_test_id("agreement-chart")).to_be_visible()
    await trainer.screenshot(path=str(SHOTS / "trainer-feedback.png"), full_page=True)
    await detail.get_by_test_id("fb-accept").click()
    await expect(trainer.get_by_test_id("draft-status")).to_have_text("编辑中", timeout=10_000)
    await expect(detail.get_by_test_id("fb-status")).to_have_text("已接受", timeout=10_000)

    # on screen: the draft's samples.jsonl holds the call with the corrected label
    await trainer.get_by_test_id("nav-files").click()
    await trainer.get_by_test_id("file-pick").select_option("samples.jsonl")
    text = await trainer.get_by_test_id("file-text").input_value()
    added = [json.loads(line) for line in text.splitlines() if '"fb-' in line]
    assert len(added) == 1 and added[0]["labels"] == ["none"], added
    assert added[0]["transcript"][0]["text"] == "手机银行转账一直提示系统繁忙"
    # and through the API, the draft the console shows
    api = await as_user(service, http_session, "t1", "trainer")
    drafts = (await api.call("GET", "/api/pack/drafts"))["drafts"]
    draft = await api.call("GET", f"/api/pack/drafts/{drafts[0]['id']}")
    assert any(
        json.loads(line).get("labels") == ["none"] and json.loads(line)["id"] == added[0]["id"]
        for line in draft["files"]["samples.jsonl"].splitlines()
        if line.strip()
    )
    assert draft["problems"] == []
    assert errors.errors == [] and trainer_errors.errors == []


async def test_trainer_rejects_with_a_reason_and_the_sidebar_in_english(service: Running, browser: Any) -> None:
    errors = PageErrors()
    page = await demo_page(browser, service, errors, lang="en", width=320)
    await page.evaluate(PLAY, ["fb-journey-2"])
    sidebar = page.locator("assist-sidebar")
    await sidebar.locator(".fb-category", has_text="Wrong type").click()
    await expect(sidebar.locator(".fb-pick h3")).to_have_text("Pick the right call type")
    # at 320 px the open picker does not overflow the sidebar
    assert await sidebar.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    assert await page.evaluate("document.documentElement.scrollWidth <= 321")
    await page.screenshot(path=str(SHOTS / "sidebar-feedback-320-en.png"), full_page=False)
    await sidebar.locator(".fb-pick button[data-category='major_incident']").click()
    await expect(sidebar.locator(".category .feedback .sent")).to_contain_text("Feedback sent: Major incident")
    await sidebar.locator(".alert .warning .fb-warning", has_text="This warning is wrong").click()
    await expect(sidebar.locator(".alert .warning .feedback .sent")).to_have_text("Feedback sent")

    trainer = await sign_in(browser, service, await issue(service, "t2", "trainer"))
    await trainer.get_by_test_id("nav-feedback").click()
    await trainer.locator("[data-call='fb-journey-2']", has_text="提醒有误").click()
    detail = trainer.get_by_test_id("feedback-detail")
    await expect(detail.get_by_test_id("fb-line")).to_have_text("不好意思，这是我们系统的问题，我们系统坏了")
    await detail.get_by_test_id("fb-reject").click()  # no reason: refused
    await expect(trainer.locator("#toast")).to_contain_text("why")
    await detail.get_by_test_id("fb-reason").fill("这句确实是禁语")
    await detail.get_by_test_id("fb-reject").click()
    await expect(detail.get_by_test_id("fb-status")).to_have_text("未采纳")
    await expect(trainer.get_by_test_id("feedback-open")).to_contain_text("1")
    assert errors.errors == []


async def test_a_correction_accepted_and_published_relabels_the_call_in_the_sidebar(
    service: Running, browser: Any
) -> None:
    """The whole loop in a browser: the agent corrects a call the pack got wrong, a trainer accepts it,
    a second trainer approves, the draft is published with its retrained model, and the agent's
    sidebar shows the call as corrected — the next model learned it from the floor."""
    grievance = "你们的积分兑换商城东西比外面贵一倍"
    errors = PageErrors()
    page = await demo_page(browser, service, errors)
    await page.evaluate(
        """async ([callId, text]) => {
      const sb = window.assistDemo.sidebar;
      await sb.startCall(callId, { queue: "retail" });
      await sb.addTranscript("customer", text, true);
    }""",
        ["fb-learn-1", grievance],
    )
    sidebar = page.locator("assist-sidebar")
    await expect(sidebar.locator(".badge")).to_have_attribute("data-category", "none")
    await sidebar.locator(".fb-category").click()
    await sidebar.locator(".fb-pick button[data-category='complaint.general']").click()
    await expect(sidebar.locator(".category .feedback .sent")).to_contain_text("已反馈：一般性投诉")

    t1 = await sign_in(browser, service, await issue(service, "t1", "trainer"))
    await t1.get_by_test_id("nav-feedback").click()
    await t1.locator("[data-call='fb-learn-1']", has_text="类别更正").click()
    detail = t1.get_by_test_id("feedback-detail")
    await detail.get_by_test_id("fb-accept").click()
    await expect(detail.get_by_test_id("fb-status")).to_have_text("已接受", timeout=10_000)
    # trying the call on the draft: the retrained model now says what the agent said
    await t1.get_by_test_id("try-input").fill(f"客户：{grievance}")
    await expect(t1.get_by_test_id("try-category")).to_have_attribute(
        "data-category", "complaint.general", timeout=60_000
    )
    await expect(t1.get_by_test_id("try-decided-by")).to_have_text("由模型判断（规则未命中）")
    await t1.get_by_test_id("go-review").click()
    await t1.get_by_test_id("action-submit").click()  # runs every sample first
    await expect(t1.get_by_test_id("draft-status")).to_have_text("待审批", timeout=60_000)

    t2 = await sign_in(browser, service, await issue(service, "t2", "trainer"))
    await t2.get_by_test_id("go-review").click()
    await t2.get_by_test_id("action-approve").click()
    await expect(t2.get_by_test_id("approvals")).to_contain_text("1/1")
    await t2.get_by_test_id("action-publish").click()
    await expect(t2.get_by_test_id("published-version")).to_have_text("v2", timeout=60_000)

    # the live call in the agent's sidebar is relabelled by the new version, with the model's reasons
    await expect(sidebar.locator(".badge")).to_have_attribute("data-category", "complaint.general", timeout=10_000)
    await expect(sidebar.locator(".reason[data-by=model]")).to_contain_text("模型判断依据")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "sidebar-learned-from-feedback.png"))
    assert errors.errors == []
