"""The call desk: pure command handling with `now` passed in."""

from __future__ import annotations

from assist import protocol
from assist.config import DEFAULT_PACK
from assist.live.desk import Desk
from assist.scripts.pack import load_pack_dir
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
