"""The plan's escalation chains as data: for each kind of escalation, who is told and when.

A step fires `offset` seconds after its anchor: the escalation's start (a fault's time of
occurrence), or — for a chain such as the complaint about an agent — the moment the previous
step fired; a chain step also fires at once when the previous one is marked unresolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assist.errors import InvalidFormat
from assist.routing.config import Deadlines

Anchor = Literal["start", "previous"]


@dataclass(frozen=True, slots=True)
class StepPlan:
    name: str
    roles: tuple[str, ...]
    offset: float
    text: str
    anchor: Anchor = "start"


KINDS: dict[str, str] = {
    "fault_report": "座席报告系统故障",
    "fault": "系统故障",
    "complaint.general": "一般性投诉",
    "complaint.urgent": "紧急/恶性投诉",
    "complaint.about_agent": "客户投诉座席员",
    "media.interview": "媒体采访",
    "media.live": "媒体直播",
    "major_incident": "重大恶性事件",
}
"""Escalation kinds and their titles."""

ALIASES: dict[str, str] = {
    "system_outage": "fault_report",
    "outage": "fault_report",
    "fault": "fault_report",
    "complaint": "complaint.general",
    "media": "media.interview",
    "incident": "major_incident",
}
"""What an agent may send as `call.escalate` kind (or a pack category) -> escalation kind."""


def escalation_kind(kind: str) -> str:
    """The escalation kind for an agent's `call.escalate` kind or a pack category."""
    found = ALIASES.get(kind, kind)
    if found not in KINDS or found == "fault":
        choices = sorted({*ALIASES, *KINDS} - {"fault_report"})
        raise InvalidFormat(f"unknown escalation kind {kind!r}; use one of {', '.join(choices)}")
    return found


def fault_plan(level: int, d: Deadlines) -> tuple[StepPlan, ...]:
    """The System Fault Record Form's clock: levels 1/2 and 3/4 have their own deadlines."""
    declared = StepPlan("declared", ("back_office_duty",), 0, "座席管理员已登记系统故障，请后台人员知悉。")
    via: tuple[str, ...]
    if level <= 2:
        first, second, via = d.fault_level12_first, d.fault_level12_second, ("department_leader",)
        second_text = "故障超过{minutes}分钟仍未恢复，请报告部门领导。"
    else:
        first, second, via = d.fault_level34_first, d.fault_level34_second, ("ebanking_dept", "department_leader")
        second_text = "故障超过{minutes}分钟仍未恢复，请电子银行部报告部门领导。"
    return (
        declared,
        StepPlan(
            "first_deadline",
            ("back_office_duty", "center_manager"),
            first,
            "故障超过{minutes}分钟仍未恢复，请后台人员跟进查找原因，并报告中心经理。",
        ),
        StepPlan("second_deadline", via, second, second_text),
    )


UNRESOLVABLE = StepPlan(
    "unresolvable",
    ("center_manager", "department_leader"),
    0,
    "故障无法解决或无法确认，原因与责任人已记录在故障记录表，请中心经理、部门领导知悉。",
)


def plan_for(kind: str, d: Deadlines) -> tuple[StepPlan, ...]:
    """The steps of a non-fault escalation (faults: `fault_plan`)."""
    if kind == "fault_report":
        return (
            StepPlan(
                "report",
                ("seat_admin", "shift_leader"),
                0,
                "座席报告系统故障：请座席管理员联系相关技术人员并填写系统故障记录表；"
                "中心未获通知的故障由班长向信息技术部、总行和其他分行核实。",
            ),
        )
    if kind == "complaint.general":
        return (
            StepPlan(
                "back_office",
                ("back_office_duty",),
                0,
                "一般性投诉，请后台值班人员转相关部门或分行处理，并记录转交对象与时间。",
            ),
        )
    if kind == "complaint.urgent":
        return (
            StepPlan(
                "shift_leader",
                ("shift_leader", "back_office_duty"),
                0,
                "紧急投诉，客户要求立即答复：请班长立即联系应急联系人{emergency}；后台值班人员同时报告中心经理、部门领导。",
            ),
            StepPlan("leaders", ("center_manager", "department_leader"), 0, "紧急/恶性投诉，请知悉。"),
        )
    if kind == "complaint.about_agent":
        return (
            StepPlan("shift_leader", ("shift_leader",), 0, "客户投诉座席员：请班长再次向客户解释。"),
            StepPlan(
                "back_office",
                ("back_office_duty",),
                d.about_agent_back_office,
                "客户投诉座席员，班长处理后客户仍不满意：请后台值班人员协助处理。",
                "previous",
            ),
            StepPlan(
                "center_manager",
                ("center_manager",),
                d.about_agent_center_manager,
                "客户投诉座席员仍未解决：请中心经理协调解决。",
                "previous",
            ),
        )
    if kind in ("media.interview", "media.live"):
        live = "【直播中】" if kind == "media.live" else ""
        return (
            StepPlan(
                "shift_leader",
                ("shift_leader",),
                0,
                f"{live}媒体来电：已记录电话、姓名、媒体名称，请班长联系相关部门。",
            ),
        )
    if kind == "major_incident":
        return (
            StepPlan(
                "report",
                ("shift_leader", "center_manager", "department_leader"),
                0,
                "重大、恶性事件：请立即处理（危及人身安全的同时报警110）。",
            ),
        )
    raise InvalidFormat(f"no plan for escalation kind {kind!r}")
