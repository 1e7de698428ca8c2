"""Interim (not final) transcript lines: a revision replaces the line instead of adding one, and warns once."""

from __future__ import annotations

from assist.live.calls import CallState
from tests.conftest import Client


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
