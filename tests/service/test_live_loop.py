"""The live assist loop end to end: a scripted softphone on the real service."""

from __future__ import annotations

import sqlite3

from assist.app import Running
from assist.config import Settings
from tests.conftest import Client, open_client, start_shared


async def test_outage_call_gets_category_talking_points_checklist_and_forbidden_phrases(agent: Client) -> None:
    start_reply = await agent.call("call.start", call_id="c1", context={"queue": "ebanking", "customer_name": "李女士"})
    assert start_reply["success"] is True
    assert start_reply["update"]["category"] == "none"
    await agent.push("assist.update", call_id="c1")

    await agent.call(
        "call.transcript", call_id="c1", speaker="customer", text="我手机银行转账一直提示系统繁忙，转了好几次都失败了"
    )
    update = await agent.push("assist.update", call_id="c1")
    assert update["category"] == "system_outage"
    texts = [tp["text"] for tp in update["talking_points"]]
    assert any("柜台" in t and "自助终端" in t for t in texts)
    assert any("李女士" in t for t in texts), "talking points are filled from the call context"
    fields = {f["id"] for f in update["checklist"]}
    assert {"error_message", "customer_name", "account_number"} <= fields
    assert {p["rule"] for p in update["forbidden_phrases"]} >= {"system_blame", "internal_phone"}
    assert update["evidence"] and update["evidence"][0]["category"] == "system_outage"
    assert update["pack_version"].startswith("v")


async def test_agent_line_with_forbidden_phrase_is_warned_at_once(agent: Client) -> None:
    await agent.call("call.start", call_id="c2", context={})
    line = "不好意思，这是我们系统的问题，我们系统坏了"
    reply = await agent.call("call.transcript", call_id="c2", speaker="agent", text=line)
    assert reply["success"] is True
    warning = await agent.push("assist.warning", call_id="c2")
    assert warning["rule"] == "system_blame"
    start, end = warning["span"]
    assert "系统" in line[start:end]
    assert "稍后再试" in warning["alternative"]


async def test_approved_wording_is_not_warned(agent: Client) -> None:
    await agent.call("call.start", call_id="c3", context={})
    reply = await agent.call("call.transcript", call_id="c3", speaker="agent", text="系统正在维护，建议您稍后再试。")
    assert reply["warnings"] == []
    assert not [p for p in agent.pushes if p["type"] == "assist.warning"]


async def test_complaint_upgrades_to_urgent_and_a_neutral_line_does_not_downgrade(agent: Client) -> None:
    await agent.call("call.start", call_id="c4", context={"queue": "retail"})
    await agent.call(
        "call.transcript",
        call_id="c4",
        speaker="customer",
        text="你们网点柜员态度太差了，让我排了两个小时的队，我要投诉",
    )
    first = await agent.push("assist.update", call_id="c4", category="complaint.general")
    assert "complaint.general" in first["labels"]
    texts = [tp["text"] for tp in first["talking_points"]]
    assert "会有我行相关人员与您联系解决。" in texts

    await agent.call(
        "call.transcript", call_id="c4", speaker="customer", text="今天不给我答复，我就打12378投诉到银保监会"
    )
    upgraded = await agent.push("assist.update", call_id="c4", category="complaint.urgent")
    assert upgraded["labels"] == ["complaint.urgent"], "urgent replaces general for the same grievance"

    reply = await agent.call("call.transcript", call_id="c4", speaker="customer", text="好的，那我等你们电话")
    assert reply["category"] == "complaint.urgent"
    assert reply["labels"][0] == "complaint.urgent"


async def test_note_replaces_previous_note(agent: Client) -> None:
    await agent.call("call.start", call_id="c5", context={})
    r1 = await agent.call("call.note", call_id="c5", text="客户问信用卡额度")
    assert r1["category"] == "none"
    r2 = await agent.call("call.note", call_id="c5", text="客户自称都市日报记者，要求采访我行对盗刷的回应")
    assert r2["category"] == "media.interview"


async def test_reconnecting_agent_resumes_the_call(service: Running) -> None:
    a = await open_client(service, user="a7")
    await a.call("call.start", call_id="c6", context={"queue": "retail"})
    await a.call("call.transcript", call_id="c6", speaker="customer", text="我是电视台的记者，想采访一下你们")
    await a.ws.close()
    b = await open_client(service, user="a7")
    reply = await b.call("call.start", call_id="c6", context={"queue": "retail"})
    assert reply["resumed"] is True
    assert reply["update"]["category"] == "media.interview"


async def test_another_agent_cannot_take_a_live_call(service: Running) -> None:
    a = await open_client(service, user="a8")
    await a.call("call.start", call_id="c7", context={"queue": "retail"})
    b = await open_client(service, user="a9")
    reply = await b.call("call.start", call_id="c7", context={})  # the same id: b's own call, a's untouched
    assert reply["success"] and reply["call_id"] == "c7"
    assert (await b.call("call.note", call_id="c7", text="客户说网银登录不了"))["success"]
    await b.push("assist.update", call_id="c7", category="system_outage")  # b's sidebar, under b's id
    assert [p for p in a.pushes if p.get("type") == "assist.update" and p.get("category") == "system_outage"] == []
    assert service.hub.desk.calls["c7"].user == "a8" and service.hub.desk.calls["a9/c7"].user == "a9"
    assert service.hub.desk.calls["c7"].notes == []


async def test_call_survives_a_service_restart(settings: Settings) -> None:
    first = await start_shared(settings)
    token = await first.store.issue_token("a10", "agent", 0.0)
    a = await open_client(first, token)
    await a.call("call.start", call_id="c8", context={"queue": "retail"})
    await a.call("call.transcript", call_id="c8", speaker="customer", text="我要投诉，你们乱收年费")
    await a.call("call.transcript", call_id="c8", speaker="customer", text="不解决我就去法院起诉你们")
    await a.ws.close()
    await first.close()

    second = await start_shared(settings)
    try:
        b = await open_client(second, token)
        reply = await b.call("call.start", call_id="c8", context={"queue": "retail"})
        assert reply["resumed"] is True
        assert reply["update"]["category"] == "complaint.urgent", "state rebuilt from the stored events"
        end = await b.call("call.end", call_id="c8", disposition="escalated")
        assert end["success"] is True
    finally:
        await second.close()
    with sqlite3.connect(settings.db) as db:
        row = db.execute("SELECT category, disposition FROM calls WHERE call_id='c8'").fetchone()
    assert row == ("complaint.urgent", "escalated")


async def test_acknowledged_lines_are_in_the_database(service: Running, agent: Client) -> None:
    await agent.call("call.start", call_id="c9", context={})
    await agent.call("call.transcript", call_id="c9", speaker="agent", text="信息技术部电话0571-87091234您打一下")
    with sqlite3.connect(service.store.path) as db:
        kinds = [r[0] for r in db.execute("SELECT kind FROM call_events WHERE call_id='c9' ORDER BY id")]
        warned = db.execute("SELECT rule FROM warnings WHERE call_id='c9'").fetchall()
    assert "transcript" in kinds
    assert warned == [("internal_phone",)]


async def test_english_agent_gets_english_talking_points(service: Running) -> None:
    c = await open_client(service, user="a11", lang="en")
    reply = await c.call("call.start", call_id="c10", context={})
    await c.call(
        "call.transcript",
        call_id="c10",
        speaker="customer",
        text="I am a reporter from the Daily News, I would like to interview your bank about the card fraud story",
    )
    update = await c.push("assist.update", call_id="c10", category="media.interview")
    assert reply["success"]
    assert any("interview time" in tp["text"] for tp in update["talking_points"])
