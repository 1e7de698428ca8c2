"""How often the sidebar may draw an agent's attention: the pack's optional `firing.yaml`.

A sidebar that nags is a sidebar agents learn to ignore. Each forbidden rule's warning and each
category's prompt (the flash when a category first appears on a call) fires under controls:
`once_per_call`, `cooldown_seconds` (since it last fired on this call) and `max_per_call`. A warning
held back is still found, listed in the command's reply and stored — only the push is skipped; a
prompt held back still updates the sidebar, quietly (`alert: false`).

    warnings:                 # every forbidden rule, unless `rules` says otherwise
      cooldown_seconds: 30
      max_per_call: 3
    prompts:                  # every category, unless `categories` says otherwise
      once_per_call: true
    rules:
      internal_phone: {cooldown_seconds: 0, max_per_call: 5}
    categories:
      major_incident: {once_per_call: false, cooldown_seconds: 120}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assist.problems import PackError, PathPart, Problem

FIRING_FILE = "firing.yaml"


@dataclass(frozen=True, slots=True)
class Firing:
    """The controls of one warning or prompt."""

    once_per_call: bool = False
    cooldown_seconds: float = 0.0
    max_per_call: int | None = None

    def allows(self, fired_at: Sequence[float], now: float) -> bool:
        """Whether it may fire at `now`, given when it already fired on this call (oldest first)."""
        if not fired_at:
            return True
        if self.once_per_call:
            return False
        if self.max_per_call is not None and len(fired_at) >= self.max_per_call:
            return False
        return now - fired_at[-1] >= self.cooldown_seconds


DEFAULT_WARNINGS = Firing(cooldown_seconds=30.0, max_per_call=3)
"""A rule warns at most three times a call, and not again within 30 s of its last warning."""
DEFAULT_PROMPTS = Firing(once_per_call=True)
"""A category flashes the first time it appears on a call; later appearances update quietly."""


@dataclass(frozen=True, slots=True)
class FiringPolicy:
    warnings: Firing = DEFAULT_WARNINGS
    prompts: Firing = DEFAULT_PROMPTS
    rules: Mapping[str, Firing] = field(default_factory=dict)
    categories: Mapping[str, Firing] = field(default_factory=dict)

    def for_rule(self, rule: str) -> Firing:
        return self.rules.get(rule, self.warnings)

    def for_category(self, category: str) -> Firing:
        return self.categories.get(category, self.prompts)


_KEYS = frozenset({"once_per_call", "cooldown_seconds", "max_per_call"})
_TOP = frozenset({"warnings", "prompts", "rules", "categories"})


def compile_firing(raw: object, *, rule_ids: Sequence[str] = (), categories: Sequence[str] = ()) -> FiringPolicy:
    """Validate firing.yaml (plain data); raise PackError with every problem, located by field path."""
    if raw is None:
        return FiringPolicy()
    problems: list[Problem] = []
    if not isinstance(raw, Mapping):
        raise PackError([Problem((), f"{FIRING_FILE} must be a mapping of {', '.join(sorted(_TOP))}")])
    for key in raw:
        if key not in _TOP:
            problems.append(Problem((str(key),), f"unknown key; expected one of {', '.join(sorted(_TOP))}"))
    warnings = _firing(raw.get("warnings"), ("warnings",), DEFAULT_WARNINGS, problems)
    prompts = _firing(raw.get("prompts"), ("prompts",), DEFAULT_PROMPTS, problems)
    rules = _each(raw.get("rules"), "rules", rule_ids, "forbidden rule", warnings, problems)
    cats = _each(raw.get("categories"), "categories", categories, "category", prompts, problems)
    if problems:
        raise PackError(problems)
    return FiringPolicy(warnings, prompts, rules, cats)


def _each(
    raw: object, key: str, known: Sequence[str], what: str, base: Firing, problems: list[Problem]
) -> dict[str, Firing]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(Problem((key,), f"{key}: per {what} id, {{{', '.join(sorted(_KEYS))}}}"))
        return {}
    out: dict[str, Firing] = {}
    for name, spec in raw.items():
        if known and name not in known:
            problems.append(Problem((key, str(name)), f"unknown {what} {name!r}; known: {', '.join(known)}"))
            continue
        out[str(name)] = _firing(spec, (key, str(name)), base, problems)
    return out


def _firing(raw: object, path: tuple[PathPart, ...], base: Firing, problems: list[Problem]) -> Firing:
    """A block of controls; what it leaves out comes from `base` (the defaults of its kind)."""
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, f"expected {{{', '.join(sorted(_KEYS))}}}"))
        return base
    for key in raw:
        if key not in _KEYS:
            problems.append(Problem((*path, str(key)), f"unknown key; expected one of {', '.join(sorted(_KEYS))}"))
    once = raw.get("once_per_call", base.once_per_call)
    if not isinstance(once, bool):
        problems.append(Problem((*path, "once_per_call"), "once_per_call: true or false"))
        once = base.once_per_call
    cooldown = raw.get("cooldown_seconds", base.cooldown_seconds)
    if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or not 0 <= cooldown <= 3600:
        problems.append(Problem((*path, "cooldown_seconds"), "cooldown_seconds: a number of seconds from 0 to 3600"))
        cooldown = base.cooldown_seconds
    most = raw.get("max_per_call", base.max_per_call)
    if most is not None and (isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= 100):
        problems.append(Problem((*path, "max_per_call"), "max_per_call: a whole number from 1 to 100, or null"))
        most = base.max_per_call
    return Firing(once, float(cooldown), most)
