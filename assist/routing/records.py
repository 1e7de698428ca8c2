"""Agents' records: a form from the pack's checklist, checked field by field, and where it goes.

The checklist the agent sees in the sidebar is the one the record is validated against, so
a trainer who adds a required field changes both at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from assist.errors import ValidationFailed
from assist.scripts.category_scripts import ChecklistField

_PHONE = re.compile(r"^\+?\d{3,15}$")
_ACCOUNT = re.compile(r"^\d{6,25}$")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")


def check_record(checklist: Sequence[ChecklistField], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The record's fields, normalised; `ValidationFailed` with one message per bad field otherwise."""
    problems: dict[str, str] = {}
    known = {f.id: f for f in checklist}
    for key in fields:
        if key not in known:
            problems[key] = f"not a field of this form; fields: {', '.join(known)}"
    out: dict[str, Any] = {}
    for f in checklist:
        value = fields.get(f.id)
        if value is None or (isinstance(value, str) and not value.strip()):
            if f.required:
                problems[f.id] = "required"
            continue
        problem, normal = _check(f, value)
        if problem:
            problems[f.id] = problem
        else:
            out[f.id] = normal
    if problems:
        raise ValidationFailed("the record does not match the checklist", fields=problems)
    return out


def _check(f: ChecklistField, value: Any) -> tuple[str, Any]:
    text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if text is None:
        return f"expected {f.kind}", None
    compact = re.sub(r"[\s\-()]", "", text)
    if f.kind == "phone":
        return ("", compact) if _PHONE.match(compact) else ("not a phone number", None)
    if f.kind == "account":
        return ("", compact) if _ACCOUNT.match(compact) else ("not an account or card number", None)
    if f.kind == "number":
        try:
            return "", float(text.replace(",", "")) if not isinstance(value, int) else value
        except ValueError:
            return "not a number", None
    if f.kind == "datetime":
        if _CLOCK.match(text):
            return "", text
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return "not a date/time (ISO 8601, or HH:MM)", None
        return "", text
    if f.kind == "choice":
        return ("", text) if text in f.options else (f"one of {', '.join(f.options)}", None)
    return "", text


def settled_on_call(form: str, fields: Mapping[str, Any]) -> bool:
    """A complaint settled on the call becomes a suggestion (plan §3.1), not an escalation."""
    return form.startswith("complaint.") and fields.get("settled_on_call") == "yes"
