"""Every page in each of its languages shows no text of the other language.

In Chinese: no English words (ids, codes and brand names are marked translate="no" by the page, or are on the
small allow-list below). In English: no Chinese characters. Text the page marks with another lang= (the
caller's words, the name of the other language on the switch) is the page being explicit, and is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Browser, expect

from assist.app import Running
from tests.conftest import issue
from tests.journeys.conftest import new_page, settled, visible_text

pytestmark = pytest.mark.browser

ENGLISH_OK = {"assist", "token", "F1", "YAML", "JSON", "zip", "IVR", "ID", "IT", "SMS", "vs"}
"""Words a Chinese page may show as they are: the product's name and terms the center uses in English."""
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def foreign(texts: list[str], lang: str) -> list[str]:
    """The pieces of `texts` in the other language than `lang`."""
    if lang == "en":
        return [t for t in texts if CJK.search(t)]
    return [t for t in texts if any(w not in ENGLISH_OK for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", t))]


Walk = Callable[[Browser, Running, str], Awaitable[dict[str, list[str]]]]


async def trainer_pages(browser: Browser, running: Running, lang: str) -> dict[str, list[str]]:
    page = await new_page(browser, running, "/console/trainer", lang=lang, storage={"trainer.lang": lang})
    seen = {"login": await visible_text(page)}
    await page.get_by_test_id("token").fill(await issue(running, "t1", "trainer"))
    await page.get_by_test_id("login").click()
    await expect(page.get_by_test_id("draft-status")).to_be_visible()
    await page.get_by_test_id("try-input").fill("客户：我的手机银行页面全是乱码\n坐席：这是我们系统的问题")
    await expect(page.get_by_test_id("try-category")).to_be_visible(timeout=30_000)
    for section in (
        "system_outage",
        "complaint.urgent",
        "none",
        "forbidden",
        "synonyms",
        "samples",
        "feedback",
        "review",
        "versions",
        "audit",
        "files",
    ):
        await page.get_by_test_id(f"nav-{section}").click()
        await settled(page)
        seen[section] = await visible_text(page)
    return seen


async def leader_pages(browser: Browser, running: Running, lang: str) -> dict[str, list[str]]:
    page = await new_page(browser, running, "/console/leader", lang=lang, storage={"leader.lang": lang})
    seen = {"login": await visible_text(page)}
    await page.get_by_test_id("token").fill(await issue(running, "L01", "shift_leader"))
    await page.get_by_test_id("login").click()
    for tab in ("board", "faults", "report"):
        await page.get_by_test_id(f"tab-{tab}").click()
        await settled(page)
        seen[tab] = await visible_text(page)
    return seen


async def demo_page(browser: Browser, running: Running, lang: str) -> dict[str, list[str]]:
    """The demo played to its end (the sidebar shows the urgent complaint and the escalation)."""
    server = f"ws://127.0.0.1:{running.ws_port}/ws"
    page = await new_page(
        browser, running, f"/demo?speed=100&server={server}" + ("&lang=en" if lang == "en" else ""), lang=lang
    )
    await page.locator("#log li", has_text=re.compile("通话结束|Call ended")).wait_for(timeout=60_000)
    return {"demo": await visible_text(page)}


async def landing_page(browser: Browser, running: Running, lang: str) -> dict[str, list[str]]:
    page = await new_page(browser, running, "/", lang=lang, storage={"home.lang": lang})
    await expect(page.get_by_test_id("link-trainer")).to_be_visible()
    return {"/": await visible_text(page)}


PAGES = [
    pytest.param(trainer_pages, id="trainer"),
    pytest.param(landing_page, id="landing"),
    pytest.param(leader_pages, id="leader"),
    pytest.param(demo_page, id="demo"),
]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("walk", PAGES)
async def test_a_page_speaks_one_language(site: Running, chromium: Browser, walk: Walk, lang: str) -> None:
    seen = await walk(chromium, site, lang)
    found = {where: foreign(texts, lang) for where, texts in seen.items()}
    found = {where: texts for where, texts in found.items() if texts}
    assert not found, f"text of the other language on the {lang} page: {found}"
    # one word for the agent's seat on every page (座席, as in 座席班长 and the sidebar's 座席助手), not 坐席 on some
    mixed = {where: [t for t in texts if "坐席" in t] for where, texts in seen.items()}
    assert not any(mixed.values()), f"坐席 beside 座席: {mixed}"
