"""The routing file, the directory, agents' records and the daily report/patrol — pure."""

from __future__ import annotations

from datetime import date

import pytest

from assist.errors import ValidationFailed
from assist.routing.config import RoutingConfig, duration, parse_routing
from assist.routing.directory import parse_directory
from assist.routing.faults import check_form
from assist.routing.records import check_record, settled_on_call
from assist.routing.report import DayFacts, daily_report, deadlines_met, next_daily, patrol
from assist.scripts.pack import Pack
from assist.server.routing.notifiers import retry_delay, sign
from tests.routing.policy_fixtures import CENTER, at, config, told


def test_without_a_routing_file_the_plans_deadlines_apply() -> None:
    d = RoutingConfig().deadlines
    assert (d.fault_level12_first, d.fault_level12_second) == (1800, 3600)
    assert (d.fault_level34_first, d.fault_level34_second) == (900, 1800)
    assert RoutingConfig().schedule.daily_report_at == "17:00"
    assert RoutingConfig().schedule.patrol_every == 1800


def test_deadlines_come_from_the_routing_file_in_any_unit() -> None:
    cfg = parse_routing(
        {
            "deadlines": {"fault_level34_first": "2s", "fault_level34_second": 4},
            "schedule": {"patrol_every": "10m", "daily_report_at": "16:30"},
        }
    )
    assert (cfg.deadlines.fault_level34_first, cfg.deadlines.fault_level34_second) == (2.0, 4.0)
    assert cfg.schedule.patrol_every == 600 and cfg.schedule.daily_report_at == "16:30"
    assert duration("1h") == 3600 and duration("500ms") == 0.5


def test_a_bad_routing_file_lists_every_problem() -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_routing(
            {
                "deadlines": {"fault_level12_first": "soon", "typo": 1},
                "schedule": {"daily_report_at": "5pm"},
                "contacts": [{"id": "x", "roles": ["boss"]}],
            }
        )
    assert set(err.value.details["fields"]) >= {
        "deadlines.fault_level12_first",
        "deadlines.typo",
        "schedule.daily_report_at",
        "contacts[0].roles",
    }


def test_a_bad_directory_lists_every_problem() -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_directory(
            {
                "contacts": [{"id": "a", "roles": ["shift_leader"], "notify": ["sms"]}, {"name": "no id"}],
                "roster": {"monday": {"shift_leader": ["nobody"]}},
                "hotlines": [{"name": "x"}],
            }
        )
    assert set(err.value.details["fields"]) == {
        "contacts[0].notify",
        "contacts[1].id",
        "roster.monday",
        "roster.monday.shift_leader",
        "hotlines[0]",
    }


def test_roster_day_overrides_the_default_and_other_roles_are_everyone_holding_them() -> None:
    d = config().directory
    assert [c.id for c in d.on_duty("shift_leader", date(2026, 11, 2))] == ["sl"]
    assert [c.id for c in d.on_duty("shift_leader", date(2026, 10, 1))] == ["sl2"]
    assert [c.id for c in d.on_duty("center_manager", date(2026, 10, 1))] == ["cm"]
    assert d.is_holiday(date(2026, 10, 1)) and not d.is_holiday(date(2026, 10, 8))


def test_directory_round_trips_through_json() -> None:
    d = config().directory
    assert parse_directory(d.to_json()) == d


def test_internal_numbers_of_the_directory_are_forbidden_to_read_out(default_pack: Pack) -> None:
    numbers = config().directory.secret_numbers()
    assert "021-6888 7777" in numbers and "0571-8709 9999" in numbers, "internal list and IT support's phone"
    checker = default_pack.forbidden.with_internal_numbers(numbers)
    hits = checker.check("您可以直接打信息技术部的电话 0571 87099999 问一下")
    assert any(h.rule for h in hits)


def test_record_is_checked_against_the_packs_checklist_field_by_field(default_pack: Pack) -> None:
    checklist = default_pack.scripts["complaint.general"].checklist
    with pytest.raises(ValidationFailed) as err:
        check_record(checklist, {"customer_name": "张三", "phone": "abc", "settled_on_call": "maybe", "x": 1})
    assert set(err.value.details["fields"]) == {"phone", "settled_on_call", "complaint", "demand", "x"}
    ok = check_record(
        checklist,
        {
            "customer_name": "张三",
            "phone": "138 0000 1234",
            "complaint": "排队太久",
            "demand": "道歉",
            "settled_on_call": "no",
        },
    )
    assert ok["phone"] == "13800001234"


def test_complaint_settled_on_the_call_becomes_a_suggestion() -> None:
    assert settled_on_call("complaint.general", {"settled_on_call": "yes"})
    assert not settled_on_call("complaint.general", {"settled_on_call": "no"})
    assert not settled_on_call("media.interview", {"settled_on_call": "yes"})


def test_fault_form_needs_time_symptoms_level_system_and_reporter() -> None:
    now = at("2026-11-02T10:00:00")
    with pytest.raises(ValidationFailed) as err:
        check_form({"occurred_at": "yesterday-ish", "level": 5, "symptoms": ""}, "Asia/Shanghai", now)
    assert set(err.value.details["fields"]) == {"occurred_at", "level", "symptoms", "system", "reported_by"}
    form = check_form(
        {
            "occurred_at": "2026-11-02T09:50",
            "level": 3,
            "symptoms": "转账失败",
            "system": "手机银行",
            "reported_by": "a1001",
        },
        "Asia/Shanghai",
        now,
    )
    assert form["occurred_at"] == now - 600


def test_daily_report_is_due_at_17_local_time() -> None:
    assert next_daily(at("2026-11-02T09:00:00"), "17:00", "Asia/Shanghai") == at("2026-11-02T17:00:00")
    assert next_daily(at("2026-11-02T17:00:00"), "17:00", "Asia/Shanghai") == at("2026-11-03T17:00:00")


def test_daily_report_goes_to_department_leaders_and_center_manager_with_the_days_facts() -> None:
    cfg = config()
    esc_ok = {
        "kind": "media.interview",
        "status": "resolved",
        "opened_at": 0,
        "subject": {"outlet": "都市快报", "journalist_name": "陈记者"},
        "steps": [{"name": "report", "offset": 0, "fired_at": 1, "late": False}],
    }
    esc_missed = {
        "kind": "fault",
        "status": "open",
        "opened_at": 0,
        "subject": {},
        "steps": [{"name": "first_deadline", "offset": 900, "fired_at": 900, "late": False}],
    }
    facts = DayFacts(
        date(2026, 11, 2),
        {"system_outage": 12, "complaint.general": 3},
        [
            {
                "system": "手机银行",
                "level": 3,
                "occurred_at": at("2026-11-02T10:00:00"),
                "recovered_at": at("2026-11-02T10:20:00"),
                "affected_calls": 12,
            }
        ],
        [
            {"form": "complaint.general", "kind": "suggestion", "fields": {}},
            {
                "form": "media.interview",
                "kind": "escalation",
                "fields": {"outlet": "都市快报", "journalist_name": "陈记者"},
            },
        ],
        [esc_ok, esc_missed],
    )
    eff = daily_report(cfg, cfg.directory, facts, at("2026-11-02T17:00:00"))
    assert {r for r, _ in told(eff)} == {"dl", "cm"}
    text = eff.writes[0].row["text"]
    for part in (
        "来电 15 通（系统故障 12，一般性投诉 3）",
        "手机银行 3级故障，10:00发生，10:20恢复，历时20分钟",
        "影响客户12人",
        "投诉 1 起",
        "都市快报",
        "升级事项 2 起：已办结 1 起（其中按时限办结 1 起），未办结 1 起；超过时限 1 起",
    ):
        assert part in text
    assert deadlines_met(esc_ok) and not deadlines_met(esc_missed)


def test_patrol_reminder_goes_to_the_acting_shift_leader_only_on_holiday_duty() -> None:
    cfg = config()
    holiday, workday = at("2026-10-01T20:30:00"), at("2026-11-02T20:30:00")
    assert told(patrol(cfg, cfg.directory, holiday, holiday)) == {("act", "console")}
    assert told(patrol(cfg, cfg.directory, workday, workday)) == set()


def test_retry_backoff_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, 2, 10) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


def test_webhook_signature_is_hmac_sha256_of_the_body() -> None:
    assert sign("k", b"{}") == "sha256=" + __import__("hmac").new(b"k", b"{}", "sha256").hexdigest()
    assert CENTER["contacts"]
