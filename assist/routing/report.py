"""The daily report (plan §1: before 17:00, to the department leaders and the center manager)
and the holiday fire/theft patrol reminder (every 30 minutes, to the acting shift leader).

Both are scheduled as absolute times kept in the store, like escalation steps: a restart
that missed one sends it at once, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    calls: Sequence[tuple[float, str]] | None = None
    """(started_at, category) of each call of the day, when the shell has them: then the hourly chart and the
    category counts both come from these rows (else the counts come from `calls_by_category`, without hours)."""


def deadlines_met(esc: Mapping[str, Any]) -> bool:
    """No step fired late, and it was settled before any deadline step (offset > 0) had to fire."""
    steps = [s for s in esc["steps"] if not s.get("reminder_of")]
    return not any(s["late"] or (s["fired_at"] is not None and s["offset"] > 0) for s in steps)


CATEGORY_NAMES: Mapping[str, str] = {
    "major_incident": "重大恶性事件",
    "media.live": "媒体直播",
    "media.interview": "媒体采访",
    "complaint.urgent": "紧急/恶性投诉",
    "complaint.about_agent": "投诉座席员",
    "system_outage": "系统故障",
    "complaint.general": "一般性投诉",
    "none": "一般咨询",
    "live": "通话中",
}
"""How the report names categories (the default pack's zh-CN names; `live` = calls not yet ended)."""

COMPLAINT_KINDS = ("complaint.urgent", "complaint.about_agent", "complaint.general")
MEDIA_KINDS = ("media.live", "media.interview")
FAULT_STATES = ("open", "unresolvable", "recovered")
DONE = ("resolved",)
"""An escalation's settled status; `open` and `unresolvable` (a fault reported to the top) are not settled."""


@dataclass(frozen=True)
class ReportFigures:
    """Every figure of a day's report. The text, the console's tiles and its chart are all drawn from this one
    value, so they cannot disagree."""

    day: date
    calls: int
    calls_by_category: dict[str, int]
    """Most first (ties by id): the chart's legend and the text's call line."""
    hours: list[dict[str, int]]
    """24 local hours, {category: calls started}; all empty when the shell gave no call times."""
    faults: list[dict[str, Any]]
    """Each fault of the day with its `state` (open | unresolvable | recovered), recovery time and minutes."""
    faults_by_state: dict[str, int]
    complaints: int
    complaints_by_kind: dict[str, int]
    suggestions: int
    """Complaints settled on the call and turned into suggestions (plan §3.1); counted in `complaints`."""
    media: int
    media_by_kind: dict[str, int]
    media_items: list[dict[str, Any]]
    major_incidents: list[dict[str, Any]]
    escalations: int
    escalations_resolved: int
    escalations_open: int
    deadlines_met: int
    """Settled escalations that met every deadline (no deadline step had to fire, none fired late)."""
    escalations_overdue: int
    """Escalations, settled or not, past a deadline (a deadline step fired, or one fired late)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "calls": self.calls,
            "totals": dict(self.calls_by_category),
            "hours": [dict(b) for b in self.hours],
            "fault_list": self.faults,
            "faults_by_state": dict(self.faults_by_state),
            "complaints": self.complaints,
            "complaints_by_kind": dict(self.complaints_by_kind),
            "suggestions": self.suggestions,
            "media": self.media,
            "media_by_kind": dict(self.media_by_kind),
            "media_items": self.media_items,
            "major_incidents": self.major_incidents,
            "escalations": self.escalations,
            "escalations_resolved": self.escalations_resolved,
            "escalations_open": self.escalations_open,
            "deadlines_met": self.deadlines_met,
            "escalations_overdue": self.escalations_overdue,
        }


def hourly_by_category(calls: Iterable[tuple[float, str]], day: date, tz: str) -> list[dict[str, int]]:
    """24 buckets (local hours of `day`), each {category: calls started in that hour}; other days are ignored."""
    zone = ZoneInfo(tz)
    hours: list[dict[str, int]] = [{} for _ in range(24)]
    for started_at, category in calls:
        local = datetime.fromtimestamp(started_at, zone)
        if local.date() != day:
            continue
        bucket = hours[local.hour]
        bucket[category] = bucket.get(category, 0) + 1
    return hours


def totals(hours: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Calls per category over the day, most first (ties by name, so the legend is stable)."""
    out: dict[str, int] = {}
    for bucket in hours:
        for category, n in bucket.items():
            out[category] = out.get(category, 0) + n
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def _fault_state(f: Mapping[str, Any]) -> str:
    if f.get("recovered_at") is not None or f.get("status") == "recovered":
        return "recovered"
    return "unresolvable" if f.get("status") == "unresolvable" else "open"


def _minutes(start: float, end: float) -> int:
    return max(0, round((end - start) / 60))


def _counted(items: Iterable[str], order: Sequence[str]) -> dict[str, int]:
    """Counts in `order`, zeros left out."""
    seen = list(items)
    return {k: n for k in order if (n := seen.count(k))}


def report_figures(facts: DayFacts, tz: str, now: float) -> ReportFigures:
    """The day's figures from what the store holds: the one source of the report's text, tiles and chart.

    Complaints and media are counted from the escalations (whatever opened them: an agent's record, the
    softphone's 上报) plus the complaints settled on the call (suggestions, which open no escalation).
    """
    if facts.calls is not None:
        hours = hourly_by_category(facts.calls, facts.day, tz)
        by_category = totals(hours)
    else:
        hours = [{} for _ in range(24)]
        by_category = dict(
            sorted(((c, n) for c, n in facts.calls_by_category.items() if n), key=lambda kv: (-kv[1], kv[0]))
        )
    faults = []
    for f in facts.faults:
        state = _fault_state(f)
        end = f.get("recovered_at") if state == "recovered" else now
        faults.append(
            {
                "system": f.get("system", ""),
                "level": f.get("level"),
                "state": state,
                "occurred_at": f.get("occurred_at"),
                "recovered_at": f.get("recovered_at"),
                "minutes": _minutes(float(f["occurred_at"]), float(end)) if end is not None else None,
                "affected": int(f.get("affected_calls", 0)),
                "cause": f.get("cause") or "",
                "responsible": f.get("responsible") or "",
            }
        )
    escs = list(facts.escalations)
    kinds = [str(e.get("kind", "")) for e in escs]
    suggestions = [
        str(r["form"])
        for r in facts.records
        if r.get("kind") == "suggestion" and str(r["form"]).startswith("complaint.")
    ]
    complaint_kinds = [k for k in kinds if k in COMPLAINT_KINDS] + suggestions
    media = [e for e in escs if e.get("kind") in MEDIA_KINDS]
    media_items = [
        {
            "kind": e["kind"],
            "at": e.get("opened_at"),
            "outlet": str(e.get("subject", {}).get("outlet", "") or ""),
            "person": str(e.get("subject", {}).get("journalist_name") or e.get("subject", {}).get("host_name") or ""),
        }
        for e in media
    ]
    incidents = [
        {
            "at": e.get("opened_at"),
            "escalation_id": e.get("escalation_id"),
            **{
                k: e.get("subject", {}).get(k)
                for k in ("type", "place", "people", "amount", "measures")
                if e.get("subject", {}).get(k) not in (None, "")
            },
            "reason": e.get("subject", {}).get("reason") or "",
            "status": e.get("status", "open"),
        }
        for e in escs
        if e.get("kind") == "major_incident"
    ]
    resolved = [e for e in escs if e.get("status") in DONE]
    return ReportFigures(
        day=facts.day,
        calls=sum(by_category.values()),
        calls_by_category=by_category,
        hours=hours,
        faults=faults,
        faults_by_state={s: sum(1 for f in faults if f["state"] == s) for s in FAULT_STATES},
        complaints=len(complaint_kinds),
        complaints_by_kind=_counted(complaint_kinds, COMPLAINT_KINDS),
        suggestions=len(suggestions),
        media=len(media),
        media_by_kind=_counted((str(e["kind"]) for e in media), MEDIA_KINDS),
        media_items=media_items,
        major_incidents=incidents,
        escalations=len(escs),
        escalations_resolved=len(resolved),
        escalations_open=len(escs) - len(resolved),
        deadlines_met=sum(1 for e in resolved if deadlines_met(e)),
        escalations_overdue=sum(1 for e in escs if not deadlines_met(e)),
    )


def _clock(ts: float, day: date, tz: str) -> str:
    """HH:MM in the center's zone; with the date (MM-DD) when it is not the report's day."""
    local = datetime.fromtimestamp(ts, ZoneInfo(tz))
    return local.strftime("%H:%M") if local.date() == day else local.strftime("%m-%d %H:%M")


def _duration(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h}小时{m}分钟" if h and m else f"{h}小时" if h else f"{m}分钟"


def _fault_text(f: Mapping[str, Any], day: date, tz: str) -> str:
    head = f"{f['system']} {f['level']}级故障，{_clock(f['occurred_at'], day, tz)}发生，"
    blame = f"（原因：{f['cause'] or '未记录'}；责任人：{f['responsible'] or '未记录'}）"
    if f["state"] == "recovered":
        body = f"{_clock(f['recovered_at'], day, tz)}恢复，历时{_duration(f['minutes'])}"
        if f["cause"] or f["responsible"]:  # either may be recorded on recovery or after it, the other later
            body += blame
    elif f["state"] == "unresolvable":
        body = f"无法解决/确认{blame}，至今未恢复（已持续{_duration(f['minutes'])}）"
    else:
        body = f"至今未恢复（已持续{_duration(f['minutes'])}）"
    return f"{head}{body}，影响客户{f['affected']}人"


def _by_kind(counts: Mapping[str, int]) -> str:
    return "，".join(f"{CATEGORY_NAMES.get(k, k)} {n} 起" for k, n in counts.items())


def report_text(fig: ReportFigures, tz: str) -> str:
    """The report's words, from its figures only."""
    cats = "，".join(f"{CATEGORY_NAMES.get(c, c)} {n}" for c, n in fig.calls_by_category.items())
    lines = [f"【每日运营报告】{fig.day.isoformat()}", f"来电 {fig.calls} 通（{cats or '无'}）。"]
    if fig.faults:
        st = fig.faults_by_state
        lines.append(
            f"系统故障 {len(fig.faults)} 起（已恢复 {st['recovered']} 起，未恢复 {st['open']} 起，"
            f"无法解决 {st['unresolvable']} 起）：" + "；".join(_fault_text(f, fig.day, tz) for f in fig.faults) + "。"
        )
    else:
        lines.append("系统故障：无。")
    if fig.complaints:
        settled = f"；其中当场解决转为建议 {fig.suggestions} 起" if fig.suggestions else ""
        lines.append(f"投诉 {fig.complaints} 起（{_by_kind(fig.complaints_by_kind)}{settled}）。")
    else:
        lines.append("投诉：无。")
    if fig.media:
        who = "；".join(
            " ".join(x for x in (CATEGORY_NAMES[m["kind"]], m["outlet"], m["person"]) if x) for m in fig.media_items
        )
        lines.append(f"媒体来电 {fig.media} 起（{_by_kind(fig.media_by_kind)}）：{who}。")
    else:
        lines.append("媒体来电：无。")
    if fig.major_incidents:

        def incident(i: Mapping[str, Any]) -> str:
            bits = [str(i[k]) for k in ("type", "place") if i.get(k)] or [i["reason"] or "详见事件报告"]
            state = "已处理完毕" if i["status"] in DONE else "处理中"
            return f"{_clock(i['at'], fig.day, tz)} {'，'.join(bits)}（{state}）"

        lines.append(
            f"重大恶性事件 {len(fig.major_incidents)} 起：" + "；".join(map(incident, fig.major_incidents)) + "。"
        )
    else:
        lines.append("重大恶性事件：无。")
    lines.append(
        f"升级事项 {fig.escalations} 起：已办结 {fig.escalations_resolved} 起（其中按时限办结 "
        f"{fig.deadlines_met} 起），未办结 {fig.escalations_open} 起；超过时限 {fig.escalations_overdue} 起。"
    )
    return "\n".join(lines)


def daily_report_text(facts: DayFacts, tz: str, now: float | None = None) -> str:
    """The report's text for `facts` (open faults' durations count to `now`; default: the day's end)."""
    when = now if now is not None else day_bounds(facts.day, tz)[1]
    return report_text(report_figures(facts, tz, when), tz)


def to_recipients(
    directory: Directory, roles: Sequence[str], day: date, source: str, step: str, text: str, now: float
) -> list[Write]:
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
    text = daily_report_text(facts, config.schedule.timezone, now)
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
