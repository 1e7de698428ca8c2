"""Bad input gets the error shape with a stable code, changes nothing and keeps the connection."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from assist import protocol
from assist.app import Running
from assist.config import Settings
from tests.conftest import Client, open_client, start_shared


async def _error(client: Client, cid: int | None) -> dict[str, str]:
    msg = await client.reply(cid)
    assert msg["success"] is False, msg
    error: dict[str, str] = msg["error"]
    assert set(error) >= {"code", "message"}
    return error


async def test_malformed_json(agent: Client) -> None:
    await agent.send_raw("{not json")
    assert (await _error(agent, None))["code"] == "invalid_json"
    assert (await agent.call("ping"))["success"] is True


async def test_non_object_json(agent: Client) -> None:
    await agent.send_raw("[1, 2]")
    assert (await _error(agent, None))["code"] == "invalid_json"


async def test_unknown_type(agent: Client) -> None:
    await agent.send_raw(json.dumps({"id": 1, "type": "call.explode"}))
    assert (await _error(agent, 1))["code"] == "unknown_command"
    assert (await agent.call("ping"))["success"] is True


async def test_missing_id(agent: Client) -> None:
    await agent.send_raw(json.dumps({"type": "ping"}))
    assert (await _error(agent, None))["code"] == "invalid_format"


@pytest.mark.parametrize(
    "fields",
    [
        {"call_id": "x"},  # missing text
        {"call_id": 5, "text": "hi"},  # wrong type
        {"text": "hi"},  # missing call_id
    ],
)
async def test_missing_or_wrong_fields(agent: Client, fields: dict[str, object]) -> None:
    await agent.call("call.start", call_id="x", context={})
    await agent.send_raw(json.dumps({"id": 10, "type": "call.note", **fields}))
    assert (await _error(agent, 10))["code"] == "invalid_format"
    assert (await agent.call("call.get", call_id="x"))["update"]["category"] == "none"


async def test_bad_speaker(agent: Client) -> None:
    await agent.call("call.start", call_id="y", context={})
    await agent.send_raw(
        json.dumps({"id": 5, "type": "call.transcript", "call_id": "y", "speaker": "robot", "text": "我要投诉"})
    )
    assert (await _error(agent, 5))["code"] == "invalid_format"


async def test_unknown_call_id(agent: Client) -> None:
    reply = await agent.call("call.note", call_id="nope", text="hello")
    assert reply["error"]["code"] == "not_found"


async def test_ids_must_increase(agent: Client) -> None:
    await agent.send_raw(json.dumps({"id": 7, "type": "ping"}))
    assert (await agent.reply(7))["success"] is True
    await agent.send_raw(json.dumps({"id": 7, "type": "ping"}))
    assert (await _error(agent, 7))["code"] == "id_reuse"
    await agent.send_raw(json.dumps({"id": 3, "type": "ping"}))
    assert (await _error(agent, 3))["code"] == "id_reuse"
    await agent.send_raw(json.dumps({"id": 8, "type": "ping"}))
    assert (await agent.reply(8))["success"] is True


async def test_oversized_frame_is_refused_and_connection_stays(agent: Client) -> None:
    await agent.call("call.start", call_id="big", context={})
    frame = json.dumps({"id": 50, "type": "call.note", "call_id": "big", "text": "投诉" * 20000}, ensure_ascii=False)
    assert 65536 < len(frame.encode()) < 4 * 65536
    await agent.send_raw(frame)
    assert (await _error(agent, 50))["code"] == "message_too_large", "the reply names the command it refuses"
    assert (await agent.call("call.get", call_id="big"))["update"]["category"] == "none", "the note was not applied"


@pytest.mark.parametrize("depth", [9, 5000])
async def test_deep_nesting_is_refused_as_invalid_json(agent: Client, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    await agent.send_raw('{"id": 60, "type": "call.start", "call_id": "deep", "context": {"x": ' + nested + "}}")
    error = await _error(agent, None)
    assert error["code"] == "invalid_json" and "nest" in error["message"]
    assert (await agent.call("call.start", call_id="deep", context={"x": [[1]]}))["success"] is True


async def test_deep_nesting_before_auth_gets_auth_invalid(service: Running) -> None:
    async with connect(f"ws://127.0.0.1:{service.ws_port}/ws") as ws:
        await ws.send('{"type": "auth", "token": ' + "[" * 5000 + "]" * 5000 + "}")
        msg = json.loads(await ws.recv())
        assert msg["type"] == "auth_invalid" and "nest" in msg["message"]


@pytest.mark.parametrize(
    ("command", "fields"),
    [
        ("call.note", {"text": "投" * (protocol.MAX_NOTE_CHARS + 1)}),
        ("call.transcript", {"speaker": "agent", "text": "我们系统坏了" * 400}),
        ("call.start", {"context": {f"k{i}": i for i in range(protocol.MAX_CONTEXT_KEYS + 1)}}),
        ("call.start", {"context": {"name": "张" * 6000}}),
    ],
)
async def test_sizes_over_the_documented_limits_are_validation_failed(
    service: Running, agent: Client, command: str, fields: dict[str, object]
) -> None:
    await agent.call("call.start", call_id="sz", context={"queue": "retail"})
    reply = await agent.call(command, call_id="sz", **fields)
    assert reply["error"]["code"] == "validation_failed", reply
    call = service.hub.desk.calls["sz"]
    assert call.notes == [] or call.notes == [""], "nothing was applied"
    assert call.transcript == [] and call.context == {"queue": "retail"}
    assert (await agent.call("call.note", call_id="sz", text="客户查询余额"))["success"], "the call goes on"


async def test_frame_far_over_the_limit_closes_the_connection(agent: Client) -> None:
    await agent.send_raw("x" * (4 * 65536 + 1))
    with pytest.raises(ConnectionClosed) as info:
        await agent.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


async def test_wrong_role(service: Running) -> None:
    trainer = await open_client(service, user="t1", role="trainer")
    reply = await trainer.call("call.start", call_id="z", context={})
    assert reply["error"]["code"] == "unauthorized"
    assert "z" not in service.hub.desk.calls


async def test_command_before_auth(service: Running) -> None:
    async with connect(f"ws://127.0.0.1:{service.ws_port}/ws") as ws:
        await ws.send(json.dumps({"id": 1, "type": "ping"}))
        msg = json.loads(await ws.recv())
        assert msg["type"] == "auth_invalid"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


async def test_bad_token(service: Running) -> None:
    async with connect(f"ws://127.0.0.1:{service.ws_port}/ws") as ws:
        await ws.send(json.dumps({"type": "auth", "token": "forged"}))
        assert json.loads(await ws.recv())["type"] == "auth_invalid"


async def test_auth_deadline(settings: Settings) -> None:
    running = await start_shared(replace(settings, auth_timeout=0.2))  # the run's model, not trained again
    try:
        async with connect(f"ws://127.0.0.1:{running.ws_port}/ws") as ws:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 30))  # a bound, far past the deadline
            assert msg["type"] == "auth_invalid" and "timed out" in msg["message"]
    finally:
        await running.close()


async def test_wrong_path_is_404(service: Running) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as info:
        async with connect(f"ws://127.0.0.1:{service.ws_port}/other"):
            pass
    assert info.value.response.status_code == 404
