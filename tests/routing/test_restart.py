"""SIGKILL the real service while an escalation step waits; after the restart the step fires once,
late-marked, nothing acknowledged is lost, and no notification reaches the receiver twice — on SQLite and on
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assist.server.ops.crypto import load_cipher
from tests.conftest import Client
from tests.pgcluster import DATA_KEY, cipher_for
from tests.routing.conftest import SECRET, routing_toml
from tests.routing.receiver import Receiver
from tests.serve_process import prepare

ROOT = Path(__file__).resolve().parents[2]
FIRST, SECOND = 2.0, 5.0
"""The level-3 fault's deadlines in this center: seconds instead of 15 and 30 minutes."""
T0 = datetime(2026, 3, 2, 10, 1, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
"""When the fault occurs, on the service's clock: a Monday morning a minute past a half-hour patrol, so that
nothing but the fault's deadlines falls due in the minute the test moves the clock through."""
BOUND = 120.0  # a bound on waiting for events, never a tolerance: generous for a busy machine
"""Seconds a start, a stop or a clock move may take before the test fails instead of hanging."""

pytestmark = pytest.mark.slow


class Service:
    """The service in its own process, on a clock that stands still until the test moves it."""

    def __init__(self, db: Path | str, routing: Path, log: Path) -> None:
        self.db, self.routing, self.log = db, routing, log
        self.proc: asyncio.subprocess.Process | None = None
        self.ws_port = 0

    async def start(self, clock: float) -> None:
        env = {
            **os.environ,
            "ASSIST_ROUTING": str(self.routing),
            "ASSIST_NOTIFY_SECRET": SECRET,
            "ASSIST_HOST": "127.0.0.1",
            "ASSIST_DATA_KEY": DATA_KEY if cipher_for(self.db) else "",
        }
        with open(self.log, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.routing.serve_with_routing",
                "--ws-port",
                "0",
                "--http-port",
                "0",
                "--db",
                str(self.db),
                "--clock",
                repr(clock),
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        line = await self._line()
        m = re.search(r"ready ws=(\d+)", line)
        assert m, f"service did not start: {line!r}; log: {self.log.read_text()[-2000:]}"
        self.ws_port = int(m.group(1))

    async def _line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        return (await asyncio.wait_for(self.proc.stdout.readline(), BOUND)).decode()

    async def at(self, t: float) -> None:
        """Move the service's clock to `t`; returns once every step due by then has fired and every delivery
        due by then has been attempted."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"at {t!r}\n".encode())
        await self.proc.stdin.drain()
        assert (await self._line()).split() == ["clock", repr(t)]

    async def client(self, token: str) -> Client:
        from websockets.asyncio.client import connect

        ws = await connect(f"ws://127.0.0.1:{self.ws_port}/ws")
        await ws.send(json.dumps({"type": "auth", "token": token}))
        client = Client(ws)
        assert (await client.recv())["type"] == "auth_ok"
        return client

    async def stop(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        await asyncio.wait_for(self.proc.wait(), BOUND)


def query(db: Path | str, sql: str, *params: Any) -> list[Any]:
    """Rows by column name, read straight from the database the service used (SQLite's SQL)."""
    if isinstance(db, str):
        import psycopg
        from psycopg.rows import dict_row

        cipher = cipher_for(db)
        assert cipher is not None
        with psycopg.connect(db, row_factory=dict_row) as conn:  # the sealed customer fields opened
            return [
                {k: cipher.opened(v) for k, v in row.items()}
                for row in conn.execute(sql.replace("?", "%s"), params).fetchall()
            ]
    con = sqlite3.connect(db)
    con.row_factory = load_cipher(db).row_factory()  # rows with the sealed customer fields opened
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


async def test_step_waiting_at_sigkill_fires_once_late_after_restart(
    tmp_path: Path, receiver: Receiver, db_target: Path | str
) -> None:
    db, routing = db_target, tmp_path / "routing.toml"
    routing.write_text(
        routing_toml(receiver, manager_sms=True, fault_level34_first=FIRST, fault_level34_second=SECOND),
        encoding="utf-8",
    )
    # the pack imported on the service's clock, as its first start would have (tests/serve_process.py)
    agent_t, admin_t, leader_t = await prepare(
        db, ("a1001", "agent"), ("sa1", "seat_admin"), ("s1", "shift_leader"), now=T0
    )
    service = Service(db, routing, tmp_path / "service.log")
    await service.start(clock=T0)
    try:
        agent, admin, leader = [await service.client(t) for t in (agent_t, admin_t, leader_t)]
        await agent.call("call.start", call_id="r1", context={})
        incident = await agent.call("call.escalate", call_id="r1", kind="incident", reason="客户扬言闹事")
        iid = incident["escalation_id"]
        acked = await leader.call("escalation.ack", escalation_id=iid)
        assert acked["success"]
        suggestion = await agent.call(
            "record.submit",
            call_id="r1",
            form="complaint.general",
            fields={
                "customer_name": "张先生",
                "phone": "13800001234",
                "complaint": "排队久",
                "demand": "改进",
                "settled_on_call": "yes",
            },
        )
        opened = await admin.call(
            "fault.open", occurred_at=T0, symptoms="转账失败", level=3, system="手机银行", reported_by="a1001"
        )
        fid, eid = opened["fault"]["fault_id"], opened["escalation_id"]
        first_key, second_key = f"{eid}|first_deadline|cm|sms", f"{eid}|second_deadline|dl|sms"
        await receiver.wait_for(lambda: f"{iid}|report|dl|sms" in receiver.delivered(), timeout=BOUND)
        # Every delivery due so far is recorded before the kill: one cut off between being sent and being
        # recorded would rightly be sent again after the restart (at least once, with its idempotency key).
        await service.at(T0)
        await service.stop(signal.SIGKILL)
        for c in (agent, admin, leader):
            await c.ws.close()
        waiting = query(db, "SELECT fired_at FROM routing_steps WHERE escalation_id=? AND name='first_deadline'", eid)
        assert waiting[0]["fired_at"] is None, "the first deadline must still be waiting when the service is killed"

        assert first_key not in receiver.delivered()
        await service.start(clock=T0 + FIRST + 1.0)  # the deadline passed while it was down
        await receiver.wait_for(lambda: first_key in receiver.delivered(), timeout=BOUND)
        assert second_key not in receiver.delivered(), "the second deadline is still to come"
        await service.at(T0 + SECOND)
        assert second_key in receiver.delivered()
        await service.at(T0 + SECOND + 60)  # every retry falls due: nothing may be delivered again
        await service.stop(signal.SIGTERM)
    finally:
        if service.proc is not None and service.proc.returncode is None:
            service.proc.kill()
            await service.proc.wait()

    delivered = {r["key"]: r["delivered_at"] for r in query(db, "SELECT key, delivered_at FROM routing_outbox")}
    assert delivered[first_key] == T0 + FIRST + 1.0 and delivered[second_key] == T0 + SECOND
    steps = {r["name"]: r for r in query(db, "SELECT * FROM routing_steps WHERE escalation_id=?", eid)}
    first, second = steps["first_deadline"], steps["second_deadline"]
    assert first["fired_at"] >= first["due_at"] and first["late"] == 1, "overdue after the restart: late"
    assert second["fired_at"] >= second["due_at"] and second["late"] == 0, "due after the restart: on time"
    fired = query(db, "SELECT action, detail FROM routing_audit WHERE subject=? AND action IN ('fire', 'late')", eid)
    assert sorted(json.loads(r["detail"])["step"] for r in fired) == ["declared", "first_deadline", "second_deadline"]
    assert receiver.delivered()[first_key] == 1 and receiver.delivered()[second_key] == 1
    assert all(n == 1 for n in receiver.delivered().values()), receiver.delivered()
    acks = json.loads(query(db, "SELECT acks FROM routing_escalations WHERE id=?", iid)[0]["acks"])
    assert "s1" in acks, "the acknowledgement survived the SIGKILL"
    assert query(db, "SELECT kind FROM routing_records WHERE id=?", suggestion["record_id"])[0]["kind"] == "suggestion"
    assert query(db, "SELECT status FROM routing_faults WHERE id=?", fid)[0]["status"] == "open"
