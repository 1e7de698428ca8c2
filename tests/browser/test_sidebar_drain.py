"""The sidebar through a drain (1012) and a restart, in a real browser: it reconnects by itself, the agent
sees the call's category, talking points and warning again, and a line said while the instance was draining
is not lost: the service did not run it, and the sidebar sends it again to the new instance."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from assist.app import Running
from assist.config import Settings
from assist.server.ops.crypto import load_cipher
from tests.browser.conftest import PageErrors
from tests.browser.test_sidebar import RECORD_UPDATES
from tests.conftest import start_shared
from tests.ops.test_drain import until

pytestmark = pytest.mark.browser

BOUND_MS = 30_000
"""How long the page may take to show something before the test fails instead of hanging."""


async def test_sidebar_reconnects_after_a_drain_and_shows_the_call_again(settings: Settings, browser: Any) -> None:
    first = await start_shared(settings)
    running: Running | None = first
    again = replace(settings, ws_port=first.ws_port, http_port=first.http_port)
    try:
        errors = PageErrors()
        page = errors.watch(await browser.new_page())
        await page.add_init_script(
            RECORD_UPDATES
            + """
            window.__states = [];
            document.addEventListener("assist-state", (e) => window.__states.push(e.detail));"""
        )
        await page.goto(f"http://127.0.0.1:{first.http_port}/demo?autoplay=0&server=ws://127.0.0.1:{first.ws_port}/ws")
        sidebar = page.locator("assist-sidebar")
        await sidebar.locator(".conn[data-state=open]").wait_for(timeout=BOUND_MS)
        await page.evaluate("""async () => {
            const sb = document.querySelector("assist-sidebar");
            await sb.startCall("d-1", {queue: "retail", customer_name: "王先生"});
            await sb.addTranscript("customer", "我手机银行转账一直提示系统繁忙，转了好几次都失败了", true);
            await sb.addTranscript("agent", "不好意思，系统坏了，您稍后再试吧", true);
        }""")
        await sidebar.locator(".badge[data-category=system_outage]").wait_for(timeout=BOUND_MS)
        await sidebar.locator(".alert .warning").wait_for(timeout=BOUND_MS)
        before = (await page.evaluate("window.__updates"))[-1]
        assert before["category"] == "system_outage" and before["talking_points"]

        # The agent escalates; the escalation is under way (routing's lock is held here) when the drain begins,
        # and the customer's next line is sent while the instance drains.
        async with first.routing.lock:
            await page.evaluate("""() => { window.__escalated = document.querySelector("assist-sidebar")
                .escalate("complaint", "客户要求投诉"); }""")
            await until(lambda: bool(first.hub.in_command))
            drain = asyncio.create_task(first.drain(30.0))
            await until(lambda: first.hub.draining)
            await page.evaluate("""() => { window.__late = document.querySelector("assist-sidebar")
                .addTranscript("customer", "今天不给我答复，我就打12378投诉到银保监会", true); }""")
        assert await drain is True
        running = None
        assert (await page.evaluate("window.__escalated"))["escalation_id"], "answered before the close"
        await sidebar.locator(".conn[data-state=reconnecting]").wait_for(timeout=BOUND_MS)
        states = await page.evaluate("window.__states")
        assert any(s["state"] == "reconnecting" and s.get("reason") == "closed 1012" for s in states), states
        seen_before = len(await page.evaluate("window.__updates"))

        running = await start_shared(again)  # the same ports and database: "any instance"
        await sidebar.locator(".conn[data-state=open]").wait_for(timeout=BOUND_MS)
        await page.wait_for_function(f"window.__updates.length > {seen_before}", timeout=BOUND_MS)
        # the resumed call, as the new instance took it back from the store: the same category and prompts
        resumed = (await page.evaluate("window.__updates"))[seen_before]
        assert resumed["call_id"] == "d-1" and resumed["labels"] == before["labels"]
        assert resumed["talking_points"] == before["talking_points"]
        # the line said during the drain reaches the new instance, once, and its prompt is shown
        reply = await page.evaluate("window.__late")
        assert reply["category"] == "complaint.urgent"
        await sidebar.locator(".badge[data-category='complaint.urgent']").wait_for(timeout=BOUND_MS)
        # the earlier category and the agent's warning are still on screen
        assert await sidebar.locator(".chip[data-category=system_outage]").count() == 1
        assert "系统坏了" in await sidebar.locator(".alert .warning").inner_text()
        assert await sidebar.locator(".forbidden-list li[data-rule=system_blame].hit").count() == 1
        with sqlite3.connect(settings.db) as conn:  # the payloads are sealed: opened with the database's key
            conn.row_factory = load_cipher(settings.db).row_factory()
            said = [
                json.loads(r[0])["text"]
                for r in conn.execute("SELECT payload FROM call_events WHERE call_id='d-1' AND kind='transcript'")
            ]
        assert said.count("今天不给我答复，我就打12378投诉到银保监会") == 1, said
        assert errors.errors == []
    finally:
        if running is not None:
            await running.close()
