"""Masking customer data in feedback items: what trainers see and what becomes a sample.

A feedback item keeps the call's text because it may become a labelled sample, but it is customer
data, so what is not needed to classify a call is masked the way the bank masks it on paper:

- numbers of 7 digits or more (phones, ID card numbers, card and account numbers; digits may be
  grouped by spaces or dashes, an ID number may end in X): every digit but the last four becomes
  `*`, and an 11-digit mobile number keeps its first three too (138****8000). Short service numbers
  the rules need (12378, 95588, 110) are kept;
- e-mail addresses: the first character and the domain are kept;
- a name in the call context (`customer_name` and the like): the first character is kept.

Names and addresses said in the transcript are not recognised; they stay as said.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NAME_KEYS = frozenset({"customer_name", "name", "caller_name", "contact_name", "account_name"})
"""Context keys whose value is a person's name."""

MIN_DIGITS = 7

_NUMBER = re.compile(r"(?<![0-9A-Za-z０-９])\d{3,}(?:[ \-]\d{3,})*[Xx]?(?![0-9A-Za-z０-９])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")


def _mask_number(m: re.Match[str]) -> str:
    text = m.group(0)
    positions = [i for i, ch in enumerate(text) if ch.isdigit() or ch in "Xx"]
    if len(positions) < MIN_DIGITS:
        return text
    keep = set(positions[-4:])
    if len(positions) == 11 and text[positions[0]] == "1":
        keep |= set(positions[:3])
    return "".join("*" if i in positions and i not in keep else ch for i, ch in enumerate(text))


def _mask_email(m: re.Match[str]) -> str:
    user, _, domain = m.group(0).partition("@")
    return f"{user[:1]}***@{domain}"


def mask_text(text: str) -> str:
    """The text with long numbers and e-mail addresses masked."""
    return _NUMBER.sub(_mask_number, _EMAIL.sub(_mask_email, text))


def mask_name(name: str) -> str:
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else name


def mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return mask_text(str(value)) if len(str(abs(value))) >= MIN_DIGITS else value
    if isinstance(value, Mapping):
        return mask_context(value)
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    return mask_text(str(value))


def mask_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The call context with names and long numbers masked; keys (which rules may scope to) are kept."""
    out: dict[str, Any] = {}
    for key, value in context.items():
        k = str(key)
        out[k] = mask_name(value) if k in NAME_KEYS and isinstance(value, str) else mask_value(value)
    return out
