"""The routing file: the plan's deadlines and schedule as configurable defaults.

Every value has the plan's default, so a center without a routing file runs the plan as
written; tests and demos shorten deadlines to seconds without touching code. Durations are
seconds, or text such as "30m", "1h", "15s".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from assist.errors import ValidationFailed
from assist.routing.directory import DELIVERY_CHANNELS, Directory, parse_directory


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Seconds. Fault deadlines count from the fault's time of occurrence."""

    fault_level12_first: float = 30 * 60
    """Level 1/2 not restored: back-office follow-up + center manager."""
    fault_level12_second: float = 60 * 60
    """Level 1/2 not restored: department leaders."""
    fault_level34_first: float = 15 * 60
    """Level 3/4 not restored: back-office follow-up + center manager."""
    fault_level34_second: float = 30 * 60
    """Level 3/4 not restored: department leaders, via the e-banking department."""
    about_agent_back_office: float = 30 * 60
    """Complaint about an agent: to back-office duty when the shift leader marks it unresolved, or after this."""
    about_agent_center_manager: float = 30 * 60
    """…then to the center manager, the same way (counted from the back-office step)."""
    renotify: float = 10 * 60
    """Repeat a step's notification to whoever has not acknowledged (0 = never)."""
    renotify_max: int = 3
    """At most this many repeats per step."""
    late_after: float = 60.0
    """A step fired more than this after its deadline (e.g. the service was down) is marked late."""


@dataclass(frozen=True, slots=True)
class Schedule:
    daily_report_at: str = "17:00"
    """Local time of the daily report to department leaders and the center manager."""
    patrol_every: float = 30 * 60
    """Holiday fire/theft patrol reminder interval to the acting shift leader."""
    timezone: str = "Asia/Shanghai"
    """The center's time zone: roster days, report time."""


@dataclass(frozen=True, slots=True)
class Delivery:
    max_attempts: int = 8
    """Tries per notification before it is marked failed (and audited)."""
    backoff: float = 2.0
    """Seconds before the first retry; doubles each time."""
    backoff_max: float = 300.0
    """Longest wait between retries."""
    timeout: float = 5.0
    """Per-request timeout of the webhook and SMS notifiers."""
    lease_slack: float = 30.0
    """On a shared database a notification being sent is leased to its instance for four `timeout`s plus this:
    long enough that the sender records the outcome in time, short enough that a send cut off by the
    instance's death is made again soon by another instance."""
    tick: float = 1.0
    """How often the scheduler looks for due steps and deliveries (at most; it is also woken on changes)."""
    sms_url: str = ""
    """SMS gateway endpoint (HTTP POST); empty = SMS notifications are marked undeliverable."""
    console_fallback_after: float = 10 * 60
    """A console notification whose user has had no console open this long is also sent on the
    `console_fallback` channels (0 = never: it only waits). It keeps waiting for the console either way."""
    console_fallback: str = "sms"
    """Comma-separated channels for that fallback, e.g. "sms,email"; the contact's own addresses are used."""
    smtp_host: str = ""
    """SMTP server for the email channel; empty = email notifications are marked undeliverable."""
    smtp_port: int = 25
    smtp_tls: str = "auto"
    """auto (STARTTLS when the server offers it), starttls (required), tls (implicit TLS, port 465), none."""
    smtp_user: str = ""
    """Login user; the password is read from the environment variable ASSIST_SMTP_PASSWORD."""
    smtp_from: str = "assist@localhost"
    """The From address of notification emails."""


SMTP_TLS = ("auto", "starttls", "tls", "none")


@dataclass(frozen=True, slots=True)
class Linking:
    """Which outage calls count against a declared fault (its affected customers)."""

    before: float = 10 * 60
    """A call that began up to this long before the fault's recorded time of occurrence may be linked
    (occurrence times are estimates); earlier calls never are."""


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    deadlines: Deadlines = field(default_factory=Deadlines)
    schedule: Schedule = field(default_factory=Schedule)
    delivery: Delivery = field(default_factory=Delivery)
    linking: Linking = field(default_factory=Linking)
    directory: Directory = field(default_factory=Directory)
    """The directory from the file: used on first start only; after that the store's copy wins."""


def fallback_channels(d: Delivery) -> tuple[str, ...]:
    """The channels a console notification falls back to, in order."""
    return tuple(ch.strip() for ch in d.console_fallback.split(",") if ch.strip())


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration(value: Any) -> float:
    """Seconds from a number or text like "30m", "1h", "15s", "500ms"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if m is None:
        raise ValueError(f"not a duration: {value!r} (use seconds or e.g. '30m', '1h', '15s')")
    return float(m.group(1)) * _UNIT[m.group(2)]


def _section(cls: type[Any], raw: Any, name: str, problems: dict[str, str]) -> Any:
    obj = cls()
    if raw is None:
        return obj
    if not isinstance(raw, Mapping):
        problems[name] = "expected a table"
        return obj
    known = {f.name: f for f in fields(cls)}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        f = known.get(key)
        if f is None:
            problems[f"{name}.{key}"] = f"unknown key; known: {', '.join(known)}"
            continue
        current = getattr(obj, key)
        try:
            if isinstance(current, str):
                changes[key] = str(value)
            elif f.type == "int":
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError(f"expected a whole number, not {value!r}")
                changes[key] = int(value)
            else:
                changes[key] = duration(value)
        except (TypeError, ValueError) as exc:
            problems[f"{name}.{key}"] = str(exc)
    return replace(obj, **changes)


def parse_routing(raw: Mapping[str, Any]) -> RoutingConfig:
    """Validate a routing document; raise `ValidationFailed` listing every problem."""
    problems: dict[str, str] = {}
    directory_keys = ("contacts", "roster", "hotlines", "internal_numbers")
    known = {"deadlines", "schedule", "delivery", "linking", *directory_keys}
    for key in raw:
        if key not in known:
            problems[key] = f"unknown section; known: {', '.join(sorted(known))}"
    config = RoutingConfig(
        deadlines=_section(Deadlines, raw.get("deadlines"), "deadlines", problems),
        schedule=_section(Schedule, raw.get("schedule"), "schedule", problems),
        delivery=_section(Delivery, raw.get("delivery"), "delivery", problems),
        linking=_section(Linking, raw.get("linking"), "linking", problems),
    )
    if not re.match(r"^\d{1,2}:\d{2}$", config.schedule.daily_report_at):
        problems["schedule.daily_report_at"] = "expected HH:MM"
    d = config.delivery
    if d.smtp_tls not in SMTP_TLS:
        problems["delivery.smtp_tls"] = f"one of {', '.join(SMTP_TLS)}"
    bad = [ch for ch in fallback_channels(d) if ch not in DELIVERY_CHANNELS or ch == "console"]
    if bad:
        problems["delivery.console_fallback"] = (
            f"unknown channel {bad[0]!r}; use {', '.join(c for c in DELIVERY_CHANNELS if c != 'console')}"
        )
    try:
        directory = parse_directory({k: raw[k] for k in directory_keys if k in raw})
    except ValidationFailed as exc:
        problems.update(exc.details.get("fields", {}))
        directory = Directory()
    if problems:
        raise ValidationFailed("the routing file is invalid", fields=problems)
    return replace(config, directory=directory)
