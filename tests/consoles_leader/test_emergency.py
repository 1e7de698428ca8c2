"""Pure: the urgent complaint's one-click notice to the emergency contact, and its record on the escalation."""

from __future__ import annotations

import pytest

from assist.errors import Conflict, ValidationFailed
from assist.routing.directory import parse_directory
from assist.routing.escalation import Escalation
from assist.server.leader.emergency import contacts_json, notify_emergency, on_duty

TZ = "Asia/Shanghai"
NOW = 1_800_000_000.0
DIRECTORY = parse_directory(
    {
        "contacts": [
            {
                "id": "ec",
                "name": "周主任",
                "roles": ["emergency_contact"],
                "phone": "13800000009",
                "sms": "13800000009",
                "webhook": "http://127.0.0.1:1/hook",
            },
            {"id": "ep", "name": "吴处长", "roles": ["emergency_contact"], "phone": "0571-8000 0009"},
            {"id": "sl", "name": "王班长", "roles": ["shift_leader"], "console": "s1"},
        ]
    }
)


def urgent(kind: str = "complaint.urgent", status: str = "open") -> Escalation:
    return Escalation(
        "E-1",
        kind,
        {"customer_name": "陈先生", "complaint": "理财亏损", "demand": "今天答复"},
        NOW - 60,
        "a1",
        status=status,
    )


def test_every_channel_of_every_contact_is_told_and_it_is_recorded_on_the_escalation() -> None:
    assert contacts_json(DIRECTORY, NOW, TZ) == [
        {"id": "ec", "name": "周主任", "number": "13800000009", "channels": ["sms", "webhook"]},
        {"id": "ep", "name": "吴处长", "number": "0571-8000 0009", "channels": []},
    ]
    esc = urgent()
    eff = notify_emergency(esc, on_duty(DIRECTORY, NOW, TZ), "s1", "王班长", NOW, TZ)
    outbox = [w.row for w in eff.writes if w.table == "routing_outbox"]
    assert sorted((r["recipient"], r["channel"]) for r in outbox) == [("ec", "sms"), ("ec", "webhook")]
    assert all("陈先生" in r["text"] and "王班长" in r["text"] for r in outbox)
    note = esc.notes[-1]
    assert note["action"] == "emergency_contact" and note["by"] == "s1"
    assert [(c["id"], c["channels"]) for c in note["contacts"]] == [("ec", ["sms", "webhook"]), ("ep", ["phone"])]
    assert "吴处长（0571-8000 0009）经电话" in note["text"]
    audit = [w.row for w in eff.writes if w.table == "routing_audit"]
    assert audit[0]["action"] == "emergency_contact" and audit[0]["who"] == "s1"
    assert eff.events[0]["escalation"]["notes"][-1]["action"] == "emergency_contact"
    # A second click in the same minute tells nobody twice and records nothing more.
    assert notify_emergency(esc, on_duty(DIRECTORY, NOW, TZ), "s1", "王班长", NOW + 1, TZ).writes == []


def test_only_an_open_urgent_complaint_and_only_with_someone_to_tell() -> None:
    with pytest.raises(Conflict):
        notify_emergency(urgent("media.live"), on_duty(DIRECTORY, NOW, TZ), "s1", "王班长", NOW, TZ)
    with pytest.raises(Conflict):
        notify_emergency(urgent(status="resolved"), on_duty(DIRECTORY, NOW, TZ), "s1", "王班长", NOW, TZ)
    with pytest.raises(ValidationFailed, match=r"docs/routing\.md"):
        notify_emergency(urgent(), [], "s1", "王班长", NOW, TZ)
