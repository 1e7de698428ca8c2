"""The escalation state machine: open, fire due steps, ack, note, mark unresolved, resolve.

An escalation freezes its plan when it opens: every step gets an absolute deadline (`due_at`)
that is stored as a row, so a restart loses nothing. `fire_due(now)` fires every step whose
deadline has passed, exactly once (a fired step is never fired again), marking it late when
it fires more than `late_after` past its deadline. Acknowledging stops the reminders to the
person who acknowledged; it never cancels a deadline — only resolving the escalation does.

Every change comes back as `Effects`: rows for the store (the escalation, its steps, the
notifications for the outbox and the audit trail — written in one transaction) and events
for the leaders' consoles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from assist import messages
from assist.effects import Write
from assist.errors import Conflict
from assist.routing.config import RoutingConfig
from assist.routing.directory import Contact, Directory
from assist.routing.plans import KINDS, StepPlan


@dataclass
class Step:
    name: str
    roles: tuple[str, ...]
    text: str
    offset: float
    anchor: str
    due_at: float
    fired_at: float | None = None
    late: bool = False
    cancelled: bool = False
    recipients: tuple[str, ...] = ()
    """Contact ids: who was told (once fired), or for a reminder, whom to remind."""
    reminder_of: str = ""
    reminder_n: int = 0

    @property
    def pending(self) -> bool:
        return self.fired_at is None and not self.cancelled

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "roles": list(self.roles),
            "offset": self.offset,
            "due_at": self.due_at,
            "fired_at": self.fired_at,
            "late": self.late,
            "cancelled": self.cancelled,
            "recipients": list(self.recipients),
            "reminder_of": self.reminder_of or None,
        }

    def row(self, escalation_id: str) -> Write:
        return Write(
            "routing_step",
            {
                "escalation_id": escalation_id,
                "name": self.name,
                "roles": list(self.roles),
                "text": self.text,
                "offset": self.offset,
                "anchor": self.anchor,
                "due_at": self.due_at,
                "fired_at": self.fired_at,
                "late": self.late,
                "cancelled": self.cancelled,
                "recipients": list(self.recipients),
                "reminder_of": self.reminder_of,
                "reminder_n": self.reminder_n,
            },
        )

    @classmethod
    def from_row(cls, r: Mapping[str, Any]) -> Step:
        return cls(
            r["name"],
            tuple(json.loads(r["roles"])),
            r["text"],
            float(r["offset"]),
            r["anchor"],
            float(r["due_at"]),
            r["fired_at"],
            bool(r["late"]),
            bool(r["cancelled"]),
            tuple(json.loads(r["recipients"])),
            r["reminder_of"],
            int(r["reminder_n"]),
        )


@dataclass
class Escalation:
    id: str
    kind: str
    subject: dict[str, Any]
    opened_at: float
    opened_by: str
    steps: list[Step] = field(default_factory=list)
    status: str = "open"
    """open -> resolved; a fault may be `unresolvable` (reported to the top) before it is resolved."""
    acks: dict[str, float] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    resolved_at: float | None = None
    resolved_by: str = ""
    resolution: str = ""
    forwarded_to: str = ""
    fault_id: str = ""

    @property
    def title(self) -> str:
        level = self.subject.get("level")
        base = KINDS.get(self.kind, self.kind)
        return f"{base}（{level}级）" if self.kind == "fault" and level else base

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "escalation_id": self.id,
            "kind": self.kind,
            "title": self.title,
            "status": self.status,
            "subject": self.subject,
            "opened_at": self.opened_at,
            "opened_by": self.opened_by,
            "fault_id": self.fault_id or None,
            "steps": [s.to_json() for s in self.steps],
            "acks": [{"user": u, "at": at} for u, at in self.acks.items()],
            "notes": self.notes,
            "resolved_at": self.resolved_at,
            "resolved_by": self.resolved_by or None,
            "resolution": self.resolution or None,
            "forwarded_to": self.forwarded_to or None,
        }

    def row(self) -> Write:
        return Write(
            "routing_escalation",
            {
                "id": self.id,
                "kind": self.kind,
                "subject": self.subject,
                "opened_at": self.opened_at,
                "opened_by": self.opened_by,
                "status": self.status,
                "acks": self.acks,
                "notes": self.notes,
                "resolved_at": self.resolved_at,
                "resolved_by": self.resolved_by,
                "resolution": self.resolution,
                "forwarded_to": self.forwarded_to,
                "fault_id": self.fault_id,
            },
        )

    @classmethod
    def from_rows(cls, r: Mapping[str, Any], steps: Iterable[Mapping[str, Any]]) -> Escalation:
        return cls(
            r["id"],
            r["kind"],
            json.loads(r["subject"]),
            float(r["opened_at"]),
            r["opened_by"],
            [Step.from_row(s) for s in steps],
            r["status"],
            json.loads(r["acks"]),
            json.loads(r["notes"]),
            r["resolved_at"],
            r["resolved_by"],
            r["resolution"],
            r["forwarded_to"],
            r["fault_id"],
        )


@dataclass
class Effects:
    """What one change does: rows written in one transaction, then events pushed to subscribers."""

    writes: list[Write] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: Effects) -> Effects:
        self.writes.extend(other.writes)
        self.events.extend(other.events)
        return self


def audit(who: str, action: str, subject: str, now: float, /, **detail: Any) -> Write:
    """One line of the append-only audit trail: who did what to which record, when."""
    return Write("routing_audit", {"at": now, "who": who, "action": action, "subject": subject, "detail": detail})


def notification(source: str, step: str, contact: Contact, channel: str, address: str, text: str, now: float) -> Write:
    """An outbox row. Its key (source, step, recipient, channel) makes delivery idempotent."""
    return Write(
        "routing_outbox",
        {
            "key": f"{source}|{step}|{contact.id}|{channel}",
            "source": source,
            "step": step,
            "recipient": contact.id,
            "channel": channel,
            "address": address,
            "text": text,
            "created_at": now,
        },
    )


def local_day(now: float, tz: str) -> date:
    return datetime.fromtimestamp(now, ZoneInfo(tz)).date()


class Escalations:
    """The policy: plans, deadlines and the directory in force. Holds no escalation state itself."""

    def __init__(self, config: RoutingConfig, directory: Directory | None = None) -> None:
        self.config = config
        self.directory = directory if directory is not None else config.directory

    # -- opening ----------------------------------------------------------------------------------

    def open(
        self,
        esc_id: str,
        kind: str,
        plan: Iterable[StepPlan],
        subject: Mapping[str, Any],
        who: str,
        now: float,
        *,
        anchor: float | None = None,
        fault_id: str = "",
    ) -> tuple[Escalation, Effects]:
        """Open an escalation with its plan frozen; steps due now fire in the same transaction."""
        start = now if anchor is None else anchor
        esc = Escalation(esc_id, kind, dict(subject), now, who, fault_id=fault_id)
        for p in plan:
            esc.steps.append(Step(p.name, p.roles, p.text, p.offset, p.anchor, start + p.offset))
        _rechain(esc)
        eff = Effects([audit(who, "open", esc_id, now, kind=kind, subject=dict(subject))])
        eff.events.append(self._event("new", esc, now, who))
        eff.add(self.fire_due(esc, now))
        eff.writes[:0] = [esc.row(), *(s.row(esc.id) for s in esc.steps)]
        return esc, eff

    # -- the clock --------------------------------------------------------------------------------

    def next_due(self, esc: Escalation) -> float | None:
        due = [s.due_at for s in esc.steps if s.pending]
        return min(due) if due and esc.status == "open" else None

    def fire_due(self, esc: Escalation, now: float) -> Effects:
        """Fire every pending step whose deadline has passed, in deadline order, each exactly once."""
        eff = Effects()
        if esc.status != "open":
            return eff
        while True:
            due = sorted((s for s in esc.steps if s.pending and s.due_at <= now), key=lambda s: s.due_at)
            if not due:
                break
            self._fire(esc, due[0], now, eff)
            _rechain(esc)
        if eff.writes:
            eff.writes.append(esc.row())
            eff.writes.extend(s.row(esc.id) for s in esc.steps)
        return eff

    def _fire(self, esc: Escalation, step: Step, now: float, eff: Effects) -> None:
        step.fired_at = now
        # Late means the service missed the moment (it was down); a step that was already due when
        # the escalation was opened (a fault form filed after the fact) fires at once, on time.
        step.late = step.due_at > esc.opened_at and now - step.due_at > self.config.deadlines.late_after
        if step.reminder_of:
            acked = {c.id for u in esc.acks for c in self.directory.by_user(u)}
            contacts = [
                self.directory.contacts[c] for c in step.recipients if c not in acked and c in self.directory.contacts
            ]
            step.recipients = tuple(c.id for c in contacts)
            if not contacts:
                return
        else:
            contacts, missing = self._recipients(step.roles, now)
            step.recipients = tuple(c.id for c in contacts)
            if missing:
                eff.writes.append(audit("system", "unrouted", esc.id, now, step=step.name, roles=missing))
        text = self._text(esc, step, now)
        for contact in contacts:
            for channel, address in contact.addresses():
                eff.writes.append(notification(esc.id, step.name, contact, channel, address, text, now))
        eff.writes.append(
            audit(
                "system",
                "late" if step.late else "fire",
                esc.id,
                now,
                step=step.name,
                due_at=step.due_at,
                recipients=list(step.recipients),
            )
        )
        eff.events.append(self._event("late" if step.late else "step", esc, now, "system", step=step.to_json()))
        d = self.config.deadlines
        if contacts and d.renotify > 0 and step.reminder_n < d.renotify_max:
            base = step.reminder_of or step.name
            n = step.reminder_n + 1
            esc.steps.append(
                Step(
                    f"{base}.r{n}",
                    step.roles,
                    step.text,
                    d.renotify,
                    "start",
                    now + d.renotify,
                    recipients=step.recipients,
                    reminder_of=base,
                    reminder_n=n,
                )
            )

    def _recipients(self, roles: Iterable[str], now: float) -> tuple[list[Contact], list[str]]:
        day = local_day(now, self.config.schedule.timezone)
        out: dict[str, Contact] = {}
        missing: list[str] = []
        for role in roles:
            found = self.directory.on_duty(role, day)
            if not found:
                missing.append(role)
            for c in found:
                out.setdefault(c.id, c)
        return list(out.values()), missing

    def _text(self, esc: Escalation, step: Step, now: float) -> str:
        minutes = round(step.offset / 60) if step.offset >= 60 else round(step.offset / 60, 2)
        emergency = "、".join(
            f"{c.name} {c.channels.get('phone') or c.channels.get('sms', '')}".strip()
            for c in self._recipients(("emergency_contact",), now)[0]
        )
        body = step.text.replace("{minutes}", str(minutes)).replace(
            "{emergency}", f"（{emergency}）" if emergency else ""
        )
        prefix = "（提醒）" if step.reminder_of else ""
        summary = "；".join(
            f"{k}: {v}" for k, v in esc.subject.items() if isinstance(v, (str, int, float)) and k not in ("level",)
        )
        return f"{prefix}【{esc.title}】{esc.id} {body} {summary}".strip()

    # -- people -----------------------------------------------------------------------------------

    def ack(self, esc: Escalation, who: str, now: float) -> Effects:
        """Stop reminding `who`. Deadlines keep running."""
        if who in esc.acks:
            return Effects()
        esc.acks[who] = now
        return Effects([esc.row(), audit(who, "ack", esc.id, now)], [self._event("acked", esc, now, who)])

    def note(self, esc: Escalation, who: str, text: str, now: float) -> Effects:
        esc.notes.append({"by": who, "at": now, "text": text})
        return Effects([esc.row(), audit(who, "note", esc.id, now, text=text)], [self._event("note", esc, now, who)])

    def mark_unresolved(self, esc: Escalation, who: str, now: float) -> Effects:
        """The current holder could not settle it: the next step of the chain fires now."""
        self._require_open(esc)
        nxt = next((s for s in esc.steps if s.pending and not s.reminder_of and s.anchor == "previous"), None)
        if nxt is None:
            raise Conflict(f"escalation {esc.id} has no further step to pass it to")
        nxt.due_at = now  # fired below, before any re-chaining could move it
        eff = Effects(
            [audit(who, "unresolved", esc.id, now, next_step=nxt.name)], [self._event("unresolved", esc, now, who)]
        )
        eff.add(self.fire_due(esc, now))
        eff.writes.append(esc.row())
        eff.writes.extend(s.row(esc.id) for s in esc.steps)
        return eff

    def resolve(
        self,
        esc: Escalation,
        who: str,
        now: float,
        resolution: str = "",
        forwarded_to: str = "",
        status: str = "resolved",
    ) -> Effects:
        """Close it: pending steps (deadlines and reminders) are cancelled."""
        if esc.status == "resolved":
            raise Conflict(f"escalation {esc.id} is already resolved")
        for s in esc.steps:
            if s.pending:
                s.cancelled = True
        esc.status, esc.resolved_at, esc.resolved_by = status, now, who
        esc.resolution, esc.forwarded_to = resolution, forwarded_to
        writes = [
            esc.row(),
            *(s.row(esc.id) for s in esc.steps),
            audit(who, status, esc.id, now, resolution=resolution, forwarded_to=forwarded_to),
        ]
        return Effects(writes, [self._event(status, esc, now, who)])

    def add_step(self, esc: Escalation, plan: StepPlan, who: str, now: float) -> Effects:
        """An extra step decided during the escalation (a fault found unresolvable), fired at once."""
        self._require_open(esc)
        esc.steps.append(Step(plan.name, plan.roles, plan.text, 0, "start", now))
        eff = self.fire_due(esc, now)
        eff.writes.append(audit(who, "add_step", esc.id, now, step=plan.name))
        return eff

    def _require_open(self, esc: Escalation) -> None:
        if esc.status != "open":
            raise Conflict(f"escalation {esc.id} is {esc.status}")

    def _event(self, event: str, esc: Escalation, now: float, who: str, **extra: Any) -> dict[str, Any]:
        return messages.escalation_event(event, now, who, **extra, escalation=esc.to_json())


def _rechain(esc: Escalation) -> None:
    """Chain steps count from the moment the previous step fired (or is due to)."""
    prev: float | None = None
    for s in esc.steps:
        if s.reminder_of:
            continue
        if s.anchor == "previous" and s.pending and prev is not None:
            s.due_at = prev + s.offset
        prev = s.fired_at if s.fired_at is not None else s.due_at
