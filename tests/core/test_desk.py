"""The call desk: pure command handling with `now` passed in."""

from __future__ import annotations

from typing import Any

from assist import protocol
from assist.config import DEFAULT_PACK
from assist.effects import Outcome
from assist.live.desk import Desk
from assist.scripts.pack import Pack, load_pack_dir
from assist.session import Principal


def test_abandoned_calls_are_ended_after_the_idle_timeout() -> None:
    desk = Desk(load_pack_dir(DEFAULT_PACK), "v1")
    who = Principal("a1", "agent", "zh-CN")
    desk.handle(who, protocol.CallStart(id=1, call_id="old", context={}), now=0.0)
    desk.handle(who, protocol.CallStart(id=2, call_id="busy", context={}), now=0.0)
    desk.handle(who, protocol.CallNote(id=3, call_id="busy", text="客户问利率"), now=3000.0)
    out = desk.expire(now=3600.0, idle_seconds=3600.0)
    assert [w.row["call_id"] for w in out.writes] == ["old"]
    assert out.writes[0].row["disposition"] == "abandoned"
    assert [p.message["type"] for p in out.pushes] == ["call.ended"]
    assert set(desk.calls) == {"busy"}


def _said(
    desk: Desk, who: Principal, n: int, text: str, now: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An agent line: the reply's warnings and the assist.warning pushes it caused."""
    out = desk.handle(who, protocol.CallTranscript(id=n, call_id="c", speaker="agent", text=text), now=now)
    pushes = [p.message for p in out.pushes if p.message["type"] == "assist.warning"]
    return out.reply["warnings"], pushes


def test_every_phrase_of_a_rule_in_one_line_reaches_the_sidebar_in_one_warning(default_pack: Pack) -> None:
    desk, who = Desk(default_pack, "v1"), Principal("a1", "agent", "zh-CN")
    desk.handle(who, protocol.CallStart(id=1, call_id="c", context={}), now=0.0)
    found, pushes = _said(desk, who, 2, "这是我们系统的问题，我们系统坏了", 1.0)
    assert len(pushes) == 1, "one warning for the rule"
    assert [p["phrase"] for p in pushes[0]["phrases"]] == [w["phrase"] for w in found]
    assert len(found) >= 2 and not any(w["held"] for w in found)


def test_a_rule_said_again_is_held_back_within_its_cooldown_and_after_its_maximum(default_pack: Pack) -> None:
    desk, who = Desk(default_pack, "v1"), Principal("a1", "agent", "zh-CN")
    desk.handle(who, protocol.CallStart(id=1, call_id="c", context={}), now=0.0)
    blame = "是我们系统的问题"
    assert len(_said(desk, who, 2, blame, 10.0)[1]) == 1
    found, pushes = _said(desk, who, 3, blame, 20.0)  # the default cooldown is 30 s
    assert pushes == [] and found and all(w["held"] for w in found), "listed in the reply, not pushed"
    assert len(_said(desk, who, 4, blame, 45.0)[1]) == 1
    assert len(_said(desk, who, 5, blame, 80.0)[1]) == 1
    assert _said(desk, who, 6, blame, 200.0)[1] == [], "at most three warnings of a rule a call"
    stored = [
        w
        for w in desk.handle(
            who, protocol.CallTranscript(id=7, call_id="c", speaker="agent", text=blame), now=300.0
        ).writes
        if w.table == "warning"
    ]
    assert stored, "a held warning is still stored"


def test_a_category_draws_the_eye_when_it_first_appears_on_a_call_and_a_pack_change_updates_quietly(
    default_pack: Pack,
) -> None:
    desk, who = Desk(default_pack, "v1"), Principal("a1", "agent", "zh-CN")
    start = desk.handle(who, protocol.CallStart(id=1, call_id="c", context={}), now=0.0)
    assert start.reply["update"]["alert"] is False, "a call of no category draws no attention"

    def updates(out: Outcome) -> list[dict[str, Any]]:
        return [p.message for p in out.pushes if p.message["type"] == "assist.update"]

    outage = "客户说手机银行转账一直提示系统繁忙"
    first = updates(desk.handle(who, protocol.CallNote(id=2, call_id="c", text=outage), now=1.0))
    assert [(u["category"], u["alert"]) for u in first] == [("system_outage", True)]
    more = updates(
        desk.handle(
            who,
            protocol.CallTranscript(id=3, call_id="c", speaker="customer", text="你们再不解决我就去12378投诉你们"),
            now=2.0,
        )
    )
    assert more and "complaint.urgent" in more[-1]["labels"] and more[-1]["alert"] is True, "a new category"
    quiet = updates(desk.use_pack(default_pack, "v2", {}, now=3.0))
    assert quiet and all(u["alert"] is False for u in quiet), "a re-decision under a new pack is no news"
    assert desk.fired["c"]["prompt:system_outage"] == [1.0], "fired once: a later appearance is quiet"
    desk.handle(who, protocol.CallEnd(id=4, call_id="c"), now=4.0)
    assert "c" not in desk.fired, "the history ends with the call"


def test_the_desk_counts_each_agents_live_calls_as_they_come_and_go(default_pack: Pack) -> None:
    """The per-agent cap reads this count on every call.start: it must follow starts, resumes, ends,
    idle expiry, calls let go and calls restored."""
    desk = Desk(default_pack, "v1")
    a1, a2 = Principal("a1", "agent", "zh-CN"), Principal("a2", "agent", "zh-CN")
    for n, call_id in enumerate(["c1", "c2", "c3"]):
        desk.handle(a1, protocol.CallStart(id=n, call_id=call_id, context={}), now=0.0)
    desk.handle(a2, protocol.CallStart(id=9, call_id="d1", context={}), now=0.0)
    desk.handle(a1, protocol.CallStart(id=10, call_id="c1", context={}), now=1.0)  # a resume is no new call
    assert (desk.held_by("a1"), desk.held_by("a2"), desk.held_by("nobody")) == (3, 1, 0)
    desk.handle(a1, protocol.CallEnd(id=11, call_id="c1"), now=2.0)
    desk.handle(a1, protocol.CallNote(id=12, call_id="c2", text="客户问利率"), now=500.0)
    desk.expire(now=700.0, idle_seconds=600.0)  # c3 and d1 idle since 0
    assert (desk.held_by("a1"), desk.held_by("a2")) == (1, 0)
    assert desk.forget("c2") is not None and desk.forget("c2") is None
    assert desk.held_by("a1") == 0
    desk.restore("c2", "a1", {}, [{"kind": "note", "payload": {"text": "客户问利率"}}], now=800.0)
    desk.restore("c2", "a1", {}, [], now=801.0)  # restored twice: still one call
    assert desk.held_by("a1") == 1 and set(desk.calls) == {"c2"}
