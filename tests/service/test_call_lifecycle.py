"""A call's life on the real service: who gets its pushes, an ended call id stays ended, a failed write leaves
no call behind, and calls live at a restart come back and expire if nobody returns."""

from __future__ import annotations

import sqlite3

import pytest

from assist.app import Running
from assist.config import Settings
from tests.conftest import Client, open_client, start_shared


async def test_a_viewer_does_not_take_the_agents_warnings(service: Running) -> None:
    agent = await open_client(service, user="a1")
    await agent.call("call.start", call_id="w1", context={})
    viewer = await open_client(service, user="boss", role="admin")
    await viewer.call("call.get", call_id="w1")
    await agent.call("call.transcript", call_id="w1", speaker="agent", text="这是我们系统的问题，我们系统坏了")
    assert (await agent.push("assist.warning", call_id="w1"))["rule"] == "system_blame"
    assert (await viewer.push("assist.warning", call_id="w1"))["rule"] == "system_blame"


async def test_an_ended_call_id_cannot_be_started_again(service: Running) -> None:
    a = await open_client(service, user="a1")
    await a.call("call.start", call_id="r1", context={"customer_name": "张三"})
    await a.call("call.transcript", call_id="r1", speaker="customer", text="我要投诉，不解决我就打12378")
    await a.call("call.end", call_id="r1", disposition="done")
    again = await a.call("call.start", call_id="r1", context={})
    assert again["success"] is False and again["error"]["code"] == "conflict"
    assert "a1/" not in again["error"]["message"]
    b = await open_client(service, user="a2")  # another agent's softphone with the same id: its own call
    reply = await b.call("call.start", call_id="r1", context={})
    assert reply["success"] and reply["call_id"] == "r1" and not reply["resumed"]
    assert await service.store.call_owner("a2/r1") == "a2"
    async with service.store.db.execute("SELECT user, context FROM calls WHERE call_id='r1'") as cur:
        row = await cur.fetchone()  # the store's connection opens the sealed context
    assert row is not None and tuple(row) == ("a1", '{"customer_name":"张三"}'), "the first agent's call is untouched"


async def test_a_write_that_fails_is_not_acknowledged_and_leaves_no_state(
    service: Running, agent: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = service.store.write
    calls = {"n": 0}

    async def failing_once(writes: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        await original(writes)  # type: ignore[arg-type]

    monkeypatch.setattr(service.store, "write", failing_once)
    reply = await agent.call("call.start", call_id="f1", context={})
    assert reply["success"] is False and reply["error"]["code"] == "internal_error"
    assert "f1" not in service.hub.desk.calls
    again = await agent.call("call.start", call_id="f1", context={})
    assert again["success"] is True and again["resumed"] is False


async def test_calls_live_at_a_restart_are_taken_back_and_expire_if_abandoned(settings: Settings) -> None:

    first = await start_shared(settings)
    a = await open_client(first, user="a5")
    await a.call("call.start", call_id="o1", context={})
    await a.ws.close()
    await first.close()
    second = await start_shared(settings)
    try:
        assert "o1" in second.hub.desk.calls, "the live call is back in memory without a call.start"
        outcome = second.hub.desk.expire(second.hub.clock() + settings.call_idle_timeout, settings.call_idle_timeout)
        await second.hub.commit(outcome)
    finally:
        await second.close()
    with sqlite3.connect(settings.db) as db:
        assert db.execute("SELECT disposition FROM calls WHERE call_id='o1'").fetchone() == ("abandoned",)
