"""Defects found in review: each test fails on the code before its fix."""

from __future__ import annotations

import sqlite3

import aiohttp
import pytest

from assist.app import Running
from assist.calls import CallState
from assist.config import Settings
from tests.conftest import TRAINER, Client, issue, open_client


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
    b = await open_client(service, user="a2")
    reply = await b.call("call.start", call_id="r1", context={})
    assert reply["success"] is False and reply["error"]["code"] == "conflict"
    with sqlite3.connect(service.store.path) as db:
        assert db.execute("SELECT user, context FROM calls WHERE call_id='r1'").fetchone() == \
            ("a1", '{"customer_name":"张三"}'), "the first agent's call record is untouched"


async def test_a_revised_interim_line_warns_once(agent: Client) -> None:
    await agent.call("call.start", call_id="i1", context={})
    await agent.call("call.transcript", call_id="i1", speaker="agent", text="这是我们系统的问题", final=False)
    await agent.call("call.transcript", call_id="i1", speaker="agent", text="嗯，这是我们系统的问题", final=True)
    await agent.call("ping")
    warnings = [p for p in agent.pushes if p["type"] == "assist.warning"]
    assert len(warnings) == 1


def test_interim_line_is_replaced_even_after_the_other_speaker_talked() -> None:
    call = CallState("c", "u")
    assert call.add_line("customer", "我要", final=False) == 0
    assert call.add_line("agent", "您", final=False) == 1
    assert call.add_line("customer", "我要查余额", final=True) == 0
    assert call.add_line("agent", "您好", final=True) == 1
    assert [ln.text for ln in call.transcript] == ["我要查余额", "您好"]


async def test_a_write_that_fails_is_not_acknowledged_and_leaves_no_state(
        service: Running, agent: Client, monkeypatch: pytest.MonkeyPatch) -> None:
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


async def test_http_errors_are_json_even_for_unexpected_failures(service: Running) -> None:
    token = await issue(service, "L1", "shift_leader")
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{service.http_port}/api/leader/report/send", json={"day": 5},
            headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status >= 400
        body = await resp.json()
    assert set(body["error"]) >= {"code", "message"}


async def test_a_revoked_token_cannot_connect_and_its_open_connection_is_closed(service: Running) -> None:
    from websockets.exceptions import ConnectionClosed

    token = await issue(service, "a9", "agent")
    client = await open_client(service, token)
    assert await service.store.revoke_tokens(0.0, user="a9") == 1
    await service.hub.close_revoked()
    with pytest.raises(ConnectionClosed):
        await client.call("ping")
    with pytest.raises(AssertionError):
        await open_client(service, token)


async def test_calls_live_at_a_restart_are_taken_back_and_expire_if_abandoned(settings: Settings) -> None:
    from assist.app import start

    first = await start(settings, trainer=TRAINER)
    a = await open_client(first, user="a5")
    await a.call("call.start", call_id="o1", context={})
    await a.ws.close()
    await first.close()
    second = await start(settings, trainer=TRAINER)
    try:
        assert "o1" in second.hub.desk.calls, "the live call is back in memory without a call.start"
        outcome = second.hub.desk.expire(second.hub.clock() + settings.call_idle_timeout, settings.call_idle_timeout)
        await second.hub.commit(outcome)
    finally:
        await second.close()
    with sqlite3.connect(settings.db) as db:
        assert db.execute("SELECT disposition FROM calls WHERE call_id='o1'").fetchone() == ("abandoned",)
