"""A small center for the pure tests: one person per role, a holiday on 2026-10-01."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assist.effects import Write
from assist.routing.config import RoutingConfig, parse_routing
from assist.routing.escalation import Effects

TZ = ZoneInfo("Asia/Shanghai")
CENTER: dict[str, Any] = {
    "contacts": [
        {"id": "sl", "name": "王班长", "roles": ["shift_leader"], "console": "s1", "sms": "13800000001"},
        {"id": "sa", "name": "赵管理员", "roles": ["seat_admin"], "console": "sa1"},
        {"id": "bo", "name": "钱后台", "roles": ["back_office_duty"], "console": "b1"},
        {"id": "cm", "name": "孙经理", "roles": ["center_manager"], "console": "m1", "sms": "13800000004"},
        {"id": "dl", "name": "李部长", "roles": ["department_leader"], "sms": "13800000005"},
        {"id": "eb", "name": "电子银行部", "roles": ["ebanking_dept"], "webhook": "http://eb.example/hook"},
        {"id": "act", "name": "周代班", "roles": ["acting_shift_leader"], "console": "act1"},
        {"id": "ec", "name": "吴应急", "roles": ["emergency_contact"], "phone": "13800000008"},
        {"id": "it", "name": "信息技术部", "roles": ["it_support"], "phone": "0571-8709 9999"},
        {"id": "sl2", "name": "郑班长", "roles": ["shift_leader"], "console": "s2"},
    ],
    "roster": {
        "default": {"shift_leader": ["sl"]},
        "2026-10-01": {"holiday": True, "shift_leader": ["sl2"], "acting_shift_leader": ["act"]},
    },
    "hotlines": [{"name": "省分行故障热线", "number": "0571-8000 0001"}],
    "internal_numbers": [{"name": "数据中心", "number": "021-6888 7777"}],
}


def config(**deadlines: Any) -> RoutingConfig:
    return parse_routing({**CENTER, "deadlines": {"renotify": 0, **deadlines}})


def at(text: str) -> float:
    """Epoch seconds of a local time of the center."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def told(eff: Effects) -> set[tuple[str, str]]:
    """(recipient contact id, channel) of every outbox row."""
    return {(w.row["recipient"], w.row["channel"]) for w in eff.writes if w.table == "routing_outbox"}


def who(eff: Effects) -> set[str]:
    return {r for r, _ in told(eff)}


def rows(eff: Effects, table: str) -> list[Write]:
    return [w for w in eff.writes if w.table == table]
