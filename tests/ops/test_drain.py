"""Drain, in the service's own process: what a client is promised when an instance goes out of service.

A command under way when the drain begins is finished and answered before the close (1012); a frame that
arrives after it is neither run nor answered, so the client may send it again elsewhere. Meanwhile /readyz
says 503, new HTTP work is refused with 503 and the websocket listener takes no new connection."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from assist.config import Settings, sqlite_file
from assist.server.ops.crypto import load_cipher
from tests.conftest import Client, open_client, start_shared

BOUND = 30.0
"""Seconds a condition may take before the test fails instead of hanging."""


async def until(predicate: Callable[[], bool]) -> None:
    async def loop() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(loop(), BOUND)


async def read_until_closed(client: Client) -> tuple[list[dict[str, Any]], int | None]:
    """Every message the client gets until the service closes it, and the close code."""
    seen: list[dict[str, Any]] = []
    try:
        while True:
            seen.append(json.loads(await asyncio.wait_for(client.ws.recv(), BOUND)))
    except ConnectionClosed as exc:
        return seen, exc.rcvd.code if exc.rcvd is not None else None


def notes(db: Path, call_id: str) -> list[str]:
    """A call's stored notes, read from the file (the payloads are sealed: opened with the database's key)."""
    opened = load_cipher(db).opened
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT payload FROM call_events WHERE call_id=? AND kind='note' ORDER BY id", (call_id,)
        ).fetchall()
    return [json.loads(opened(r[0]))["text"] for r in rows]


async def test_a_command_under_way_is_answered_then_1012_and_a_late_one_is_not_run(
    settings: Settings, http_session: aiohttp.ClientSession
) -> None:
    running = await start_shared(settings)
    base = f"http://127.0.0.1:{running.http_port}"
    drain: asyncio.Task[bool] | None = None
    try:
        agent = await open_client(running)
        idle = await open_client(running, user="a1002")
        await agent.call("call.start", call_id="d-1", context={"queue": "retail"})
        assert (await agent.call("call.note", call_id="d-1", text="客户说手机银行转账失败"))["success"]

        # The escalation is under way (it waits for routing's lock, held here) when the drain begins.
        async with running.routing.lock:
            await agent.ws.send(
                json.dumps(
                    {"id": 10, "type": "call.escalate", "call_id": "d-1", "kind": "complaint", "reason": "客户要求投诉"}
                )
            )
            await until(lambda: bool(running.hub.in_command))
            drain = asyncio.create_task(running.drain(BOUND))
            await until(lambda: running.hub.draining)

            _, code = await read_until_closed(idle)
            assert code == 1012, "an idle client is told to reconnect at once"
            async with http_session.get(base + "/readyz") as resp:
                assert resp.status == 503
                assert "draining" in (await resp.json())["checks"]
            async with http_session.get(base + "/healthz") as resp:
                assert resp.status == 200
            async with http_session.get(base + "/demo") as resp:
                assert resp.status == 503
                assert (await resp.json())["error"]["code"] == "draining"
            with pytest.raises(OSError):
                await connect(f"ws://127.0.0.1:{running.ws_port}/ws", open_timeout=BOUND)
            # sent after the drain began: read after the escalation, never run
            await agent.ws.send(json.dumps({"id": 11, "type": "call.note", "call_id": "d-1", "text": "迟到的备注"}))
            assert not drain.done()

        seen, code = await read_until_closed(agent)
        assert code == 1012
        answered = [m["id"] for m in seen if m.get("type") == "result"]
        assert answered == [10], seen
        assert next(m for m in seen if m.get("id") == 10)["success"]
        assert await drain is True
    finally:
        if drain is None:
            await running.close()
        elif not drain.done():
            await drain

    db = sqlite_file(settings.db)
    assert db is not None
    assert notes(db, "d-1") == ["客户说手机银行转账失败"], "the unanswered note was not run"
    with sqlite3.connect(db) as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM routing_escalations")]
    assert kinds == ["complaint.general"], "the answered escalation is stored"


async def test_a_drain_out_of_time_cuts_off_what_is_left_and_closes_with_1001(settings: Settings) -> None:
    running = await start_shared(settings)
    agent = await open_client(running)
    await agent.call("call.start", call_id="d-2", context={})
    # the escalation waits for routing's lock for the whole drain: the drain runs out of time
    async with running.routing.lock:
        await agent.ws.send(
            json.dumps(
                {"id": 10, "type": "call.escalate", "call_id": "d-2", "kind": "complaint", "reason": "客户要求投诉"}
            )
        )
        await until(lambda: bool(running.hub.in_command))
        assert await running.drain(0.2) is False
    seen, code = await read_until_closed(agent)
    assert code == 1001, "not 1012: the client cannot take the unanswered command as not run"
    assert not [m for m in seen if m.get("type") == "result"]
