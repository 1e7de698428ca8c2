"""Every screen of the leader console in each language shows no text of the other one (docs/leader.md: "The
page is in Chinese; English switches it"), apart from a small allow-list: ids, the brand of a doc path, and the
data people typed (names, records, what customers said) — and the report's text, which is sent in Chinese."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from assist.app import Running
from tests.conftest import open_client
from tests.journeys.leader.conftest import Console, agent_on_call, open_console

pytestmark = pytest.mark.browser

URGENT_LINE = "你们再不给我答复我就去银保监会投诉，还要找媒体曝光"
LIVE_LINE = "我们正在直播，请问你们手机银行为什么用不了"
DATA = [
    "王班长",
    "赵管理员",
    "钱后台",
    "孙经理",
    "李部长",
    "电子银行部",
    "周主任",
    "陈先生",
    "理财产品亏损未被告知风险",
    "今天内答复",
    "扬言向监管和媒体反映",
    URGENT_LINE,
    "网上银行",
    "登录页面无法打开",
    "交通之声",
    "小李",
    "手机银行为何无法使用",
    LIVE_LINE,
    "零售",
    "理财",
    "客户要求立即答复",
]
"""What people typed into the system: shown as typed in either language."""
CHINESE_OK = ["中文"]
"""The language switch of the English page."""
ENGLISH_OK = {"English", "docs", "routing", "md", "token"}
"""Words that stay English in the Chinese page: the language switch, the doc path."""
IDS = re.compile(r"\b(?:[EFR]-[0-9a-f]+|c-\d+|[a-z]{1,2}\d+)\b")


async def seed(center: Running) -> tuple[str, str]:
    a1 = await agent_on_call(center, "a1002", "c-200", [URGENT_LINE], queue="理财")
    urgent = await a1.call(
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
    a2 = await agent_on_call(center, "a1003", "c-201", [LIVE_LINE], queue="零售")
    await a2.call(
        "record.submit",
        call_id="c-201",
        form="media.live",
        fields={"outlet": "交通之声", "host_name": "小李", "phone": "13700003333", "questions": "手机银行为何无法使用"},
    )
    admin = await open_client(center, user="sa1", role="seat_admin")
    opened = await admin.call(
        "fault.open",
        occurred_at=center.hub.clock() - 60,
        symptoms="登录页面无法打开",
        level=2,
        system="网上银行",
        reported_by="sa1",
    )
    assert urgent["success"] and opened["success"], (urgent, opened)
    return urgent["escalation_id"], opened["fault"]["fault_id"]


async def visible_text(page: Page) -> str:
    """What the leader reads: the page and any open dialog, without the report's text (sent in Chinese)."""
    text: str = await page.evaluate("""() => {
        const skip = [...document.querySelectorAll('[lang="zh-CN"]:not(html)')];
        skip.forEach((el) => { el.dataset.hiddenText = el.textContent; el.textContent = ''; });
        const out = document.body.innerText;
        skip.forEach((el) => { el.textContent = el.dataset.hiddenText; });
        return out;
    }""")
    return text


async def walk(console: Console, esc_id: str, names: dict[str, str]) -> list[str]:
    """Every screen: the board, a call's details, the fault form and records, the daily report."""
    page = console.page
    screens = []
    await expect(page.get_by_test_id(f"esc-{esc_id}")).to_be_visible()
    await expect(page.get_by_test_id("live-calls")).to_be_visible()
    screens.append(await visible_text(page))
    await page.get_by_test_id("call-c-200").click()
    await expect(page.locator("#dialog")).to_contain_text("c-200")
    await expect(page.locator("#dialog .record")).to_be_visible()
    screens.append(await visible_text(page))
    await page.get_by_test_id("dlg-close").click()
    await page.get_by_test_id("tab-faults").click()
    await expect(page.get_by_test_id("faults-all")).to_contain_text("网上银行")
    await page.get_by_test_id("f-submit").click()  # an empty form: what is missing, in the page's language
    await expect(page.get_by_test_id("err-symptoms")).not_to_be_empty()
    screens.append(await visible_text(page))
    await page.get_by_test_id("tab-report").click()
    await expect(page.get_by_test_id("report-tiles")).to_contain_text(names["report"])
    screens.append(await visible_text(page))
    return screens


async def test_the_chinese_console_shows_no_english(center: Running, browser: Browser) -> None:
    esc_id, _ = await seed(center)
    console = await open_console(browser, center, "sa1", "seat_admin")
    for screen in await walk(console, esc_id, {"report": "来电总数"}):
        words = set(re.findall(r"[A-Za-z]{2,}", IDS.sub("", screen))) - ENGLISH_OK
        assert not words, f"English on a Chinese screen: {sorted(words)}\n{screen}"
    assert console.errors == []


async def test_the_english_console_shows_no_chinese(center: Running, browser: Browser) -> None:
    esc_id, _ = await seed(center)
    console = await open_console(browser, center, "sa1", "seat_admin", lang="en")
    for screen in await walk(console, esc_id, {"report": "Calls"}):
        for typed in sorted(DATA + CHINESE_OK, key=len, reverse=True):
            screen = screen.replace(typed, "")
        chinese = re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", screen)
        assert not chinese, f"Chinese on an English screen: {chinese}\n{screen}"
    await console.shoot("english-report")
    assert console.errors == []


async def test_switching_the_language_rewrites_the_whole_page(center: Running, browser: Browser) -> None:
    """The switch (marked with the language it names) turns every part of the signed-in page, the top bar
    with who is signed in included, into the other language, and back."""
    console = await open_console(browser, center, "s1", "shift_leader")
    page = console.page
    switch = page.locator("#lang")
    await expect(page.locator("#who")).to_have_text("s1 · 座席班长")
    await expect(switch).to_have_attribute("lang", "en")
    await switch.click()
    await expect(page.locator("#who")).to_have_text("s1 · Shift leader")
    await expect(page.get_by_test_id("tab-faults")).to_have_text("Faults")
    await expect(switch).to_have_text("中文")
    await expect(switch).to_have_attribute("lang", "zh-CN")
    await switch.click()
    await expect(page.locator("#who")).to_have_text("s1 · 座席班长")
    assert console.errors == []
