"""The console's HTTP API on the real service: role checks, config, live calls, a call's details, the report."""

from __future__ import annotations

import aiohttp
import pytest

from assist.app import Running
from assist.effects import Write
from tests.conftest import open_client
from tests.consoles_leader.conftest import as_user

API = [
    ("GET", "/api/leader/me"),
    ("GET", "/api/leader/config"),
    ("GET", "/api/leader/calls"),
    ("GET", "/api/leader/calls/c-1"),
    ("GET", "/api/leader/report"),
    ("POST", "/api/leader/report/send"),
]


@pytest.mark.parametrize(("user", "role", "status"), [(None, "", 401), ("a1001", "agent", 403), ("t1", "trainer", 403)])
async def test_only_leaders_may_use_the_api(
    center: Running, http_session: aiohttp.ClientSession, user: str | None, role: str, status: int
) -> None:
    client = await as_user(center, http_session, user, role)
    for method, path in API:
        body = await client.call(method, path, expect=status)
        assert body["error"]["code"] == ("auth_required" if status == 401 else "unauthorized"), (path, body)


async def test_every_leader_role_may_and_the_page_is_public(
    center: Running, http_session: aiohttp.ClientSession
) -> None:
    for role in ("shift_leader", "seat_admin", "back_office", "manager", "admin"):
        me = await (await as_user(center, http_session, f"u-{role}", role)).call("GET", "/api/leader/me")
        assert me == {"user": f"u-{role}", "role": role}
    anon = await as_user(center, http_session, None)
    assert "班长值班台" in await anon.call("GET", "/console/leader")
    assert "export function sortBoard" in await anon.call("GET", "/console/leader/board.js")
    await anon.call("GET", "/console/leader/..%2Fapp.py", expect=404)


async def test_config_names_the_websocket_and_the_people(center: Running, http_session: aiohttp.ClientSession) -> None:
    cfg = await (await as_user(center, http_session, "s1", "shift_leader")).call("GET", "/api/leader/config")
    assert cfg["ws_url"] == f"ws://127.0.0.1:{center.ws_port}/ws"
    assert cfg["contacts"]["sl"]["name"] == "王班长"
    assert cfg["categories"]["media.live"]["zh-CN"] == "媒体直播"
    assert cfg["fields"]["journalist_name"]["zh-CN"]
    assert cfg["can_open_faults"] is True and cfg["timezone"] == "Asia/Shanghai"
    manager = await (await as_user(center, http_session, "m1", "manager")).call("GET", "/api/leader/config")
    assert manager["can_open_faults"] is False


async def test_live_calls_and_a_calls_details(center: Running, http_session: aiohttp.ClientSession) -> None:
    leader = await as_user(center, http_session, "s1", "shift_leader")
    agent = await open_client(center, user="a1001", role="agent")
    await agent.call("call.start", call_id="c-1", context={"queue": "零售", "customer_name": "张先生"})
    await agent.call("call.start", call_id="c-0", context={"queue": "信用卡"})
    await agent.call("call.transcript", call_id="c-1", speaker="customer", text="我是电视台的记者，我们正在直播")
    calls = (await leader.call("GET", "/api/leader/calls"))["calls"]
    assert [c["call_id"] for c in calls] == ["c-1", "c-0"], "the most serious first"
    assert calls[0]["category"] == "media.live" and calls[0]["agent"] == "a1001" and calls[0]["queue"] == "零售"
    assert calls[0]["started_at"] is not None and calls[0]["escalations"] == []

    sent = await agent.call(
        "record.submit",
        call_id="c-1",
        form="media.live",
        fields={"outlet": "城市电视台", "phone": "13700002222", "questions": "手机银行为何故障"},
    )
    assert sent["success"], sent
    calls = (await leader.call("GET", "/api/leader/calls"))["calls"]
    assert calls[0]["escalations"] == [{"escalation_id": sent["escalation_id"], "kind": "media.live"}]
    detail = await leader.call("GET", "/api/leader/calls/c-1")
    assert detail["live"] is True and detail["context"]["customer_name"] == "张先生"
    assert detail["transcript"] == [{"speaker": "customer", "text": "我是电视台的记者，我们正在直播"}]
    assert detail["records"][0]["fields"]["outlet"] == "城市电视台"

    first = await leader.call("GET", "/api/leader/calls?limit=1")
    assert [c["call_id"] for c in first["calls"]] == ["c-1"] and first["more"] and first["total"] == 2
    rest = await leader.call("GET", f"/api/leader/calls?limit=1&after={first['next']}")
    assert [c["call_id"] for c in rest["calls"]] == ["c-0"] and not rest["more"] and rest["next"] is None
    bad = await leader.call("GET", "/api/leader/calls?after=nope", expect=400)
    assert bad["error"]["code"] == "invalid_format"
    await leader.call("GET", "/api/leader/calls?limit=-1", expect=400)

    await agent.call("call.end", call_id="c-1", disposition="done")
    assert [c["call_id"] for c in (await leader.call("GET", "/api/leader/calls"))["calls"]] == ["c-0"]
    ended = await leader.call("GET", "/api/leader/calls/c-1")
    assert ended["live"] is False and ended["category"] == "media.live"
    assert ended["transcript"][0]["speaker"] == "customer"
    await leader.call("GET", "/api/leader/calls/nope", expect=404)


async def test_report_preview_and_send(center: Running, http_session: aiohttp.ClientSession) -> None:
    leader = await as_user(center, http_session, "s1", "shift_leader")
    agent = await open_client(center, user="a1001", role="agent")
    await agent.call("call.start", call_id="c-1", context={})
    await agent.call("call.transcript", call_id="c-1", speaker="customer", text="手机银行一直提示系统繁忙")
    manager = await open_client(center, user="m1", role="manager")
    await manager.call("escalation.subscribe")

    report = await leader.call("GET", "/api/leader/report")
    assert report["text"].startswith("【每日运营报告】")
    assert report["calls"] == 1 and report["totals"] == {"system_outage": 1}
    assert sum(sum(h.values()) for h in report["hours"]) == 1 and len(report["hours"]) == 24
    assert report["report_at"] == "17:00" and report["next_report_at"] > 0
    await leader.call("GET", "/api/leader/report?day=yesterday", expect=400)
    assert (await leader.call("GET", "/api/leader/report?day=2020-01-01"))["calls"] == 0

    sent = await leader.call("POST", "/api/leader/report/send", {})
    assert [r["name"] for r in sent["recipients"]] == ["李部长", "孙经理"] and sent["sent_by"] == "s1"
    event = await manager.push("escalation.event", event="report")
    assert event["text"] == sent["text"] and event["by"] == "s1"
    told = await manager.push("escalation.event", event="notify")
    assert told["text"] == sent["text"]
    again = await leader.call("POST", "/api/leader/report/send", {})
    assert again["text"] == sent["text"]
    async with center.store.db.execute("SELECT step FROM routing_outbox WHERE source LIKE 'report:%'") as cur:
        steps = [r["step"] async for r in cur]
    assert len(steps) == 2 * len(set(steps)), "a second click in the same minute sends nothing more"


async def test_the_scheduled_report_says_what_the_preview_says(
    center: Running, http_session: aiohttp.ClientSession
) -> None:
    """The 17:00 report is built from the same facts as the preview: a call in progress counts under its
    current category (not as 通话中), hour by hour."""
    leader = await as_user(center, http_session, "s1", "shift_leader")
    agent = await open_client(center, user="a1001", role="agent")
    await agent.call("call.start", call_id="c-1", context={})
    await agent.call("call.transcript", call_id="c-1", speaker="customer", text="手机银行一直提示系统繁忙")
    manager = await open_client(center, user="m1", role="manager")
    await manager.call("escalation.subscribe")
    preview = await leader.call("GET", "/api/leader/report")
    assert "来电 1 通（系统故障 1）" in preview["text"]

    # 17:00 has come: the scheduler sends the day's report by itself.
    now = center.hub.clock()
    await center.store.write([Write("routing_schedule", {"name": "daily_report", "next_at": now - 1})])
    center.routing.wake.set()
    sent = await manager.push("escalation.event", event="report")
    assert sent["by"] == "system"
    assert sent["text"] == preview["text"], "the scheduled report and the preview disagree"
    assert "通话中" not in sent["text"]


async def test_the_live_call_list_is_pushed_to_a_subscribed_leader(center: Running) -> None:
    """calls.subscribe: the first page and a cursor, calls.list for the next; then every start, change of
    category, escalation and end arrives as a calls.delta, without asking again."""
    agent = await open_client(center, user="a1001", role="agent")
    for i in range(3):
        await agent.call("call.start", call_id=f"p-{i}", context={"queue": "零售", "customer_name": "张" * 500})
    leader = await open_client(center, user="s1", role="shift_leader")
    sub = await leader.call("calls.subscribe", limit=2)
    assert sub["success"] and sub["total"] == 3 and len(sub["calls"]) == 2 and sub["more"]
    assert sub["calls"][0]["customer"] == "张" * 40, "a row carries a short name, not the whole context"
    rest = await leader.call("calls.list", after=sub["next"], limit=2)
    assert len(rest["calls"]) == 1 and not rest["more"]
    assert {c["call_id"] for c in [*sub["calls"], *rest["calls"]]} == {"p-0", "p-1", "p-2"}

    await agent.call("call.start", call_id="p-new", context={"queue": "信用卡"})
    delta = await leader.push("calls.delta", subscription=sub["subscription"])
    assert [c["call_id"] for c in delta["calls"]] == ["p-new"] and delta["total"] == 4
    assert delta["calls"][0]["started_at"] is not None
    await agent.call("call.transcript", call_id="p-1", speaker="customer", text="我是电视台的记者，我们正在直播")
    delta = await leader.push("calls.delta", subscription=sub["subscription"])
    assert [(c["call_id"], c["category"]) for c in delta["calls"]] == [("p-1", "media.live")]
    sent = await agent.call("call.escalate", call_id="p-1", kind="complaint.about_agent", reason="态度差")
    delta = await leader.push("calls.delta", subscription=sub["subscription"])
    assert delta["calls"][0]["escalations"] == [
        {"escalation_id": sent["escalation_id"], "kind": "complaint.about_agent"}
    ]
    await agent.call("call.end", call_id="p-0", disposition="done")
    delta = await leader.push("calls.delta", subscription=sub["subscription"])
    assert delta["gone"] == ["p-0"] and delta["calls"] == [] and delta["total"] == 3
    refused = await (await open_client(center, user="a1002", role="agent")).call("calls.subscribe")
    assert refused["error"]["code"] == "unauthorized"
