"""kill -9 under load loses nothing acknowledged (issue 14): every write an agent or a leader was told succeeded
is there after the restart, counted per write type.

`assist serve` runs as its own process on a real SQLite file. Three agents, a shift leader and a seat
administrator drive every acknowledged write concurrently: call.start, call.note, call.transcript (an agent line
that gets a warning), record.submit, call.escalate, feedback.category; escalation.ack, escalation.note,
escalation.resolve on the agents' escalations; fault.open and fault.recover. Each `success: true` reply is
recorded. Once enough acknowledgements of every type have come back (a count, not a time) the process is
SIGKILLed while the clients are still sending; it is restarted on the same file and everything acknowledged is
read back over the service's own APIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.exceptions import ConnectionClosed

from assist.config import DEFAULT_PACK, Settings
from tests.conftest import Client, start_shared
from tests.serve_process import ServeProcess

pytestmark = pytest.mark.slow

BOUND = 120.0
"""Seconds a start or a stop may take before the test fails instead of hanging (a loaded machine trains slowly)."""
KILL_AFTER = 300
"""Acknowledgements in all before the kill, and at least EACH_BEFORE_KILL of every type."""
EACH_BEFORE_KILL = 3
TYPES = (
    "call.start",
    "call.note",
    "call.transcript",
    "record.submit",
    "call.escalate",
    "feedback.category",
    "escalation.ack",
    "escalation.note",
    "escalation.resolve",
    "fault.open",
    "fault.recover",
)
BLAME = "这是我们系统的问题，我们系统坏了"


class Ledger:
    """What was acknowledged, by type; sets `enough` once the kill may come."""

    def __init__(self) -> None:
        self.acked: dict[str, list[Any]] = {t: [] for t in TYPES}
        self.enough = asyncio.Event()

    def ack(self, type_: str, key: Any) -> None:
        self.acked[type_].append(key)
        counts = [len(v) for v in self.acked.values()]
        if sum(counts) >= KILL_AFTER and min(counts) >= EACH_BEFORE_KILL:
            self.enough.set()


async def call(client: Client, type_: str, **fields: Any) -> dict[str, Any]:
    """`Client.call` with a bound for a loaded machine instead of its 5 s."""
    client.next_id += 1
    await client.ws.send(json.dumps({"id": client.next_id, "type": type_, **fields}, ensure_ascii=False))
    return await client.reply(client.next_id, timeout=BOUND)


async def acked(client: Client, ledger: Ledger, type_: str, **fields: Any) -> dict[str, Any] | None:
    """Send one command; the reply when it says success, None when it was refused."""
    reply = await call(client, type_, **fields)
    assert reply["success"] or reply["error"]["code"] != "internal_error", reply
    return reply if reply["success"] else None


async def agent(client: Client, user: str, ledger: Ledger, escalations: asyncio.Queue[str]) -> None:
    for i in range(10_000):  # bounded; the kill ends it long before
        call_id = f"{user}-k{i}"
        if (
            await acked(
                client, ledger, "call.start", call_id=call_id, context={"queue": "retail", "customer_name": "张先生"}
            )
            is None
        ):
            continue
        ledger.ack("call.start", call_id)
        note = f"客户来电第{i}次，反映转账问题"
        if await acked(client, ledger, "call.note", call_id=call_id, text=note):
            ledger.ack("call.note", (call_id, note))
        line = f"{BLAME}（{i}）"
        said = await acked(client, ledger, "call.transcript", call_id=call_id, speaker="agent", text=line)
        if said:
            assert said["warnings"], "the agent line gets its warning"
            ledger.ack("call.transcript", (call_id, line))
        record = await acked(
            client,
            ledger,
            "record.submit",
            call_id=call_id,
            form="complaint.general",
            fields={
                "customer_name": "张先生",
                "phone": "13800001234",
                "complaint": f"排队久{i}",
                "demand": "改进",
                "settled_on_call": "yes",
            },
        )
        if record:
            ledger.ack("record.submit", (call_id, record["record_id"]))
        escalated = await acked(
            client, ledger, "call.escalate", call_id=call_id, kind="complaint", reason=f"客户要求上级处理{i}"
        )
        if escalated:
            ledger.ack("call.escalate", escalated["escalation_id"])
            await escalations.put(escalated["escalation_id"])
        feedback = await acked(client, ledger, "feedback.category", call_id=call_id, category="major_incident")
        if feedback:
            ledger.ack("feedback.category", feedback["feedback"]["feedback_id"])


async def leader(client: Client, user: str, ledger: Ledger, escalations: asyncio.Queue[str]) -> None:
    while True:
        esc_id = await escalations.get()
        if await acked(client, ledger, "escalation.ack", escalation_id=esc_id):
            ledger.ack("escalation.ack", (esc_id, user))
        text = f"已联系客户 {esc_id}"
        if await acked(client, ledger, "escalation.note", escalation_id=esc_id, text=text):
            ledger.ack("escalation.note", (esc_id, text))
        if await acked(client, ledger, "escalation.resolve", escalation_id=esc_id, resolution="已回复客户"):
            ledger.ack("escalation.resolve", esc_id)


async def seat_admin(client: Client, ledger: Ledger) -> None:
    for i in range(10_000):
        opened = await acked(
            client,
            ledger,
            "fault.open",
            occurred_at=time.time(),
            symptoms=f"转账失败{i}",
            level=1,
            system=f"手机银行{i}",
            reported_by="a1",
        )
        if opened:
            fault_id = opened["fault"]["fault_id"]
            ledger.ack("fault.open", fault_id)
            if await acked(client, ledger, "fault.recover", fault_id=fault_id):
                ledger.ack("fault.recover", fault_id)


async def until_killed(work: Awaitable[None]) -> None:
    """A client's load: it ends when the service dies under it (or when the test cancels it)."""
    with contextlib.suppress(ConnectionClosed, TimeoutError, asyncio.CancelledError):
        await work


@contextlib.asynccontextmanager
async def running(service: ServeProcess) -> AsyncIterator[ServeProcess]:
    await service.start()
    try:
        yield service
    finally:
        await service.kill()


async def stored(service: ServeProcess, tokens: dict[str, str], ledger: Ledger) -> dict[str, set[Any]]:
    """Read back, over the restarted service's APIs, every kind of thing the ledger holds."""
    found: dict[str, set[Any]] = {t: set() for t in TYPES}
    leader_ws = await service.client(tokens["s1"])
    escalations = {
        e["escalation_id"]: e
        for e in (await call(leader_ws, "escalation.list", status="all", limit=1000))["escalations"]
    }
    faults = {f["fault_id"]: f for f in (await call(leader_ws, "fault.list", status="all"))["faults"]}
    await leader_ws.ws.close()
    for esc_id, esc in escalations.items():
        found["call.escalate"].add(esc_id)
        found["escalation.ack"].update((esc_id, a["user"]) for a in esc["acks"])
        found["escalation.note"].update((esc_id, n["text"]) for n in esc["notes"])
        if esc["status"] == "resolved":
            found["escalation.resolve"].add(esc_id)
    for fault_id, fault in faults.items():
        found["fault.open"].add(fault_id)
        if fault["status"] == "recovered":
            found["fault.recover"].add(fault_id)
    base = f"http://127.0.0.1:{service.http_port}"
    async with aiohttp.ClientSession() as http:
        leader_h = {"Authorization": f"Bearer {tokens['s1']}"}
        for call_id in ledger.acked["call.start"]:
            async with http.get(f"{base}/api/leader/calls/{call_id}", headers=leader_h) as resp:
                if resp.status == 404:
                    continue
                assert resp.status == 200, await resp.text()
                detail = await resp.json()
            found["call.start"].add(call_id)
            found["call.note"].update((call_id, n) for n in detail["notes"])
            found["call.transcript"].update((call_id, ln["text"]) for ln in detail["transcript"])
            found["record.submit"].update((call_id, r["id"]) for r in detail["records"])
        async with http.get(
            f"{base}/api/feedback/items?status=all&kind=all&limit=500",
            headers={"Authorization": f"Bearer {tokens['t1']}"},
        ) as resp:
            assert resp.status == 200, await resp.text()
            found["feedback.category"].update(i["id"] for i in (await resp.json())["items"])
    return found


async def test_every_acknowledged_write_survives_kill_9_under_load(tmp_path: Path) -> None:
    db = tmp_path / "assist.db"
    users = {"a1": "agent", "a2": "agent", "a3": "agent", "s1": "shift_leader", "sa1": "seat_admin", "t1": "trainer"}
    # The pack is imported (its model trained once per test run) in this process; `assist serve` finds it stored.
    first = await start_shared(Settings(host="127.0.0.1", ws_port=0, http_port=0, db=db, pack=DEFAULT_PACK))
    try:
        tokens = {u: await first.store.issue_token(u, r, time.time()) for u, r in users.items()}
    finally:
        await first.close()

    ledger = Ledger()
    escalations: asyncio.Queue[str] = asyncio.Queue()
    service = ServeProcess({**os.environ, "ASSIST_LOG_LEVEL": "WARNING"}, tmp_path / "service.log", "--db", str(db))
    async with running(service):
        clients = {u: await service.client(tokens[u]) for u in ("a1", "a2", "a3", "s1", "sa1")}
        loads = [
            *(agent(clients[u], u, ledger, escalations) for u in ("a1", "a2", "a3")),
            leader(clients["s1"], "s1", ledger, escalations),
            seat_admin(clients["sa1"], ledger),
        ]
        tasks = [asyncio.create_task(until_killed(load)) for load in loads]
        enough = asyncio.create_task(ledger.enough.wait())
        done, _ = await asyncio.wait([enough, *tasks], timeout=BOUND * 3, return_when=asyncio.FIRST_COMPLETED)
        so_far = Counter({t: len(v) for t, v in ledger.acked.items()})
        assert enough in done, f"the load stopped before the kill: {so_far}"
        await service.signal(signal.SIGKILL)  # mid-load: every client still has a command in flight
        await asyncio.wait_for(asyncio.gather(*tasks), BOUND)
        for c in clients.values():
            await c.ws.close()
    assert service.proc is not None and service.proc.returncode == -signal.SIGKILL

    async with running(service):
        found = await stored(service, tokens, ledger)

    counts = {t: (len(ledger.acked[t]), len(set(ledger.acked[t]) - found[t])) for t in TYPES}
    print("acknowledged, missing after kill -9:", counts)
    assert all(n >= EACH_BEFORE_KILL for n, _ in counts.values()), counts
    missing = {t: sorted(set(ledger.acked[t]) - found[t], key=str)[:5] for t in TYPES if counts[t][1]}
    assert not missing, f"acknowledged but lost: {missing}"
