"""The daily report as the shift leader sees it: calls by category hour by hour, and a report sent by hand.

Pure: the console's HTTP side reads the store and passes rows and `now` in. A report sent by
hand goes to the same people as the 17:00 one (department leaders and the center manager),
through the same outbox, keyed per minute so that a double click does not send it twice; the
scheduled report still goes out at its time with the day's final figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assist.routing.config import RoutingConfig
from assist.routing.directory import Directory
from assist.routing.escalation import Effects, audit
from assist.routing.report import DayFacts, daily_report_text, hourly_by_category, to_recipients, totals

__all__ = ["REPORT_ROLES", "hourly_by_category", "manual_report", "recipients_of", "totals"]

REPORT_ROLES = ("department_leader", "center_manager")
"""Who receives the daily report (plan §1)."""


def manual_report(config: RoutingConfig, directory: Directory, facts: DayFacts, who: str, now: float) -> Effects:
    """Outbox rows, an audit line and a console event for a report the leader sends now."""
    tz = config.schedule.timezone
    text = daily_report_text(facts, tz, now)
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
