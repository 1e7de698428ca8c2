"""Pure: calls by category hour by hour, and a daily report sent by hand."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from assist.routing.directory import parse_directory
from assist.routing.report import DayFacts
from assist.server.leader.report import hourly_by_category, manual_report, recipients_of, totals
from assist.server.routing.service import load_routing

TZ = "Asia/Shanghai"
DAY = date(2026, 11, 2)


def at(hour: int, minute: int = 0, day: date = DAY) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(TZ)).timestamp()


def test_calls_fall_in_local_hours_of_the_day() -> None:
    calls = [
        (at(9, 5), "none"),
        (at(9, 59), "system_outage"),
        (at(9, 30), "none"),
        (at(0, 0), "none"),
        (at(23, 59), "media.live"),
        (at(10, 0, date(2026, 11, 3)), "none"),
        (at(23, 0, date(2026, 11, 1)), "none"),
    ]
    hours = hourly_by_category(calls, DAY, TZ)
    assert len(hours) == 24
    assert hours[9] == {"none": 2, "system_outage": 1}
    assert hours[0] == {"none": 1} and hours[23] == {"media.live": 1}
    assert sum(sum(b.values()) for b in hours) == 5, "other days are left out"
    assert totals(hours) == {"none": 3, "media.live": 1, "system_outage": 1}


def test_utc_midnight_is_eight_in_the_morning_in_shanghai() -> None:
    utc_midnight = datetime(2026, 11, 2, 0, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert hourly_by_category([(utc_midnight, "none")], DAY, TZ)[8] == {"none": 1}


def test_a_report_sent_by_hand_goes_to_the_leaders_once_a_minute() -> None:
    config = load_routing(None)
    directory = parse_directory(
        {
            "contacts": [
                {"id": "cm", "name": "孙经理", "roles": ["center_manager"], "console": "m1", "sms": "13800000004"},
                {"id": "dl", "name": "李部长", "roles": ["department_leader"], "console": "d1"},
                {"id": "sl", "name": "王班长", "roles": ["shift_leader"], "console": "s1"},
            ]
        }
    )
    facts = DayFacts(DAY, {"none": 3})
    eff = manual_report(config, directory, facts, "s1", at(16, 30))
    outbox = [w.row for w in eff.writes if w.table == "routing_outbox"]
    assert sorted(r["key"] for r in outbox) == [
        "report:2026-11-02|manual@16:30|cm|console",
        "report:2026-11-02|manual@16:30|cm|sms",
        "report:2026-11-02|manual@16:30|dl|console",
    ]
    assert recipients_of(eff) == ["dl", "cm"]
    assert all("来电 3 通" in r["text"] for r in outbox)
    audit = [w.row for w in eff.writes if w.table == "routing_audit"]
    assert audit[0]["who"] == "s1" and audit[0]["action"] == "daily_report" and audit[0]["detail"]["manual"] is True
    assert eff.events == [
        {"type": "escalation.event", "event": "report", "at": at(16, 30), "by": "s1", "text": outbox[0]["text"]}
    ]
    later = manual_report(config, directory, facts, "s1", at(16, 31))
    assert {w.row["key"] for w in later.writes if w.table == "routing_outbox"}.isdisjoint(r["key"] for r in outbox)
