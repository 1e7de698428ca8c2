"""The System Fault Record Form (《系统故障情况记录表》): what a fault record holds and how it is checked.

The form is the fault's clock: its deadlines count from `occurred_at`; recovery records the
time and stops the clock; an unresolvable fault records cause and responsible person.
While a fault is open, the outage calls that match it are linked to it (the form's count of
affected customers): the call names the fault's system (or one of its synonyms in the pack) and
began in the fault's time window, or the agent's own report names the fault. A leader relinks or
unlinks a call; an unlinked call is never linked to that fault again automatically.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assist.effects import Write
from assist.errors import ValidationFailed
from assist.scripts.synonyms import expand_keywords

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
    """The calls counted against the fault (its affected customers)."""
    unlinked: set[str] = field(default_factory=set)
    """Calls a leader unlinked: never linked again automatically."""

    @property
    def active(self) -> bool:
        """Still affecting customers: agents keep the maintenance talking points."""
        return self.status != "recovered"

    def to_json(self) -> dict[str, Any]:
        return {
            "fault_id": self.id,
            "occurred_at": self.occurred_at,
            "symptoms": self.symptoms,
            "level": self.level,
            "system": self.system,
            "reported_by": self.reported_by,
            "opened_by": self.opened_by,
            "opened_at": self.opened_at,
            "status": self.status,
            "recovered_at": self.recovered_at,
            "cause": self.cause or None,
            "responsible": self.responsible or None,
            "escalation_id": self.escalation_id,
            "affected_calls": len(self.calls),
            "calls": list(self.calls),
            "unlinked": sorted(self.unlinked),
        }

    def ends(self) -> float | None:
        return self.recovered_at if self.status == "recovered" else None

    def row(self) -> Write:
        return Write(
            "routing_fault",
            {
                "id": self.id,
                "occurred_at": self.occurred_at,
                "symptoms": self.symptoms,
                "level": self.level,
                "system": self.system,
                "reported_by": self.reported_by,
                "opened_by": self.opened_by,
                "opened_at": self.opened_at,
                "escalation_id": self.escalation_id,
                "status": self.status,
                "recovered_at": self.recovered_at,
                "cause": self.cause,
                "responsible": self.responsible,
            },
        )

    @classmethod
    def from_row(cls, r: Mapping[str, Any], calls: list[str], unlinked: Iterable[str] = ()) -> Fault:
        return cls(
            r["id"],
            float(r["occurred_at"]),
            r["symptoms"],
            int(r["level"]),
            r["system"],
            r["reported_by"],
            r["opened_by"],
            float(r["opened_at"]),
            r["escalation_id"],
            r["status"],
            r["recovered_at"],
            r["cause"],
            r["responsible"],
            calls,
            set(unlinked),
        )


def link_call(fault: Fault, call_id: str, how: str, now: float, by: str = "system") -> list[Write]:
    """Count an outage call against the fault (once). `how`: classified, report, record, escalate, leader."""
    if call_id in fault.calls:
        return []
    fault.calls.append(call_id)
    fault.unlinked.discard(call_id)
    return [Write("routing_fault_call", {"fault_id": fault.id, "call_id": call_id, "how": how, "at": now, "by": by})]


def unlink_call(fault: Fault, call_id: str, who: str, now: float) -> list[Write]:
    """The call no longer counts against the fault, and is remembered as not affected by it."""
    if call_id not in fault.calls:
        return []
    fault.calls.remove(call_id)
    fault.unlinked.add(call_id)
    return [Write("routing_fault_unlink", {"fault_id": fault.id, "call_id": call_id, "by": who, "at": now})]


def _fold(text: str) -> str:
    """Compare names regardless of width, case and spacing (ＡＰＰ = app, "手机 银行" = 手机银行)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())


def system_terms(system: str, groups: Sequence[Sequence[str]]) -> list[str]:
    """The fault's system name and its synonyms (the pack's synonym groups), folded for matching."""
    return [t for t in dict.fromkeys(_fold(x) for x in expand_keywords([system], groups)) if t]


def names_system(text: str, terms: Sequence[str]) -> bool:
    folded = _fold(text)
    return any(t in folded for t in terms)


def in_window(fault: Fault, started_at: float, before: float) -> bool:
    """The call began while the fault could have affected it: not long before its occurrence, not after recovery."""
    end = fault.ends()
    return started_at >= fault.occurred_at - before and (end is None or started_at <= end)


def matching_faults(
    faults: Iterable[Fault], text: str, started_at: float, before: float, groups: Sequence[Sequence[str]]
) -> list[Fault]:
    """The faults a call matches — its text names the fault's system and it began in the fault's window —
    most recently occurred first; faults that a leader unlinked the call from are left out by the caller."""
    found = [
        f for f in faults if in_window(f, started_at, before) and names_system(text, system_terms(f.system, groups))
    ]
    return sorted(found, key=lambda f: -f.occurred_at)


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
