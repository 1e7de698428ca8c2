"""docs/leader.md, "The board": a shift leader reads the board, acknowledges, notes, passes up and resolves an
escalation, contacts an urgent complaint's emergency contact, and watches the calls in progress — in Chromium,
driven by agents on real websocket clients."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from assist.app import Running
from assist.server.routing import store as rs
from tests.conftest import issue, open_client
from tests.journeys.leader.conftest import agent_on_call, open_console
from tests.routing.receiver import Receiver

pytestmark = pytest.mark.browser


async def test_acknowledge_note_pass_up_and_resolve_a_complaint_about_an_agent(
    center: Running, browser: Browser
) -> None:
    agent = await agent_on_call(
        center,
        "a1001",
        "c-100",
        ["我要投诉刚才那个座席员，态度太差了"],
        queue="信用卡",
        customer_name="李女士",
        caller_number="13900001111",
    )
    filed = await agent.call(
        "record.submit",
        call_id="c-100",
        form="complaint.about_agent",
        fields={
            "customer_name": "李女士",
            "phone": "13900001111",
            "complaint": "座席态度差",
            "demand": "要求道歉",
            "settled_on_call": "no",
        },
    )
    assert filed["kind"] == "escalation", filed
    esc_id = filed["escalation_id"]
    back_office = await open_client(center, user="b1", role="back_office")
    assert (await back_office.call("escalation.subscribe"))["success"]

    console = await open_console(browser, center)
    page = console.page
    card = page.get_by_test_id(f"esc-{esc_id}")
    # The board: the kind, the call behind it, the agent's record, who was told, a 30-minute deadline running.
    await expect(card.locator(".kind")).to_have_text("客户投诉座席员")
    await expect(card).to_contain_text("李女士")
    await expect(card).to_contain_text("要求道歉")
    await expect(card.locator(".told")).to_contain_text("班长：王班长")
    await expect(card.locator(".told")).to_contain_text("待触发")
    await expect(page.get_by_test_id(f"countdown-{esc_id}")).to_contain_text(re.compile(r"距时限 2\d:\d\d"))
    await expect(card).to_have_attribute("data-state", "running")
    await expect(page.get_by_test_id("chip-calls")).to_contain_text("1")
    await expect(page.get_by_test_id("unstaffed")).to_be_hidden()  # every role has someone
    await console.shoot("board")

    # 确认收到: stops reminders to me; the deadline keeps running.
    await page.get_by_test_id(f"ack-{esc_id}").click()
    await expect(page.get_by_test_id(f"ack-{esc_id}")).to_have_text("✓ 已确认")
    await expect(card.locator(".acks")).to_contain_text("已确认：s1")
    await expect(card).to_have_attribute("data-state", "running")
    assert (await back_office.push("escalation.event", event="acked"))["by"] == "s1"

    # 加备注
    await page.get_by_test_id(f"note-{esc_id}").click()
    await page.get_by_test_id("dlg-text").fill("已回拨客户致歉，客户仍要求处理该座席")
    await page.get_by_test_id("dlg-submit").click()
    await expect(page.get_by_test_id(f"notes-{esc_id}")).to_contain_text("s1：已回拨客户致歉，客户仍要求处理该座席")

    # 未能解决，上报下一级: back-office duty is told now, by name.
    await card.get_by_role("button", name="未能解决，上报下一级").click()
    await expect(card.locator(".told")).to_contain_text("后台值班：钱后台")
    await expect(card.locator(".told")).to_contain_text("中心经理")  # still to come
    notified = await back_office.push("escalation.event", event="unresolved")
    assert notified["escalation"]["escalation_id"] == esc_id
    await console.shoot("board-passed-up")

    # 处理完毕: resolution and where it was forwarded; the card leaves the board.
    await page.get_by_test_id(f"resolve-{esc_id}").click()
    await page.get_by_test_id("dlg-resolution").fill("后台协助处理，已向客户道歉并对座席进行辅导")
    await page.get_by_test_id("dlg-forwarded_to").fill("客服中心质检组")
    await page.get_by_test_id("dlg-submit").click()
    await expect(card).to_have_count(0)
    await expect(page.get_by_test_id("board-empty")).to_have_text("目前没有待处理的升级事项。")
    stored = await rs.load_escalation(center.store.db, esc_id)
    assert stored is not None and stored.status == "resolved" and stored.forwarded_to == "客服中心质检组"
    assert console.errors == []


async def test_urgent_complaint_card_notifies_the_emergency_contact_in_one_click(
    center: Running, browser: Browser, receiver: Receiver
) -> None:
    agent = await agent_on_call(
        center, "a1002", "c-200", ["你们再不给我答复我就去银保监会投诉，还要找媒体曝光"], customer_name="陈先生"
    )
    filed = await agent.call(
        "record.submit",
        call_id="c-200",
        form="complaint.urgent",
        fields={
            "customer_name": "陈先生",
            "phone": "13600002222",
            "complaint": "理财产品亏损未被告知风险",
            "demand": "今天内答复",
            "urgency": "扬言向监管和媒体反映",
        },
    )
    esc_id = filed["escalation_id"]
    console = await open_console(browser, center)
    page = console.page
    box = page.get_by_test_id(f"emergency-{esc_id}")
    # The card names the emergency contact, the number to dial and the channels a click uses.
    await expect(box).to_contain_text("应急联系人：")
    await expect(box.get_by_test_id("emergency-person-ec")).to_have_text("周主任 13800000009（短信、即时通讯）")
    await expect(box.get_by_role("link", name="13800000009")).to_have_attribute("href", "tel:13800000009")
    await console.shoot("urgent-complaint")

    await page.get_by_test_id(f"emergency-notify-{esc_id}").click()
    await expect(page.get_by_test_id("toast")).to_have_text("已通知应急联系人：周主任")
    done = page.get_by_test_id(f"emergency-done-{esc_id}")
    await expect(done).to_contain_text("s1 · 已联系应急联系人：周主任（13800000009）· 短信、即时通讯")
    await console.shoot("urgent-complaint-contacted")

    # Delivered through both of the contact's channels, signed, with the complaint in the text.
    await receiver.wait_for(lambda: {"/sms", "/hook/ec"} <= {r["path"] for r in receiver.received})
    texts = [r.get("text") or r.get("message") or "" for r in receiver.received if r["path"] in ("/sms", "/hook/ec")]
    assert all(esc_id in t and "陈先生" in t for t in texts), receiver.received
    # Recorded on the escalation: in its audit trail, and still on the card in a new tab.
    trail = [a for a in await rs.audit_trail(center.store.db, esc_id) if a["action"] == "emergency_contact"]
    assert len(trail) == 1 and trail[0]["who"] == "s1" and trail[0]["detail"]["contacts"][0]["id"] == "ec"
    other = await open_console(browser, center, "s9", "shift_leader")
    await expect(other.page.get_by_test_id(f"emergency-done-{esc_id}")).to_contain_text("周主任（13800000009）")
    assert console.errors == [] and other.errors == []


async def test_calls_in_progress_list_updates_in_place(center: Running, browser: Browser) -> None:
    token = await issue(center, "s1", "shift_leader")  # before the busy part (see the report: store contention)
    agent = await agent_on_call(center, "a1001", "c-300", ["你好，我想查一下信用卡账单"], queue="信用卡")
    helper = await open_client(center, user="a1002", role="agent")  # one agent may hold 20 live calls at most
    for n in range(1, 40):
        softphone = agent if n < 20 else helper
        assert (await softphone.call("call.start", call_id=f"c-3{n:02d}", context={"queue": "零售"}))["success"]
    reporter = await agent_on_call(center, "a1003", "c-399", ["手机银行转账一直失败，显示系统繁忙"], queue="零售")
    esc = await reporter.call("call.escalate", call_id="c-399", kind="fault", reason="手机银行转账失败")
    assert esc["success"], esc
    console = await open_console(browser, center, token=token)
    page = console.page
    rows = page.get_by_test_id("live-calls").locator("tbody tr")
    await expect(rows).to_have_count(41)
    await expect(page.get_by_test_id("chip-calls")).to_contain_text("41")
    # Most serious first: the outage call, with ↑ for its open escalation; the category in words.
    await expect(rows.first).to_have_attribute("data-testid", "call-c-399")
    await expect(rows.first).to_contain_text("系统故障")
    await expect(rows.first.locator(".badge")).to_have_text("↑")
    await expect(page.get_by_test_id("call-c-300")).to_contain_text("一般咨询")
    await console.shoot("live-calls")

    # A row that did not change is the same row after the next refresh (nothing is rebuilt wholesale).
    await page.get_by_test_id("call-c-300").evaluate("tr => { tr.dataset.seen = 'yes'; }")
    assert (await agent.call("call.end", call_id="c-301"))["success"]
    assert (await agent.call("call.start", call_id="c-350", context={"queue": "理财"}))["success"]
    # no refresh to wait for: the list is pushed (calls.delta)
    await expect(page.get_by_test_id("call-c-350")).to_contain_text("理财")
    await expect(page.get_by_test_id("call-c-301")).to_have_count(0)
    await expect(page.get_by_test_id("call-c-300")).to_have_attribute("data-seen", "yes")

    # Another agent's softphone with an id a1001's call has: its own call, listed under the softphone's id
    # beside its agent (the call's key, a1004/c-300, names it for the console).
    other = await open_client(center, user="a1004", role="agent")
    assert (await other.call("call.start", call_id="c-300", context={"queue": "对公"}))["success"]
    same_id = page.get_by_test_id("call-a1004/c-300")
    await expect(same_id).to_contain_text("对公")
    await expect(same_id.locator("td").nth(1)).to_have_text("c-300")
    await expect(same_id.locator("td").nth(2)).to_have_text("a1004")
    await expect(page.get_by_test_id("call-c-300").locator("td").nth(2)).to_have_text("a1001")

    # Click a call: its details (context, last lines), in Chinese.
    await page.get_by_test_id("call-c-300").click()
    dialog = page.locator("#dialog")
    await expect(dialog).to_contain_text("来电详情 · c-300")
    await expect(dialog).to_contain_text("客户：你好，我想查一下信用卡账单")
    await expect(dialog.locator("dt")).to_contain_text(["队列"])
    await page.get_by_test_id("dlg-close").click()
    assert console.errors == []


async def test_out_of_the_box_the_console_says_nobody_is_in_the_directory(
    bare_center: Running, browser: Browser
) -> None:
    agent = await agent_on_call(bare_center, "a1001", "c-400", ["我是晚报记者，想采访你们"])
    filed = await agent.call("call.escalate", call_id="c-400", kind="media", reason="记者要求采访")
    console = await open_console(browser, bare_center)
    page = console.page
    notice = page.get_by_test_id("unstaffed")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("通讯录中没有人担任：座席班长、座席管理员、后台值班人员、中心经理、部门领导")
    await expect(notice).to_contain_text("docs/routing.md「The routing file」")
    card = page.get_by_test_id(f"esc-{filed['escalation_id']}")
    await expect(card.locator(".told")).to_contain_text("无人（通讯录未配置此角色，见页首提示）")
    await console.shoot("unstaffed")
    assert console.errors == []
