"""SIGTERM a real `assist serve` with live calls, then start a new one on the same database and ports.

The drain tells every client to reconnect (1012) while /readyz says 503, lets the webhook under way finish,
commits every acknowledged write and exits 0; after the restart the clients resume their calls with the same
labels, the escalation deadline that was pending fires once, and no notification reaches the receiver twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from pathlib import Path

import aiohttp
import pytest

from tests.ops.test_drain import notes, read_until_closed
from tests.routing.conftest import SECRET, routing_toml
from tests.routing.receiver import Receiver
from tests.routing.test_restart import query
from tests.serve_process import ServeProcess, prepare

BOUND = 60.0
"""Seconds a start, a drain or an awaited event may take before the test fails instead of hanging."""
HOUR = 3600.0
"""The level-3 fault's first deadline: far enough that it cannot fall due before the drain."""

pytestmark = pytest.mark.slow


async def test_sigterm_drains_and_a_new_instance_takes_the_calls_back(
    tmp_path: Path, receiver: Receiver, http_session: aiohttp.ClientSession
) -> None:
    db, routing = tmp_path / "assist.db", tmp_path / "routing.toml"
    routing.write_text(
        routing_toml(receiver, manager_sms=True, fault_level34_first=HOUR, fault_level34_second=2 * HOUR),
        encoding="utf-8",
    )
    a1, a2, admin_t, leader_t = await prepare(
        db, ("a1001", "agent"), ("a1002", "agent"), ("sa1", "seat_admin"), ("s1", "shift_leader")
    )
    env = {
        **os.environ,
        "ASSIST_ROUTING": str(routing),
        "ASSIST_NOTIFY_SECRET": SECRET,
        "ASSIST_HOST": "127.0.0.1",
        "ASSIST_DRAIN_TIMEOUT": str(BOUND),
    }
    service = ServeProcess(env, tmp_path / "serve.log", "--db", str(db), keep_ports=True)
    await service.start()
    try:
        agent1, agent2, admin, leader = [await service.client(t) for t in (a1, a2, admin_t, leader_t)]
        await agent1.call("call.start", call_id="r1", context={"queue": "retail", "customer_name": "王先生"})
        outage = await agent1.call(
            "call.transcript",
            call_id="r1",
            speaker="customer",
            text="我手机银行转账一直提示系统繁忙，转了好几次都失败了",
        )
        assert (await agent1.call("call.note", call_id="r1", text="客户要求今天给答复"))["success"]
        record = await agent1.call(
            "record.submit",
            call_id="r1",
            form="complaint.general",
            fields={
                "customer_name": "王先生",
                "phone": "13800001234",
                "complaint": "转账失败",
                "demand": "今天答复",
                "settled_on_call": "no",
            },
        )
        assert record["success"], record
        await agent2.call("call.start", call_id="r2", context={"queue": "credit_card"})
        urgent = await agent2.call(
            "call.transcript", call_id="r2", speaker="customer", text="今天不给我答复，我就打12378投诉到银保监会"
        )
        labels = {"r1": outage["labels"], "r2": urgent["labels"]}
        assert labels["r1"][0] == "system_outage" and labels["r2"][0] == "complaint.urgent", labels
        opened = await admin.call(
            "fault.open", occurred_at=time.time(), symptoms="转账失败", level=3, system="手机银行", reported_by="a1001"
        )
        assert opened["success"], opened
        fault_esc = opened["escalation_id"]
        # the department leader's webhook is slow: its delivery is under way when the drain begins
        receiver.hold["/hook/dl"] = asyncio.Event()
        incident = await agent1.call("call.escalate", call_id="r1", kind="incident", reason="客户扬言闹事")
        assert incident["success"], incident
        held_key = f"{incident['escalation_id']}|report|dl|webhook"
        await receiver.wait_for(lambda: receiver.holding.get("/hook/dl") == 1, timeout=BOUND)

        assert service.proc is not None
        service.proc.send_signal(signal.SIGTERM)
        for c in (agent1, agent2, admin, leader):
            _, code = await read_until_closed(c)
            assert code == 1012, "every sidebar and console is told to reconnect"
        async with http_session.get(f"http://127.0.0.1:{service.http_port}/readyz") as resp:
            assert resp.status == 503, "the load balancer is told to send new work elsewhere"
            assert "draining" in (await resp.json())["checks"]
        assert service.proc.returncode is None, "the drain waits for the delivery under way"
        receiver.hold["/hook/dl"].set()
        assert await service.exited() == 0

        # every acknowledged write is in the database
        assert notes(db, "r1") == ["客户要求今天给答复"]
        assert query(db, "SELECT count(*) AS n FROM call_events WHERE call_id='r2' AND kind='transcript'")[0]["n"] == 1
        assert query(db, "SELECT id FROM routing_records WHERE id=?", record["record_id"])
        assert (
            query(db, "SELECT kind FROM routing_escalations WHERE id=?", incident["escalation_id"])[0]["kind"]
            == "major_incident"
        )
        assert query(db, "SELECT delivered_at FROM routing_outbox WHERE key=?", held_key)[0]["delivered_at"], (
            "the webhook the receiver took is recorded as delivered"
        )
        first = query(
            db,
            "SELECT due_at, fired_at FROM routing_steps WHERE escalation_id=? AND name=?",
            fault_esc,
            "first_deadline",
        )[0]
        assert first["fired_at"] is None, "the deadline was still pending at the drain"
        # The hour passes while no instance runs (the test does not wait it out): the stored deadline moves
        # into the past, as the clock would have moved past it.
        with sqlite3.connect(db) as conn:
            conn.execute(
                "UPDATE routing_steps SET due_at=? WHERE escalation_id=? AND name='first_deadline'",
                (time.time() - 1, fault_esc),
            )

        await service.start()  # the same database and ports
        agent1, agent2 = await service.client(a1), await service.client(a2)
        for client, call_id, context in (
            (agent1, "r1", {"queue": "retail", "customer_name": "王先生"}),
            (agent2, "r2", {"queue": "credit_card"}),
        ):
            resumed = await client.call("call.start", call_id=call_id, context=context)
            assert resumed["resumed"] is True and resumed["update"]["labels"] == labels[call_id]
            update = await client.push("assist.update", timeout=BOUND, call_id=call_id)
            assert update["labels"] == labels[call_id] and update["talking_points"]
        first_key = f"{fault_esc}|first_deadline|cm|sms"
        await receiver.wait_for(lambda: first_key in receiver.delivered(), timeout=BOUND)

        service.proc.send_signal(signal.SIGTERM)
        for c in (agent1, agent2):
            assert (await read_until_closed(c))[1] == 1012
        assert await service.exited() == 0
    finally:
        await service.kill()

    delivered = receiver.delivered()
    assert delivered[held_key] == 1 and delivered[first_key] == 1
    assert all(n == 1 for n in delivered.values()), f"a notification was sent twice: {delivered}"
    fired = query(db, "SELECT fired_at FROM routing_steps WHERE escalation_id=? AND name='first_deadline'", fault_esc)
    assert fired[0]["fired_at"] is not None
