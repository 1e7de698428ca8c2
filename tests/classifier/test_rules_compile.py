"""compile_rules(): every problem reported at once, each with its path in rules.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from assist.classifier.model import CATEGORY_IDS
from assist.classifier.rules import compile_rules
from assist.problems import PackError

PRIORITY = CATEGORY_IDS


def minimal(**extra: Any) -> dict[str, Any]:
    cats: dict[str, Any] = {c: {"rules": [{"any": [f"kw{i}"]}]} for i, c in enumerate(PRIORITY) if c != "none"}
    cats.update(extra)
    return {"categories": cats}


def problems(raw: object) -> dict[tuple[Any, ...], str]:
    with pytest.raises(PackError) as err:
        compile_rules(raw, priority=PRIORITY)
    return {p.path: p.message for p in err.value.problems}


def test_minimal_compiles() -> None:
    rs = compile_rules(minimal(), priority=PRIORITY)
    assert {t.name for t in rs.targets} == set(PRIORITY) - {"none"}
    assert rs.priority == PRIORITY


def test_not_a_mapping() -> None:
    assert () in problems(["x"])


def test_every_problem_with_its_path() -> None:
    raw = minimal()
    raw["categories"]["system_outage"]["rules"] = [
        {"any": ["系统繁忙"]},
        {"any": []},
        {"any": "系统繁忙"},
        {"any": ["x"], "in": ["caller"]},
        {"all": [["a"], "b"]},
        {"any": ["x"], "weight": "heavy", "near": 0},
        {"any": ["x"], "colour": "red"},
        {"any": ["@nolist"]},
        {"any": ["，。"]},
    ]
    found = problems(raw)
    base = ("categories", "system_outage", "rules")
    assert (*base, 1, "any") in found
    assert "empty" in found[(*base, 1, "any")]
    assert (*base, 2, "any") in found
    assert (*base, 3, "in", 0) in found
    assert (*base, 4, "all", 1) in found
    assert (*base, 5, "weight") in found
    assert (*base, 5, "near") in found
    assert (*base, 6, "colour") in found
    assert "unknown list" in found[(*base, 7, "any", 0)]
    assert (*base, 8, "any", 0) in found
    assert not any(p[:4] == (*base, 0) for p in found)


def test_unknown_category_missing_category_and_none() -> None:
    raw = minimal(**{"complaint.other": {"rules": [{"any": ["x"]}]}, "none": {"rules": [{"any": ["y"]}]}})
    del raw["categories"]["media.live"]
    found = problems(raw)
    assert ("categories", "complaint.other") in found
    assert ("categories", "none") in found
    assert any("media.live" in m for m in found.values())


def test_references_and_cycles() -> None:
    raw = minimal()
    raw["signals"] = {"a": {"rules": [{"any": ["x"]}], "requires": ["b"]}, "b": {"requires": ["a"]}}
    raw["categories"]["complaint.urgent"]["requires"] = ["nothing"]
    found = problems(raw)
    assert ("categories", "complaint.urgent", "requires", 0) in found
    assert any("circular" in m for m in found.values())


def test_top_level_and_settings() -> None:
    raw = minimal()
    raw["negation"] = {"window": 99, "before": "不是"}
    raw["matching"] = {"fuzzy_cutoff": 10}
    raw["colour"] = 1
    found = problems(raw)
    assert ("negation", "window") in found
    assert ("negation", "before") in found
    assert ("matching", "fuzzy_cutoff") in found
    assert ("colour",) in found


def test_keyword_options() -> None:
    raw = minimal()
    raw["categories"]["complaint.about_agent"]["rules"] = [
        {"any": [{"word": "投诉你", "not": ["投诉你们"], "sound": "yes"}]},
        {"any": [{"not": ["x"]}]},
        {"any": ["投诉*"]},
    ]
    found = problems(raw)
    base = ("categories", "complaint.about_agent", "rules")
    assert (*base, 0, "any", 0, "sound") in found
    assert (*base, 1, "any", 0) in found
    assert (*base, 2, "any", 0) in found


def test_lists_and_ruamel_input() -> None:
    from ruamel.yaml import YAML

    text = """
lists:
  reg: [12378, 银保监]
categories:
""" + "".join(f"  {c}:\n    rules:\n      - any: ['@reg', w{i}]\n" for i, c in enumerate(PRIORITY) if c != "none")
    raw = YAML(typ="rt").load(text)
    rs = compile_rules(raw, priority=PRIORITY)
    assert {"12378", "银保监"} <= {t.norm for t in rs.terms}
