"""The daily report as the shift leader sees it: calls by category hour by hour, and a report sent by hand.

Pure: the console's HTTP side reads the store and passes rows and `now` in. A report sent by
hand goes to the same people as the 17:00 one (department leaders and the center manager),
through the same outbox, keyed per minute so that a double click does not send it twice; the
scheduled report still goes out at its time with the day's final figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from assist.routing.config import RoutingConfig
from assist.routing.directory import Directory
from assist.routing.escalation import Effects, audit
from assist.routing.report import DayFacts, daily_report_text, to_recipients

REPORT_ROLES = ("department_leader", "center_manager")
"""Who receives the daily report (plan §1)."""


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


def manual_report(config: RoutingConfig, directory: Directory, facts: DayFacts, who: str, now: float) -> Effects:
    """Outbox rows, an audit line and a console event for a report the leader sends now."""
    tz = config.schedule.timezone
    text = daily_report_text(facts, tz)
    source = f"report:{facts.day.isoformat()}"
    step = "manual@" + datetime.fromtimestamp(now, ZoneInfo(tz)).strftime("%H:%M")
    writes = to_recipients(directory, REPORT_ROLES, facts.day, source, step, text, now)
    writes.append(audit(who, "daily_report", source, now, text=text, manual=True, step=step))
    event: dict[str, Any] = {"type": "escalation.event", "event": "report", "at": now, "by": who, "text": text}
    return Effects(writes, [event])


def recipients_of(effects: Effects) -> list[str]:
    """The contact ids an Effects' outbox rows go to, once each, in order."""
    seen: list[str] = []
    for w in effects.writes:
        if w.table == "routing_outbox" and w.row["recipient"] not in seen:
            seen.append(str(w.row["recipient"]))
    return seen
