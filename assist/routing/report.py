"""The daily report (plan §1: before 17:00, to the department leaders and the center manager)
and the holiday fire/theft patrol reminder (every 30 minutes, to the acting shift leader).

Both are scheduled as absolute times kept in the store, like escalation steps: a restart
that missed one sends it at once, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from assist.effects import Write
from assist.routing.config import RoutingConfig
from assist.routing.directory import Directory
from assist.routing.escalation import Effects, audit, local_day, notification


def next_daily(now: float, at: str, tz: str) -> float:
    """The next `at` (HH:MM, local) strictly after `now`."""
    zone = ZoneInfo(tz)
    hh, mm = (int(x) for x in at.split(":"))
    local = datetime.fromtimestamp(now, zone)
    candidate = datetime.combine(local.date(), time(hh, mm), zone)
    if candidate.timestamp() <= now:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hh, mm), zone)
    return candidate.timestamp()


def day_bounds(day: date, tz: str) -> tuple[float, float]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0, 0), zone)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


@dataclass
class DayFacts:
    """What the shell read from the store for one day."""

    day: date
    calls_by_category: Mapping[str, int] = field(default_factory=dict)
    faults: Sequence[Mapping[str, Any]] = ()
    records: Sequence[Mapping[str, Any]] = ()
    """Agents' records: {form, kind ("suggestion" | "escalation" | "fault_link"), fields}."""
    escalations: Sequence[Mapping[str, Any]] = ()
    """Escalation summaries (`Escalation.to_json()`) opened that day."""


def deadlines_met(esc: Mapping[str, Any]) -> bool:
    """No step fired late, and it was settled before any deadline step (offset > 0) had to fire."""
    steps = [s for s in esc["steps"] if not s.get("reminder_of")]
    return not any(s["late"] or (s["fired_at"] is not None and s["offset"] > 0) for s in steps)


def _hm(ts: float | None, tz: str) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%H:%M") if ts is not None else "未恢复"


CATEGORY_NAMES: Mapping[str, str] = {
    "major_incident": "重大恶性事件", "media.live": "媒体直播", "media.interview": "媒体采访",
    "complaint.urgent": "紧急/恶性投诉", "complaint.about_agent": "投诉座席员", "system_outage": "系统故障",
    "complaint.general": "一般性投诉", "none": "一般咨询", "live": "通话中",
}
"""How the report names categories (the default pack's zh-CN names; `live` = calls not yet ended)."""


def daily_report_text(facts: DayFacts, tz: str) -> str:
    total = sum(facts.calls_by_category.values())
    cats = "，".join(f"{CATEGORY_NAMES.get(c, c)} {n}"
                    for c, n in sorted(facts.calls_by_category.items(), key=lambda kv: -kv[1]))
    lines = [f"【每日运营报告】{facts.day.isoformat()}", f"来电 {total} 通（{cats or '无'}）。"]
    if facts.faults:
        lines.append("系统故障：" + "；".join(
            f"{f['system']} {f['level']}级 发生{_hm(f['occurred_at'], tz)} 恢复{_hm(f['recovered_at'], tz)}"
            f" 影响客户{f['affected_calls']}人" for f in facts.faults) + "。")
    else:
        lines.append("系统故障：无。")
    complaints = [r for r in facts.records if str(r["form"]).startswith("complaint.")]
    suggestions = sum(1 for r in complaints if r["kind"] == "suggestion")
    lines.append(f"投诉 {len(complaints)} 起（当场解决转建议 {suggestions} 起）。")
    media = [r for r in facts.records if str(r["form"]).startswith("media.")]
    lines.append(f"媒体来电 {len(media)} 起" + ("：" + "；".join(
        f"{r['fields'].get('outlet', '')} {r['fields'].get('journalist_name', r['fields'].get('host_name', ''))}"
        .strip() for r in media) if media else "") + "。")
    met = sum(1 for e in facts.escalations if deadlines_met(e))
    lines.append(f"升级事项 {len(facts.escalations)} 起，按时限处理 {met} 起。")
    return "\n".join(lines)


def to_recipients(directory: Directory, roles: Sequence[str], day: date, source: str, step: str, text: str,
                  now: float) -> list[Write]:
    """Outbox rows for everyone on duty in `roles`, keyed so that a repeat is ignored."""
    seen: set[str] = set()
    writes: list[Write] = []
    for role in roles:
        for c in directory.on_duty(role, day):
            if c.id in seen:
                continue
            seen.add(c.id)
            writes.extend(notification(source, step, c, ch, addr, text, now) for ch, addr in c.addresses())
    return writes


def daily_report(config: RoutingConfig, directory: Directory, facts: DayFacts, now: float) -> Effects:
    text = daily_report_text(facts, config.schedule.timezone)
    source = f"report:{facts.day.isoformat()}"
    writes = to_recipients(directory, ("department_leader", "center_manager"), facts.day, source, "daily", text, now)
    writes.append(audit("system", "daily_report", source, now, text=text))
    event = {"type": "escalation.event", "event": "report", "at": now, "by": "system", "text": text}
    return Effects(writes, [event])


def patrol(config: RoutingConfig, directory: Directory, due_at: float, now: float) -> Effects:
    """The half-hourly patrol reminder, only on a holiday-duty day."""
    tz = config.schedule.timezone
    day = local_day(now, tz)
    if not directory.is_holiday(day):
        return Effects()
    slot = datetime.fromtimestamp(due_at, ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M:%S")
    text = f"【节假日值班】请代班班长进行防火防盗巡查（{slot[11:16]}）。"
    source = f"patrol:{slot}"
    writes = to_recipients(directory, ("acting_shift_leader",), day, source, "patrol", text, now)
    writes.append(audit("system", "patrol", source, now))
    return Effects(writes)
