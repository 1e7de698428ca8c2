"""The softphone sidebar in a real browser (Debian chromium through Playwright)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import expect

from assist.app import Running
from assist.config import Settings
from tests.browser.conftest import PageErrors
from tests.conftest import REPLY_BOUND, box_of, issue, open_client, start_shared

pytestmark = pytest.mark.browser

RECORD_UPDATES = """
window.__updates = [];
window.__warnings = [];
document.addEventListener("assist-update", (e) => window.__updates.push(e.detail));
document.addEventListener("assist-warning", (e) => window.__warnings.push(e.detail));
"""

SCREENSHOTS = Path(os.environ.get("ASSIST_SCREENSHOTS", tempfile.gettempdir())) / "assist-screenshots"


async def test_demo_plays_a_call_into_the_sidebar(plugin_service: Running, browser: Any) -> None:
    errors = PageErrors()
    page = errors.watch(await browser.new_page(viewport={"width": 1100, "height": 900}))
    await page.add_init_script(RECORD_UPDATES)
    await page.goto(
        f"http://127.0.0.1:{plugin_service.http_port}/demo?speed=100&server=ws://127.0.0.1:{plugin_service.ws_port}/ws"
    )

    sidebar = page.locator("assist-sidebar")
    await sidebar.locator(".conn[data-state=open]").wait_for(timeout=10_000)
    # the outage is recognised, with its reason and talking points
    await page.wait_for_function("window.__updates.some(u => u.category === 'system_outage')", timeout=10_000)
    # the agent's forbidden line raises a warning with the approved wording
    warning = sidebar.locator(".alert .warning")
    # the card may show one phrase of the line before it shows the line itself (a busy run read it in between)
    await expect(warning).to_contain_text("系统坏了", timeout=10_000)
    assert "系统正在维护，建议您稍后再试" in await warning.inner_text()
    assert await sidebar.locator(".alert").get_attribute("role") == "alert"
    # the customer escalates: urgent complaint, with its own talking points
    badge = sidebar.locator(".badge")
    await page.wait_for_function(
        "document.querySelector('assist-sidebar').shadowRoot.querySelector('.badge')?.dataset.category"
        " === 'complaint.urgent'",
        timeout=15_000,
    )
    assert (await badge.inner_text()).strip() == "紧急/恶性投诉"
    reason = await sidebar.locator(".reason").inner_text()
    assert "12378" in reason or "投诉" in reason, reason
    points = await sidebar.locator("ol.points li p").all_inner_texts()
    assert any("我马上向我们的班长汇报" in p for p in points), points
    assert await sidebar.locator("ol.points li button.copy").count() == len(points)
    # the earlier outage stays shown beside it, and the call's forbidden phrases are listed
    assert await sidebar.locator(".chip[data-category=system_outage]").count() == 1
    assert await sidebar.locator(".forbidden-list li[data-rule=system_blame].hit").count() == 1
    # the escalation mid-call reaches the service
    await page.locator("#log li", has_text="已上报：紧急/恶性投诉").wait_for(timeout=10_000)
    await page.locator("#log li", has_text="通话结束").wait_for(timeout=10_000)
    await sidebar.locator(".callline .ended-tag").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "demo-1100.png"))
    categories = [u["category"] for u in await page.evaluate("window.__updates")]
    assert categories.index("system_outage") < categories.index("complaint.urgent")
    assert {w["rule"] for w in await page.evaluate("window.__warnings")} == {"system_blame"}
    assert errors.errors == []


def call_events(db: Path | str, call_id: str, kind: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM call_events WHERE call_id=? AND kind=?", (call_id, kind)).fetchone()
    return int(row[0])


async def test_sidebar_reconnects_and_resumes_the_call_after_a_service_restart(
    settings: Settings, browser: Any
) -> None:
    running = await start_shared(settings)
    # the restart comes back on the same ports and database
    plugin_settings = replace(settings, ws_port=running.ws_port, http_port=running.http_port)
    try:
        errors = PageErrors()
        page = errors.watch(await browser.new_page())
        await page.add_init_script(RECORD_UPDATES)
        await page.goto(
            f"http://127.0.0.1:{running.http_port}/demo?autoplay=0&server=ws://127.0.0.1:{running.ws_port}/ws"
        )
        sidebar = page.locator("assist-sidebar")
        conn = sidebar.locator(".conn")
        await sidebar.locator(".conn[data-state=open]").wait_for(timeout=10_000)
        await page.evaluate("""async () => {
            const sb = document.querySelector("assist-sidebar");
            await sb.startCall("r-1", {queue: "retail", customer_name: "王先生"});
            await sb.addTranscript("customer", "我手机银行转账一直提示系统繁忙，转了好几次都失败了", true);
            await sb.setNote("客户要求今天给答复");
        }""")
        await sidebar.locator(".badge[data-category=system_outage]").wait_for()
        assert call_events(plugin_settings.db, "r-1", "note") == 1

        await running.close()
        await sidebar.locator(".conn[data-state=reconnecting]").wait_for(timeout=10_000)
        assert "重连" in await conn.inner_text()
        # what the agent was reading stays on screen during the blip
        assert await sidebar.locator(".badge[data-category=system_outage]").count() == 1
        seen_before = len(await page.evaluate("window.__updates"))

        running = await start_shared(plugin_settings)
        await sidebar.locator(".conn[data-state=open]").wait_for(timeout=15_000)
        # call.start was re-sent with the same call id: the call comes back from the store...
        await page.wait_for_function(f"window.__updates.length > {seen_before}", timeout=10_000)
        resumed = (await page.evaluate("window.__updates"))[-1]
        assert resumed["call_id"] == "r-1" and resumed["category"] == "system_outage"
        assert any("王先生" in tp["text"] for tp in resumed["talking_points"]), "same context re-sent"

        # ... and the latest note was re-sent too
        async def note_stored_again() -> None:  # once the writer commits it: bounded, not a tolerance (was 5 s)
            while call_events(plugin_settings.db, "r-1", "note") < 2:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(note_stored_again(), REPLY_BOUND)
        assert call_events(plugin_settings.db, "r-1", "note") == 2
        # the call goes on as if nothing happened
        reply = await page.evaluate("""() => document.querySelector("assist-sidebar")
            .addTranscript("customer", "今天不给我答复，我就打12378投诉到银保监会", true)""")
        assert reply["category"] == "complaint.urgent"
        await sidebar.locator(".badge[data-category='complaint.urgent']").wait_for()
        assert errors.errors == []
    finally:
        await running.close()


HOST_PAGE = """<!doctype html><meta charset="utf-8"><title>softphone</title>
<iframe id="assist" src="{frame}" style="width:360px;height:600px;border:0"></iframe>
{extra}
<script>
  const SERVICE = {service!r};
  window.received = [];
  const waiting = new Map();
  let nextId = 1;
  addEventListener("message", (e) => {{
    if (e.origin !== SERVICE) return;
    window.received.push(e.data);
    if (e.data && e.data.assist === "reply" && waiting.has(e.data.id)) {{
      waiting.get(e.data.id)(e.data);
      waiting.delete(e.data.id);
    }}
  }});
  window.callFrame = (method, ...args) => new Promise((resolve) => {{
    const id = nextId++;
    waiting.set(id, resolve);
    document.getElementById("assist").contentWindow.postMessage({{assist: "call", id, method, args}}, SERVICE);
  }});
</script>
"""

EVIL_SIBLING = """<!doctype html><meta charset="utf-8"><script>
  window.answers = [];
  addEventListener("message", (e) => window.answers.push(e.data));
  window.attack = () => parent.frames[0].postMessage(
      {assist: "call", id: 1, method: "startCall", args: ["evil-sibling", {}]}, "*");
</script>"""


@pytest.fixture
async def host_site() -> AsyncIterator[tuple[int, dict[str, str]]]:
    """A softphone page server on another port (another origin); pages are set by the test."""
    pages: dict[str, str] = {}

    async def page(request: web.Request) -> web.Response:
        body = pages.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port: int = runner.addresses[0][1]
    try:
        yield port, pages
    finally:
        await runner.cleanup()


async def test_iframe_is_driven_by_postmessage_and_ignores_other_origins(
    plugin_service: Running, browser: Any, host_site: tuple[int, dict[str, str]]
) -> None:
    port, pages = host_site
    host = f"http://127.0.0.1:{port}"
    service = f"http://127.0.0.1:{plugin_service.http_port}"
    token = await issue(plugin_service, "a2001", "agent")
    frame = (
        f"{service}/plugin/frame.html?server=ws://127.0.0.1:{plugin_service.ws_port}/ws&token={token}&origins={host}"
    )
    # the host page, with a sibling frame from another origin (localhost is not 127.0.0.1)
    pages["host.html"] = HOST_PAGE.format(
        frame=frame, service=service, extra=f'<iframe id="other" src="http://localhost:{port}/evil.html"></iframe>'
    )
    pages["evil.html"] = EVIL_SIBLING
    # a page of another origin that frames the sidebar itself and tries to drive it
    pages["evil-host.html"] = HOST_PAGE.format(frame=frame, service=service, extra="")

    errors = PageErrors()
    page = errors.watch(await browser.new_page())
    await page.goto(f"{host}/host.html")
    await page.wait_for_function("window.received.some(m => m.assist === 'ready')", timeout=10_000)
    sidebar = page.frame_locator("#assist").locator("assist-sidebar")
    await sidebar.locator(".conn[data-state=open]").wait_for(timeout=10_000)

    # a message from another origin is ignored
    other = page.frame(url=f"http://localhost:{port}/evil.html")
    assert other is not None
    await other.evaluate("window.attack()")
    await page.wait_for_timeout(300)
    assert await other.evaluate("window.answers") == []
    assert await plugin_service.store.live_call("evil-sibling") is None

    # the host drives it
    started = await page.evaluate("callFrame('startCall', 'f-1', {queue: 'ebanking', customer_name: '李女士'})")
    assert started["ok"] is True, started
    assert started["result"]["update"]["call_id"] == "f-1"
    line = await page.evaluate("callFrame('addTranscript', 'customer', '我手机银行转账一直提示系统繁忙', true)")
    assert line["ok"] and line["result"]["category"] == "system_outage"
    await page.evaluate("callFrame('addTranscript', 'agent', '不好意思，这是我们系统的问题，我们系统坏了', true)")
    await page.wait_for_function(
        "window.received.some(m => m.assist === 'event' && m.name === 'assist-warning')", timeout=5_000
    )
    events = await page.evaluate("window.received.filter(m => m.assist === 'event').map(m => m.name)")
    assert "assist-update" in events
    await sidebar.locator(".badge[data-category=system_outage]").wait_for()
    await sidebar.locator(".alert .warning").wait_for()
    escalated = await page.evaluate("callFrame('escalate', 'fault', '客户无法转账')")
    assert escalated["ok"] is True, escalated
    bad = await page.evaluate("callFrame('escalate', 'no-such-kind', '')")
    assert bad["ok"] is False and bad["error"]["code"] == "invalid_format"
    ended = await page.evaluate("callFrame('endCall', 'resolved')")
    assert ended["ok"] is True

    # a page on another origin that frames the sidebar cannot drive it either
    evil = errors.watch(await browser.new_page())
    await evil.goto(f"http://localhost:{port}/evil-host.html")
    evil_sidebar = evil.frame_locator("#assist").locator("assist-sidebar")
    await evil_sidebar.locator(".conn[data-state=open]").wait_for(timeout=10_000)
    await evil.evaluate("""document.getElementById("assist").contentWindow.postMessage(
        {assist: "call", id: 1, method: "startCall", args: ["evil-parent", {}]}, "*")""")
    await evil.wait_for_timeout(300)
    assert await plugin_service.store.live_call("evil-parent") is None
    assert await evil_sidebar.locator(".callline .id").count() == 0
    assert errors.errors == []


async def test_layout_holds_at_320px_and_is_keyboard_usable(plugin_service: Running, browser: Any) -> None:
    token = await issue(plugin_service, "a2002", "agent")
    errors = PageErrors()
    page = errors.watch(await browser.new_page(viewport={"width": 320, "height": 640}))
    await page.goto(
        f"http://127.0.0.1:{plugin_service.http_port}/plugin/frame.html"
        f"?server=ws://127.0.0.1:{plugin_service.ws_port}/ws&token={token}"
    )
    assert "token=" not in page.url, "the token is taken out of the address bar"
    sidebar = page.locator("assist-sidebar")
    await sidebar.locator(".conn[data-state=open]").wait_for(timeout=10_000)
    await page.evaluate("""async () => {
        const sb = document.querySelector("assist-sidebar");
        await sb.startCall("w-1", {customer_name: "李女士", caller_number: "13800138000", queue: "电子银行"});
        await sb.addTranscript("customer", "我手机银行转账一直提示系统繁忙，转了好几次都失败了", true);
        await sb.addTranscript("customer", "我要投诉，今天不给我答复，我就打12378投诉到银保监会", true);
        await sb.addTranscript("agent", "不好意思，这是我们系统的问题，我们系统坏了", true);
    }""")
    badge = sidebar.locator(".badge")
    warning = sidebar.locator(".alert .warning")
    await warning.wait_for(timeout=5_000)
    # let the arrival pulse finish before measuring and the screenshot
    await warning.evaluate("el => Promise.all(el.getAnimations().map((a) => a.finished))")

    overflow = await page.evaluate("""() => {
        const out = [];
        const walk = (root) => root.querySelectorAll("*").forEach((el) => {
            const r = el.getBoundingClientRect();
            if (r.width && (r.right > innerWidth + 0.5 || r.left < -0.5)) out.push(el.tagName + "." + el.className);
            if (el.shadowRoot) walk(el.shadowRoot);
        });
        walk(document);
        return {scroll: document.documentElement.scrollWidth, out};
    }""")
    assert overflow["scroll"] <= 320, overflow
    assert overflow["out"] == [], overflow
    for locator in (badge, warning):
        box = await box_of(locator)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box
        assert box["y"] >= 0 and box["y"] + box["height"] <= 640, box
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "sidebar-320-top.png"))
    await page.screenshot(path=str(SCREENSHOTS / "sidebar-320-full.png"), full_page=True)

    # once the agent scrolls the warning away, a one-line reminder of it stays pinned (not modal)
    pin = sidebar.locator(".pin")
    await expect(pin).to_be_hidden()
    await page.mouse.wheel(0, 600)
    await expect(pin).to_be_visible()
    await expect(pin).to_contain_text("禁用语提醒")
    box = await box_of(pin)
    assert 0 <= box["y"] < 640, box

    # keyboard only: open the escalation form, type a reason, send it
    await sidebar.locator("button.escalate-open").focus()
    await page.keyboard.press("Enter")
    reason = sidebar.locator("#esc-reason")
    await reason.wait_for()
    assert await reason.evaluate("el => el.getRootNode().activeElement === el")
    await page.keyboard.type("客户要求今天答复")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    # the form closes once the reply comes (the escalation's push may show 已上报 in the open form first)
    await expect(sidebar.locator("#esc-reason")).to_have_count(0)
    status = sidebar.locator(".escalate .status.ok")
    await expect(status.first).to_contain_text("已上报")

    # the checklist is an inline form, folded to what is missing until tapped, that submits the record
    await sidebar.locator("details.form-group[data-form='complaint.urgent'] > summary").click()
    form = sidebar.locator("form[data-form='complaint.urgent']")
    await form.locator("input[name=customer_name]").fill("李女士")
    await form.locator("button[type=submit]").click()
    # required fields left empty: the browser keeps the form and nothing is sent
    assert await form.locator(".status").inner_text() == ""
    for name, value in (
        ("phone", "138 0013 8000"),
        ("complaint", "转账失败"),
        ("demand", "今天答复"),
        ("urgency", "监管投诉"),
        ("account_number", "6222020200112233"),
    ):
        await form.locator(f"input[name={name}]").fill(value)
    await form.locator("button[type=submit]").click()
    await form.locator(".status.ok").wait_for(timeout=5_000)
    # the outage form shares the customer's name, phone and account (filled in both at once)
    await sidebar.locator("details.form-group[data-form=system_outage] > summary").click()
    outage = sidebar.locator("form[data-form=system_outage]")
    await expect(outage.locator("input[name=customer_name]")).to_have_value("李女士")
    await outage.locator("input[name=error_message]").fill("系统繁忙，请稍后再试")
    await outage.locator("input[name=occurred_at]").fill("2026-05-01T10:30")
    await outage.locator("button[type=submit]").click()
    await outage.locator(".status.ok").wait_for(timeout=5_000)

    # English is one click away, and the server's texts follow
    await sidebar.locator("button.lang").click()
    await page.wait_for_function(
        "document.querySelector('assist-sidebar').shadowRoot.querySelector('.badge')?.textContent"
        " === 'Urgent complaint'",
        timeout=10_000,
    )
    assert (await sidebar.locator("section.card h2").first.inner_text()) == "What to say"
    await page.evaluate("scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOTS / "sidebar-320-en.png"))
    assert errors.errors == []


async def test_adapters_map_host_events_to_the_sidebar(plugin_service: Running, browser: Any) -> None:
    token = await issue(plugin_service, "a2003", "agent")
    errors = PageErrors()
    page = errors.watch(await browser.new_page())
    await page.goto(
        f"http://127.0.0.1:{plugin_service.http_port}/plugin/frame.html"
        f"?server=ws://127.0.0.1:{plugin_service.ws_port}/ws&token={token}"
    )
    await page.locator("assist-sidebar .conn[data-state=open]").wait_for(timeout=10_000)
    result = await page.evaluate("""async () => {
        const sb = document.querySelector("assist-sidebar");
        const until = (pred) => new Promise((resolve) => {
            const tick = () => pred() ? resolve() : setTimeout(tick, 20);
            tick();
        });
        const out = {};

        // Amazon Connect Streams: a fake `connect` with one contact
        const { attachAmazonConnect, contextFromContact } = await import("/plugin/adapters/amazon-connect.js");
        const handlers = {};
        const contact = {
            getContactId: () => "ac-1",
            getAttributes: () => ({ customer_name: { name: "customer_name", value: "张先生" },
                                    ivr: { name: "ivr", value: "1-3" } }),
            getQueue: () => ({ name: "retail" }),
            getType: () => "voice",
            getInitialConnection: () => ({ getEndpoint: () => ({ phoneNumber: "+8613800138000" }) }),
            getState: () => ({ type: "ended" }),
            onConnected: (f) => { handlers.connected = f; },
            onEnded: (f) => { handlers.ended = f; },
        };
        const ended = [];
        sb.addEventListener("assist-ended", (e) => ended.push(e.detail.call_id));
        attachAmazonConnect(sb, { connect: { contact: (f) => f(contact) }, attributeMap: { ivr: "ivr_path" } });
        out.context = contextFromContact(contact, { attributeMap: { ivr: "ivr_path" } });
        handlers.connected();
        handlers.connected();  // Streams may repeat an event: one call.start only
        await until(() => sb.update && sb.update.call_id === "ac-1");
        out.acTalkingPoint = sb.update.talking_points.length;
        await sb.addTranscript("customer", "我手机银行转账一直提示系统繁忙", true);
        handlers.ended();
        handlers.ended();  // onEnded fires again when the contact is cleared
        await until(() => ended.includes("ac-1"));
        out.ended = [...ended];

        // Genesys Cloud: the interaction widget's URL parameters
        const { paramsFromGenesysUrl, startFromGenesys } = await import("/plugin/adapters/genesys.js");
        const search = "?conversationid=gc-1&langTag=zh-CN&gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.com"
                     + "&gcTargetEnv=prod&ctx.queue=vip&ctx.customer_name=%E8%B5%B5%E5%A5%B3%E5%A3%AB";
        out.genesys = paramsFromGenesysUrl(search);
        out.unfilled = paramsFromGenesysUrl("?conversationid={{pcConversationId}}").callId;
        const gc = await startFromGenesys(sb, { search });
        out.genesysCall = gc.update.call_id;
        await sb.endCall("done");

        // generic: DOM events from a custom softphone bar
        const { attachSoftphone } = await import("/plugin/adapters/generic.js");
        const bar = new EventTarget();
        const results = [];
        bar.addEventListener("assist:result", (e) => results.push(e.detail));
        const detach = attachSoftphone(sb, bar);
        bar.dispatchEvent(new CustomEvent("assist:call-start", { detail: { callId: "g-1", context: { queue: "x" } } }));
        await until(() => results.length === 1);
        bar.dispatchEvent(new CustomEvent("assist:transcript",
            { detail: { speaker: "customer", text: "我是电视台的记者，想采访一下你们" } }));
        await until(() => results.length === 2);
        bar.dispatchEvent(new CustomEvent("assist:call-end", { detail: { disposition: "ok" } }));
        await until(() => results.length === 3);
        detach();
        bar.dispatchEvent(new CustomEvent("assist:call-start", { detail: { callId: "g-2" } }));
        await new Promise((r) => setTimeout(r, 100));
        out.generic = results.map((r) => [r.event, r.ok, r.result && (r.result.category || r.result.call_id)]);
        return out;
    }""")
    assert result["context"] == {
        "customer_name": "张先生",
        "ivr_path": "1-3",
        "queue": "retail",
        "channel": "voice",
        "caller_number": "+8613800138000",
    }
    assert result["ended"] == ["ac-1"]
    assert result["genesys"] == {
        "callId": "gc-1",
        "lang": "zh-CN",
        "context": {
            "channel": "genesys",
            "genesys_host": "https://apps.mypurecloud.com",
            "genesys_env": "prod",
            "queue": "vip",
            "customer_name": "赵女士",
        },
    }
    assert result["unfilled"] is None
    assert result["genesysCall"] == "gc-1"
    assert result["generic"] == [
        ["assist:call-start", True, "g-1"],
        ["assist:transcript", True, "media.interview"],
        ["assist:call-end", True, "media.interview"],
    ]
    with sqlite3.connect(plugin_service.store.path) as db:
        rows = dict(db.execute("SELECT call_id, disposition FROM calls").fetchall())
    assert rows == {"ac-1": "ended", "gc-1": "done", "g-1": "ok"}
    assert errors.errors == []


async def connected_frame(service: Running, browser: Any, errors: PageErrors, user: str) -> tuple[Any, Any]:
    """The sidebar's own page (frame.html) at 360 px, signed in as `user` and connected."""
    token = await issue(service, user, "agent")
    page = errors.watch(await browser.new_page(viewport={"width": 360, "height": 700}))
    await page.goto(
        f"http://127.0.0.1:{service.http_port}/plugin/frame.html"
        f"?server=ws://127.0.0.1:{service.ws_port}/ws&token={token}"
    )
    sidebar = page.locator("assist-sidebar")
    await sidebar.locator(".conn[data-state=open]").wait_for(timeout=10_000)
    return page, sidebar


async def test_declared_fault_shows_its_talking_points_until_recovered(plugin_service: Running, browser: Any) -> None:
    errors = PageErrors()
    page, sidebar = await connected_frame(plugin_service, browser, errors, "a2003")
    await page.evaluate("""async () => {
        await document.querySelector("assist-sidebar").startCall("n-1", {queue: "电子银行"});
    }""")
    admin = await open_client(plugin_service, user="s1", role="seat_admin")
    opened = await admin.call(
        "fault.open", occurred_at=time.time(), symptoms="转账超时", level=2, system="手机银行", reported_by="a2003"
    )
    assert opened["success"], opened
    notice = sidebar.locator(".notice")
    await notice.wait_for(timeout=5_000)
    text = await notice.inner_text()
    assert "手机银行" in text and "系统正在维护，建议您稍后再试" in text
    recovered = await admin.call("fault.recover", fault_id=opened["fault"]["fault_id"])
    assert recovered["success"], recovered
    await notice.wait_for(state="detached", timeout=5_000)
    assert errors.errors == []


async def test_a_call_the_model_decided_shows_the_models_reasons(plugin_service: Running, browser: Any) -> None:
    """A complaint about this agent in words no rule lists: the badge comes from the learned model,
    and the sidebar says the reasons are the model's, quoting the words that weighed most."""
    text = "你这个人说话怎么阴阳怪气的，我打了三次电话，就你最不耐烦，把你工号报一下"
    errors = PageErrors()
    page, sidebar = await connected_frame(plugin_service, browser, errors, "a2003")
    await page.evaluate(
        """async (text) => {
        const sb = document.querySelector("assist-sidebar");
        await sb.startCall("m-1", {queue: "retail"});
        await sb.addTranscript("customer", text, true);
    }""",
        text,
    )
    await sidebar.locator(".badge[data-category='complaint.about_agent']").wait_for(timeout=5_000)
    reason = sidebar.locator(".reason[data-by=model]")
    await expect(reason).to_contain_text("模型判断依据")
    quoted = await reason.locator("q.by-model").all_inner_texts()
    assert quoted and all(q.splitlines()[0].strip() in text for q in quoted), quoted
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "sidebar-model-reasons.png"))
    assert errors.errors == []
