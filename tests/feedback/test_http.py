"""The trainers' feedback queue over HTTP: accept into a draft through PackService, reject, the chart's figures,
and every bad input (real server, real SQLite, aiohttp client)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from assist.app import Running
from tests.conftest import Client, Http
from tests.consoles.conftest import as_user
from tests.feedback.test_commands import outage_call

pytestmark = pytest.mark.small_pack  # accepted items edit a draft, which holds every sample: the small pack


async def items_for(agent: Client) -> tuple[str, str]:
    """A category correction and a wrong-warning report on one outage call."""
    index = await outage_call(agent)
    cat = await agent.call("feedback.category", call_id="c1", category="complaint.general", comment="客户说要投诉")
    warn = await agent.call("feedback.warning", call_id="c1", index=index, rule="system_blame")
    return cat["feedback"]["feedback_id"], warn["feedback"]["feedback_id"]


def samples(draft: dict[str, object], name: str = "samples.jsonl") -> list[dict[str, object]]:
    files = draft["files"]
    assert isinstance(files, dict)
    return [json.loads(line) for line in files[name].splitlines() if line.strip()]


async def test_accept_appends_samples_to_the_trainers_draft(
    service: Running, agent: Client, http_session: aiohttp.ClientSession
) -> None:
    cat_id, warn_id = await items_for(agent)
    t1 = await as_user(service, http_session, "t1", "trainer")

    queue = await t1.call("GET", "/api/feedback/items")
    assert queue["open"] == 2 and [i["id"] for i in queue["items"]] == [cat_id, warn_id]
    item = await t1.call("GET", f"/api/feedback/items/{cat_id}")
    assert (item["predicted"], item["corrected"], item["user"], item["status"]) == (
        ["system_outage"],
        "complaint.general",
        "a1001",
        "open",
    )
    assert item["call"]["transcript"][0] == {"speaker": "customer", "text": "手机银行转账一直提示系统繁忙"}
    assert item["call"]["context"]["caller_number"] == "138****8000"

    # no draft yet: accepting makes one from the published pack; the trainer edits the label on the way
    done = await t1.call(
        "POST",
        f"/api/feedback/items/{cat_id}/accept",
        {"labels": ["system_outage", "complaint.general"], "note": "两者都有"},
    )
    draft_id = done["draft"]["id"]
    assert done["item"]["status"] == "accepted" and done["item"]["decided_by"] == "t1"
    assert done["item"]["labels"] == ["system_outage", "complaint.general"] and done["file"] == "samples.jsonl"
    draft = await t1.call("GET", f"/api/pack/drafts/{draft_id}")
    added = [s for s in samples(draft) if s["id"] == cat_id]
    assert len(added) == 1 and added[0]["labels"] == ["system_outage", "complaint.general"]
    assert set(added[0]) == {"id", "context", "notes", "transcript", "labels", "why"}
    assert draft["problems"] == []

    # the warning goes to the same (the trainer's open) draft, as a labelled agent line the line model learns
    warned = await t1.call("POST", f"/api/feedback/items/{warn_id}/accept", {})
    assert warned["draft"]["id"] == draft_id and warned["file"] == "agent_lines.jsonl"
    draft = await t1.call("GET", f"/api/pack/drafts/{draft_id}")
    line = next(s for s in samples(draft, "agent_lines.jsonl") if s["id"] == warn_id)
    assert {k: line[k] for k in ("kind", "text", "forbidden", "rule")} == {
        "kind": "agent_line",
        "text": "不好意思，这是我们系统的问题，我们系统坏了",
        "forbidden": False,
        "rule": "system_blame",
    }
    assert draft["problems"] == []
    audit = await t1.call("GET", f"/api/pack/audit?draft={draft_id}")
    assert {a["action"] for a in audit["audit"]} >= {"draft.create", "draft.edit"}

    assert (await t1.call("GET", "/api/feedback/items"))["open"] == 0
    accepted = await t1.call("GET", "/api/feedback/items?status=accepted")
    assert {i["id"] for i in accepted["items"]} == {cat_id, warn_id}


async def test_accept_into_a_chosen_draft_and_reject_with_a_reason(
    service: Running, agent: Client, http_session: aiohttp.ClientSession
) -> None:
    cat_id, warn_id = await items_for(agent)
    t1 = await as_user(service, http_session, "t1", "trainer")
    t2 = await as_user(service, http_session, "t2", "trainer")
    mine = await t2.call("POST", "/api/pack/drafts", {}, expect=201)
    done = await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", {"draft_id": mine["id"]})
    assert done["draft"]["id"] == mine["id"] and done["item"]["labels"] == ["complaint.general"]

    rejected = await t1.call("POST", f"/api/feedback/items/{warn_id}/reject", {"reason": "这句确实是禁语"})
    assert rejected["item"]["status"] == "rejected" and rejected["item"]["reason"] == "这句确实是禁语"
    assert (await t1.call("GET", "/api/feedback/items?status=rejected"))["items"][0]["id"] == warn_id


async def test_bad_input_gets_structured_errors(
    service: Running, agent: Client, http_session: aiohttp.ClientSession
) -> None:
    cat_id, warn_id = await items_for(agent)
    base = f"http://127.0.0.1:{service.http_port}"
    t1 = await as_user(service, http_session, "t1", "trainer")

    def code(expect: int, body: dict[str, object], c: str) -> None:
        assert body["error"]["code"] == c, (expect, body)  # type: ignore[index]

    code(401, await Http(http_session, base, None).call("GET", "/api/feedback/items", expect=401), "auth_required")
    code(401, await Http(http_session, base, "nope").call("GET", "/api/feedback/items", expect=401), "auth_required")
    for role in ("agent", "shift_leader"):
        other = await as_user(service, http_session, f"x-{role}", role)
        code(403, await other.call("GET", "/api/feedback/items", expect=403), "unauthorized")
        code(403, await other.call("POST", f"/api/feedback/items/{cat_id}/accept", {}, expect=403), "unauthorized")
    code(404, await t1.call("GET", "/api/feedback/items/fb-nope", expect=404), "not_found")
    code(404, await t1.call("POST", "/api/feedback/items/fb-nope/accept", {}, expect=404), "not_found")
    code(400, await t1.call("GET", "/api/feedback/items?status=maybe", expect=400), "invalid_format")
    code(400, await t1.call("GET", "/api/feedback/items?limit=0", expect=400), "invalid_format")
    code(400, await t1.call("GET", "/api/feedback/agreement?days=x", expect=400), "invalid_format")
    async with http_session.post(
        f"{base}/api/feedback/items/{cat_id}/accept",
        data="{not json",
        headers={"Authorization": f"Bearer {t1.token}", "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_json"
    code(400, await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", [1], expect=400), "invalid_format")
    code(
        400,
        await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", {"labels": "none"}, expect=400),
        "invalid_format",
    )
    code(
        400,
        await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", {"labels": ["gossip"]}, expect=400),
        "validation_failed",
    )
    code(
        400,
        await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", {"draft_id": "1"}, expect=400),
        "invalid_format",
    )
    code(404, await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", {"draft_id": 99}, expect=404), "not_found")
    gone = await t1.call("POST", "/api/pack/drafts", {}, expect=201)
    await t1.call("POST", f"/api/pack/drafts/{gone['id']}/discard")
    code(
        409,
        await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", {"draft_id": gone["id"]}, expect=409),
        "conflict",
    )
    code(400, await t1.call("POST", f"/api/feedback/items/{warn_id}/reject", {}, expect=400), "validation_failed")
    code(
        400, await t1.call("POST", f"/api/feedback/items/{warn_id}/reject", {"reason": 3}, expect=400), "invalid_format"
    )
    assert (await t1.call("GET", "/api/feedback/items"))["open"] == 2  # nothing was decided by the bad requests

    await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", {})
    twice = await t1.call("POST", f"/api/feedback/items/{cat_id}/accept", {}, expect=409)
    code(409, twice, "conflict")
    assert twice["error"]["details"]["feedback"]["status"] == "accepted"
    code(409, await t1.call("POST", f"/api/feedback/items/{cat_id}/reject", {"reason": "x"}, expect=409), "conflict")
    # the draft got the sample once
    drafts = (await t1.call("GET", "/api/pack/drafts"))["drafts"]
    draft = await t1.call("GET", f"/api/pack/drafts/{drafts[0]['id']}")
    assert sum(1 for s in samples(draft) if s["id"] == cat_id) == 1


async def test_agreement_per_category_and_day(
    service: Running, agent: Client, http_session: aiohttp.ClientSession
) -> None:
    await items_for(agent)  # c1: an outage, corrected
    await agent.call("call.start", call_id="c2", context={})
    await agent.call("call.transcript", call_id="c2", speaker="customer", text="手机银行一直提示系统繁忙")
    await agent.call("call.end", call_id="c2", disposition="ok")
    await agent.call("call.start", call_id="c3", context={})
    await agent.call("call.transcript", call_id="c3", speaker="customer", text="信用卡账单日是哪天")
    t1 = await as_user(service, http_session, "t1", "trainer")
    out = await t1.call("GET", "/api/feedback/agreement?days=7")
    assert len(out["days"]) == 7 and out["timezone"] == "Asia/Shanghai"
    today = out["days"][-1]
    cells = {c["category"]: c for c in out["cells"] if c["day"] == today}
    assert cells["system_outage"] == {
        "day": today,
        "category": "system_outage",
        "calls": 2,
        "corrections": 1,
        "agreement": 0.5,
    }
    assert cells["none"]["agreement"] == 1.0
    assert out["categories"][0] == "major_incident"
    # a rejected correction means the pack was right
    queue = await t1.call("GET", "/api/feedback/items?kind=category")
    await t1.call("POST", f"/api/feedback/items/{queue['items'][0]['id']}/reject", {"reason": "分类正确"})
    again = await t1.call("GET", "/api/feedback/agreement?days=7")
    assert next(c for c in again["cells"] if c["category"] == "system_outage")["corrections"] == 0
