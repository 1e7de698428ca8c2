"""Each section of the plan played end to end on the real service by real websockets clients:
an agent, a seat administrator, a shift leader, back office and a manager."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from assist.app import Running
from assist.server.routing import store as routing_store
from assist.server.routing.service import RoutingService
from tests.conftest import Client, open_client
from tests.routing.receiver import Receiver

Center = tuple[Running, RoutingService]


async def people(running: Running) -> dict[str, Client]:
    return {
        "agent": await open_client(running, user="a1001", role="agent"),
        "seat_admin": await open_client(running, user="sa1", role="seat_admin"),
        "shift_leader": await open_client(running, user="s1", role="shift_leader"),
        "back_office": await open_client(running, user="b1", role="back_office"),
        "manager": await open_client(running, user="m1", role="manager"),
    }


async def notified(client: Client, **match: Any) -> dict[str, Any]:
    return await client.push("escalation.event", event="notify", **match)


async def outbox(running: Running, key_like: str) -> list[dict[str, Any]]:
    return await routing_store._all(running.store.db, "SELECT * FROM routing_outbox WHERE key LIKE ?", (key_like,))


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait until the store shows what `check` looks for (it is asked every few milliseconds)."""

    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def test_system_fault_from_agent_report_to_recovery(center: Center, receiver: Receiver) -> None:
    running, _ = center
    p = await people(running)
    agent, admin = p["agent"], p["seat_admin"]
    assert (await admin.call("escalation.subscribe"))["success"]
    await agent.call("call.start", call_id="f1", context={})
    await agent.call("call.transcript", call_id="f1", speaker="customer", text="手机银行转账一直提示系统繁忙，转不了")
    report = await agent.call("call.escalate", call_id="f1", kind="fault", reason="客户转账失败")
    assert report["success"] and report["kind"] == "escalation"
    await notified(admin, escalation_id=report["escalation_id"])
    await notified(p["shift_leader"], escalation_id=report["escalation_id"])
    new = await admin.push("escalation.event", event="new")
    assert new["escalation"]["kind"] == "fault_report" and new["subscription"] == 1

    opened = await admin.call(
        "fault.open",
        occurred_at=time.time(),
        symptoms="转账提示系统繁忙",
        level=3,
        system="手机银行",
        reported_by="a1001",
        report_id=report["escalation_id"],
    )
    assert opened["success"], opened
    fault = opened["fault"]
    deadlines = {d["step"]: d for d in opened["deadlines"]}
    assert deadlines["first_deadline"]["due_at"] - fault["occurred_at"] == pytest.approx(0.6)
    assert deadlines["first_deadline"]["roles"] == ["back_office_duty", "center_manager"]
    assert deadlines["second_deadline"]["roles"] == ["ebanking_dept", "department_leader"]
    assert fault["affected_calls"] == 1, "the reporting call is linked to the fault"
    await notified(p["back_office"], step="declared")

    notice = await agent.push("assist.notice", fault_id=fault["fault_id"], active=True)
    assert notice["talking_points"][0] == "系统正在维护，建议您稍后再试。"

    # Level 3: not restored within "15 minutes" (0.6 s here) -> back office follow-up + center manager.
    told = await notified(p["manager"], step="first_deadline")
    assert "中心经理" in told["text"]
    await admin.push("escalation.event", event="step")

    await agent.call("call.start", call_id="f2", context={})
    linked = await agent.call("call.escalate", call_id="f2", kind="outage", reason="手机银行同样转不了账")
    assert linked["kind"] == "fault_link" and linked["fault"]["affected_calls"] == 2
    assert "系统正在维护" in linked["talking_points"][0]

    recovered = await admin.call("fault.recover", fault_id=fault["fault_id"])
    assert recovered["fault"]["status"] == "recovered" and recovered["fault"]["recovered_at"] is not None
    await agent.push("assist.notice", fault_id=fault["fault_id"], active=False)
    listed = await admin.call("fault.list", status="all")
    assert listed["faults"][0]["affected_calls"] == 2 and listed["faults"][0]["calls"] == ["f1", "f2"]
    esc = (await admin.call("escalation.list", status="all"))["escalations"]
    fault_esc = next(e for e in esc if e["kind"] == "fault")
    assert fault_esc["status"] == "resolved"
    assert {s["name"]: s["cancelled"] for s in fault_esc["steps"]}["second_deadline"] is True
    assert next(e for e in esc if e["kind"] == "fault_report")["status"] == "resolved"
    again = await admin.call("fault.recover", fault_id=fault["fault_id"])
    assert again["error"]["code"] == "conflict"


async def test_unresolvable_fault_reports_to_center_manager_and_department_leaders(
    center: Center, receiver: Receiver
) -> None:
    running, _ = center
    p = await people(running)
    opened = await p["seat_admin"].call(
        "fault.open", occurred_at=time.time(), symptoms="批量代发失败", level=1, system="代发系统", reported_by="sa1"
    )
    fid = opened["fault"]["fault_id"]
    bad = await p["seat_admin"].call("fault.unresolvable", fault_id=fid, cause="", responsible="")
    assert bad["error"]["code"] == "validation_failed"
    assert set(bad["error"]["details"]["fields"]) == {"cause", "responsible"}
    done = await p["seat_admin"].call("fault.unresolvable", fault_id=fid, cause="第三方接口故障", responsible="张工")
    assert done["fault"]["status"] == "unresolvable" and done["fault"]["cause"] == "第三方接口故障"
    assert "原因与责任人" in (await notified(p["manager"], step="unresolvable"))["text"]
    await receiver.wait_for(lambda: {r["path"] for r in receiver.received} >= {"/sms", "/hook/dl"})
    sms = next(r for r in receiver.received if r["path"] == "/sms")
    assert sms["to"] == "13800000005" and "代发系统" in sms["text"]


async def test_fault_form_is_validated_and_only_for_seat_admins(center: Center) -> None:
    running, _ = center
    p = await people(running)
    bad = await p["seat_admin"].call(
        "fault.open", occurred_at="not a time", symptoms="", level=7, system="x", reported_by="a1"
    )
    assert bad["error"]["code"] == "validation_failed"
    assert set(bad["error"]["details"]["fields"]) == {"occurred_at", "symptoms", "level"}
    denied = await p["agent"].call("fault.open", occurred_at=1, symptoms="x", level=1, system="x", reported_by="a")
    assert denied["error"]["code"] == "unauthorized"
    assert (await p["agent"].call("escalation.subscribe"))["error"]["code"] == "unauthorized"


GENERAL = {"customer_name": "张先生", "phone": "13800001234", "complaint": "网点排队两小时", "demand": "道歉"}


async def test_complaints_suggestion_general_urgent_and_about_the_agent(center: Center) -> None:
    running, routing = center
    p = await people(running)
    agent, bo, sl = p["agent"], p["back_office"], p["shift_leader"]
    await sl.call("escalation.subscribe")
    await agent.call("call.start", call_id="k1", context={"caller_number": "13800001234"})

    bad = await agent.call("record.submit", call_id="k1", form="complaint.general", fields={"phone": "abc"})
    assert bad["error"]["code"] == "validation_failed"
    assert set(bad["error"]["details"]["fields"]) == {
        "phone",
        "customer_name",
        "complaint",
        "demand",
        "settled_on_call",
    }
    unknown = await agent.call("record.submit", call_id="nope", form="complaint.general", fields=GENERAL)
    assert unknown["error"]["code"] == "not_found"

    settled = await agent.call(
        "record.submit", call_id="k1", form="complaint.general", fields={**GENERAL, "settled_on_call": "yes"}
    )
    assert settled["kind"] == "suggestion" and settled["escalation_id"] is None

    general = await agent.call(
        "record.submit", call_id="k1", form="complaint.general", fields={**GENERAL, "settled_on_call": "no"}
    )
    assert general["kind"] == "escalation"
    assert "会有我行相关人员与您联系解决。" in general["wording"]
    told = await notified(bo, escalation_id=general["escalation_id"])
    assert "网点排队两小时" in told["text"]
    forwarded = await bo.call(
        "escalation.resolve", escalation_id=general["escalation_id"], forwarded_to="城东支行", resolution="已转交"
    )
    assert forwarded["escalation"]["forwarded_to"] == "城东支行"
    assert forwarded["escalation"]["resolved_by"] == "b1" and forwarded["escalation"]["resolved_at"]

    urgent = await agent.call(
        "record.submit",
        call_id="k1",
        form="complaint.urgent",
        fields={
            "customer_name": "张先生",
            "phone": "13800001234",
            "complaint": "资金被冻结",
            "demand": "今天答复",
            "urgency": "扬言找媒体",
        },
    )
    await notified(sl, escalation_id=urgent["escalation_id"])
    await notified(bo, escalation_id=urgent["escalation_id"])
    await notified(p["manager"], escalation_id=urgent["escalation_id"])

    about = await agent.call(
        "record.submit",
        call_id="k1",
        form="complaint.about_agent",
        fields={
            "customer_name": "张先生",
            "phone": "13800001234",
            "complaint": "座席态度差",
            "demand": "换人处理",
            "settled_on_call": "no",
        },
    )
    eid = about["escalation_id"]
    await notified(sl, escalation_id=eid, step="shift_leader")
    ack = await sl.call("escalation.ack", escalation_id=eid)
    assert ack["escalation"]["acks"][0]["user"] == "s1"
    await sl.push("escalation.event", event="acked")
    noted = await sl.call("escalation.note", escalation_id=eid, text="已再次向客户解释，客户仍不满意")
    assert noted["escalation"]["notes"][0]["text"].startswith("已再次")
    await sl.call("escalation.unresolved", escalation_id=eid)
    await notified(bo, escalation_id=eid, step="back_office")
    await bo.call("escalation.unresolved", escalation_id=eid)
    await notified(p["manager"], escalation_id=eid, step="center_manager")
    last = await p["manager"].call("escalation.unresolved", escalation_id=eid)
    assert last["error"]["code"] == "conflict"
    done = await p["manager"].call("escalation.resolve", escalation_id=eid, resolution="已协调解决")
    assert done["escalation"]["status"] == "resolved"
    await sl.push("escalation.event", event="resolved")

    trail = await routing_store.audit_trail(routing.hub.store.db, eid)
    assert [a["action"] for a in trail][:2] == ["open", "fire"]
    assert {"ack", "note", "unresolved", "resolved"} <= {a["action"] for a in trail}
    assert all(a["who"] and a["at"] for a in trail)


async def test_media_interview_live_broadcast_and_major_incident(center: Center, receiver: Receiver) -> None:
    running, _ = center
    p = await people(running)
    agent, sl = p["agent"], p["shift_leader"]
    await agent.call("call.start", call_id="m1", context={})
    media = await agent.call(
        "record.submit",
        call_id="m1",
        form="media.interview",
        fields={"journalist_name": "陈记者", "outlet": "都市快报", "phone": "13900001111", "topic": "手续费"},
    )
    assert "我先记录您的联系电话向相关部门汇报，安排采访时间后再给您回复。" in media["wording"]
    told = await notified(sl, escalation_id=media["escalation_id"])
    assert "都市快报" in told["text"] and "13900001111" in told["text"]

    live = await agent.call("call.escalate", call_id="m1", kind="media.live", reason="节目直播中提问")
    assert "直播" in (await notified(sl, escalation_id=live["escalation_id"]))["text"]

    incident = await agent.call("call.escalate", call_id="m1", kind="incident", reason="客户扬言到网点闹事")
    eid = incident["escalation_id"]
    await notified(sl, escalation_id=eid)
    await notified(p["manager"], escalation_id=eid)
    await receiver.wait_for(lambda: any(r["key"] == f"{eid}|report|dl|sms" for r in receiver.received))
    bad = await agent.call("call.escalate", call_id="m1", kind="gossip")
    assert bad["error"]["code"] == "invalid_format"


async def test_notifiers_retry_with_backoff_and_never_deliver_twice(center: Center, receiver: Receiver) -> None:
    running, routing = center
    receiver.fail_first = {"/sms": 2, "/hook/dl": 3}
    agent = await open_client(running, user="a1001", role="agent")
    await agent.call("call.start", call_id="n1", context={})
    incident = await agent.call("call.escalate", call_id="n1", kind="major_incident", reason="抢劫")
    eid = incident["escalation_id"]
    want = {f"{eid}|report|dl|sms", f"{eid}|report|dl|webhook"}
    await receiver.wait_for(lambda: set(receiver.delivered()) >= want)
    assert receiver.attempts["/sms"] == 3 and receiver.attempts["/hook/dl"] == 4

    async def recorded() -> bool:
        return all(r["delivered_at"] for r in await outbox(running, f"{eid}|report|dl|%"))

    await until(recorded)
    await routing.deliver_due(time.time() + 3600)  # an hour on, every retry is due: none may be sent again
    assert all(receiver.delivered()[k] == 1 for k in want), receiver.delivered()
    rows = await routing_store._all(
        running.store.db, "SELECT key, attempts, delivered_at FROM routing_outbox WHERE channel IN ('sms', 'webhook')"
    )
    assert {r["key"]: r["attempts"] for r in rows} == {f"{eid}|report|dl|sms": 3, f"{eid}|report|dl|webhook": 4}
    assert all(r["delivered_at"] for r in rows)


async def test_console_notification_waits_for_the_person_to_connect(center: Center) -> None:
    running, _ = center
    agent = await open_client(running, user="a1001", role="agent")
    await agent.call("call.start", call_id="w1", context={})
    media = await agent.call("call.escalate", call_id="w1", kind="media", reason="记者来电")

    async def tried() -> bool:
        return any(r["attempts"] for r in await outbox(running, f"{media['escalation_id']}|%|sl|console"))

    await until(tried)  # the shift leader is not connected: the delivery failed and waits for a retry
    leader = await open_client(running, user="s1", role="shift_leader")
    await notified(leader, escalation_id=media["escalation_id"])


async def test_audit_trail_is_append_only(center: Center) -> None:
    running, _ = center
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await running.store.db.execute("UPDATE routing_audit SET who='x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await running.store.db.execute("DELETE FROM routing_audit")
