"""Lists stay small: a subscription's snapshot and escalation.list are capped and paged (issue 14 item 3)."""

from __future__ import annotations

from tests.routing.test_play_through import Center, people


async def test_escalations_are_paged_newest_first_without_gaps_or_repeats(center: Center) -> None:
    running, _ = center
    p = await people(running)
    agent, leader = p["agent"], p["seat_admin"]
    made = []
    for n in range(7):
        await agent.call("call.start", call_id=f"p{n}", context={})
        reply = await agent.call("call.escalate", call_id=f"p{n}", kind="complaint", reason=f"第{n}位客户要求回电")
        assert reply["success"], reply
        made.append(reply["escalation_id"])

    seen: list[str] = []
    after = None
    while True:
        page = await leader.call("escalation.list", status="open", limit=3, after=after)
        assert len(page["escalations"]) <= 3
        seen += [e["escalation_id"] for e in page["escalations"]]
        if not page["more"]:
            break
        after = page["escalations"][-1]["escalation_id"]
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen)), "every escalation once"

    capped = await leader.call("escalation.list", status="open", limit=10**6)
    assert len(capped["escalations"]) == 7 and capped["more"] is False, "a huge limit is capped, not refused"

    snapshot = await leader.call("escalation.subscribe", limit=2)
    assert [e["escalation_id"] for e in snapshot["escalations"]] == seen[:2] and snapshot["more"] is True
