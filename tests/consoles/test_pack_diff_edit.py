"""Structured edits touch only the edited text; diffs speak in rules and words."""

from __future__ import annotations

import difflib

import pytest

from assist.config import DEFAULT_PACK
from assist.scripts.pack import load_pack, read_pack_dir
from assist.scripts.pack_diff import diff_packs, summary
from assist.scripts.pack_edit import Edit, EditError, apply_edit, apply_edits, structured

RULES = """\
# top comment
categories:
  system_outage:
    rules:
      - id: words   # the obvious ones
        any: [系统繁忙, 12378,
              系统故障]
        in: [customer, note]
      - id: other
        any: [宕机]
"""


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_setting_a_keyword_list_changes_only_its_last_line_and_keeps_comments_and_numbers() -> None:
    out = apply_edit(
        RULES,
        Edit(
            "rules.yaml",
            ("categories", "system_outage", "rules", 0, "any"),
            "set",
            ["系统繁忙", 12378, "系统故障", "转圈圈"],
        ),
    )
    assert changed_lines(RULES, out) == ["-              系统故障]", "+              系统故障, 转圈圈]"]
    assert "# the obvious ones" in out and "# top comment" in out


def test_append_delete_and_new_keys() -> None:
    path = ("categories", "system_outage", "rules")
    out = apply_edit(RULES, Edit("rules.yaml", path, "append", {"id": "new", "any": ["甲"], "in": ["note"]}))
    assert changed_lines(RULES, out) == ["+      - {id: new, any: [甲], in: [note]}"]
    out = apply_edit(RULES, Edit("rules.yaml", (*path, 1), "delete"))
    assert changed_lines(RULES, out) == ["-      - id: other", "-        any: [宕机]"]
    out = apply_edit(RULES, Edit("rules.yaml", (*path, 1, "unless"), "set", ["手机坏了"]))
    assert changed_lines(RULES, out) == ["+        unless: [手机坏了]"]


def test_bad_paths_are_refused_in_plain_words() -> None:
    with pytest.raises(EditError, match="does not exist"):
        apply_edit(RULES, Edit("rules.yaml", ("categories", "nope", "rules", 0), "set", 1))
    with pytest.raises(EditError):
        Edit.from_json({"file": "samples.jsonl", "path": []})


def test_edits_on_the_default_pack_stay_valid_and_local() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    data = structured(files)
    tp = ("categories", "system_outage", "talking_points", 0, "zh-CN")
    new = apply_edits(
        files,
        [
            Edit("scripts.yaml", tp, "set", "{{ customer_name or '您' }}好：请稍候 # 不是注释"),
            Edit("scripts.yaml", ("categories", "system_outage", "route"), "set", ["seat_admin", "it_support"]),
            Edit("forbidden.yaml", ("rules", 0, "phrases"), "append", "甲乙丙"),
        ],
    )
    load_pack(new)
    assert len(changed_lines(files["scripts.yaml"], new["scripts.yaml"])) == 4
    assert len(changed_lines(files["forbidden.yaml"], new["forbidden.yaml"])) == 1
    assert structured(new)["scripts.yaml"]["categories"]["system_outage"]["talking_points"][0]["zh-CN"].endswith(
        "# 不是注释"
    )
    assert data["samples.jsonl"], "the default pack carries samples"


def test_diff_reports_words_items_and_samples() -> None:
    before = {"rules.yaml": RULES, "samples.jsonl": '{"id": "s1", "labels": ["none"]}\n'}
    after = apply_edits(
        before,
        [
            Edit("rules.yaml", ("categories", "system_outage", "rules", 0, "any"), "set", ["系统繁忙", "转圈圈"]),
            Edit("rules.yaml", ("categories", "system_outage", "rules", 1), "delete"),
        ],
    )
    after["samples.jsonl"] = '{"id": "s2", "labels": ["none"]}\n'
    diffs = {d.file: d for d in diff_packs(before, after)}
    words = next(i for i in diffs["rules.yaml"].items if i.path[-1] == "any")
    assert words.added == ("转圈圈",) and set(words.removed) == {12378, "系统故障"}
    assert any(i.change == "removed" and "other" in i.path for i in diffs["rules.yaml"].items)
    assert {(i.path, i.change) for i in diffs["samples.jsonl"].items} == {(("s1",), "removed"), (("s2",), "added")}
    assert "+        any: [系统繁忙, 转圈圈]" in diffs["rules.yaml"].unified
    lines = summary(list(diffs.values()))
    assert "rules.yaml categories › system_outage › rules › words › any: +转圈圈 -12378 -系统故障" in lines
