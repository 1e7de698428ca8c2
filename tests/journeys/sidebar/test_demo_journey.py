"""Journeys through the demo softphone and its sidebar, walked as docs/plugin.md and the README tell an agent to.

One service and one Debian chromium serve the whole module. Each test plays the sample call in `/demo` (sped up
with `speed=`, which only shortens the pauses between lines: every assertion waits on what is on screen) and
reads the sidebar as the agent would. Screens of each journey go to `build/screens/sidebar/`.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from playwright.async_api import expect

from assist.app import Running
from assist.config import DEFAULT_PACK, Settings
from tests.browser.conftest import PageErrors
from tests.conftest import box_of, contexts_closed_after, open_client, start_shared

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parents[3] / "build" / "screens" / "sidebar"
SCREEN = {"width": 320, "height": 768}
"""The sidebar's narrowest promised width, one laptop screen high."""

RECORD = """
window.__warnings = [];
document.addEventListener("assist-warning", (e) => window.__warnings.push(e.detail));
"""

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


@pytest_asyncio.fixture(scope="module")
async def service(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    db = tmp_path_factory.mktemp("journey") / "assist.db"
    running = await start_shared(Settings(host="127.0.0.1", ws_port=0, http_port=0, db=db, pack=DEFAULT_PACK))
    try:
        yield running
    finally:
        await running.close()


@pytest_asyncio.fixture(scope="module")
async def browser(worker_chromium: Any) -> AsyncIterator[Any]:
    """The process's chromium, for the module's walks."""
    async with contexts_closed_after(worker_chromium) as b:
        yield b


async def open_demo(
    service: Running, browser: Any, errors: PageErrors, viewport: dict[str, int] = SCREEN, **params: str
) -> tuple[Any, Any]:
    """`/demo` as plugin.md's "Try it first" opens it (with `server=`, since the test service's ports are
    ephemeral); returns the page and its sidebar. The page's clock is Playwright's (time flows as usual): a test
    that reads a moment of the call pauses it there, so the demo's next line waits."""
    page = errors.watch(await browser.new_page(viewport=viewport))
    await page.clock.install()
    await page.add_init_script(RECORD)
    query = "&".join(
        f"{k}={v}" for k, v in {"speed": "100", **params, "server": f"ws://127.0.0.1:{service.ws_port}/ws"}.items()
    )
    await page.goto(f"http://127.0.0.1:{service.http_port}/demo?{query}")
    sidebar = page.locator("assist-sidebar")
    await sidebar.locator(".conn[data-state=open]").wait_for(timeout=15_000)
    return page, sidebar


async def shot(page: Any, name: str, *, full: bool = False) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=full)


async def call_id(page: Any) -> str:
    return str(await page.evaluate("document.querySelector('assist-sidebar').callId"))


async def board(service: Running, call: str) -> list[dict[str, Any]]:
    """What a shift leader's board lists for the call (escalation.list over the websocket)."""
    leader = await open_client(service, user="L01", role="shift_leader")
    try:
        reply = await leader.call("escalation.list", status="all")
    finally:
        await leader.ws.close()
    assert reply["success"], reply
    return [e for e in reply["escalations"] if e.get("subject", {}).get("call_id") == call or e.get("call_id") == call]


async def within_first_screen(page: Any, locator: Any, what: str) -> None:
    box = await box_of(locator)
    assert box["x"] >= 0 and box["x"] + box["width"] <= SCREEN["width"] + 0.5, (what, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"] + 0.5, (what, box)


SAYS = {
    "zh-CN": {
        "tap": "请在右侧助手中点击「上报」",
        "badge": "紧急/恶性投诉",
        "instead": "系统正在维护，建议您稍后再试",
        "more": "本通已提醒",
        "point": "非常理解您的心情，您反映的问题我已经完整记录。",
        "point2": "我马上向我们的班长汇报",
        "open": "上报",
        "send": "确认上报",
        "filed": "已上报：紧急/恶性投诉",
        "waiting": "已上报：紧急/恶性投诉 · 待确认",
        "missing": "还差 5 项：客户姓名、联系电话、投诉内容",
        "reason": "客户要求今天答复，否则向监管部门投诉",
    },
    "en": {
        "tap": "Tap “Escalate” in the assistant",
        "badge": "Urgent complaint",
        "instead": "The system is under maintenance",
        "more": "warnings on this call",
        "point": "I fully understand how you feel, and I have recorded your complaint in full.",
        "point2": "I am reporting this to my shift leader",
        "open": "Escalate",
        "send": "Escalate",
        "filed": "Escalated: Urgent complaint",
        "waiting": "Escalated: Urgent complaint · waiting to be acknowledged",
        "missing": "5 still missing: Customer name, Phone number, Complaint",
        "reason": "The customer wants an answer today or goes to the regulator",
    },
}
"""What the agent reads in each language of the sidebar (the caller's and agent's words stay Chinese)."""


@pytest.mark.parametrize("lang", SAYS)
async def test_agent_reads_the_call_and_taps_escalate_within_one_screen(
    service: Running, browser: Any, lang: str
) -> None:
    """docs/plugin.md "Try it first" at 320 x 768, with escalate=0 so the agent taps 上报 themself: the category,
    the current warning, the talking points and 上报 are all on the first screen, in either language."""
    says = SAYS[lang]
    errors = PageErrors()
    page, sidebar = await open_demo(service, browser, errors, escalate="0", lang=lang)
    # the demo stops before its escalation: the call is an urgent complaint by then
    await page.locator("#log li", has_text=says["tap"]).wait_for(timeout=30_000)
    badge = sidebar.locator(".badge")
    await expect(badge).to_have_text(says["badge"])
    # the forbidden line: the warning shows the sentence said, each forbidden phrase wholly marked
    warning = sidebar.locator(".alert .warning")
    said = await warning.locator(".said").inner_text()
    assert "不好意思，这是我们系统的问题，我们系统坏了。" in said, said
    phrases = {w["phrase"] for w in await page.evaluate("window.__warnings")}
    marks = await warning.locator(".said mark").all_inner_texts()
    assert sorted(marks) == sorted(phrases | {"系统的问题", "系统坏了"}), (marks, phrases)
    await expect(warning).to_contain_text(says["instead"])
    # one warning the agent got (one line, one rule): no "warned N times" yet
    await expect(warning).not_to_contain_text(says["more"])
    points = sidebar.locator("[part=talking-points]")
    await expect(points.locator("ol.points li p").first).to_have_text(says["point"])
    await expect(points).to_contain_text(says["point2"])
    escalate = sidebar.get_by_role("button", name=says["open"], exact=True)
    # what the agent needs first is all on the first screen, without scrolling
    assert await page.evaluate("scrollY") == 0
    for locator, what in (
        (badge, "category"),
        (warning, "current warning"),
        (points, "talking points"),
        (escalate, "上报"),
    ):
        await within_first_screen(page, locator, what)
    # the checklists are folded to what is still missing: no field shows until the agent opens a form
    checklist = sidebar.locator("[part=checklist]")
    await expect(checklist.locator("details.form-group[data-form='complaint.urgent'] summary")).to_contain_text(
        says["missing"]
    )
    await expect(checklist.locator("input:visible, select:visible, textarea:visible")).to_have_count(0)
    await shot(page, f"1-urgent-complaint-{lang}-320x768")
    await shot(page, f"1-urgent-complaint-{lang}-320-full", full=True)

    # 上报: the form pre-selects the call's kind; the agent types a reason and sends. The demo goes on with its
    # next line once the escalation is filed: its clock stands still until the filed status has been read.
    await page.clock.pause_at(await page.evaluate("Date.now()") + 1)
    await escalate.click()
    await expect(sidebar.locator("#esc-kind")).to_have_value("complaint.urgent")
    await sidebar.locator("#esc-reason").fill(says["reason"])
    await sidebar.locator(".escalate-form").get_by_role("button", name=says["send"], exact=True).click()
    filed = sidebar.locator(".escalate .status.filed")
    await expect(filed).to_have_text(says["waiting"])
    await within_first_screen(page, filed, "已上报")
    assert await sidebar.locator(".callline .ended-tag").count() == 0, "the demo waited on its paused clock"
    await page.clock.resume()
    # the demo goes on once the agent has escalated, and the call ends
    await page.locator("#log li", has_text=says["filed"]).wait_for(timeout=10_000)
    await sidebar.locator(".callline .ended-tag").wait_for(timeout=30_000)
    await shot(page, f"2-escalated-{lang}-320x768")
    (esc,) = await board(service, await call_id(page))
    assert esc["kind"] == "complaint.urgent", esc
    assert errors.errors == []


async def test_an_escalation_filed_by_the_softphone_and_taken_up_by_a_leader_shows_in_the_sidebar(
    service: Running, browser: Any
) -> None:
    """The softphone files the escalation on its own connection (not through the sidebar), a shift leader takes it
    up and resolves it: the sidebar says 已上报 and where it stands each time, also after the call ended."""
    errors = PageErrors()
    page, sidebar = await open_demo(service, browser, errors, escalate="0")
    await page.locator("#log li", has_text="请在右侧助手中点击「上报」").wait_for(timeout=30_000)
    call = await call_id(page)
    filed = sidebar.locator(".escalate .status.filed")
    await expect(filed).to_have_count(0)
    phone = await open_client(service, user="demo")  # the softphone's own websocket, as the demo's agent
    leader = await open_client(service, user="L01", role="shift_leader")
    try:
        reply = await phone.call("call.escalate", call_id=call, kind="complaint.urgent", reason="客户要求今天答复")
        assert reply["success"], reply
        await expect(filed).to_have_text("已上报：紧急/恶性投诉 · 待确认")
        await expect(filed).to_have_attribute("data-escalation", reply["escalation_id"])
        ack = await leader.call("escalation.ack", escalation_id=reply["escalation_id"])
        assert ack["success"], ack
        await expect(filed).to_have_text("已上报：紧急/恶性投诉 · 已确认，处理中")
        # the agent's connections are told what was filed and where it stands, not the leaders' notes or contacts
        told = await phone.push("call.escalation", event="acked")
        assert told["call_id"] == call and told["by"] == "L01", told
        assert told["escalation"]["acked_by"] == ["L01"] and told["escalation"]["status"] == "open", told
        assert not {"notes", "steps", "subject"} & set(told["escalation"]), told
        await shot(page, "6-filed-by-the-softphone-320x768")
        # the call ends (the softphone hangs up): a leader's resolution still reaches the sidebar showing it
        ended = await phone.call("call.end", call_id=call, disposition="escalated")
        assert ended["success"], ended
        await sidebar.locator(".callline .ended-tag").wait_for(timeout=10_000)
        done = await leader.call("escalation.resolve", escalation_id=reply["escalation_id"], resolution="已回电客户")
        assert done["success"], done
        await expect(filed).to_have_text("已上报：紧急/恶性投诉 · 已办结")
    finally:
        await phone.ws.close()
        await leader.ws.close()
    await expect(filed).to_have_count(1)
    assert errors.errors == []


async def test_the_demo_softphone_files_the_escalation_the_call_type_calls_for(service: Running, browser: Any) -> None:
    """README's demo paragraph at 1366 x 768: the sample call ends in an escalation, filed by the softphone."""
    errors = PageErrors()
    page, sidebar = await open_demo(service, browser, errors, viewport={"width": 1366, "height": 768})
    await sidebar.locator(".callline .ended-tag").wait_for(timeout=30_000)
    # filed by the softphone (sidebar.escalate), not the agent's tap: the sidebar still says so
    filed = sidebar.locator(".escalate .status.filed")
    await expect(filed).to_contain_text("已上报：紧急/恶性投诉")
    await expect(sidebar.locator(".badge")).to_have_text("紧急/恶性投诉")
    await expect(page.locator("#log li", has_text="已上报：紧急/恶性投诉")).to_have_count(1)
    # and the board gets what the call is: an urgent complaint, not a general one
    (esc,) = await board(service, await call_id(page))
    assert esc["kind"] == "complaint.urgent", esc
    await expect(sidebar.locator(".alert .warning")).not_to_contain_text("本通已提醒")
    await shot(page, "3-demo-1366x768")
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await expect(filed).to_be_in_viewport()
    await shot(page, "3-demo-1920x1080")
    assert errors.errors == []


async def test_checklists_fold_to_what_is_missing_and_stay_clear_of_the_pinned_warning(
    service: Running, browser: Any
) -> None:
    errors = PageErrors()
    page, sidebar = await open_demo(service, browser, errors, escalate="0")
    await page.locator("#log li", has_text="请在右侧助手中点击「上报」").wait_for(timeout=30_000)
    checklist = sidebar.locator("[part=checklist]")
    urgent = checklist.locator("details.form-group[data-form='complaint.urgent']")
    outage = checklist.locator("details.form-group[data-form=system_outage]")
    # folded: one line per form saying what is still missing, no fields shown
    await expect(urgent.locator("summary")).to_contain_text("还差 5 项：客户姓名、联系电话、投诉内容")
    await expect(outage.locator("summary")).to_contain_text(
        "还差 5 项：客户姓名、联系电话、账号/卡号、错误提示信息、发生时间"
    )
    await expect(checklist.locator("input:visible, select:visible")).to_have_count(0)
    box = await box_of(checklist)
    assert box["height"] < 260, box

    # the warning has scrolled away: a one-line reminder is pinned instead, and it does not cover the form
    await outage.locator("summary").click()
    pin = sidebar.locator(".pin")
    await expect(pin).to_be_visible()
    await expect(pin).to_contain_text("禁用语提醒")
    await expect(sidebar.locator(".sticky")).not_to_contain_text("请改用系统正在维护，建议您稍后再试。您也可以先到柜台")
    sticky = sidebar.locator(".sticky")
    fields = outage.locator("input:visible")
    # the agent types from the last field back up to the first (Shift+Tab): each is clear of the pinned strip
    await fields.last.focus()
    for _ in range(await fields.count() + 2):
        focused = await page.evaluate("""() => {
            const a = document.querySelector("assist-sidebar").shadowRoot.activeElement;
            const r = a.getBoundingClientRect();
            const s = document.querySelector("assist-sidebar").shadowRoot.querySelector(".sticky")
                .getBoundingClientRect();
            return {name: a.name || a.textContent, top: r.top, bottom: r.bottom, pinned: s.bottom};
        }""")
        assert focused["top"] >= focused["pinned"] - 0.5, focused
        assert focused["bottom"] <= SCREEN["height"] + 0.5, focused
        await page.keyboard.press("Shift+Tab")
    sticky_box = await box_of(sticky)
    assert sticky_box["height"] < 100, sticky_box

    # the time it happened: no mm/dd/yyyy, the center's time in zh-CN order, by hand or with 现在
    when = outage.locator("input[name=occurred_at]")
    assert await when.get_attribute("type") == "text"
    assert "mm/dd/yyyy" not in (await when.get_attribute("placeholder") or "").lower()
    zone = ZoneInfo("Asia/Shanghai")
    before = datetime.fromtimestamp(time.time(), zone).strftime("%Y-%m-%d %H:%M")
    await outage.get_by_role("button", name="现在").click()
    after = datetime.fromtimestamp(time.time(), zone).strftime("%Y-%m-%d %H:%M")
    assert await when.input_value() in {before, after}
    await when.fill("2026/5/1 9:30")
    await when.blur()
    await expect(when).to_have_value("2026-05-01 09:30")

    # filling a shared field in one form fills it in the other; each line follows what is still missing
    await outage.locator("input[name=customer_name]").fill("李女士")
    await outage.locator("input[name=phone]").fill("13800138000")
    await expect(outage.locator("summary")).to_contain_text("还差 2 项：账号/卡号、错误提示信息")
    await expect(urgent.locator("summary")).to_contain_text("还差 3 项：投诉内容")
    # the account is required for the outage record only, and each form says so
    await expect(outage.locator("label", has=page.locator("input[name=account_number]"))).to_contain_text("必填")
    await urgent.locator("summary").click()
    await expect(urgent.locator("label", has=page.locator("input[name=account_number]"))).not_to_contain_text("必填")
    await expect(urgent.locator("input[name=customer_name]")).to_have_value("李女士")
    await outage.locator("input[name=account_number]").fill("6222020200112233")
    await outage.locator("input[name=error_message]").fill("系统繁忙，请稍后再试")
    await expect(outage.locator("summary")).to_contain_text("必填项已填齐")
    await outage.get_by_role("button", name="提交记录").click()

    await expect(outage.locator("summary")).to_contain_text("已提交")
    await shot(page, "4-checklist-320x768")
    await shot(page, "4-checklist-320-full", full=True)
    # the pinned reminder brings the warning back
    await pin.click()
    await expect(sidebar.locator(".alert .warning")).to_be_in_viewport()
    await expect(pin).to_be_hidden()
    assert errors.errors == []


async def test_the_english_sidebar_speaks_only_english_but_for_the_callers_and_agents_words(
    service: Running, browser: Any
) -> None:
    errors = PageErrors()
    page, sidebar = await open_demo(service, browser, errors, lang="en")
    await sidebar.locator(".callline .ended-tag").wait_for(timeout=30_000)
    await expect(sidebar.locator(".badge")).to_have_text("Urgent complaint")
    await expect(sidebar.locator(".escalate .status.filed")).to_contain_text("Escalated: Urgent complaint")
    # open everything that folds, so what it hides is read too
    for summary in await sidebar.locator("details > summary").all():
        await summary.click()
    await sidebar.locator("button.escalate-open").click()
    await shot(page, "5-english-320-full", full=True)
    found = await page.evaluate("""async () => {
        const { SCRIPT, CONTEXT } = await import("/plugin/demo.js");
        const root = document.querySelector("assist-sidebar").shadowRoot;
        const texts = [];
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            if (n.parentElement.closest("style")) continue;
            texts.push(n.data);
        }
        for (const el of root.querySelectorAll("[aria-label], [placeholder], [title]")) {
            for (const a of ["aria-label", "placeholder", "title"]) {
                if (el.getAttribute(a)) texts.push(el.getAttribute(a));
            }
        }
        const said = [...SCRIPT.filter((s) => ["customer", "agent", "note"].includes(s[1])).map((s) => s[2]),
                      ...Object.values(CONTEXT)];
        return { texts, said };
    }""")
    # the customer's and agent's own words (the transcript, the note, the call's context) may be Chinese, and
    # so may the language button, which names the other language in that language
    allowed = [*found["said"], "中文", "切换到中文"]
    chinese = sorted(
        {run for text in found["texts"] for run in CJK.findall(text) if not any(run in words for words in allowed)}
    )
    assert chinese == [], chinese
    assert errors.errors == []
