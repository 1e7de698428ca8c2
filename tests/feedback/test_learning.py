"""Learning from the floor, end to end: an agent's correction becomes a sample that trains the next
published model, and the call it came from is then classified as corrected."""

from __future__ import annotations

import aiohttp
import pytest

from assist.app import Running
from tests.conftest import Client, open_client
from tests.consoles.conftest import as_user

pytestmark = pytest.mark.small_pack  # a draft's lifecycle: the small pack (tests/conftest.py)

TEXT = "你们的积分兑换商城东西比外面贵一倍"
"""A grievance about product terms in words no rule lists and no sample has: the published pack says none."""


async def test_a_correction_accepted_and_published_changes_the_model(
    service: Running, agent: Client, http_session: aiohttp.ClientSession
) -> None:
    await agent.call("call.start", call_id="fb1", context={"queue": "retail"})
    said = await agent.call("call.transcript", call_id="fb1", speaker="customer", text=TEXT)
    assert said["category"] == "none"
    await agent.call("feedback.category", call_id="fb1", category="complaint.general")

    t1 = await as_user(service, http_session, "t1", "trainer")
    t2 = await as_user(service, http_session, "t2", "trainer")
    call = {"context": {"queue": "retail"}, "notes": [], "transcript": [{"speaker": "customer", "text": TEXT}]}
    assert (await t1.call("POST", "/api/pack/try", {"call": call}))["category"] == "none"
    item = (await t1.call("GET", "/api/feedback/items"))["items"][0]
    done = await t1.call("POST", f"/api/feedback/items/{item['id']}/accept", {})
    did = done["draft"]["id"]

    tried = await t1.call("POST", f"/api/pack/drafts/{did}/try", {"call": call})
    assert tried["category"] == "complaint.general" and tried["decided_by"] == "model"
    assert tried["evidence"] and all(e["rule"] == "model" for e in tried["evidence"])

    await t1.call("POST", f"/api/pack/drafts/{did}/submit")
    await t2.call("POST", f"/api/pack/drafts/{did}/approve")
    published = await t2.call("POST", f"/api/pack/drafts/{did}/publish")
    assert published["version"] == 2

    # The next call with the same words is labelled as the agent said, on the live floor.
    other = await open_client(service, user="a1002")
    await other.call("call.start", call_id="fb2", context={"queue": "retail"})
    again = await other.call("call.transcript", call_id="fb2", speaker="customer", text=TEXT)
    assert again["category"] == "complaint.general"
    await other.ws.close()
