"""A softphone that resumes a call (its sidebar reloaded, or reconnected) is told the call's escalations."""

from __future__ import annotations

from assist.app import Running
from assist.server.routing.service import RoutingService
from tests.conftest import open_client


async def test_a_resumed_call_is_told_its_escalations_as_they_stand(center: tuple[Running, RoutingService]) -> None:
    running, _ = center
    phone = await open_client(running, user="a1001")
    leader = await open_client(running, user="s1", role="shift_leader")
    other = await open_client(running, user="a1002")
    assert (await phone.call("call.start", call_id="rs-1", context={}))["success"]
    filed = await phone.call("call.escalate", call_id="rs-1", kind="complaint.urgent", reason="客户要求今天答复")
    assert (await leader.call("escalation.ack", escalation_id=filed["escalation_id"]))["success"]
    assert (await other.call("call.start", call_id="rs-2", context={}))["success"]
    await other.call("call.escalate", call_id="rs-2", kind="complaint.general", reason="另一通电话")

    reloaded = await open_client(running, user="a1001")  # the sidebar reloaded mid-call: a new connection
    resumed = await reloaded.call("call.start", call_id="rs-1", context={})
    assert resumed["resumed"] is True
    told = await reloaded.push("call.escalation", call_id="rs-1", event="state")
    assert told["escalation"]["escalation_id"] == filed["escalation_id"]
    assert told["escalation"]["status"] == "open" and told["escalation"]["acked_by"] == ["s1"]
    assert not [p for p in reloaded.pushes if p.get("type") == "call.escalation"], "one escalation: told once"

    fresh = await open_client(running, user="a1001")
    assert (await fresh.call("call.start", call_id="rs-3", context={}))["resumed"] is False
    assert (await fresh.call("call.note", call_id="rs-3", text="客户查余额"))["success"]
    assert not [p for p in fresh.pushes if p.get("type") == "call.escalation"], "a new call has nothing to tell"
