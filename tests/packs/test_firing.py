"""Firing controls: when a warning or a category prompt may draw the agent's attention again."""

from __future__ import annotations

import pytest

from assist.problems import PackError
from assist.scripts.firing import DEFAULT_PROMPTS, DEFAULT_WARNINGS, Firing, FiringPolicy, compile_firing


def test_the_defaults_warn_a_few_times_a_call_and_flash_a_category_once() -> None:
    w = DEFAULT_WARNINGS
    assert w.allows([], 0.0)
    assert not w.allows([0.0], 10.0), "not again within the cooldown"
    assert w.allows([0.0], 30.0)
    assert not w.allows([0.0, 40.0, 80.0], 500.0), "at most three a call"
    assert DEFAULT_PROMPTS.allows([], 0.0) and not DEFAULT_PROMPTS.allows([0.0], 9999.0)


def test_once_per_call_and_no_limit() -> None:
    assert not Firing(once_per_call=True).allows([5.0], 1e9)
    assert Firing().allows([0.0] * 50, 0.0), "no controls: every time"


def test_a_file_overrides_per_rule_and_per_category_on_top_of_its_own_defaults() -> None:
    policy = compile_firing(
        {
            "warnings": {"cooldown_seconds": 10},
            "rules": {"internal_phone": {"max_per_call": 5}},
            "categories": {"major_incident": {"once_per_call": False, "cooldown_seconds": 120}},
        },
        rule_ids=["internal_phone", "system_blame"],
        categories=["major_incident", "none"],
    )
    assert policy.for_rule("system_blame") == Firing(cooldown_seconds=10.0, max_per_call=3)
    assert policy.for_rule("internal_phone") == Firing(cooldown_seconds=10.0, max_per_call=5)
    assert policy.for_category("none") == DEFAULT_PROMPTS
    incident = policy.for_category("major_incident")
    assert incident.allows([0.0], 120.0) and not incident.allows([0.0], 60.0)


def test_no_file_is_the_defaults() -> None:
    assert compile_firing(None) == FiringPolicy()


def test_every_problem_is_named_with_its_field() -> None:
    with pytest.raises(PackError) as info:
        compile_firing(
            {
                "warnings": {"cooldown_seconds": -1, "max_per_call": 0, "loud": True},
                "rules": {"nope": {}},
                "categories": {"none": {"once_per_call": "yes"}},
                "extra": 1,
            },
            rule_ids=["system_blame"],
            categories=["none"],
        )
    where = {".".join(map(str, p.path)) for p in info.value.problems}
    assert where == {
        "warnings.cooldown_seconds",
        "warnings.max_per_call",
        "warnings.loud",
        "rules.nope",
        "categories.none.once_per_call",
        "extra",
    }
