"""Each abusive input of issue 14 is refused or bounded, asserted by counts, sizes and shapes (never by time).

One service (real websocket and HTTP servers, a real SQLite file) serves the module; it holds more open
escalations (complaints) than `escalation.list` may return at once. Inputs the service does not bound yet are
strict xfails that name the defect: once it is fixed the test passes, and strict makes that an error until the
mark goes.

Covered elsewhere and not repeated here: deep nesting and `message_too_large` with the id echoed
(`test_bad_input.py`), `/plugin/%00.js` (`test_http_errors.py`), `token revoke --id ""` (`test_cli.py`),
kill -9 under load (`test_kill9_acknowledged.py`).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from assist import protocol
from assist.app import Running
from assist.config import DEFAULT_PACK, Settings
from assist.routing.commands import LIST_LIMIT, SNAPSHOT_LIMIT
from assist.server.packs.http import SERVICE_KEY as PACKS
from assist.server.packs.service import MAX_TRY_LINES
from tests.conftest import Client, Http, open_client, start_shared

OPEN_ESCALATIONS = 1001
LIST_CAP = LIST_LIMIT
"""`escalation.list` returns at most this many (`routing` service)."""
WARNINGS_PER_LINE = 20
"""The most warnings one agent line may carry. docs/protocol.md does not state a cap yet; the classifier branch
(`forbidden_check`: 8 per rule, 20 per line) caps at 20, and no real line carries more than a few."""
UNREAD_BYTES = 24 * 2**20
"""Replies a leader may leave unread before the server must have cut it off (1013): what the loopback socket
buffers and the client's one-frame queue can absorb (a few MiB) plus more than any sensible byte budget."""
BIG = 2**64
BLAME = "系统坏了"


@pytest_asyncio.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    db = tmp_path_factory.mktemp("abuse") / "assist.db"
    running = await start_shared(Settings(host="127.0.0.1", ws_port=0, http_port=0, db=Path(db), pack=DEFAULT_PACK))
    try:
        # Complaints, not faults: every agent connection is sent one notice per open fault (a defect below).
        seeder = await open_client(running, user="seed")
        await seeder.call("call.start", call_id="seed-call", context={"queue": "retail"})
        replies = await pipeline(
            seeder,
            [
                {"type": "call.escalate", "call_id": "seed-call", "kind": "complaint", "reason": f"客户第{i}次要求回电"}
                for i in range(OPEN_ESCALATIONS)
            ],
        )
        assert all(r["success"] for r in replies), next(r for r in replies if not r["success"])
        await seeder.ws.close()
        yield running
    finally:
        await running.close()


@pytest_asyncio.fixture
async def http(served: Running) -> AsyncIterator[Http]:
    async with aiohttp.ClientSession() as session:
        token = await served.store.issue_token("t1", "trainer", time.time())
        yield Http(session, f"http://127.0.0.1:{served.http_port}", token)


async def pipeline(client: Client, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send every frame before reading; the results in order (pushes are kept aside)."""
    ids = []
    for frame in frames:
        client.next_id += 1
        ids.append(client.next_id)
        await client.ws.send(json.dumps({"id": client.next_id, **frame}, ensure_ascii=False))
    return [await client.reply(i, timeout=60) for i in ids]


async def until_gone(served: Running, user: str) -> None:
    """Until no connection of `user` is still served, or the one left was cut off (its pending work dropped)."""
    while any(
        c.session.principal is not None and c.session.principal.user == user and not c.closed
        for c in served.hub.connections
    ):
        await asyncio.sleep(0.05)


def pushes_dropped(served: Running) -> float:
    """`assist_pushes_dropped_total` as /metrics shows it."""
    line = next(
        x for x in served.hub.metrics.render().decode().splitlines() if x.startswith("assist_pushes_dropped_total ")
    )
    return float(line.split()[1])


def error_body(data: Any) -> dict[str, Any]:
    assert isinstance(data, dict) and isinstance(data.get("error"), dict), data
    assert {"code", "message"} <= set(data["error"]), data
    return dict(data["error"])


# -- item 1: transcript lines and the trainer's try ---------------------------------------------------------------


async def test_a_transcript_line_over_the_limit_is_validation_failed_and_not_scanned(served: Running) -> None:
    agent = await open_client(served, user="a1")
    await agent.call("call.start", call_id="line-1", context={})
    reply = await agent.call(
        "call.transcript", call_id="line-1", speaker="agent", text=BLAME * (protocol.MAX_LINE_CHARS // len(BLAME) + 1)
    )
    assert reply["error"]["code"] == "validation_failed" and reply["error"]["details"]["field"] == "text", reply
    assert not [p for p in agent.pushes if p["type"] == "assist.warning"], "a refused line is not scanned"
    assert (await agent.call("call.get", call_id="line-1"))["success"], "the call goes on"


async def test_warnings_for_one_line_are_capped(served: Running) -> None:
    agent = await open_client(served, user="a2")
    await agent.call("call.start", call_id="line-2", context={})
    reply = await agent.call(
        "call.transcript",
        call_id="line-2",
        speaker="agent",
        text=(BLAME * protocol.MAX_LINE_CHARS)[: protocol.MAX_LINE_CHARS],
    )
    assert reply["success"] and reply["warnings"], "the line is accepted and warned about"
    assert len(reply["warnings"]) <= WARNINGS_PER_LINE, len(reply["warnings"])
    assert len(json.dumps(reply, ensure_ascii=False).encode()) <= served.hub.settings.max_message_bytes


async def test_the_trainers_try_refuses_a_line_over_the_line_limit(http: Http) -> None:
    line = "客户查询余额" * (protocol.MAX_LINE_CHARS // 6 + 1)
    data = await http.call(
        "POST", "/api/pack/try", {"call": {"transcript": [{"speaker": "agent", "text": line}]}}, expect=400
    )
    assert error_body(data)["code"] == "validation_failed"
    assert data["error"]["details"]["field"] == "transcript[0].text", data


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"notes": ["备注" * (protocol.MAX_NOTE_CHARS // 2 + 1)]}, "notes[0]"),
        ({"context": {"customer_name": "张" * protocol.MAX_CONTEXT_BYTES}}, "context"),
        ({"transcript": [{"speaker": "customer", "text": "余额"}] * 1000}, "transcript"),
    ],
)
async def test_the_trainers_try_applies_the_websockets_note_context_and_call_limits(
    http: Http, call: dict[str, Any], field: str
) -> None:
    data = await http.call("POST", "/api/pack/try", {"call": call}, expect=400)
    assert error_body(data)["code"] == "validation_failed" and data["error"]["details"]["field"] == field, data


async def test_a_body_nested_5000_deep_is_invalid_json_not_a_500(http: Http) -> None:
    async with http.session.post(
        http.base + "/api/pack/try",
        data=b'{"call": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        headers={"Authorization": f"Bearer {http.token}", "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
        assert error_body(await resp.json())["code"] == "invalid_json"


async def test_a_try_over_its_time_limit_is_stopped_and_the_next_one_answers(served: Running, http: Http) -> None:
    service = served.http_runner.app[PACKS]
    within_limits = {
        "transcript": [{"speaker": "agent", "text": BLAME * (protocol.MAX_LINE_CHARS // len(BLAME))}] * MAX_TRY_LINES
    }
    service.try_timeout = 0.001  # the heaviest call the limits allow classifies for seconds
    try:
        data = await http.call("POST", "/api/pack/try", {"call": within_limits}, expect=400)
    finally:
        service.try_timeout = served.hub.settings.try_timeout
    assert error_body(data)["code"] == "validation_failed" and data["error"]["details"]["field"] == "call", data
    found = await http.call(
        "POST",
        "/api/pack/try",
        {"call": {"transcript": [{"speaker": "agent", "text": "这是我们系统的问题，我们系统坏了"}]}},
    )
    assert {w["rule"] for w in found["warnings"]} == {"system_blame"}, "a new worker process answers the next try"


async def test_a_try_body_over_8_mib_is_413_in_the_error_shape(http: Http) -> None:
    async with http.session.post(
        http.base + "/api/pack/try",
        data=b" " * (8 * 2**20 + 1),
        headers={"Authorization": f"Bearer {http.token}", "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 413
        assert error_body(await resp.json())["code"] == "request_entity_too_large"


# -- item 2: templates ----------------------------------------------------------------------------------------------


def refused(data: Any) -> bool:
    """The preview's documented refusal: {text: null, error: "…"} (or an error body)."""
    return isinstance(data, dict) and (
        (data.get("text") is None and isinstance(data.get("error"), str)) or isinstance(data.get("error"), dict)
    )


async def test_a_template_bomb_in_the_preview_is_refused(http: Http) -> None:
    data = await http.call(
        "POST", "/api/pack/preview", {"template": "{{ (('a'*10**7)|replace('a','aa'))|length }}"}, expect=None
    )
    assert refused(data), data


async def test_a_preview_renders_no_more_than_a_talking_point(http: Http) -> None:
    data = await http.call("POST", "/api/pack/preview", {"template": "{{ lipsum(n=200) }}"}, expect=None)
    assert refused(data), {k: (v[:80] if isinstance(v, str) else v) for k, v in data.items()}


async def test_a_pack_with_a_lipsum_bomb_fails_validation_at_its_file_and_line(http: Http) -> None:
    draft = await http.call("POST", "/api/pack/drafts", {"note": "bomb"}, expect=201)
    scripts = draft["files"]["scripts.yaml"]
    safe = "系统正在维护，建议您稍后再试。"
    at = scripts.index(f'zh-CN: "{safe}"')
    line = scripts.count("\n", 0, at) + 1
    files = {"scripts.yaml": scripts.replace(f'zh-CN: "{safe}"', 'zh-CN: "{{ lipsum(n=20000) }}"', 1)}
    await http.call("PUT", f"/api/pack/drafts/{draft['id']}/files", {"files": files})
    checked = await http.call("POST", f"/api/pack/drafts/{draft['id']}/validate")
    assert checked["valid"] is False
    assert [(p["file"], p["line"]) for p in checked["problems"]] == [("scripts.yaml", line)], checked["problems"]


# -- item 3: lists, snapshots and unread replies -----------------------------------------------------------------


async def test_escalation_list_returns_at_most_the_cap_whatever_the_limit(served: Running) -> None:
    leader = await open_client(served, user="L1", role="shift_leader")
    found = (await leader.call("escalation.list", status="all", limit=10**9))["escalations"]
    assert len(found) == LIST_CAP, "more escalations are open than one list may return"


async def test_the_subscribe_snapshot_stays_within_the_list_cap(served: Running) -> None:
    leader = await open_client(served, user="L2", role="shift_leader")
    reply = await leader.call("escalation.subscribe")
    assert len(reply["escalations"]) <= SNAPSHOT_LIMIT


async def test_a_leader_who_leaves_megabytes_unread_is_cut_off(served: Running) -> None:
    token = await served.store.issue_token("L3", "shift_leader", time.time())
    dropped_before = pushes_dropped(served)
    async with connect(f"ws://127.0.0.1:{served.ws_port}/ws", max_size=None, max_queue=1) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await ws.recv())["type"] == "auth_ok"
        await ws.send(json.dumps({"id": 1, "type": "escalation.list", "limit": LIST_CAP}))
        size = len(await ws.recv())
        count = min(math.ceil(UNREAD_BYTES / size), served.hub.settings.max_queue - 1)
        assert count * size >= UNREAD_BYTES, "the replies must add up to the unread bytes below the message count"
        for i in range(count):
            await ws.send(json.dumps({"id": i + 2, "type": "escalation.list", "limit": LIST_CAP}))
        # Read nothing until the server has worked off the lists or cut the leader off (the service shares this
        # loop: reading at once would keep up with it and nothing would wait unread).
        await asyncio.wait_for(until_gone(served, "L3"), 120)
        received = 0
        with pytest.raises(ConnectionClosed) as closed:
            while received < count:
                await asyncio.wait_for(ws.recv(), 60)
                received += 1
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013, closed.value
        assert received < count
    assert pushes_dropped(served) - dropped_before > 1, "the replies waiting for it were dropped and counted"


async def test_many_open_faults_do_not_cut_agents_off(settings: Settings) -> None:
    running = await start_shared(settings)
    try:
        admin = await open_client(running, user="sa2", role="seat_admin")
        count = running.hub.settings.max_queue + 1
        replies = await pipeline(
            admin,
            [
                {
                    "type": "fault.open",
                    "occurred_at": time.time(),
                    "symptoms": "转账失败",
                    "level": 1,
                    "system": f"系统{i}",
                    "reported_by": "a6",
                }
                for i in range(count)
            ],
        )
        assert all(r["success"] for r in replies)
        agent = await open_client(running, user="a6")  # connected after the faults were opened
        assert (await agent.call("ping"))["success"]
        opened = await admin.call(
            "fault.open", occurred_at=time.time(), symptoms="转账失败", level=1, system="网银", reported_by="a6"
        )
        assert opened["success"], opened  # the notices to every agent connection are queued before this reply
        assert (await agent.call("ping"))["success"], "the agent is still connected"
        notices = [p for p in agent.pushes if p["type"] == "assist.notice"]
        assert 1 <= len(notices) <= running.hub.settings.max_queue // 2, len(notices)
    finally:
        await running.close()


# -- item 4: live calls and their contexts ---------------------------------------------------------------------


async def test_one_agent_cannot_keep_hundreds_of_live_calls(served: Running) -> None:
    agent = await open_client(served, user="a4")
    replies = await pipeline(
        agent, [{"type": "call.start", "call_id": f"many-{i}", "context": {"queue": "retail"}} for i in range(200)]
    )
    refusals = [r["error"] for r in replies if not r["success"]]
    assert all(e["code"] != "internal_error" and {"code", "message"} <= set(e) for e in refusals), refusals[:1]
    assert refusals, "every one of 200 calls was accepted"


async def test_the_live_call_cap_refuses_a_new_call_but_not_a_resumed_one(served: Running) -> None:
    cap = served.hub.settings.max_calls_per_agent
    agent = await open_client(served, user="a4b")
    replies = await pipeline(
        agent, [{"type": "call.start", "call_id": f"cap-{i}", "context": {}} for i in range(cap + 1)]
    )
    assert [r["success"] for r in replies] == [True] * cap + [False]
    assert replies[-1]["error"]["code"] == "too_many_calls" and replies[-1]["error"]["details"]["limit"] == cap
    assert "cap-20" not in served.hub.desk.calls, "the refused call is not kept"
    again = await open_client(served, user="a4b")  # the softphone reconnects: its own calls resume
    assert (await again.call("call.start", call_id="cap-0", context={}))["resumed"] is True
    await again.call("call.end", call_id="cap-0")
    assert (await again.call("call.start", call_id=f"cap-{cap}", context={}))["success"], "room again after an end"


async def test_an_agent_cannot_take_or_burn_another_agents_call_id(served: Running) -> None:
    squatter = await open_client(served, user="a12")
    await squatter.call("call.start", call_id="pbx-1001", context={})
    await squatter.call("call.start", call_id="pbx-1002", context={})
    await squatter.call("call.end", call_id="pbx-1002")
    rightful = await open_client(served, user="a13")
    assert (await rightful.call("call.start", call_id="pbx-1001", context={}))["success"]
    assert (await rightful.call("call.start", call_id="pbx-1002", context={}))["success"]
    # the rightful agent's call works under the id its softphone knows; everyone else sees its key
    escalated = await rightful.call("call.escalate", call_id="pbx-1001", kind="complaint", reason="客户要求今天答复")
    assert escalated["success"], escalated
    leader = await open_client(served, user="L11", role="shift_leader")
    listed = (await leader.call("escalation.list"))["escalations"]
    mine = [e for e in listed if e["escalation_id"] == escalated["escalation_id"]]
    assert mine and mine[0]["subject"]["call_id"] == "a13/pbx-1001", mine
    assert served.hub.desk.calls["pbx-1001"].user == "a12", "the squatter's call is untouched"
    # an id with a slash is always the agent's own: nobody can name another agent's key
    assert (await squatter.call("call.start", call_id="a13/pbx-1001", context={}))["success"]
    assert served.hub.desk.calls["a12/a13/pbx-1001"].user == "a12"
    assert (await squatter.call("call.note", call_id="a13/pbx-1001", text="x"))["success"]
    assert served.hub.desk.calls["a13/pbx-1001"].notes == []


async def test_the_leaders_live_call_list_stays_small(served: Running) -> None:
    name = "张" * 5000  # within the 16 KiB context limit
    per_agent = served.hub.settings.max_calls_per_agent  # 100 calls of several agents (one may hold only this many)
    for n in range(math.ceil(100 / per_agent)):
        agent = await open_client(served, user=f"a5-{n}")
        replies = await pipeline(
            agent,
            [
                {"type": "call.start", "call_id": f"wide-{n}-{i}", "context": {"customer_name": name}}
                for i in range(per_agent)
            ],
        )
        assert all(r["success"] for r in replies), replies[-1]
    token = await served.store.issue_token("L4", "shift_leader", time.time())
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"http://127.0.0.1:{served.http_port}/api/leader/calls", headers={"Authorization": f"Bearer {token}"}
        ) as resp,
    ):
        assert resp.status == 200
        body = await resp.read()
    assert len(body) <= 2**20, f"{len(body)} bytes for one page of live calls"


# -- item 7: unfinished HTTP requests ---------------------------------------------------------------------------


HEADER_TIMEOUTS = [f.name for f in fields(Settings) if "header" in f.name and "timeout" in f.name]


async def test_an_unfinished_http_request_is_closed_by_the_header_timeout(settings: Settings) -> None:
    assert HEADER_TIMEOUTS, "no header-read timeout setting in assist.config.Settings"
    import dataclasses

    running = await start_shared(
        dataclasses.replace(settings, **{HEADER_TIMEOUTS[0]: 0.2}),  # type: ignore[arg-type]
    )
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.http_port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 30) is not None  # EOF: the server closed it
        assert reader.at_eof()
        writer.close()
    finally:
        await running.close()


async def test_past_the_connection_cap_the_oldest_unfinished_requests_make_room(settings: Settings) -> None:
    import dataclasses

    cap = 5
    running = await start_shared(dataclasses.replace(settings, http_max_connections=cap, http_header_timeout=600.0))
    try:
        held = []
        for _ in range(20):
            reader, writer = await asyncio.open_connection("127.0.0.1", running.http_port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            await writer.drain()
            held.append((reader, writer))
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{running.http_port}/healthz") as resp,
        ):
            assert resp.status == 200, "a new client is answered while unfinished requests fill the cap"
        for reader, _ in held[: 20 + 1 - cap]:
            assert await asyncio.wait_for(reader.read(), 30) == b"", "the oldest unfinished requests were closed"
        reader, writer = held[-1]
        writer.write(b"1\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 30)
        assert answer.startswith(b"HTTP/1.1 200"), "the newest one still open finishes its request and is answered"
        for _, writer in held:
            writer.close()
    finally:
        await running.close()


# -- item 8: bad paths and ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/plugin/%00.js", "/api/pack/versions/999", "/api/pack/drafts/999"])
async def test_unknown_paths_and_ids_are_404_in_the_error_shape(http: Http, path: str) -> None:
    assert error_body(await http.call("GET", path, expect=404))["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/pack/versions/{2**63}"),
        ("GET", f"/api/pack/versions/{BIG}"),
        ("GET", f"/api/pack/drafts/{BIG}"),
        ("POST", f"/api/pack/versions/v{BIG}/rollback"),
        ("GET", f"/api/pack/export?version={BIG}"),
        ("GET", f"/api/pack/export?draft={BIG}"),
        ("GET", f"/api/pack/drafts/{BIG}/diff"),
    ],
)
async def test_ids_above_2_63_are_404_not_500(http: Http, method: str, path: str) -> None:
    assert error_body(await http.call(method, path, expect=404))["code"] == "not_found"
