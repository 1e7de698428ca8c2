"""The shift-leader console in Debian chromium: a new escalation appears with a countdown and is acked from
the page; a fault recorded on the form reaches fault.list; the daily report renders; an agent is refused."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Protocol

import pytest
from playwright.async_api import Browser, Page, expect

from assist.app import Running
from assist.server.routing import store as rs
from tests.conftest import issue, open_client

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ASSIST_SCREENSHOTS", "/tmp/assist-leader-shots"))


class Served(Protocol):
    """An instance in this process (`Running`) or a serve process: the console is on its HTTP port."""

    http_port: int


async def open_console(browser: Browser, running: Served, token: str) -> Page:
    context = await browser.new_context(
        viewport={"width": 1440, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = await context.new_page()
    page.on("pageerror", lambda e: print("PAGEERROR", e))
    await page.clock.install()  # time flows as usual, and a test can move it on
    await page.goto(f"http://127.0.0.1:{running.http_port}/console/leader")
    await page.get_by_test_id("token").fill(token)
    await page.get_by_test_id("login").click()
    return page


async def interview_request(running: Running, call_id: str, outlet: str, context: dict[str, str]) -> str:
    """An agent (a1001) on a call with a journalist files the interview record; the escalation's id."""
    agent = await open_client(running, user="a1001", role="agent")
    await agent.call("call.start", call_id=call_id, context={"queue": "零售", **context})
    await agent.call("call.transcript", call_id=call_id, speaker="customer", text=f"我是{outlet}的记者，想采访一下你们")
    sent = await agent.call(
        "record.submit",
        call_id=call_id,
        form="media.interview",
        fields={"journalist_name": "刘记者", "outlet": outlet, "phone": "13700002222", "topic": "手机银行故障"},
    )
    assert sent["success"] and sent["kind"] == "escalation", sent
    return str(sent["escalation_id"])


async def seed(running: Running) -> None:
    """A busy moment: a level-3 fault 20 minutes old (its 15-minute deadline passed), a complaint about an agent."""
    admin = await open_client(running, user="sa1", role="seat_admin")
    opened = await admin.call(
        "fault.open",
        occurred_at=time.time() - 20 * 60,
        symptoms="转账提示系统繁忙，无法完成",
        level=3,
        system="手机银行",
        reported_by="a1002",
    )
    assert opened["success"], opened
    other = await open_client(running, user="a1002", role="agent")
    await other.call("call.start", call_id="c-2", context={"queue": "信用卡", "customer_name": "李女士"})
    await other.call("call.transcript", call_id="c-2", speaker="customer", text="我要投诉刚才那个座席员态度很差")
    sub = await other.call(
        "record.submit",
        call_id="c-2",
        form="complaint.about_agent",
        fields={
            "customer_name": "李女士",
            "phone": "13900001111",
            "complaint": "座席态度差",
            "demand": "要求道歉",
            "settled_on_call": "no",
        },
    )
    assert sub["success"] and sub["kind"] == "escalation", sub


async def test_new_escalation_appears_with_a_countdown_and_the_leader_acks_it(
    center: Running, browser: Browser
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await seed(center)
    back_office = await open_client(center, user="b1", role="back_office")
    assert (await back_office.call("escalation.subscribe"))["success"]
    page = await open_console(browser, center, await issue(center, "s1", "shift_leader"))
    await expect(page.get_by_test_id("conn")).to_have_text("已连接")
    await expect(page.get_by_test_id("chip-overdue")).to_contain_text("1")
    await expect(page.locator('[data-state="overdue"]')).to_have_count(1)

    esc_id = await interview_request(
        center, "c-1", "财经日报", {"customer_name": "张先生", "caller_number": "13800001234"}
    )

    card = page.get_by_test_id(f"esc-{esc_id}")
    await expect(card).to_be_visible()
    await expect(card).to_have_attribute("data-state", "waiting")
    await expect(card).to_contain_text("财经日报")
    await expect(card).to_contain_text("王班长")  # who was told
    await expect(card).to_contain_text("张先生")  # the call's context
    countdown = page.get_by_test_id(f"countdown-{esc_id}")
    await expect(countdown).to_contain_text("已等")
    await expect(card).to_contain_text("待确认")
    await expect(page.locator('[data-kind="complaint.about_agent"] .clock')).to_contain_text(
        re.compile(r"距时限 2\d:\d\d")
    )
    first = await countdown.text_content()
    await page.clock.fast_forward(2000)  # two seconds later on the page's clock...
    await expect(countdown).not_to_have_text(first or "")  # ...it has counted
    # What is due first is on top: the overdue fault, then the new one waiting for acknowledgement.
    states = await page.locator("article.esc").evaluate_all("els => els.map(e => e.dataset.state)")
    assert states[0] == "overdue" and states[1] == "waiting", states
    await expect(page.get_by_test_id("live-calls")).to_contain_text("媒体采访")
    await page.screenshot(path=str(SHOTS / "board.png"), full_page=True)

    await page.get_by_test_id(f"ack-{esc_id}").click()
    await expect(page.get_by_test_id(f"ack-{esc_id}")).to_contain_text("已确认")
    acked = await back_office.push("escalation.event", event="acked")
    assert acked["escalation"]["escalation_id"] == esc_id and acked["by"] == "s1"
    stored = await rs.load_escalation(center.store.db, esc_id)
    assert stored is not None and "s1" in stored.acks
    await expect(card).to_have_attribute("data-state", "handling")

    await page.get_by_test_id(f"resolve-{esc_id}").click()
    await page.get_by_test_id("dlg-resolution").fill("已联系办公室，约定明天回复记者")
    await page.get_by_test_id("dlg-submit").click()
    await expect(card).to_have_count(0)
    assert (await rs.load_escalation(center.store.db, esc_id)).status == "resolved"  # type: ignore[union-attr]


async def test_fault_form_opens_a_fault_and_report_preview_renders(center: Running, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    agent = await open_client(center, user="a1001", role="agent")
    await agent.call("call.start", call_id="c-9", context={"queue": "零售"})
    await agent.call("call.transcript", call_id="c-9", speaker="customer", text="网银登录一直提示系统繁忙")
    page = await open_console(browser, center, await issue(center, "sa1", "seat_admin"))
    await expect(page.get_by_test_id("conn")).to_have_text("已连接")
    await page.get_by_test_id("tab-faults").click()
    await page.get_by_test_id("f-submit").click()
    await expect(page.get_by_test_id("err-symptoms")).not_to_be_empty()  # the form says what is missing
    await page.get_by_test_id("f-system").fill("网上银行")
    await page.get_by_test_id("f-symptoms").fill("登录提示系统繁忙")
    await page.get_by_test_id("f-level-2").check()
    await page.get_by_test_id("f-submit").click()
    await expect(page.get_by_test_id("toast")).to_contain_text("故障已登记")

    leader = await open_client(center, user="s1", role="shift_leader")
    faults = (await leader.call("fault.list"))["faults"]
    assert [(f["system"], f["level"], f["status"]) for f in faults] == [("网上银行", 2, "open")]
    notice = await agent.push("assist.notice", fault_id=faults[0]["fault_id"], active=True)
    assert notice["level"] == 2
    shown = page.get_by_test_id("faults-all").get_by_test_id(f"fault-{faults[0]['fault_id']}")
    await expect(shown).to_contain_text("网上银行 · 2级")
    await expect(shown.get_by_role("button", name="c-9")).to_be_visible(timeout=15_000)  # the outage call, linked

    await page.get_by_test_id("tab-report").click()
    await expect(page.get_by_test_id("report-text")).to_contain_text("每日运营报告")
    await expect(page.get_by_test_id("report-text")).to_contain_text("网上银行 2级")
    await expect(page.locator("[data-testid=report-chart] rect")).to_have_count(1)
    await page.screenshot(path=str(SHOTS / "report.png"), full_page=True)


async def test_an_agent_token_is_not_authorized(center: Running, browser: Browser) -> None:
    page = await open_console(browser, center, await issue(center, "a1001", "agent"))
    await expect(page.get_by_test_id("login-error")).to_contain_text("无权使用班长值班台")
    await expect(page.locator("#app")).to_be_hidden()
