"""The site as a first-time visitor meets it: `/` links every page, and no page logs an error (not even a
missing favicon)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from assist.app import Running
from tests.journeys.conftest import ConsoleErrors, new_page, shoot

pytestmark = pytest.mark.browser


async def test_the_landing_page_links_the_consoles_the_demo_and_the_docs(site: Running, chromium: Browser) -> None:
    page = await new_page(chromium, site, "/")
    await expect(page.locator("h1")).to_contain_text("座席助手")
    await shoot(page, "site", "landing-zh")
    await page.get_by_test_id("lang").click()
    await expect(page.get_by_test_id("link-trainer")).to_have_text("Trainer console")
    await shoot(page, "site", "landing-en")
    await page.get_by_test_id("lang").click()
    await expect(page.get_by_test_id("link-trainer")).to_have_text("培训台")
    for link, landed in (("link-trainer", "话术包培训台"), ("link-leader", "登录"), ("link-docs", "trainer")):
        await page.get_by_test_id(link).click()
        await expect(page.locator("body")).to_contain_text(landed)
        await page.go_back()
    await page.get_by_test_id("link-docs").click()
    await page.get_by_role("link", name="trainer").click()
    await expect(page.locator("body")).to_contain_text("# 培训台 Trainer console")
    await page.goto(page.url.split("/docs")[0] + "/")
    await page.get_by_test_id("link-demo").click()
    await expect(page).to_have_url(re.compile(r"/demo$"))


@pytest.mark.parametrize("path", ["/", "/console/trainer", "/console/leader", "/demo?autoplay=0", "/docs/"])
async def test_a_page_loads_without_a_console_error(site: Running, chromium: Browser, path: str) -> None:
    errors = ConsoleErrors()
    context = await chromium.new_context()
    page = errors.watch(await context.new_page())
    if path.startswith("/demo"):
        path += f"&server=ws://127.0.0.1:{site.ws_port}/ws"
    await page.goto(f"http://127.0.0.1:{site.http_port}{path}", wait_until="networkidle")
    icon = await page.request.get(f"http://127.0.0.1:{site.http_port}/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/")
    assert errors.errors == []
    await context.close()
