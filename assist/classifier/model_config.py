"""Compile a pack's model.yaml: how the learned models take part beside the rules.

The file is optional; without it the defaults below apply (measured on calls written apart
from the pack, docs/quality.md). Trainers change per-category thresholds here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assist.classifier.combine import ModelSettings, Thresholds
from assist.classifier.model import NONE
from assist.problems import PackError, PathPart, Problem

DEFAULT_CALL_THRESHOLDS = Thresholds()
DEFAULT_LINE_THRESHOLD = 0.2
DEFAULT_MINIMUM_SAMPLES = ModelSettings().minimum_samples
DEFAULT_LINE_VETO = 0.5


@dataclass(frozen=True, slots=True)
class LineModelSettings:
    """The agent-line model: a line is warned when its score for a forbidden rule reaches `threshold`
    (tuned for precision: a false alarm mid-call costs more than a miss)."""

    enabled: bool = True
    thresholds: Mapping[str, float] = field(default_factory=dict)
    veto: float = DEFAULT_LINE_VETO
    """A phrase rule's hit is withdrawn when the model scores the line as allowed and that rule at most
    -veto, about words it learned (a quoted customer, a refusal to a journalist that a rule misread)."""

    def for_rule(self, rule: str) -> float:
        return self.thresholds.get(rule, DEFAULT_LINE_THRESHOLD)


@dataclass(frozen=True, slots=True)
class ModelConfig:
    calls: ModelSettings = field(default_factory=ModelSettings)
    lines: LineModelSettings = field(default_factory=LineModelSettings)


_TOP = frozenset({"version", "enabled", "minimum_samples", "calls", "lines"})
_LINES = frozenset({"enabled", "thresholds", "veto"})


def compile_model_config(raw: object, *, priority: Sequence[str], rule_ids: Sequence[str] = ()) -> ModelConfig:
    """Validate model.yaml (plain data); raise PackError with every problem, located by field path."""
    problems: list[Problem] = []
    if raw is None:
        return ModelConfig()
    if not isinstance(raw, Mapping):
        raise PackError([Problem((), "model.yaml must be a mapping")])
    for key in raw:
        if key not in _TOP:
            problems.append(Problem((str(key),), f"unknown key; expected one of {', '.join(sorted(_TOP))}"))
    enabled = _flag(raw, "enabled", (), problems)
    minimum = raw.get("minimum_samples", DEFAULT_MINIMUM_SAMPLES)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or not 2 <= minimum <= 1000:
        problems.append(Problem(("minimum_samples",), "minimum_samples: a whole number from 2 to 1000"))
        minimum = DEFAULT_MINIMUM_SAMPLES
    thresholds: dict[str, Thresholds] = {}
    calls = raw.get("calls", {}) or {}
    if not isinstance(calls, Mapping):
        problems.append(Problem(("calls",), "calls: per category id, {alone, beside, veto, overrule: number}"))
        calls = {}
    for cid, spec in calls.items():
        path: tuple[PathPart, ...] = ("calls", str(cid))
        if cid not in priority or cid == NONE:
            problems.append(Problem(path, f"unknown category {cid!r}"))
            continue
        if not isinstance(spec, Mapping) or set(spec) - {"alone", "beside", "veto", "overrule"}:
            problems.append(Problem(path, "expected {alone, beside, veto, overrule: number}"))
            continue
        alone = _number(spec, "alone", DEFAULT_CALL_THRESHOLDS.alone, path, problems)
        beside = _number(spec, "beside", DEFAULT_CALL_THRESHOLDS.beside, path, problems)
        veto = _number(spec, "veto", DEFAULT_CALL_THRESHOLDS.veto, path, problems)
        overrule = _number(spec, "overrule", DEFAULT_CALL_THRESHOLDS.overrule, path, problems)
        thresholds[str(cid)] = Thresholds(alone, beside, veto, overrule)
    lines_raw = raw.get("lines", {}) or {}
    line_thresholds: dict[str, float] = {}
    lines_enabled = True
    line_veto = DEFAULT_LINE_VETO
    if not isinstance(lines_raw, Mapping) or set(lines_raw) - _LINES:
        problems.append(Problem(("lines",), "lines: {enabled: true|false, thresholds: {rule: number}, veto: number}"))
    else:
        lines_enabled = _flag(lines_raw, "enabled", ("lines",), problems)
        line_veto = _number(lines_raw, "veto", DEFAULT_LINE_VETO, ("lines",), problems)
        lt = lines_raw.get("thresholds", {}) or {}
        if not isinstance(lt, Mapping):
            problems.append(Problem(("lines", "thresholds"), "thresholds: {forbidden rule id: number}"))
        else:
            for rid, value in lt.items():
                if rule_ids and rid not in rule_ids:
                    problems.append(
                        Problem(
                            ("lines", "thresholds", str(rid)),
                            f"unknown forbidden rule {rid!r}; known: {', '.join(rule_ids)}",
                        )
                    )
                elif isinstance(value, bool) or not isinstance(value, (int, float)) or not -5 <= value <= 5:
                    problems.append(Problem(("lines", "thresholds", str(rid)), "a number from -5 to 5"))
                else:
                    line_thresholds[str(rid)] = float(value)
    if problems:
        raise PackError(problems)
    return ModelConfig(
        ModelSettings(enabled, thresholds, minimum), LineModelSettings(lines_enabled, line_thresholds, line_veto)
    )


def _flag(raw: Mapping[str, object], key: str, path: tuple[PathPart, ...], problems: list[Problem]) -> bool:
    value = raw.get(key, True)
    if not isinstance(value, bool):
        problems.append(Problem((*path, key), f"{key}: true or false"))
        return True
    return value


def _number(
    spec: Mapping[str, object], key: str, default: float, path: tuple[PathPart, ...], problems: list[Problem]
) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -5 <= value <= 99:
        problems.append(Problem((*path, key), f"{key}: a number from -5 to 99 (0 is the model's own boundary)"))
        return default
    return float(value)
