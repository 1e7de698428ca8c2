"""fault.open checks its form against the escalations it names and against the clock: a report id must be a
fault report (never a complaint), and the fault's times must be plausible."""

from __future__ import annotations

import time

from tests.routing.test_play_through import Center, people


async def test_fault_open_cannot_close_a_complaint_by_its_id(center: Center) -> None:
    running, _ = center
    p = await people(running)
    agent, admin = p["agent"], p["seat_admin"]
    await agent.call("call.start", call_id="x1", context={})
    complaint = await agent.call("call.escalate", call_id="x1", kind="complaint", reason="客户要求今天答复")
    assert complaint["success"], complaint
    reply = await admin.call(
        "fault.open",
        occurred_at=time.time(),
        symptoms="转账失败",
        level=3,
        system="手机银行",
        reported_by="a1001",
        report_id=complaint["escalation_id"],
    )
    assert reply["success"] is False and reply["error"]["code"] == "validation_failed"
    listed = await admin.call("escalation.list", status="open")
    assert complaint["escalation_id"] in [e["escalation_id"] for e in listed["escalations"]]


async def test_fault_times_must_be_plausible(center: Center) -> None:
    running, _ = center
    admin = (await people(running))["seat_admin"]
    ancient = await admin.call("fault.open", occurred_at=-1e300, symptoms="x", level=3, system="网银", reported_by="a1")
    assert ancient["error"]["code"] == "validation_failed" and "occurred_at" in ancient["error"]["details"]["fields"]
    opened = await admin.call(
        "fault.open", occurred_at=time.time() - 60, symptoms="x", level=3, system="网银", reported_by="a1"
    )
    before = await admin.call("fault.recover", fault_id=opened["fault"]["fault_id"], recovered_at=0)
    assert before["error"]["code"] == "validation_failed"
