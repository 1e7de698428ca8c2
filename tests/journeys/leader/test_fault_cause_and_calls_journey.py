"""docs/leader.md, "Faults": a shift leader records the cause and responsible person (on recovery, after it, on a
fault that cannot be solved), checks the calls counted against a fault, unlinks one and links it again with a
reason, and sees what back office records elsewhere arrive on the page by itself — in Chromium, on screen."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from assist.app import Running
from assist.server.routing import store as rs
from tests.conftest import open_client
from tests.journeys.leader.conftest import agent_on_call, open_console

pytestmark = pytest.mark.browser


async def test_cause_responsible_and_linked_calls_of_a_fault(center: Running, browser: Browser) -> None:
    admin = await open_client(center, user="sa1", role="seat_admin")
    opened = await admin.call(
        "fault.open",
        occurred_at=center.hub.clock() - 120,
        symptoms="转账提示系统繁忙",
        level=3,
        system="手机银行",
        reported_by="sa1",
    )
    assert opened["success"], opened
    fault_id = opened["fault"]["fault_id"]
    console = await open_console(browser, center)  # the shift leader, s1
    page = console.page
    await page.get_by_test_id("tab-faults").click()
    faults = page.get_by_test_id("faults-all")  # the fault records (the board's side list shows open ones too)
    fault = faults.get_by_test_id(f"fault-{fault_id}")
    await expect(fault).to_contain_text("手机银行 · 3级")
    await expect(faults.get_by_test_id(f"cause-{fault_id}")).to_have_text("未记录")
    await expect(faults.get_by_test_id(f"responsible-{fault_id}")).to_have_text("未记录")
    await expect(faults.get_by_test_id(f"linked-{fault_id}")).to_contain_text("无")

    # Two calls come in while the leader watches: an outage call about 手机银行 is linked by the service, and
    # the page shows it by itself (fault.event `linked`); a call about something else is not.
    await agent_on_call(center, "a1001", "c-701", ["我的手机银行转账一直提示系统繁忙"], queue="零售")
    await agent_on_call(center, "a1002", "c-702", ["我想查一下信用卡额度"], queue="信用卡")
    await expect(faults.get_by_test_id(f"linked-{fault_id}-c-701")).to_be_visible()
    await expect(faults.get_by_test_id(f"affected-{fault_id}")).to_have_text("1")
    await expect(faults.get_by_test_id(f"linked-{fault_id}-c-702")).to_have_count(0)

    # 取消关联: the customer had only mistyped a password. The call stops counting, with the reason audited.
    await faults.get_by_test_id(f"f-unlink-{fault_id}-c-701").click()
    await expect(page.locator("#dialog")).to_contain_text("不再计入影响客户")
    await page.get_by_test_id("dlg-reason").fill("客户实为密码输错")
    await page.get_by_test_id("dlg-submit").click()
    await expect(page.get_by_test_id("toast")).to_contain_text("已取消关联：c-701")
    await expect(faults.get_by_test_id(f"affected-{fault_id}")).to_have_text("0")
    await expect(faults.get_by_test_id(f"linked-{fault_id}-c-701")).to_have_count(0)
    await expect(faults.get_by_test_id(f"unlinked-{fault_id}-c-701")).to_be_visible()

    # 重新关联: on a second listen it was the fault after all.
    await faults.get_by_test_id(f"f-relink-{fault_id}-c-701").click()
    await page.get_by_test_id("dlg-reason").fill("复听录音，确为故障影响")
    await page.get_by_test_id("dlg-submit").click()
    await expect(faults.get_by_test_id(f"linked-{fault_id}-c-701")).to_be_visible()
    await expect(faults.get_by_test_id(f"unlinked-{fault_id}-c-701")).to_have_count(0)

    # 关联来电: the credit-card customer had also failed to pay by mobile banking.
    await faults.get_by_test_id(f"f-link-{fault_id}").click()
    await page.get_by_test_id("dlg-call_id").fill("c-702")
    await page.get_by_test_id("dlg-reason").fill("客户同时反映手机银行无法还款")
    await page.get_by_test_id("dlg-submit").click()
    await expect(faults.get_by_test_id(f"linked-{fault_id}-c-702")).to_be_visible()
    await expect(faults.get_by_test_id(f"affected-{fault_id}")).to_have_text("2")
    await console.shoot("fault-linked-calls")

    # 记录恢复 with the cause already known; the responsible person is not yet.
    await fault.get_by_role("button", name="记录恢复").click()
    await page.get_by_test_id("dlg-cause").fill("网关证书过期")
    await page.get_by_test_id("dlg-submit").click()
    await expect(fault.locator(".badge")).to_have_text("已恢复")
    await expect(faults.get_by_test_id(f"cause-{fault_id}")).to_have_text("网关证书过期")
    await expect(faults.get_by_test_id(f"responsible-{fault_id}")).to_have_text("未记录")

    # After recovery back office finds who was responsible, from its own console: the page shows it by itself.
    back_office = await open_client(center, user="b1", role="back_office")
    updated = await back_office.call("fault.update", fault_id=fault_id, responsible="李工（网络组）")
    assert updated["success"], updated
    await expect(faults.get_by_test_id(f"responsible-{fault_id}")).to_have_text("李工（网络组）")

    # The leader corrects the cause after recovery.
    await faults.get_by_test_id(f"f-edit-{fault_id}").click()
    await expect(page.get_by_test_id("dlg-responsible")).to_have_value("李工（网络组）")
    await page.get_by_test_id("dlg-cause").fill("网关证书过期未续期")
    await page.get_by_test_id("dlg-submit").click()
    await expect(page.get_by_test_id("toast")).to_contain_text("已保存原因和责任人")
    await expect(faults.get_by_test_id(f"cause-{fault_id}")).to_have_text("网关证书过期未续期")
    await expect(faults.get_by_test_id(f"responsible-{fault_id}")).to_have_text("李工（网络组）")
    await console.shoot("fault-cause-after-recovery")

    # A second fault cannot be solved: cause and responsible person on the form, then corrected.
    second = await admin.call(
        "fault.open",
        occurred_at=center.hub.clock() - 60,
        symptoms="登录页面无法打开",
        level=2,
        system="网上银行",
        reported_by="sa1",
    )
    other_id = second["fault"]["fault_id"]
    other = faults.get_by_test_id(f"fault-{other_id}")
    await expect(other).to_contain_text("网上银行 · 2级")  # opened elsewhere: it arrives by itself
    await other.get_by_role("button", name="无法解决/确认").click()
    await page.get_by_test_id("dlg-cause").fill("第三方认证接口中断")
    await page.get_by_test_id("dlg-responsible").fill("张工")
    await page.get_by_test_id("dlg-submit").click()
    await expect(other.locator(".badge")).to_have_text("无法解决")
    await faults.get_by_test_id(f"f-edit-{other_id}").click()
    await page.get_by_test_id("dlg-responsible").fill("张工、外包商")
    await page.get_by_test_id("dlg-submit").click()
    await expect(faults.get_by_test_id(f"responsible-{other_id}")).to_have_text("张工、外包商")
    await expect(faults.get_by_test_id(f"cause-{other_id}")).to_have_text("第三方认证接口中断")
    # The board's card for the unresolvable fault says the same.
    await page.get_by_test_id("tab-board").click()
    card = page.locator('[data-kind="fault"]')
    await expect(card).to_contain_text("张工、外包商")

    # The daily report names both, with the affected customers the links say.
    await page.get_by_test_id("tab-report").click()
    text = page.get_by_test_id("report-text")
    await expect(text).to_contain_text("历时")
    await expect(text).to_contain_text("（原因：网关证书过期未续期；责任人：李工（网络组）），影响客户2人")
    await expect(text).to_contain_text("无法解决/确认（原因：第三方认证接口中断；责任人：张工、外包商）")
    report_faults = page.get_by_test_id("report-faults")
    await expect(report_faults).to_contain_text("网关证书过期未续期")
    await expect(report_faults).to_contain_text("张工、外包商")
    await console.shoot("fault-report-cause")

    # Every unlink and link is in the audit trail with its reason.
    trail = [
        (a["action"], a["who"], a["detail"].get("call_id"), a["detail"].get("reason"))
        for a in await rs.audit_trail(center.store.db, fault_id)
        if a["action"] in ("fault_link", "fault_unlink")
    ]
    assert ("fault_unlink", "s1", "c-701", "客户实为密码输错") in trail
    assert ("fault_link", "s1", "c-701", "复听录音，确为故障影响") in trail
    assert ("fault_link", "s1", "c-702", "客户同时反映手机银行无法还款") in trail
    assert console.errors == []
