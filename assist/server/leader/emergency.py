"""The shift leader contacts the emergency contact of an urgent complaint (plan §3.2.2), in one click.

Pure: given the escalation, the directory and `now`, it returns the outbox rows (every delivery channel of
each emergency contact on duty), a note on the escalation saying who was told how (the card shows it), an
audit line and the console event. A contact with no delivery channel (a phone only) is recorded as phoned.
The outbox key is per minute, so a double click tells nobody twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assist.errors import Conflict, ValidationFailed
from assist.routing.directory import Contact, Directory
from assist.routing.escalation import Effects, Escalation, audit, local_day, notification

ROLE = "emergency_contact"
KINDS = ("complaint.urgent",)
"""Escalations whose card offers the emergency contact (the plan names it for urgent or malignant complaints)."""
ACTION = "emergency_contact"
CHANNEL_NAMES: Mapping[str, str] = {
    "console": "值班台",
    "sms": "短信",
    "webhook": "即时通讯",
    "email": "邮件",
    "phone": "电话",
}


def number_of(contact: Contact) -> str:
    """The number a person dials to reach the contact."""
    return contact.channels.get("phone") or contact.channels.get("sms") or ""


def on_duty(directory: Directory, now: float, tz: str) -> list[Contact]:
    return directory.on_duty(ROLE, local_day(now, tz))


def contacts_json(directory: Directory, now: float, tz: str) -> list[dict[str, Any]]:
    """What the console shows for each emergency contact on duty: name, number, delivery channels."""
    return [
        {"id": c.id, "name": c.name, "number": number_of(c), "channels": [ch for ch, _ in c.addresses()]}
        for c in on_duty(directory, now, tz)
    ]


def _summary(esc: Escalation) -> str:
    s = esc.subject
    return "；".join(
        f"{label}：{s[k]}"
        for k, label in (
            ("customer_name", "客户"),
            ("phone", "联系电话"),
            ("complaint", "投诉内容"),
            ("demand", "诉求"),
            ("urgency", "紧急原因"),
        )
        if s.get(k)
    )


def notify_emergency(
    esc: Escalation, contacts: Sequence[Contact], who: str, leader_name: str, now: float, tz: str
) -> Effects:
    """Tell every contact through its channels; record it on the escalation (note + audit) and push the change."""
    if esc.kind not in KINDS:
        raise Conflict(f"escalation {esc.id} is a {esc.kind}: the emergency contact is for urgent complaints")
    if esc.status != "open":
        raise Conflict(f"escalation {esc.id} is {esc.status}")
    if not contacts:
        raise ValidationFailed(
            "the contact directory has no emergency contact (role emergency_contact); "
            "see docs/routing.md, The routing file",
            fields={"contact": "none on duty"},
        )
    minute = datetime.fromtimestamp(now, ZoneInfo(tz)).strftime("%H:%M")
    step = f"emergency@{minute}"
    if any(n.get("action") == ACTION and n.get("step") == step for n in esc.notes):
        return Effects()
    text = (
        f"【紧急/恶性投诉】{esc.id} 班长{leader_name}请您作为应急联系人立即协助处理，客户要求立即答复。{_summary(esc)}"
    ).strip()
    writes = []
    told: list[dict[str, Any]] = []
    for c in contacts:
        channels = c.addresses()
        writes += [notification(esc.id, step, c, ch, addr, text, now) for ch, addr in channels]
        told.append(
            {"id": c.id, "name": c.name, "number": number_of(c), "channels": [ch for ch, _ in channels] or ["phone"]}
        )
    said = "；".join(
        f"{t['name']}（{t['number'] or '无号码'}）经" + "、".join(CHANNEL_NAMES.get(ch, ch) for ch in t["channels"])
        for t in told
    )
    esc.notes.append(
        {"by": who, "at": now, "text": f"已联系应急联系人：{said}", "action": ACTION, "step": step, "contacts": told}
    )
    writes[:0] = [esc.row()]
    writes.append(audit(who, ACTION, esc.id, now, step=step, contacts=told))
    event = {"type": "escalation.event", "event": "note", "at": now, "by": who, "escalation": esc.to_json()}
    return Effects(writes, [event])
