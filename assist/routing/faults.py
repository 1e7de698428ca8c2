"""The System Fault Record Form (《系统故障情况记录表》): what a fault record holds and how it is checked.

The form is the fault's clock: its deadlines count from `occurred_at`; recovery records the
time and stops the clock; an unresolvable fault records cause and responsible person.
While a fault is open, outage calls are linked to it (the form's count of affected customers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assist.effects import Write
from assist.errors import ValidationFailed

FORM_FIELDS = ("occurred_at", "symptoms", "level", "system", "reported_by")
MAX_BACKDATE = 7 * 24 * 3600.0
"""A fault form may be filed up to a week after the fault began (older is a typo)."""

DEFAULT_TALKING_POINTS = ("系统正在维护，建议您稍后再试。", "您也可以通过我行柜台或自助终端办理。")
"""What agents may say during a declared fault, when the pack offers nothing better."""


@dataclass
class Fault:
    id: str
    occurred_at: float
    symptoms: str
    level: int
    system: str
    reported_by: str
    opened_by: str
    opened_at: float
    escalation_id: str
    status: str = "open"
    """open -> recovered; or open -> unresolvable (reported to the top) -> recovered."""
    recovered_at: float | None = None
    cause: str = ""
    responsible: str = ""
    calls: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Still affecting customers: agents keep the maintenance talking points."""
        return self.status != "recovered"

    def to_json(self) -> dict[str, Any]:
        return {"fault_id": self.id, "occurred_at": self.occurred_at, "symptoms": self.symptoms,
                "level": self.level, "system": self.system, "reported_by": self.reported_by,
                "opened_by": self.opened_by, "opened_at": self.opened_at, "status": self.status,
                "recovered_at": self.recovered_at, "cause": self.cause or None,
                "responsible": self.responsible or None, "escalation_id": self.escalation_id,
                "affected_calls": len(self.calls), "calls": list(self.calls)}

    def row(self) -> Write:
        return Write("routing_fault", {
            "id": self.id, "occurred_at": self.occurred_at, "symptoms": self.symptoms, "level": self.level,
            "system": self.system, "reported_by": self.reported_by, "opened_by": self.opened_by,
            "opened_at": self.opened_at, "escalation_id": self.escalation_id, "status": self.status,
            "recovered_at": self.recovered_at, "cause": self.cause, "responsible": self.responsible})

    @classmethod
    def from_row(cls, r: Mapping[str, Any], calls: list[str]) -> Fault:
        return cls(r["id"], float(r["occurred_at"]), r["symptoms"], int(r["level"]), r["system"], r["reported_by"],
                   r["opened_by"], float(r["opened_at"]), r["escalation_id"], r["status"], r["recovered_at"],
                   r["cause"], r["responsible"], calls)


def link_call(fault: Fault, call_id: str, how: str, now: float) -> list[Write]:
    """Count an outage call against the fault (once)."""
    if call_id in fault.calls:
        return []
    fault.calls.append(call_id)
    return [Write("routing_fault_call", {"fault_id": fault.id, "call_id": call_id, "how": how, "at": now})]


def parse_time(value: Any, tz: str) -> float:
    """Epoch seconds from a number or an ISO 8601 text (local time of the center when it has no offset)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    dt = datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.timestamp()


def check_form(fields: Mapping[str, Any], tz: str, now: float) -> dict[str, Any]:
    """Validate a fault record form; every problem is reported at once."""
    problems: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key in ("symptoms", "system", "reported_by"):
        value = fields.get(key)
        if not isinstance(value, str) or not value.strip():
            problems[key] = "required (text)"
        else:
            out[key] = value.strip()
    level = fields.get("level")
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 4:
        problems["level"] = "the fault level is 1, 2, 3 or 4"
    else:
        out["level"] = level
    try:
        occurred = parse_time(fields.get("occurred_at"), tz)
        if occurred > now + 60:
            problems["occurred_at"] = "is in the future"
        elif occurred < now - MAX_BACKDATE:
            problems["occurred_at"] = "is more than 7 days ago"
        out["occurred_at"] = occurred
    except (TypeError, ValueError):
        problems["occurred_at"] = "epoch seconds or ISO 8601 time (e.g. 2026-11-02T10:05)"
    if problems:
        raise ValidationFailed("the fault record form is incomplete", fields=problems)
    return out

