"""The shift leader's board through a restart (a drain closes with 1012, a new instance takes over on the same
ports and database), in Debian chromium: the leader is told the board may be stale while it is down, it comes
back by itself with the escalations it showed, and an escalation opened on the new instance appears live."""

from __future__ import annotations

import dataclasses

import pytest
from playwright.async_api import Browser, expect

from assist.app import Running
from assist.config import Settings
from tests.conftest import REPLY_BOUND, issue, start_shared
from tests.consoles_leader.test_leader_browser import interview_request, open_console, seed

pytestmark = pytest.mark.browser

BOUND_MS = REPLY_BOUND * 1000


async def test_the_board_comes_back_after_a_restart_and_keeps_showing_live_escalations(
    leader_settings: Settings, browser: Browser
) -> None:
    first = await start_shared(leader_settings)
    running: Running | None = first
    again = dataclasses.replace(leader_settings, ws_port=first.ws_port, http_port=first.http_port)
    try:
        await seed(first)
        page = await open_console(browser, first, await issue(first, "s1", "shift_leader"))
        await expect(page.get_by_test_id("conn")).to_have_text("已连接", timeout=BOUND_MS)
        board = page.locator("article.esc")
        await expect(board).to_have_count(2, timeout=BOUND_MS)  # the seeded fault and complaint about the agent
        banner = page.get_by_test_id("banner")
        await expect(banner).to_be_hidden()

        assert await first.drain(30.0) is True
        running = None
        await expect(banner).to_be_visible(timeout=BOUND_MS)
        await expect(banner).to_contain_text("看板可能不是最新的")
        await expect(board).to_have_count(2)  # what the leader saw stays on screen while it is down

        running = await start_shared(again)  # the same ports and database: "any instance"
        await expect(page.get_by_test_id("conn")).to_have_text("已连接", timeout=BOUND_MS)
        await expect(banner).to_be_hidden()
        await expect(board).to_have_count(2)

        esc_id = await interview_request(running, "r-1", "晨报", {"customer_name": "周女士"})
        card = page.get_by_test_id(f"esc-{esc_id}")
        await expect(card).to_be_visible(timeout=BOUND_MS)
        await expect(card).to_contain_text("晨报")
        await expect(board).to_have_count(3)
    finally:
        if running is not None:
            await running.close()
