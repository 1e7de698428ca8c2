"""docs/leader.md, "The board" at a large center's scale: 2,000 live calls (each an agent's softphone on its own
real websocket) and 200 open escalations. The console reads the live-call list by subscription (its pages, then
pushed changes), never by asking `/api/leader/calls`, and the leader can still act on the board while the
whole floor's calls change at once."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from playwright.async_api import Browser, Request, expect
from websockets.asyncio.client import ClientConnection, connect

from assist.app import Running
from assist.server.store import token_hash
from tests.conftest import issue
from tests.journeys.leader.conftest import open_console

pytestmark = pytest.mark.browser

CALLS = 2000
ESCALATED = 200
SHOWN = 200  # rows the console draws (the most serious); the chip counts every call
LOADING = 60_000  # ms: how long the page may take to read 2,000 calls on a busy 2-core machine (a wait, not a target)
T = TypeVar("T")


class Softphone:
    """One agent on one call, its replies read in order (pushes are not needed here)."""

    def __init__(self, ws: ClientConnection, call_id: str) -> None:
        self.ws, self.call_id, self.next_id = ws, call_id, 0

    async def call(self, type_: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send(
            json.dumps({"id": self.next_id, "type": type_, "call_id": self.call_id, **fields}, ensure_ascii=False)
        )
        while True:
            msg: dict[str, Any] = json.loads(await self.ws.recv())
            if msg.get("type") == "result" and msg.get("id") == self.next_id:
                assert msg["success"], msg
                return msg


async def agent_tokens(running: Running, n: int) -> list[str]:
    """Tokens for agents a0000… issued in one transaction, as `assist token issue` would one by one (2,000 units
    would be 2,000 fsyncs)."""
    tokens = [secrets.token_urlsafe(32) for _ in range(n)]
    async with running.store.unit() as db:
        await db.executemany(
            "INSERT INTO tokens(hash, user, role, created_at) VALUES (?,?,?,?)",
            [(token_hash(t), f"a{i:04d}", "agent", time.time()) for i, t in enumerate(tokens)],
        )
    return tokens


async def softphone(running: Running, n: int, token: str) -> Softphone:
    ws = await connect(f"ws://127.0.0.1:{running.ws_port}/ws", max_size=None, compression=None, ping_interval=None)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    ok = json.loads(await ws.recv())
    assert ok["type"] == "auth_ok", ok
    phone = Softphone(ws, f"s-{n:04d}")
    await phone.call("call.start", context={"queue": "零售", "customer_name": f"客户{n}"})
    return phone


async def in_batches(jobs: list[Coroutine[Any, Any, T]], size: int = 100) -> list[T]:
    """Run the jobs a hundred at a time (2,000 handshakes at once would only queue up in the kernel)."""
    out: list[T] = []
    for i in range(0, len(jobs), size):
        out += await asyncio.gather(*jobs[i : i + size])
    return out


async def test_two_thousand_live_calls_and_two_hundred_escalations(center: Running, browser: Browser) -> None:
    token = await issue(center, "s1", "shift_leader")
    tokens = await agent_tokens(center, CALLS)
    phones: list[Softphone] = await in_batches([softphone(center, n, t) for n, t in enumerate(tokens)])
    escalated = await in_batches(
        [p.call("call.escalate", kind="complaint.about_agent", reason="态度差") for p in phones[:ESCALATED]]
    )
    try:
        console = await open_console(browser, center, token=token)
        page = console.page
        asked: list[str] = []

        def count(request: Request) -> None:
            if request.url.split("?")[0].endswith("/api/leader/calls"):
                asked.append(request.url)

        page.on("request", count)
        rows = page.get_by_test_id("live-calls").locator("tbody tr")
        # Every live call arrived (the chip counts them all); the table lists the 200 most serious.
        await expect(page.get_by_test_id("chip-calls")).to_contain_text(str(CALLS), timeout=LOADING)
        await expect(rows).to_have_count(SHOWN)
        await expect(page.get_by_test_id("calls-more")).to_contain_text(f"另有 {CALLS - SHOWN} 个通话未列出")
        await expect(page.locator("#board article[data-kind]")).to_have_count(ESCALATED, timeout=LOADING)
        await expect(page.get_by_test_id("call-s-0000").locator(".badge")).to_have_text("↑")

        # The whole floor writes a note at once; meanwhile the leader acknowledges an escalation and it shows.
        esc_id = str(escalated[7]["escalation_id"])
        notes = asyncio.gather(
            *(
                p.call("call.note", text=f"客户咨询信用卡额度（{i}）" + ("\n客户要求提高额度" if i == 2 else ""))
                for i, p in enumerate(phones)
            )
        )
        await page.get_by_test_id(f"ack-{esc_id}").click()
        await expect(page.get_by_test_id(f"ack-{esc_id}")).to_have_text("✓ 已确认", timeout=LOADING)
        await notes

        # A call turns serious: it is pushed to the top of the list, in words.
        last = phones[-1]
        await last.call("call.transcript", speaker="customer", text="我是电视台的记者，我们正在直播")
        await expect(rows.first).to_have_attribute("data-testid", f"call-{last.call_id}", timeout=LOADING)
        await expect(rows.first).to_contain_text("媒体直播")
        # A call ends: its row goes, and the count follows.
        await phones[1].call("call.end", disposition="done")
        await expect(page.get_by_test_id("call-s-0001")).to_have_count(0)
        await expect(page.get_by_test_id("chip-calls")).to_contain_text(str(CALLS - 1))
        # Still answering clicks: a call's details.
        await page.get_by_test_id("call-s-0002").click()
        await expect(page.locator("#dialog")).to_contain_text("客户2")
        # the agent's note as written, line by line
        await expect(page.get_by_test_id("call-notes").locator("div")).to_have_text(
            ["客户咨询信用卡额度（2）", "客户要求提高额度"]
        )
        await page.get_by_test_id("dlg-close").click()
        await console.shoot("live-calls-2000")
        assert asked == [], "the console asked for the list instead of following its pushes"
        assert console.errors == []
    finally:
        await asyncio.gather(*(p.ws.close() for p in phones), return_exceptions=True)
