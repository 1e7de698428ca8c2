"""The websocket commands of routing and escalation (documented in docs/protocol.md §6)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from assist.protocol import AGENT_ROLES, Command, CommandSpec

SNAPSHOT_LIMIT = 500
"""Open escalations in a subscription's snapshot, newest first (a bigger backlog is paged with escalation.list)."""
LIST_LIMIT = 200
"""Escalations in one escalation.list reply."""


class EscalationSubscribe(Command):
    limit: int = SNAPSHOT_LIMIT


class EscalationList(Command):
    status: Literal["open", "all"] = "open"
    limit: int = 100
    after: str | None = None
    """The next page: escalations listed after this one (the last reply's last `escalation_id`)."""


class EscalationAck(Command):
    escalation_id: str


class EscalationResolve(Command):
    escalation_id: str
    resolution: str = ""
    forwarded_to: str = ""
    """For a complaint: the department or branch it was forwarded to (who and when are recorded)."""
    category: str = ""
    """The call's right category, when the classifier had it wrong: it becomes a feedback item for trainers."""


class EscalationNote(Command):
    escalation_id: str
    text: str


class EscalationUnresolved(Command):
    escalation_id: str


class FaultOpen(Command):
    occurred_at: float | str
    symptoms: str
    level: int
    system: str
    reported_by: str
    report_id: str = ""
    """The agent's fault report (a `fault_report` escalation) this form answers; it is resolved."""


class FaultRecover(Command):
    fault_id: str
    recovered_at: float | str | None = None
    cause: str = ""
    """What caused the fault (the form's cause); may also be recorded later with `fault.update`."""
    responsible: str = ""
    """Who is responsible for the fault (person or department)."""


class FaultUpdate(Command):
    """Record or correct the cause and responsible person, whatever the fault's status."""

    fault_id: str
    cause: str | None = None
    responsible: str | None = None


class FaultLink(Command):
    """Count a call against this fault (moving it from any other fault it was counted against)."""

    fault_id: str
    call_id: str
    reason: str = ""


class FaultUnlink(Command):
    """This call was not affected by this fault: it stops counting, and is never linked to it automatically."""

    fault_id: str
    call_id: str
    reason: str = ""


class FaultUnresolvable(Command):
    fault_id: str
    cause: str
    responsible: str


class FaultList(Command):
    status: Literal["open", "all"] = "open"


class RecordSubmit(Command):
    call_id: str
    form: str
    fields: dict[str, Any] = msgspec.field(default_factory=dict)
    fault_id: str = ""
    """An outage record: the declared fault the agent says the call is about (from the `assist.notice`)."""


class CallEscalate(Command):
    call_id: str
    kind: str
    reason: str = ""
    fault_id: str = ""
    """An outage report: the declared fault the agent says the call is about (from the `assist.notice`)."""


LEADER_ROLES = frozenset({"shift_leader", "seat_admin", "back_office", "manager", "admin"})
FAULT_ROLES = frozenset({"seat_admin", "shift_leader", "admin"})
FAULT_CAUSE_ROLES = FAULT_ROLES | {"back_office"}
"""Back office follows up a fault past its first deadline and finds its cause (plan §2.2)."""

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("escalation.subscribe", EscalationSubscribe, LEADER_ROLES),
    CommandSpec("escalation.list", EscalationList, LEADER_ROLES),
    CommandSpec("escalation.ack", EscalationAck, LEADER_ROLES),
    CommandSpec("escalation.resolve", EscalationResolve, LEADER_ROLES),
    CommandSpec("escalation.note", EscalationNote, LEADER_ROLES),
    CommandSpec("escalation.unresolved", EscalationUnresolved, LEADER_ROLES),
    CommandSpec("fault.open", FaultOpen, FAULT_ROLES),
    CommandSpec("fault.recover", FaultRecover, FAULT_ROLES),
    CommandSpec("fault.unresolvable", FaultUnresolvable, FAULT_ROLES),
    CommandSpec("fault.update", FaultUpdate, FAULT_CAUSE_ROLES),
    CommandSpec("fault.link", FaultLink, FAULT_ROLES),
    CommandSpec("fault.unlink", FaultUnlink, FAULT_ROLES),
    CommandSpec("fault.list", FaultList, LEADER_ROLES),
    CommandSpec("record.submit", RecordSubmit, AGENT_ROLES),
    CommandSpec("call.escalate", CallEscalate, AGENT_ROLES),
)
"""Each command: its type, struct and the roles allowed; the app adds them to the instance's table."""

PUSH_TYPES = ("escalation.event", "fault.event", "assist.notice")
