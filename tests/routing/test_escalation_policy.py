"""The plan's routes and deadlines, with an injected clock (no sockets, no sleeps)."""

from __future__ import annotations

import pytest

from assist.errors import Conflict
from assist.routing.escalation import Escalation, Escalations
from assist.routing.plans import UNRESOLVABLE, escalation_kind, fault_plan, plan_for
from tests.routing.policy_fixtures import at, config, rows, told, who

T0 = at("2026-11-02T10:00:00")
MIN = 60.0


def open_fault(
    level: int,
    policy: Escalations | None = None,
    occurred: float = T0,
    now: float = T0,
) -> tuple[Escalations, Escalation, set[str]]:
    policy = policy or Escalations(config())
    esc, eff = policy.open(
        "E-1",
        "fault",
        fault_plan(level, policy.config.deadlines),
        {"system": "手机银行", "level": level},
        "sa1",
        now,
        anchor=occurred,
        fault_id="F-1",
    )
    return policy, esc, who(eff)


def open_kind(
    kind: str, policy: Escalations | None = None, now: float = T0
) -> tuple[Escalations, Escalation, set[str]]:
    policy = policy or Escalations(config())
    esc, eff = policy.open("E-2", kind, plan_for(kind, policy.config.deadlines), {"call_id": "c1"}, "a1", now)
    return policy, esc, who(eff)


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_declared_fault_tells_back_office_at_once_and_nobody_above(level: int) -> None:
    _, _, first = open_fault(level)
    assert first == {"bo"}


@pytest.mark.parametrize("level", [1, 2])
def test_level12_fault_notifies_back_office_and_center_manager_after_30_minutes(level: int) -> None:
    policy, esc, _ = open_fault(level)
    assert who(policy.fire_due(esc, T0 + 29 * MIN)) == set()
    assert who(policy.fire_due(esc, T0 + 30 * MIN)) == {"bo", "cm"}


@pytest.mark.parametrize("level", [1, 2])
def test_level12_fault_notifies_department_leaders_after_60_minutes(level: int) -> None:
    policy, esc, _ = open_fault(level)
    policy.fire_due(esc, T0 + 30 * MIN)
    assert who(policy.fire_due(esc, T0 + 59 * MIN)) == set()
    assert told(policy.fire_due(esc, T0 + 60 * MIN)) == {("dl", "sms")}


@pytest.mark.parametrize("level", [3, 4])
def test_level34_fault_notifies_center_manager_after_15_minutes(level: int) -> None:
    policy, esc, _ = open_fault(level)
    assert who(policy.fire_due(esc, T0 + 14 * MIN)) == set()
    assert who(policy.fire_due(esc, T0 + 15 * MIN)) == {"bo", "cm"}


@pytest.mark.parametrize("level", [3, 4])
def test_level34_fault_notifies_department_leaders_via_ebanking_dept_after_30_minutes(level: int) -> None:
    policy, esc, _ = open_fault(level)
    policy.fire_due(esc, T0 + 15 * MIN)
    eff = policy.fire_due(esc, T0 + 30 * MIN)
    assert told(eff) == {("eb", "webhook"), ("dl", "sms")}
    assert "电子银行部" in rows(eff, "routing_outbox")[0].row["text"]


def test_fault_deadlines_count_from_occurrence_not_from_the_form() -> None:
    _, esc, first = open_fault(3, occurred=T0 - 20 * MIN, now=T0)
    assert first == {"bo", "cm"}, "the 15-minute step is already due when the form is filled in 20 minutes late"
    assert esc.step("second_deadline").due_at == T0 + 10 * MIN


def test_recovery_stops_the_clock() -> None:
    policy, esc, _ = open_fault(1)
    policy.resolve(esc, "sa1", T0 + 10 * MIN, "recovered")
    assert who(policy.fire_due(esc, T0 + 2 * 60 * MIN)) == set()
    assert all(s.cancelled for s in esc.steps if s.fired_at is None)


def test_step_fires_exactly_once_however_often_the_clock_is_checked() -> None:
    policy, esc, _ = open_fault(3)
    assert who(policy.fire_due(esc, T0 + 15 * MIN)) == {"bo", "cm"}
    assert policy.fire_due(esc, T0 + 15 * MIN).writes == []
    assert who(policy.fire_due(esc, T0 + 16 * MIN)) == set()


def test_overdue_step_is_marked_late_and_fires_once() -> None:
    policy, esc, _ = open_fault(3)
    eff = policy.fire_due(esc, T0 + 40 * MIN)  # the service was down from minute 1 to 40
    assert who(eff) == {"bo", "cm", "eb", "dl"}
    assert [e["event"] for e in eff.events] == ["late", "late"]
    assert esc.step("first_deadline").late and esc.step("second_deadline").late
    assert policy.fire_due(esc, T0 + 41 * MIN).writes == []


def test_step_fired_on_time_is_not_late() -> None:
    policy, esc, _ = open_fault(3)
    eff = policy.fire_due(esc, T0 + 15 * MIN + 1)
    assert [e["event"] for e in eff.events] == ["step"]
    assert not esc.step("first_deadline").late


def test_ack_stops_reminders_to_that_person_but_never_the_restoration_deadline() -> None:
    policy = Escalations(config(renotify="5m", renotify_max=3))
    policy, esc, first = open_fault(3, policy)
    assert first == {"bo"}
    policy.ack(esc, "b1", T0 + 1 * MIN)  # back office acknowledges
    assert who(policy.fire_due(esc, T0 + 5 * MIN)) == set(), "no reminder for whoever acknowledged"
    assert who(policy.fire_due(esc, T0 + 15 * MIN)) == {"bo", "cm"}, "the deadline still fires"


def test_unacknowledged_step_is_repeated_up_to_the_limit() -> None:
    policy = Escalations(config(renotify="5m", renotify_max=2))
    _, esc, _ = open_kind("media.interview", policy)
    assert who(policy.fire_due(esc, T0 + 5 * MIN)) == {"sl"}
    assert who(policy.fire_due(esc, T0 + 10 * MIN)) == {"sl"}
    assert who(policy.fire_due(esc, T0 + 60 * MIN)) == set()


def test_unresolvable_fault_reports_to_center_manager_and_department_leaders() -> None:
    policy, esc, _ = open_fault(1)
    eff = policy.add_step(esc, UNRESOLVABLE, "sa1", T0 + 5 * MIN)
    assert who(eff) == {"cm", "dl"}


def test_agent_fault_report_goes_to_seat_admin_and_shift_leader() -> None:
    assert open_kind(escalation_kind("fault"))[2] == {"sa", "sl"}


def test_general_complaint_goes_to_back_office_duty() -> None:
    assert open_kind("complaint.general")[2] == {"bo"}


def test_urgent_complaint_goes_to_shift_leader_and_leaders_at_once_naming_the_emergency_contact() -> None:
    policy = Escalations(config())
    _, eff = policy.open(
        "E-3", "complaint.urgent", plan_for("complaint.urgent", policy.config.deadlines), {"call_id": "c1"}, "a1", T0
    )
    assert who(eff) == {"sl", "bo", "cm", "dl"}
    to_leader = next(w.row["text"] for w in rows(eff, "routing_outbox") if w.row["recipient"] == "sl")
    assert "吴应急" in to_leader and "13800000008" in to_leader


def test_complaint_about_agent_goes_to_shift_leader_first() -> None:
    assert open_kind("complaint.about_agent")[2] == {"sl"}


def test_complaint_about_agent_moves_to_back_office_when_marked_unresolved() -> None:
    policy, esc, _ = open_kind("complaint.about_agent")
    eff = policy.mark_unresolved(esc, "s1", T0 + 3 * MIN)
    assert who(eff) == {"bo"}
    assert not esc.step("back_office").late
    assert who(policy.fire_due(esc, T0 + 30 * MIN)) == set(), "the next step counts from the back-office step"
    assert who(policy.mark_unresolved(esc, "b1", T0 + 10 * MIN)) == {"cm"}
    with pytest.raises(Conflict):
        policy.mark_unresolved(esc, "m1", T0 + 11 * MIN)


def test_complaint_about_agent_moves_on_by_itself_when_its_deadline_passes() -> None:
    policy, esc, _ = open_kind("complaint.about_agent")
    assert who(policy.fire_due(esc, T0 + 29 * MIN)) == set()
    assert who(policy.fire_due(esc, T0 + 30 * MIN)) == {"bo"}
    assert who(policy.fire_due(esc, T0 + 60 * MIN)) == {"cm"}


def test_resolved_complaint_about_agent_goes_no_further() -> None:
    policy, esc, _ = open_kind("complaint.about_agent")
    policy.resolve(esc, "s1", T0 + 5 * MIN, "customer satisfied")
    assert who(policy.fire_due(esc, T0 + 90 * MIN)) == set()
    with pytest.raises(Conflict):
        policy.resolve(esc, "s1", T0 + 6 * MIN)


def test_media_interview_goes_to_shift_leader_at_once() -> None:
    assert open_kind("media.interview")[2] == {"sl"}


def test_live_broadcast_is_flagged_live_to_the_shift_leader() -> None:
    policy = Escalations(config())
    _, eff = policy.open("E-4", "media.live", plan_for("media.live", policy.config.deadlines), {}, "a1", T0)
    assert who(eff) == {"sl"}
    assert all("直播" in w.row["text"] for w in rows(eff, "routing_outbox"))


def test_major_incident_notifies_shift_leader_center_manager_and_department_leaders_at_once() -> None:
    assert open_kind("major_incident")[2] == {"sl", "cm", "dl"}


def test_holiday_roster_routes_to_that_days_shift_leader() -> None:
    _, _, first = open_kind("media.interview", now=at("2026-10-01T11:00:00"))
    assert first == {"sl2"}


def test_notification_key_is_escalation_step_recipient_channel() -> None:
    policy = Escalations(config())
    _, eff = policy.open("E-9", "major_incident", plan_for("major_incident", policy.config.deadlines), {}, "a1", T0)
    keys = {w.row["key"] for w in rows(eff, "routing_outbox")}
    assert "E-9|report|cm|sms" in keys and "E-9|report|cm|console" in keys


def test_every_change_lands_in_the_audit_trail() -> None:
    policy, esc, _ = open_kind("complaint.general")
    actions = [w.row["action"] for w in rows(policy.ack(esc, "b1", T0 + 1), "routing_audit")]
    actions += [w.row["action"] for w in rows(policy.note(esc, "b1", "转至城东支行", T0 + 2), "routing_audit")]
    actions += [w.row["action"] for w in rows(policy.resolve(esc, "b1", T0 + 3, "", "城东支行"), "routing_audit")]
    assert actions == ["ack", "note", "resolved"]
    assert esc.forwarded_to == "城东支行" and esc.resolved_by == "b1" and esc.resolved_at == T0 + 3


def test_a_role_nobody_holds_is_audited_as_unrouted() -> None:
    policy = Escalations(config())
    policy.directory = type(policy.directory)()  # empty directory
    _, eff = policy.open("E-5", "major_incident", plan_for("major_incident", policy.config.deadlines), {}, "a1", T0)
    assert any(w.row["action"] == "unrouted" for w in rows(eff, "routing_audit"))


def test_a_step_already_due_when_a_backdated_form_is_filed_is_not_late() -> None:
    _, esc, _ = open_fault(3, occurred=T0 - 20 * MIN, now=T0)
    first = esc.step("first_deadline")
    assert first.fired_at == T0 and first.late is False, "the service did not miss it: it was due before the form"
