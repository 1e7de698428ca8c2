"""Issue 15 item 8, the pack side: synonym/abbreviation groups in `synonyms.txt`, checked with file and line,
and the pure expansion of a keyword list that the classifier's rules (and fault linking) use.

(Kept beside routing, whose fault linking is its first user; the pack loader's other tests are in tests/core.)"""

from __future__ import annotations

import pytest

from assist.config import DEFAULT_PACK
from assist.problems import PackError
from assist.scripts.pack import load_pack, read_pack_dir
from assist.scripts.synonyms import expand_keywords, parse_synonyms

GOOD = """# e-banking and its abbreviations
网银 = 网上银行 = 网上银行系统

手机银行 = 手机APP   # trailing comment
"""


def test_groups_are_read_with_comments_and_blank_lines_ignored() -> None:
    groups, problems = parse_synonyms(GOOD)
    assert problems == []
    assert groups == (("网银", "网上银行", "网上银行系统"), ("手机银行", "手机APP"))


def test_every_problem_is_reported_with_file_and_line() -> None:
    text = "\n".join(
        [
            "网银 = 网上银行",
            "只有一个词",
            "手机银行 = = 掌上银行",
            "短信 = 短信",
            "网上银行 = 网银系统",
            "单独 =",
            "信用卡 = Ｃａｒｄ = card",
        ]
    )
    _, problems = parse_synonyms(text)
    assert [str(p) for p in problems] == [
        "synonyms.txt:2 a group is terms separated by '=' (e.g. 网银 = 网上银行), not '只有一个词'",
        "synonyms.txt:3 empty term (two '=' in a row, or '=' at an end of the line)",
        "synonyms.txt:4 '短信' is listed twice in this group",
        "synonyms.txt:5 '网上银行' is already in the group on line 1: merge the two lines into one group",
        "synonyms.txt:6 empty term (two '=' in a row, or '=' at an end of the line)",
        "synonyms.txt:7 'card' is listed twice in this group",
    ]


def test_expansion_keeps_order_adds_each_group_in_place_and_never_repeats() -> None:
    groups, _ = parse_synonyms(GOOD)
    assert expand_keywords(["转账", "网银", "网上银行", "手机app"], groups) == [
        "转账",
        "网银",
        "网上银行",
        "网上银行系统",
        "手机app",
        "手机银行",
    ]
    assert expand_keywords(["挂失"], groups) == ["挂失"], "a keyword in no group is itself"
    assert expand_keywords([], groups) == []


def test_the_pack_loads_its_synonyms_and_refuses_a_bad_file() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    pack = load_pack({**files, "synonyms.txt": GOOD})
    assert pack.synonyms[0] == ("网银", "网上银行", "网上银行系统")
    without = {k: v for k, v in files.items() if k != "synonyms.txt"}
    assert load_pack(without).synonyms == (), "the file is optional"
    assert ("网银", "网上银行", "网上银行系统") in load_pack(files).synonyms, "the default pack has the plan's group"
    with pytest.raises(PackError) as info:
        load_pack({**files, "synonyms.txt": "网银\n"})
    assert [(p.file, p.line) for p in info.value.problems] == [("synonyms.txt", 1)]
