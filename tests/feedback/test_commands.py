"""Agents' feedback over the real websocket: a real server on loopback ports, a real SQLite file."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from assist.app import Running
from assist.feedback.commands import COMMANDS
from assist.server.ops.crypto import load_cipher
from tests.conftest import Client, open_client

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()

OUTAGE = "手机银行转账一直提示系统繁忙"
BLAME = "不好意思，这是我们系统的问题，我们系统坏了"


def rows(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = load_cipher(db).row_factory()  # the sealed customer fields opened
        return [tuple(r) for r in conn.execute(sql, args).fetchall()]


@pytest.mark.parametrize("name", [s.name for s in COMMANDS])
def test_feedback_command_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


async def outage_call(agent: Client, call_id: str = "c1") -> int:
    """A call classified as an outage whose agent said a forbidden phrase; returns that line's index."""
    await agent.call("call.start", call_id=call_id, context={"queue": "retail", "caller_number": "13800138000"})
    await agent.call("call.transcript", call_id=call_id, speaker="customer", text=OUTAGE)
    said = await agent.call("call.transcript", call_id=call_id, speaker="agent", text=BLAME)
    assert said["warnings"] and said["warnings"][0]["rule"] == "system_blame", said
    return int(said["index"])


async def test_category_feedback_is_stored_before_the_ack_and_can_be_changed(service: Running, agent: Client) -> None:
    assert {s.name for s in COMMANDS} <= set(service.hub.commands.types())
    await outage_call(agent)
    opts = await agent.call("feedback.get", call_id="c1")
    assert opts["success"] and opts["category"] is None and opts["warnings"] == []
    names = {c["id"]: c["name"] for c in opts["categories"]}
    assert names["none"] == "一般咨询" and names["system_outage"] == "系统故障"

    first = await agent.call("feedback.category", call_id="c1", category="complaint.general", comment="客户在投诉")
    assert first["success"] and first["changed"] is False, first
    fb = first["feedback"]
    assert fb["category"] == "complaint.general" and fb["category_name"] == "一般性投诉"
    assert fb["predicted"] == ["system_outage"] and fb["status"] == "open"
    # durable at the moment of the ack: read the SQLite file directly
    stored = rows(
        service.store.path,
        "SELECT kind, source, user, role, corrected, predicted, call, comment, status FROM feedback_items WHERE id=?",
        fb["feedback_id"],
    )
    assert stored and stored[0][:5] == ("category", "agent", "a1001", "agent", "complaint.general")
    assert '"system_outage"' in str(stored[0][5]) and OUTAGE in str(stored[0][6])
    assert "13800138000" not in str(stored[0][6]) and "138****8000" in str(stored[0][6])

    changed = await agent.call("feedback.category", call_id="c1", category="none")
    assert changed["changed"] is True and changed["feedback"]["feedback_id"] == fb["feedback_id"]
    assert rows(service.store.path, "SELECT count(*), max(corrected) FROM feedback_items") == [(1, "none")]
    assert (await agent.call("feedback.get", call_id="c1"))["category"] == {
        "feedback_id": fb["feedback_id"],
        "category": "none",
        "status": "open",
    }


async def test_feedback_after_the_call_ended_and_in_english(service: Running) -> None:
    agent = await open_client(service, lang="en")
    await outage_call(agent, "c2")
    await agent.call("call.end", call_id="c2", disposition="done")
    reply = await agent.call("feedback.category", call_id="c2", category="none")
    assert reply["success"] and reply["feedback"]["category_name"] == "Ordinary request"
    names = {c["id"]: c["name"] for c in (await agent.call("feedback.get", call_id="c2"))["categories"]}
    assert names["system_outage"] == "System outage"
    # hours later the call is no longer "recently ended"
    service.hub.clock = lambda: time.time() + 5 * 3600
    late = await agent.call("feedback.category", call_id="c2", category="complaint.general")
    assert late["error"]["code"] == "not_found"
    await agent.ws.close()


async def test_warning_feedback_only_for_a_warning_that_was_given(service: Running, agent: Client) -> None:
    index = await outage_call(agent)
    reply = await agent.call("feedback.warning", call_id="c1", index=index, rule="system_blame")
    assert reply["success"] and reply["duplicate"] is False
    fb = reply["feedback"]
    assert (fb["kind"], fb["index"], fb["rule"]) == ("warning", index, "system_blame")
    stored = rows(
        service.store.path,
        "SELECT line_index, rule, line_text, phrase FROM feedback_items WHERE id=?",
        fb["feedback_id"],
    )
    assert stored[0][:3] == (index, "system_blame", BLAME) and stored[0][3]
    again = await agent.call("feedback.warning", call_id="c1", index=index, rule="system_blame")
    assert again["duplicate"] is True and again["feedback"]["feedback_id"] == fb["feedback_id"]
    for index_, rule in ((0, "system_blame"), (index, "no_such_rule"), (99, "system_blame")):
        bad = await agent.call("feedback.warning", call_id="c1", index=index_, rule=rule)
        assert bad["error"]["code"] == "not_found", bad
    got = await agent.call("feedback.get", call_id="c1")
    assert got["warnings"] == [
        {"feedback_id": fb["feedback_id"], "index": index, "rule": "system_blame", "status": "open"}
    ]


async def test_bad_feedback_commands(service: Running, agent: Client) -> None:
    await outage_call(agent)
    cases = [
        ({"type": "feedback.category", "call_id": "c1", "category": "gossip"}, "validation_failed"),
        ({"type": "feedback.category", "call_id": "c1", "category": "system_outage"}, "validation_failed"),
        (
            {"type": "feedback.category", "call_id": "c1", "category": "none", "comment": "长" * 501},
            "validation_failed",
        ),
        ({"type": "feedback.category", "call_id": "c1"}, "invalid_format"),
        ({"type": "feedback.category", "call_id": "nope", "category": "none"}, "not_found"),
        ({"type": "feedback.warning", "call_id": "c1", "index": "1", "rule": "system_blame"}, "invalid_format"),
        ({"type": "feedback.warning", "call_id": "c1", "rule": "system_blame"}, "invalid_format"),
        ({"type": "feedback.get", "call_id": ""}, "invalid_format"),
        ({"type": "feedback.get", "call_id": "nope"}, "not_found"),
    ]
    for fields, code in cases:
        type_ = str(fields.pop("type"))
        reply = await agent.call(type_, **fields)
        assert reply["success"] is False and reply["error"]["code"] == code, (type_, fields, reply)
    assert rows(service.store.path, "SELECT count(*) FROM feedback_items") == [(0,)]


async def test_another_agents_call_and_other_roles(service: Running, agent: Client) -> None:
    await outage_call(agent)
    other = await open_client(service, user="a2002")
    mine = await other.call("feedback.category", call_id="c1", category="none")
    assert mine["error"]["code"] == "not_found"
    leader = await open_client(service, user="s1", role="shift_leader")
    refused = await leader.call("feedback.category", call_id="c1", category="none")
    assert refused["error"]["code"] == "unauthorized"
    trainer = await open_client(service, user="t1", role="trainer")
    assert (await trainer.call("feedback.get", call_id="c1"))["error"]["code"] == "unauthorized"
    for c in (other, leader, trainer):
        await c.ws.close()


async def test_a_decided_correction_cannot_change(service: Running, agent: Client) -> None:
    await outage_call(agent)
    reply = await agent.call("feedback.category", call_id="c1", category="none")
    assert service.feedback is not None
    await service.feedback.reject(reply["feedback"]["feedback_id"], "t1", "客户确实遇到了故障", time.time())
    again = await agent.call("feedback.category", call_id="c1", category="complaint.general")
    assert again["error"]["code"] == "conflict"
    assert (await agent.call("feedback.get", call_id="c1"))["category"]["status"] == "rejected"
