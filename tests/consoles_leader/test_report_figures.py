"""Pure: the daily report's figures (`report_figures`) and the text written from them follow the plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from assist.routing.report import DayFacts, report_figures, report_text

TZ = "Asia/Shanghai"
DAY = date(2026, 11, 2)


def at(hour: int, minute: int = 0, day: date = DAY) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(TZ)).timestamp()


def esc(kind: str, opened: float, status: str = "open", deadline_fired: bool = False, **subject: Any) -> dict[str, Any]:
    steps = [{"name": "report", "offset": 0, "fired_at": opened, "late": False}]
    if deadline_fired:
        steps.append({"name": "first_deadline", "offset": 900, "fired_at": opened + 900, "late": False})
    return {
        "escalation_id": f"E-{kind}-{opened}",
        "kind": kind,
        "status": status,
        "opened_at": opened,
        "subject": subject,
        "steps": steps,
    }


def fault(
    system: str,
    level: int,
    occurred: float,
    status: str,
    recovered: float | None = None,
    affected: int = 0,
    cause: str = "",
    responsible: str = "",
) -> dict[str, Any]:
    return {
        "system": system,
        "level": level,
        "occurred_at": occurred,
        "recovered_at": recovered,
        "status": status,
        "affected_calls": affected,
        "cause": cause or None,
        "responsible": responsible or None,
    }


DAY_FACTS = DayFacts(
    DAY,
    calls=[
        (at(9, 5), "system_outage"),
        (at(9, 20), "complaint.urgent"),
        (at(10, 1), "complaint.general"),
        (at(10, 30), "media.live"),
        (at(11, 0), "none"),
        (at(11, 5), "none"),
        (at(14, 0), "major_incident"),
        (at(10, 0, date(2026, 11, 3)), "none"),
    ],
    faults=[
        fault("手机银行", 3, at(9, 0), "recovered", at(9, 40), affected=2),
        fault("网上银行", 2, at(10, 0), "unresolvable", cause="第三方接口中断", responsible="张工"),
        fault("短信平台", 4, at(15, 0), "open"),
    ],
    records=[
        {"form": "complaint.general", "kind": "suggestion", "fields": {}},
        {"form": "complaint.general", "kind": "escalation", "fields": {}},
        {"form": "media.live", "kind": "escalation", "fields": {"outlet": "交通之声"}},
    ],
    escalations=[
        esc("complaint.urgent", at(9, 21)),
        esc("complaint.general", at(10, 2), "resolved"),
        esc("media.live", at(10, 31), outlet="交通之声", host_name="小李"),
        esc("media.interview", at(10, 50), "resolved", outlet="财经日报", journalist_name="刘记者"),
        esc("major_incident", at(14, 1), type="威胁人身安全", place="城东支行"),
        esc("fault", at(10, 0), "unresolvable", deadline_fired=True),
    ],
)


def test_figures_count_complaints_and_media_by_kind_from_escalations_and_settled_complaints() -> None:
    fig = report_figures(DAY_FACTS, TZ, at(16, 0))
    assert fig.complaints == 3 and fig.complaints_by_kind == {"complaint.urgent": 1, "complaint.general": 2}
    assert fig.suggestions == 1
    assert fig.media == 2 and fig.media_by_kind == {"media.live": 1, "media.interview": 1}, "live broadcasts count"
    assert [i["type"] for i in fig.major_incidents] == ["威胁人身安全"]


def test_figures_chart_and_call_counts_come_from_the_same_rows() -> None:
    fig = report_figures(DAY_FACTS, TZ, at(16, 0))
    assert fig.calls == 7, "the call of the next day is left out"
    assert sum(sum(b.values()) for b in fig.hours) == fig.calls == sum(fig.calls_by_category.values())
    assert fig.hours[9] == {"system_outage": 1, "complaint.urgent": 1}
    assert fig.calls_by_category["none"] == 2


def test_escalations_count_settled_within_deadlines_apart_from_open_ones() -> None:
    fig = report_figures(DAY_FACTS, TZ, at(16, 0))
    assert (fig.escalations, fig.escalations_resolved, fig.escalations_open) == (6, 2, 4)
    assert fig.deadlines_met == 2, "only settled escalations can have met their deadlines"
    assert fig.escalations_overdue == 1
    all_open = DayFacts(DAY, escalations=[esc("complaint.urgent", at(9)) for _ in range(4)])
    assert report_figures(all_open, TZ, at(16)).deadlines_met == 0


def test_faults_by_state_with_recovery_times() -> None:
    fig = report_figures(DAY_FACTS, TZ, at(16, 0))
    assert fig.faults_by_state == {"open": 1, "unresolvable": 1, "recovered": 1}
    assert [(f["state"], f["minutes"]) for f in fig.faults] == [("recovered", 40), ("unresolvable", 360), ("open", 60)]


def test_text_follows_the_plan_and_the_figures() -> None:
    text = report_text(report_figures(DAY_FACTS, TZ, at(16, 0)), TZ)
    lines = text.split("\n")
    assert lines[0] == "【每日运营报告】2026-11-02"
    assert lines[1].startswith("来电 7 通（一般咨询 2，")
    assert "系统故障 3 起（已恢复 1 起，未恢复 1 起，无法解决 1 起）" in text
    assert "手机银行 3级故障，09:00发生，09:40恢复，历时40分钟，影响客户2人" in text
    assert "网上银行 2级故障，10:00发生，无法解决/确认（原因：第三方接口中断；责任人：张工），至今未恢复" in text
    assert "短信平台 4级故障，15:00发生，至今未恢复（已持续1小时）" in text
    assert "恢复未恢复" not in text
    assert "投诉 3 起（紧急/恶性投诉 1 起，一般性投诉 2 起；其中当场解决转为建议 1 起）" in text
    assert "媒体来电 2 起（媒体直播 1 起，媒体采访 1 起）：媒体直播 交通之声 小李；媒体采访 财经日报 刘记者" in text
    assert "重大恶性事件 1 起：14:01 威胁人身安全，城东支行（处理中）" in text
    assert "升级事项 6 起：已办结 2 起（其中按时限办结 2 起），未办结 4 起；超过时限 1 起" in text


def test_a_quiet_day_says_none_for_each_part() -> None:
    text = report_text(report_figures(DayFacts(DAY, calls=[]), TZ, at(17)), TZ)
    for part in ("来电 0 通（无）", "系统故障：无", "投诉：无", "媒体来电：无", "重大恶性事件：无", "升级事项 0 起"):
        assert part in text


def test_a_recovery_on_another_day_shows_its_date() -> None:
    late = DayFacts(DAY, faults=[fault("核心系统", 1, at(23, 30), "recovered", at(0, 30, date(2026, 11, 3)))])
    assert "23:30发生，11-03 00:30恢复，历时1小时" in report_text(report_figures(late, TZ, at(23, 59)), TZ)


def test_a_recovered_faults_cause_and_responsible_person_as_far_as_recorded() -> None:
    """Recorded on recovery or after it (fault.update), one may come before the other: the text says which."""

    def text(**blame: str) -> str:
        facts = DayFacts(DAY, faults=[fault("手机银行", 3, at(9, 0), "recovered", at(9, 40), affected=2, **blame)])
        return report_text(report_figures(facts, TZ, at(17)), TZ)

    assert "09:40恢复，历时40分钟，影响客户2人" in text()
    assert "历时40分钟（原因：网关证书过期；责任人：未记录），影响客户2人" in text(cause="网关证书过期")
    assert "历时40分钟（原因：未记录；责任人：李工），影响客户2人" in text(responsible="李工")
    both = text(cause="网关证书过期", responsible="李工")
    assert "历时40分钟（原因：网关证书过期；责任人：李工），影响客户2人" in both
