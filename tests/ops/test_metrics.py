"""/metrics and /readyz on the real service, read as an operator's dashboard would."""

from __future__ import annotations

import time

import aiohttp

from assist.app import Running
from assist.server.ops.http import OPS_KEY
from assist.server.ops.metrics import Metrics
from assist.server.routing.service import RoutingService
from tests.conftest import open_client
from tests.ops.conftest import scrape, value
from tests.routing.receiver import Receiver
from tests.routing.test_play_through import notified, outbox, until

OUTAGE = "手机银行转账一直提示系统繁忙，转不了"


async def test_a_live_outage_call_shows_in_the_figures(service: Running, http_session: aiohttp.ClientSession) -> None:
    before = await scrape(service, http_session)
    assert value(before, "assist_pack_info", pack_id=service.hub.desk.pack.id, version="v1") == 1
    assert value(before, "assist_pack_version") == 1
    agent = await open_client(service, user="a1001", role="agent")
    leader = await open_client(service, user="s1", role="shift_leader")
    await agent.call("call.start", call_id="m-1", context={"queue": "ebanking"})
    await agent.call("call.transcript", call_id="m-1", speaker="customer", text=OUTAGE)
    await agent.call("call.note", call_id="m-1", text="客户转账失败")
    await agent.call("call.note", call_id="m-1", text="客户转账失败，已致歉")
    await agent.call("call.start", call_id="m-2", context={})

    after = await scrape(service, http_session)
    assert value(after, "assist_live_calls", category="system_outage") == 1
    assert value(after, "assist_live_calls", category="none") == 1
    assert value(after, "assist_notes_total") - value(before, "assist_notes_total") == 2
    assert value(after, "assist_transcript_lines_total") - value(before, "assist_transcript_lines_total") == 1
    assert value(after, "assist_calls_started_total") - value(before, "assist_calls_started_total") == 2
    assert value(after, "assist_connections", role="agent") == 1
    assert value(after, "assist_connections", role="shift_leader") == 1
    assert ("assist_push_queue_messages", frozenset({("which", "total")})) in after
    # the hub's own instruments: every live command is classified, each note or line timed to its reply
    assert value(after, "assist_classify_seconds_count") - value(before, "assist_classify_seconds_count") == 5
    assert value(after, "assist_note_update_seconds_count") - value(before, "assist_note_update_seconds_count") == 3

    await agent.call("call.end", call_id="m-1", disposition="resolved")
    await leader.ws.close()
    later = await scrape(service, http_session)
    assert value(later, "assist_live_calls", category="system_outage") == 0
    assert value(later, "assist_notes_total") == value(after, "assist_notes_total"), "a scrape counts a row once"
    assert value(later, "assist_connections", role="shift_leader") == 0


async def test_outbox_depth_and_deadline_lag(
    center: tuple[Running, RoutingService], receiver: Receiver, http_session: aiohttp.ClientSession
) -> None:
    running, _ = center
    agent = await open_client(running, user="a1001", role="agent")
    await agent.call("call.start", call_id="w1", context={})
    media = await agent.call("call.escalate", call_id="w1", kind="media", reason="记者来电")

    async def tried() -> bool:
        return any(r["attempts"] for r in await outbox(running, f"{media['escalation_id']}|%|sl|console"))

    await until(tried)  # the shift leader is not connected: the console notification waits
    waiting = await scrape(running, http_session)
    assert value(waiting, "assist_outbox_pending", channel="console") >= 1
    assert value(waiting, "assist_outbox_oldest_age_seconds", channel="console") >= 0
    leader = await open_client(running, user="s1", role="shift_leader")
    await notified(leader, escalation_id=media["escalation_id"])

    admin = await open_client(running, user="sa1", role="seat_admin")
    manager = await open_client(running, user="m1", role="manager")
    opened = await admin.call(
        "fault.open",
        occurred_at=time.time(),
        symptoms="转账提示系统繁忙",
        level=3,
        system="手机银行",
        reported_by="a1001",
    )
    assert opened["success"], opened
    await notified(manager, step="first_deadline")  # due 0.6 s after the fault
    fired = await scrape(running, http_session)
    assert value(fired, "assist_escalation_fire_lag_seconds_count") >= 1
    assert value(fired, "assist_escalation_overdue_seconds") >= 0


async def test_the_hub_hooks_feed_the_latency_histograms_of_that_instance_only() -> None:
    one, other = Metrics(), Metrics()
    one.classified(0.0003)
    one.note_handled(0.004)
    one.note_handled(0.3)
    one.push_dropped()
    text = one.render().decode()
    assert "assist_classify_seconds_count 1.0" in text
    assert 'assist_note_update_seconds_bucket{le="0.005"} 1.0' in text
    assert "assist_note_update_seconds_count 2.0" in text
    assert "assist_pushes_dropped_total 1.0" in text
    assert "assist_note_update_seconds_count 0.0" in other.render().decode(), "each instance has its own registry"


async def test_readyz_says_ready_then_why_not(service: Running, http_session: aiohttp.ClientSession) -> None:
    base = f"http://127.0.0.1:{service.http_port}"
    async with http_session.get(base + "/readyz") as resp:
        assert resp.status == 200 and (await resp.json()) == {"status": "ready"}
        assert resp.headers["X-Request-Id"]
    async with http_session.get(base + "/healthz") as resp:
        assert resp.status == 200
    ops = service.http_runner.app[OPS_KEY]
    ops.drain()
    async with http_session.get(base + "/readyz") as resp:
        body = await resp.json()
        assert resp.status == 503
        assert body["error"]["code"] == "not_ready" and "draining" in body["checks"]
    ops.draining = False
    await service.store.db.close()  # the database goes away under the service
    async with http_session.get(base + "/readyz") as resp:
        body = await resp.json()
        assert resp.status == 503 and "database" in body["checks"], body
