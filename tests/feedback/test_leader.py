"""A shift leader corrects an escalated call's category on resolving it (real server, websockets, SQLite)."""

from __future__ import annotations

import sqlite3

from assist.app import Running
from tests.conftest import open_client


async def test_resolve_with_a_category_correction_makes_a_feedback_item(service: Running) -> None:
    agent = await open_client(service)
    leader = await open_client(service, user="s1", role="shift_leader")
    await agent.call("call.start", call_id="k1", context={"customer_name": "王先生"})
    await agent.call("call.transcript", call_id="k1", speaker="customer", text="我要投诉你们，太慢了")
    esc = await agent.call("call.escalate", call_id="k1", kind="complaint", reason="客户要投诉")
    eid = esc["escalation_id"]

    bad = await leader.call("escalation.resolve", escalation_id=eid, resolution="已处理", category="gossip")
    assert bad["error"]["code"] == "validation_failed" and "category" in bad["error"]["details"]["fields"]
    unknown = await leader.call("escalation.resolve", escalation_id="E-nope", category="none")
    assert unknown["error"]["code"] == "not_found"
    assert (await leader.call("escalation.list"))["escalations"][0]["status"] == "open"  # nothing changed

    done = await leader.call("escalation.resolve", escalation_id=eid, resolution="客户只是咨询进度", category="none")
    assert done["success"] and done["escalation"]["status"] == "resolved", done
    fb = done["feedback"]
    assert (fb["category"], fb["predicted"], fb["call_id"]) == ("none", ["complaint.general"], "k1")
    with sqlite3.connect(service.store.path) as db:
        db.row_factory = service.store.cipher.row_factory()  # the sealed call snapshot opened
        row = db.execute(
            "SELECT source, user, role, escalation_id, corrected, call FROM feedback_items WHERE id=?",
            (fb["feedback_id"],),
        ).fetchone()
        audit = [tuple(r) for r in db.execute("SELECT action FROM routing_audit WHERE subject=?", (eid,))]
    assert row[:5] == ("leader", "s1", "shift_leader", eid, "none")
    assert "我要投诉你们" in row[5] and "王**" in row[5]
    assert ("category_feedback",) in audit and ("resolved",) in audit

    again = await leader.call("escalation.resolve", escalation_id=eid, category="system_outage")
    assert again["error"]["code"] == "conflict"

    # a category the call already had is a confirmation, not a correction: resolved, no item
    await agent.call("call.start", call_id="k2", context={})
    await agent.call("call.transcript", call_id="k2", speaker="customer", text="我要投诉你们，太慢了")
    other = await agent.call("call.escalate", call_id="k2", kind="complaint", reason="投诉")
    same = await leader.call("escalation.resolve", escalation_id=other["escalation_id"], category="complaint.general")
    assert same["success"] and same["feedback"] is None
    # without a category, the reply is as before
    await agent.call("call.start", call_id="k3", context={})
    third = await agent.call("call.escalate", call_id="k3", kind="complaint", reason="投诉")
    plain = await leader.call("escalation.resolve", escalation_id=third["escalation_id"], resolution="ok")
    assert plain["success"] and "feedback" not in plain
    with sqlite3.connect(service.store.path) as db:
        assert db.execute("SELECT count(*) FROM feedback_items").fetchone() == (1,)
    await agent.ws.close()
    await leader.ws.close()
