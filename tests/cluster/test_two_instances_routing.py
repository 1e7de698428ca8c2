"""Two real `assist serve` processes on one PostgreSQL schema (issue 13): every escalation step and every
delivery fires once cluster-wide, a deadline held by an instance killed with SIGKILL fires on the other (once),
a fault declared on one instance reaches an agent on the other, and a leader on one instance sees, live, what
is filed and changed on the other. Deliveries go to a real local receiver; clients are real websockets."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cluster.routing_cluster import Pair, escalate, start_pair, until
from tests.pgcluster import Cluster
from tests.routing.receiver import Receiver

pytestmark = pytest.mark.slow

SECRET = "s3cret"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver(secret=SECRET).start()
    try:
        yield r
    finally:
        await r.stop()


def fired_steps(pair: Pair, eids: list[str]) -> list[dict[str, object]]:
    return pair.query(
        "SELECT escalation_id, name, due_at, fired_at FROM routing_steps WHERE escalation_id = ANY(%s) "
        "AND fired_at IS NOT NULL ORDER BY escalation_id, name",
        eids,
    )


def fire_audits(pair: Pair, eids: list[str]) -> Counter[str]:
    """Audit lines of fired steps (`fire`, or `late`), per escalation."""
    rows = pair.query("SELECT subject FROM routing_audit WHERE action IN ('fire', 'late') AND subject = ANY(%s)", eids)
    return Counter(str(r["subject"]) for r in rows)


def undelivered(pair: Pair, eids: list[str]) -> list[dict[str, object]]:
    return pair.query(
        "SELECT key FROM routing_outbox WHERE source = ANY(%s) AND delivered_at IS NULL AND channel <> 'console'",
        eids,
    )


async def test_steps_and_deliveries_due_while_both_run_fire_once(
    pg_cluster: Cluster, tmp_path: Path, receiver: Receiver
) -> None:
    # Each complaint: the shift leader at once; back office 1.5 s later; the center manager 1 s after that.
    pair = await start_pair(pg_cluster, tmp_path, receiver, about_agent_back_office=1.5, about_agent_center_manager=1)
    try:
        on_a, on_b = await pair.client(pair.a, "a1"), await pair.client(pair.b, "a2")
        leader = await pair.client(pair.b, "s1")  # the shift leader's console is on B
        eids = []
        for i in range(6):  # filed on both instances, so each instance's scheduler holds deadlines of both
            eids.append(await escalate(on_a, f"a-{i}"))
            eids.append(await escalate(on_b, f"b-{i}"))

        await until(lambda: len(fired_steps(pair, eids)) == 3 * len(eids), "every step to fire")
        await until(lambda: not undelivered(pair, eids), "every webhook and SMS delivery")
        keys = [r["key"] for r in pair.query("SELECT key FROM routing_outbox WHERE source = ANY(%s)", eids)]
        consoles = {k for k in keys if k.endswith("|console")}
        notified: Counter[str] = Counter()
        while sum(notified.values()) < len(consoles):  # the leader's console pushes, one per notification
            msg = await leader.recv(60)
            if msg.get("type") == "escalation.event" and msg.get("event") == "notify":
                notified[msg["key"]] += 1
        # a console push sent twice would arrive after the last one expected: look once more, after a
        # notice both instances handled (a new escalation's deadline wakes both schedulers)
        extra = await escalate(on_a, "a-last")
        while True:
            msg = await leader.recv(60)
            if msg.get("type") == "escalation.event" and msg.get("event") == "notify":
                if extra in msg["key"]:
                    break
                notified[msg["key"]] += 1

        print(
            f"\n{len(eids)} escalations, {3 * len(eids)} steps, {len(keys)} notifications; "
            f"the receiver took {len(receiver.received)} requests"
        )
        assert fire_audits(pair, eids) == dict.fromkeys(eids, 3), "each step fired once: one audit line each"
        assert len(fired_steps(pair, eids)) == 3 * len(eids)
        sent = Counter({k: n for k, n in receiver.delivered().items() if k.split("|")[0] in eids})
        assert set(sent) == set(keys) - consoles, "every webhook and SMS notification arrived"
        assert all(n == 1 for n in sent.values()), [k for k, n in sent.items() if n > 1]
        assert set(notified) == consoles and all(n == 1 for n in notified.values()), notified
    finally:
        await pair.stop()


async def test_a_deadline_held_by_a_killed_instance_fires_on_the_other_once(
    pg_cluster: Cluster, tmp_path: Path, receiver: Receiver
) -> None:
    pair = await start_pair(pg_cluster, tmp_path, receiver, about_agent_back_office=3, about_agent_center_manager=3600)
    try:
        leader = await pair.client(pair.b, "s1")
        assert (await leader.call("escalation.subscribe"))["success"]
        agent = await pair.client(pair.a, "a1")
        eid = await escalate(agent, "k-1")  # opened on A: its back-office deadline is 3 s away
        await leader.push("escalation.event", timeout=60, event="new")  # B has heard of it
        # A has sent the shift leader's notifications: it holds no delivery's lease when it dies, so what B
        # fires does not wait for a lease to run out (4 x the delivery timeout: 21 s here)
        await until(lambda: not undelivered(pair, [eid]), "the shift leader's deliveries from A")
        assert await pair.a.signal(signal.SIGKILL) == -signal.SIGKILL
        at_once = await leader.push("escalation.event", timeout=60, event="step")  # fired on A with the filing
        assert at_once["step"]["name"] == "shift_leader"
        fired = await leader.push("escalation.event", timeout=60, event="step")
        assert fired["escalation"]["escalation_id"] == eid and fired["step"]["name"] == "back_office"

        await until(lambda: not undelivered(pair, [eid]), "the back office's deliveries")
        steps = {str(r["name"]): r for r in fired_steps(pair, [eid])}
        assert set(steps) == {"shift_leader", "back_office"}, "the center manager's step is an hour away"
        back_office = steps["back_office"]
        lateness = float(back_office["fired_at"]) - float(back_office["due_at"])  # type: ignore[arg-type]
        print(f"\ninstance A killed (SIGKILL); B fired A's back-office deadline {lateness:.3f} s after it was due")
        assert fire_audits(pair, [eid]) == {eid: 2}, "one audit line per fired step: it fired once"
        sent = receiver.delivered()
        bo = [k for k in sent if k.startswith(f"{eid}|back_office|")]
        assert sorted(k.rsplit("|", 1)[1] for k in bo) == ["sms", "webhook"] and all(sent[k] == 1 for k in bo)
    finally:
        await pair.stop()


async def test_a_fault_declared_on_one_instance_reaches_agents_on_the_other(
    pg_cluster: Cluster, tmp_path: Path, receiver: Receiver
) -> None:
    pair = await start_pair(pg_cluster, tmp_path, receiver)
    try:
        agent = await pair.client(pair.b, "a2")
        admin = await pair.client(pair.a, "sa1")
        opened = await admin.call(
            "fault.open",
            occurred_at=time.time() - 30,
            symptoms="登录失败",
            level=3,
            system="手机银行",
            reported_by="a1",
        )
        assert opened["success"], opened
        fault_id = opened["fault"]["fault_id"]
        notice = await agent.push("assist.notice", timeout=60, notice="fault", fault_id=fault_id)
        assert notice["active"] is True and notice["system"] == "手机银行" and notice["talking_points"]

        recovered = await admin.call("fault.recover", fault_id=fault_id)
        assert recovered["success"], recovered
        over = await agent.push("assist.notice", timeout=60, notice="fault", fault_id=fault_id)
        assert over["active"] is False

        late = await pair.client(pair.b, "a1")  # an agent connecting after the recovery is not told of it
        opened2 = await admin.call(
            "fault.open", occurred_at=time.time() - 5, symptoms="转账失败", level=4, system="网上银行", reported_by="a1"
        )
        second = await late.push("assist.notice", timeout=60, notice="fault")
        assert second["fault_id"] == opened2["fault"]["fault_id"], "only the open fault, not the recovered one"
    finally:
        await pair.stop()


async def test_a_leader_on_one_instance_sees_escalations_filed_and_changed_on_the_other(
    pg_cluster: Cluster, tmp_path: Path, receiver: Receiver
) -> None:
    pair = await start_pair(pg_cluster, tmp_path, receiver)
    try:
        leader = await pair.client(pair.b, "s1")
        assert (await leader.call("escalation.subscribe"))["success"]
        agent = await pair.client(pair.a, "a1")
        eid = await escalate(agent, "l-1", reason="客户要求投诉座席员")
        new = await leader.push("escalation.event", timeout=60, event="new")
        assert (
            new["escalation"]["escalation_id"] == eid and new["escalation"]["subject"]["reason"] == "客户要求投诉座席员"
        )
        step = await leader.push("escalation.event", timeout=60, event="step")
        assert step["escalation"]["escalation_id"] == eid and step["step"]["name"] == "shift_leader"

        # the leader on B acts; the agent on A sees it on the call, and a second leader on A sees the change
        other = await pair.client(pair.a, "sa1")
        assert (await other.call("escalation.subscribe"))["success"]
        assert (await leader.call("escalation.ack", escalation_id=eid))["success"]
        told = await agent.push("call.escalation", timeout=60, call_id="l-1", event="acked")
        assert told["escalation"]["acked_by"] == ["s1"]
        acked = await other.push("escalation.event", timeout=60, event="acked")
        assert acked["escalation"]["escalation_id"] == eid
        assert (await leader.call("escalation.note", escalation_id=eid, text="已联系客户"))["success"]
        noted = await other.push("escalation.event", timeout=60, event="note")
        assert noted["escalation"]["notes"][-1]["text"] == "已联系客户"
        assert (await leader.call("escalation.resolve", escalation_id=eid, resolution="已道歉"))["success"]
        resolved = await agent.push("call.escalation", timeout=60, call_id="l-1", event="resolved")
        assert resolved["escalation"]["status"] == "resolved"
        assert (await other.push("escalation.event", timeout=60, event="resolved"))["escalation"]["resolved_by"] == "s1"
    finally:
        await pair.stop()
