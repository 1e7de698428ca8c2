"""Two `assist serve` processes on one PostgreSQL schema with a routing file whose deadlines are seconds, a
real local receiver for their webhooks and SMS, and tokens issued on the shared database."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tests.conftest import Client
from tests.pgcluster import DATA_KEY, Cluster
from tests.routing.receiver import Receiver
from tests.serve_process import ServeProcess, prepare, start_two

SECRET = "s3cret"
BOUND = 60.0
"""Seconds to wait for something the test expects (a bound on waiting, not a tolerance)."""

USERS = {
    "a1": "agent",
    "a2": "agent",
    "s1": "shift_leader",
    "sa1": "seat_admin",
}


def routing_toml(receiver: Receiver, **deadlines: float) -> str:
    """Every step's people have a webhook (and back office an SMS number): each delivery is a request the
    receiver counts. The shift leader also has a console. The scheduler and outbox look at least every 0.2 s."""
    d = {
        "about_agent_back_office": 600,
        "about_agent_center_manager": 600,
        "fault_level34_first": 600,
        "fault_level34_second": 600,
        "renotify": 0,
        "late_after": 30,
        **deadlines,
    }
    lines = ["[deadlines]", *(f"{k} = {v}" for k, v in d.items())]
    lines += [
        "[delivery]",
        "tick = 0.2",
        "backoff = 0.1",
        "backoff_max = 0.5",
        "timeout = 5",
        "lease_slack = 1",  # a delivery an instance was sending when it was killed is the other's 21 s later
        f'sms_url = "{receiver.url("/sms")}"',
        "[schedule]",
        'timezone = "Asia/Shanghai"',
    ]
    contacts = [
        ("sl", "shift_leader", f'console = "s1"\nwebhook = "{receiver.url("/hook/sl")}"'),
        ("sa", "seat_admin", f'webhook = "{receiver.url("/hook/sa")}"'),
        ("bo", "back_office_duty", f'sms = "13800000003"\nwebhook = "{receiver.url("/hook/bo")}"'),
        ("cm", "center_manager", f'webhook = "{receiver.url("/hook/cm")}"'),
        ("dl", "department_leader", f'webhook = "{receiver.url("/hook/dl")}"'),
    ]
    for cid, role, channels in contacts:
        lines += ["[[contacts]]", f'id = "{cid}"', f'name = "{cid}"', f'roles = ["{role}"]', channels]
    return "\n".join(lines) + "\n"


@dataclass
class Pair:
    """Instances A and B on one database, and what the test needs to talk to them."""

    url: str
    a: ServeProcess
    b: ServeProcess
    tokens: dict[str, str]
    receiver: Receiver

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            return conn.execute(sql, params).fetchall()

    async def client(self, instance: ServeProcess, user: str) -> Client:
        return await instance.client(self.tokens[user])

    async def stop(self) -> None:
        for p in (self.a, self.b):
            await p.kill()


async def start_pair(
    cluster: Cluster, tmp: Path, receiver: Receiver, *, url: str | None = None, **deadlines: float
) -> Pair:
    """A and B on `url` (default: a fresh schema of the cluster, as its superuser)."""
    url = url or cluster.fresh_url()
    # the schema made once, the pack imported (not trained by both children at once), the tokens on it
    tokens = dict(zip(USERS, await prepare(url, *USERS.items()), strict=True))
    routing = tmp / "routing.toml"
    routing.write_text(routing_toml(receiver, **deadlines), encoding="utf-8")
    env = {
        **os.environ,
        "ASSIST_DB": url,
        "ASSIST_DATA_KEY": DATA_KEY,
        "ASSIST_ROUTING": str(routing),
        "ASSIST_NOTIFY_SECRET": SECRET,
        "ASSIST_HOST": "127.0.0.1",
        "XDG_DATA_HOME": str(tmp / "xdg"),
    }
    a, b = await start_two(env, tmp)
    return Pair(url, a, b, tokens, receiver)


async def until(check: Callable[[], Awaitable[bool] | bool], what: str, timeout: float = BOUND) -> None:
    """Wait for `check` to hold, looking again every 50 ms; fails with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def escalate(agent: Client, call_id: str, reason: str = "客户投诉座席员态度") -> str:
    """A live call and a complaint about its agent (shift leader at once, back office and center manager on
    their deadlines): the escalation's id."""
    await agent.call("call.start", call_id=call_id, context={})
    reply = await agent.call("call.escalate", call_id=call_id, kind="complaint.about_agent", reason=reason)
    assert reply["success"], reply
    return str(reply["escalation_id"])


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
