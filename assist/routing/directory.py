"""The contact directory and duty roster: the plan's roles mapped to people and their channels.

Loaded from the routing file on first start, then kept in the store and edited by `admin`.
Parsing reports every problem at once (`ValidationFailed` with per-field details), so an
admin fixing a directory sees everything that is wrong in one reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assist.errors import ValidationFailed
from assist.scripts.category_scripts import ROLES as PLAN_ROLES

CHANNELS = ("console", "sms", "phone", "webhook", "email")
"""Ways to reach a contact. `phone` is for people to dial; the others are delivered by a notifier."""

DELIVERY_CHANNELS = ("console", "sms", "webhook", "email")

ROSTER_ROLES = ("shift_leader", "acting_shift_leader", "back_office_duty", "seat_admin")
"""Roles that change by day; any other role is everyone in the directory who holds it."""


@dataclass(frozen=True, slots=True)
class Contact:
    """One person (or desk) who can be told something."""

    id: str
    name: str
    roles: tuple[str, ...]
    channels: Mapping[str, str]
    """channel -> address: console -> login user id, sms/phone -> number, webhook -> URL, email -> address."""
    notify: tuple[str, ...]
    """Channels to deliver escalations on, in order; by default every delivery channel the contact has."""

    def addresses(self) -> list[tuple[str, str]]:
        return [(ch, self.channels[ch]) for ch in self.notify if ch in self.channels]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "roles": list(self.roles),
            **dict(self.channels),
            "notify": list(self.notify),
        }


@dataclass(frozen=True, slots=True)
class Number:
    """A named phone number: a fault hot-line, or an internal number no customer may hear."""

    name: str
    number: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "number": self.number}


@dataclass(frozen=True, slots=True)
class RosterDay:
    """Who is on duty for the roster roles on one day (or by default), and whether it is a holiday."""

    duty: Mapping[str, tuple[str, ...]]
    holiday: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {role: list(ids) for role, ids in self.duty.items()}
        if self.holiday:
            out["holiday"] = True
        return out


@dataclass(frozen=True, slots=True)
class Directory:
    contacts: Mapping[str, Contact] = field(default_factory=dict)
    roster: Mapping[str, RosterDay] = field(default_factory=dict)
    """Keyed by ISO date ("2026-10-01") or "default"."""
    hotlines: tuple[Number, ...] = ()
    internal_numbers: tuple[Number, ...] = ()

    def on_duty(self, role: str, day: date) -> list[Contact]:
        """Who holds `role` on `day`: the day's roster, else the default roster, else everyone with the role."""
        for key in (day.isoformat(), "default"):
            entry = self.roster.get(key)
            if entry is not None and role in entry.duty:
                return [self.contacts[c] for c in entry.duty[role] if c in self.contacts]
        return [c for c in self.contacts.values() if role in c.roles]

    def is_holiday(self, day: date) -> bool:
        entry = self.roster.get(day.isoformat())
        return entry is not None and entry.holiday

    def by_user(self, user: str) -> list[Contact]:
        return [c for c in self.contacts.values() if c.channels.get("console") == user]

    def secret_numbers(self) -> list[str]:
        """Numbers the forbidden-phrase check must flag: internal numbers and internal contacts' phones."""
        out = [n.number for n in self.internal_numbers]
        out += [
            c.channels[ch]
            for c in self.contacts.values()
            if "it_support" in c.roles
            for ch in ("phone", "sms")
            if ch in c.channels
        ]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "contacts": [c.to_json() for c in self.contacts.values()],
            "roster": {k: v.to_json() for k, v in self.roster.items()},
            "hotlines": [n.to_json() for n in self.hotlines],
            "internal_numbers": [n.to_json() for n in self.internal_numbers],
        }


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_directory(raw: Mapping[str, Any]) -> Directory:
    """Validate a directory (routing file tables or the API's JSON body); raise with every problem."""
    problems: dict[str, str] = {}
    contacts: dict[str, Contact] = {}
    for i, c in enumerate(_list(raw.get("contacts", []), "contacts", problems)):
        where = f"contacts[{i}]"
        if not isinstance(c, Mapping):
            problems[where] = "a contact is a table with id, name, roles and channels"
            continue
        cid, name = c.get("id"), c.get("name", c.get("id"))
        if not isinstance(cid, str) or not cid.strip():
            problems[f"{where}.id"] = "id is required (text)"
            continue
        if cid in contacts:
            problems[f"{where}.id"] = f"duplicate contact id {cid!r}"
        roles = tuple(str(r) for r in _list(c.get("roles", []), f"{where}.roles", problems))
        for r in roles:
            if r not in PLAN_ROLES:
                problems[f"{where}.roles"] = f"unknown role {r!r}; use one of {', '.join(PLAN_ROLES)}"
        channels = {ch: str(c[ch]).strip() for ch in CHANNELS if ch in c and str(c[ch]).strip()}
        notify_raw = c.get("notify")
        if notify_raw is None:
            notify = tuple(ch for ch in DELIVERY_CHANNELS if ch in channels)
        else:
            notify = tuple(str(n) for n in _list(notify_raw, f"{where}.notify", problems))
            for n in notify:
                if n not in DELIVERY_CHANNELS:
                    problems[f"{where}.notify"] = f"cannot deliver on {n!r}; use {', '.join(DELIVERY_CHANNELS)}"
                elif n not in channels:
                    problems[f"{where}.notify"] = f"channel {n!r} has no address"
        contacts[cid] = Contact(cid, str(name), roles, channels, notify)
    roster: dict[str, RosterDay] = {}
    raw_roster = raw.get("roster", {})
    if not isinstance(raw_roster, Mapping):
        problems["roster"] = "roster is a table of days (ISO date or 'default')"
        raw_roster = {}
    for key, day in raw_roster.items():
        where = f"roster.{key}"
        if key != "default" and not _DATE.match(str(key)):
            problems[where] = "a roster day is an ISO date (2026-10-01) or 'default'"
        if not isinstance(day, Mapping):
            problems[where] = "a roster day maps roles to contact ids"
            continue
        duty: dict[str, tuple[str, ...]] = {}
        for role, ids in day.items():
            if role == "holiday":
                continue
            if role not in PLAN_ROLES:
                problems[f"{where}.{role}"] = f"unknown role {role!r}"
                continue
            ids_t = tuple(str(x) for x in ([ids] if isinstance(ids, str) else _list(ids, f"{where}.{role}", problems)))
            for x in ids_t:
                if x not in contacts:
                    problems[f"{where}.{role}"] = f"unknown contact {x!r}"
            duty[role] = ids_t
        roster[str(key)] = RosterDay(duty, bool(day.get("holiday", False)))
    return_dir = Directory(
        contacts, roster, _numbers(raw, "hotlines", problems), _numbers(raw, "internal_numbers", problems)
    )
    if problems:
        raise ValidationFailed("the directory is invalid", fields=problems)
    return return_dir


def _list(value: Any, where: str, problems: dict[str, str]) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        problems[where] = "expected a list"
        return []
    return value


def _numbers(raw: Mapping[str, Any], key: str, problems: dict[str, str]) -> tuple[Number, ...]:
    out: list[Number] = []
    for i, n in enumerate(_list(raw.get(key, []), key, problems)):
        if not isinstance(n, Mapping) or not str(n.get("number", "")).strip():
            problems[f"{key}[{i}]"] = "expected {name, number}"
            continue
        out.append(Number(str(n.get("name", "")), str(n["number"]).strip()))
    return tuple(out)
