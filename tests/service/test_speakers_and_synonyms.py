"""Issue 15 item 8 over the real websocket: a synonym group in the pack makes a rule keyword match the other
word (the evidence shows the word said), a supervisor and a third party may speak on a call (a rule can listen
to them alone), only the agent's lines are checked for forbidden phrases, and an unknown speaker is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from assist.app import Running
from assist.config import DEFAULT_PACK, Settings
from assist.scripts.pack import read_pack_dir
from assist.scripts.pack_edit import Edit, apply_edits
from tests.conftest import Client, open_client, start_shared

SUPERVISOR_RULE = {"id": "supervisor_says", "any": ["系统停摆"], "in": ["supervisor"]}


@pytest_asyncio.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """The default pack plus one synonym group (宕机 = 趴窝) and one rule that listens to the supervisor only."""
    root = tmp_path_factory.mktemp("speakers")
    files = read_pack_dir(DEFAULT_PACK)
    files["synonyms.txt"] += "宕机 = 趴窝\n"
    files = apply_edits(
        files, [Edit("rules.yaml", ("categories", "system_outage", "rules"), "append", SUPERVISOR_RULE)]
    )
    pack = root / "pack"
    pack.mkdir()
    for name, text in files.items():
        (pack / name).write_text(text, encoding="utf-8")
    service = await start_shared(Settings(host="127.0.0.1", ws_port=0, http_port=0, db=root / "assist.db", pack=pack))
    try:
        yield service
    finally:
        await service.close()


@pytest_asyncio.fixture
async def agent(running: Running) -> AsyncIterator[Client]:
    client = await open_client(running)
    try:
        yield client
    finally:
        await client.ws.close()


def rule_evidence(update: dict[str, Any]) -> list[tuple[str, tuple[str, ...], str]]:
    return [(e["rule"], tuple(e["words"]), e["source"]) for e in update["evidence"] if e["rule"] != "model"]


async def test_a_keyword_matches_its_synonym_and_the_evidence_shows_the_word_said(agent: Client) -> None:
    await agent.call("call.start", call_id="syn-1", context={})
    agent.pushes.clear()
    reply = await agent.call(
        "call.transcript", call_id="syn-1", speaker="customer", text="你们的网上银行趴窝了，转账一直失败"
    )
    assert reply["category"] == "system_outage"
    update = await agent.push("assist.update", call_id="syn-1")
    assert ("system_outage/app_broken", ("趴窝",), "customer") in rule_evidence(update)


async def test_a_rule_scoped_to_the_supervisor_hears_the_supervisor_only(agent: Client) -> None:
    await agent.call("call.start", call_id="sup-1", context={})
    await agent.call("call.transcript", call_id="sup-1", speaker="customer", text="听说系统停摆")
    await agent.call("call.transcript", call_id="sup-1", speaker="third_party", text="对，系统停摆")
    got = (await agent.call("call.get", call_id="sup-1"))["update"]
    assert "system_outage/supervisor_says" not in [r for r, _, _ in rule_evidence(got)]

    reply = await agent.call("call.transcript", call_id="sup-1", speaker="supervisor", text="我是值班主管，系统停摆了")
    assert reply["index"] == 2 and "system_outage" in reply["labels"]
    got = (await agent.call("call.get", call_id="sup-1"))["update"]
    assert ("system_outage/supervisor_says", ("系统停摆",), "supervisor") in rule_evidence(got)
    await agent.call("call.end", call_id="sup-1", disposition="done")


async def test_only_the_agents_lines_are_checked_for_forbidden_phrases(agent: Client) -> None:
    await agent.call("call.start", call_id="fb-1", context={})
    blame = "这是我们系统的问题，我们系统坏了"
    for speaker in ("supervisor", "third_party", "customer"):
        reply = await agent.call("call.transcript", call_id="fb-1", speaker=speaker, text=blame)
        assert reply["warnings"] == [], speaker
    assert [p for p in agent.pushes if p["type"] == "assist.warning"] == []
    reply = await agent.call("call.transcript", call_id="fb-1", speaker="agent", text=blame)
    assert [w["rule"] for w in reply["warnings"]][:1] == ["system_blame"]
    warning = await agent.push("assist.warning", call_id="fb-1")
    assert warning["index"] == 3


async def test_an_unknown_speaker_is_refused_and_nothing_is_recorded(agent: Client) -> None:
    await agent.call("call.start", call_id="bad-1", context={})
    await agent.call("call.transcript", call_id="bad-1", speaker="supervisor", text="我是主管")
    refused = await agent.call("call.transcript", call_id="bad-1", speaker="boss", text="我是老板")
    assert refused["success"] is False and refused["error"]["code"] == "invalid_format"
    assert "speaker" in refused["error"]["message"]
    after = await agent.call("call.transcript", call_id="bad-1", speaker="third_party", text="我是翻译")
    assert after["index"] == 1, "the refused line took no place in the transcript"
