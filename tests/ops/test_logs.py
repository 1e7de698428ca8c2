"""Logs: a full scripted day through the real `assist serve`, logging at DEBUG as JSON into a file; no raw
customer value may be found in it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from assist.config import DEFAULT_PACK, Settings
from assist.server.ops.logs import JsonFormatter, MaskFilter, bind_call, call_id_var
from tests.conftest import Client, start_shared
from tests.routing.conftest import SECRET, routing_toml
from tests.routing.receiver import Receiver

pytestmark = pytest.mark.slow

PEOPLE = {
    "agent": "a1001",
    "agent2": "a1002",
    "seat_admin": "sa1",
    "shift_leader": "s1",
    "back_office": "b1",
    "manager": "m1",
}

RAW = [
    "13812345678",
    "138 1234 5678",
    "13987654321",
    "13700001111",  # mobile numbers
    "6222021234567890123",
    "6222 0212 3456 7890 123",
    "6217000011112222",  # card numbers
    "11010119900307123X",
    "440301198507214321",  # ID card numbers
    "622848001122334455",  # an account number
    "张伟",
    "李秀英",
    "王芳",  # names the contexts give
]


async def _client(ws_port: int, token: str) -> Client:
    ws = await connect(f"ws://127.0.0.1:{ws_port}/ws", max_size=None)
    client = Client(ws)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    assert (await client.recv())["type"] == "auth_ok"
    return client


async def _ports(proc: asyncio.subprocess.Process) -> tuple[int, int]:
    ws = http = 0
    assert proc.stdout is not None
    while not (ws and http):
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line, "assist serve stopped before it printed its ports"
        if m := re.search(r"ws://127\.0\.0\.1:(\d+)/ws", line):
            ws = int(m.group(1))
        if m := re.search(r"http://127\.0\.0\.1:(\d+)/", line):
            http = int(m.group(1))
    return ws, http


async def _day(ws_port: int, http_port: int, tokens: dict[str, str]) -> None:
    """Two customers' calls with their numbers and names in context, notes and transcripts; a complaint
    record, escalations, a fault declared and linked, a bad frame and HTTP requests."""
    p = {role: await _client(ws_port, tokens[role]) for role in PEOPLE}
    agent, agent2, admin = p["agent"], p["agent2"], p["seat_admin"]
    await p["shift_leader"].call("escalation.subscribe")
    await agent.call(
        "call.start",
        call_id="day-1",
        context={"customer_name": "张伟", "caller_number": "13812345678", "id_number": "11010119900307123X"},
    )
    await agent.call(
        "call.transcript",
        call_id="day-1",
        speaker="customer",
        text="我是张伟，卡号6222021234567890123，身份证11010119900307123X，你们网点排队两小时没人管",
    )
    await agent.call(
        "call.transcript", call_id="day-1", speaker="agent", text="张伟先生您好，您的手机是138 1234 5678吗"
    )
    await agent.call("call.note", call_id="day-1", text="张伟投诉排队，卡 6222 0212 3456 7890 123，回电13812345678")
    record = await agent.call(
        "record.submit",
        call_id="day-1",
        form="complaint.general",
        fields={
            "customer_name": "张伟",
            "phone": "13812345678",
            "complaint": "网点排队两小时",
            "demand": "道歉",
            "settled_on_call": "no",
        },
    )
    assert record["kind"] == "escalation", record
    await p["shift_leader"].push("escalation.event", event="new")
    await p["back_office"].call("escalation.note", escalation_id=record["escalation_id"], text="已联系张伟 13812345678")

    await agent2.call(
        "call.start",
        call_id="day-2",
        context={"name": "李秀英", "phone": "13987654321", "account": "622848001122334455"},
    )
    await agent2.call(
        "call.transcript",
        call_id="day-2",
        speaker="customer",
        text="李秀英，手机银行转账一直提示系统繁忙，转不了，账号622848001122334455，身份证440301198507214321",
    )
    await agent2.call("call.note", call_id="day-2", text="李秀英 13987654321 转账失败 卡6217000011112222")
    report = await agent2.call("call.escalate", call_id="day-2", kind="fault", reason="李秀英转账失败，回电13987654321")
    assert report["success"], report
    opened = await admin.call(
        "fault.open",
        occurred_at=time.time(),
        symptoms="转账提示系统繁忙，客户13700001111反映",
        level=3,
        system="手机银行",
        reported_by="a1002",
        report_id=report["escalation_id"],
    )
    assert opened["success"], opened
    await agent2.push("assist.notice", active=True)
    await agent.call("call.start", call_id="day-3", context={"contact_name": "王芳", "caller_number": "13700001111"})
    await agent.call("call.transcript", call_id="day-3", speaker="customer", text="我是王芳，转账也失败了")
    await agent.send_raw(
        json.dumps(
            {"id": 90, "type": "call.note", "call_id": "day-3", "text": ["王芳", "13700001111"]}, ensure_ascii=False
        )
    )
    assert (await agent.reply(90))["error"]["code"] == "invalid_format"
    recovered = await admin.call(
        "fault.recover", fault_id=opened["fault"]["fault_id"], cause="网关故障", responsible="信息技术部"
    )
    assert recovered["success"], recovered
    for call_id, who in (("day-1", agent), ("day-2", agent2), ("day-3", agent)):
        await who.call("call.end", call_id=call_id, disposition="resolved")
    async with aiohttp.ClientSession() as session:
        for path in ("/readyz", "/metrics", "/api/calls/13812345678?customer=张伟"):
            async with session.get(
                f"http://127.0.0.1:{http_port}{path}", headers={"Authorization": f"Bearer {tokens['manager']}"}
            ) as resp:
                await resp.read()
    for client in p.values():
        await client.ws.close()


async def test_a_scripted_day_leaves_no_raw_customer_value_in_the_debug_log(tmp_path: Path) -> None:
    receiver = await Receiver(secret=SECRET).start()
    try:
        routing = tmp_path / "routing.toml"
        routing.write_text(routing_toml(receiver), encoding="utf-8")
        db = tmp_path / "assist.db"
        # The pack is imported (its model trained) once, in this process, with the suite's shared trainer.
        running = await start_shared(Settings(ws_port=0, http_port=0, db=db, pack=DEFAULT_PACK))
        tokens = {
            role: await running.store.issue_token(user, role.rstrip("2"), time.time()) for role, user in PEOPLE.items()
        }
        await running.close()
        config = tmp_path / "assist.toml"
        config.write_text(
            f'ws_port = 0\nhttp_port = 0\ndb = "{db}"\nrouting = "{routing}"\n'
            f'notify_secret = "{SECRET}"\nlog_level = "DEBUG"\n',
            encoding="utf-8",
        )
        log_file = tmp_path / "assist.log"
        with open(log_file, "wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "assist",
                "serve",
                "--config",
                str(config),
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env={**os.environ, "ASSIST_LOG_FORMAT": "json"},
            )
            try:
                ws_port, http_port = await _ports(proc)
                await _day(ws_port, http_port, tokens)
            finally:
                proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        await receiver.stop()

    text = log_file.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert len(lines) > 50, "DEBUG logs every frame of the day"
    for raw in RAW:
        assert raw not in text, f"{raw!r} is in the log"
    messages = "\n".join(line["msg"] for line in lines)
    assert "138****5678" in messages and "张*" in messages and "李**" in messages, "the frames are there, masked"
    assert "**************123X" in messages, "an ID number keeps its last four characters"
    assert any(line.get("call_id") == "day-2" for line in lines)
    assert any(line.get("request_id") and "/api/calls/" in line["msg"] for line in lines)
    assert any(line.get("conn") for line in lines)
    assert {line["level"] for line in lines} >= {"DEBUG", "INFO"}
    for token in tokens.values():
        assert token not in text, "a bearer token is in the log"
    assert '"category_name": "一般咨询"' in messages, "only names are masked, not every value under a *name key"


def test_a_bound_call_names_every_line_and_a_name_is_masked_where_it_appears_again() -> None:
    mask = MaskFilter()
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(mask)
    logger = logging.getLogger("tests.ops.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        token = bind_call("c-7")
        logger.warning("context %s", {"customer_name": "欧阳娜娜", "phone": "13812345678"})
        call_id_var.reset(token)
        logger.warning("later: 欧阳娜娜 called back from 13812345678")
        try:
            raise ValueError("card 6222021234567890123 refused for 欧阳娜娜")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out: list[dict[str, Any]] = [json.loads(r) for r in records]
    assert out[0]["call_id"] == "c-7" and "call_id" not in out[1]
    assert "欧**" in out[0]["msg"] and "138****5678" in out[0]["msg"]
    assert out[1]["msg"] == "later: 欧*** called back from 138****5678"
    assert "6222021234567890123" not in out[2]["exc"] and "***************0123" in out[2]["exc"]
    assert "欧阳娜娜" not in "".join(records)
