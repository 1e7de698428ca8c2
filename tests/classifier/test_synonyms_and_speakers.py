"""Issue 15 item 8, the classifier side: synonym groups compiled into the category rules and the forbidden
phrases (a keyword matches its whole group, the evidence shows what the call said), and the transcript
speakers `supervisor` and `third_party` (segments, rules' `in:` scopes)."""

from __future__ import annotations

from typing import Any, get_args, get_type_hints

import pytest

from assist.classifier.categorize import Classifier
from assist.classifier.forbidden_compile import compile_forbidden
from assist.classifier.model import CATEGORY_IDS, Segment
from assist.classifier.rules import compile_rules
from assist.classifier.segments import SPEAKERS, call_segments, sample_segments
from assist.config import DEFAULT_PACK
from assist.live.calls import CallState
from assist.problems import PackError
from assist.protocol import CallTranscript
from assist.scripts.file_cache import FileCache
from assist.scripts.pack import load_pack, read_pack_dir

GROUPS = (("网银", "网上银行", "网上银行系统"), ("手机银行", "手机APP", "掌上银行"))


def rules(outage: dict[str, Any], **other: dict[str, Any]) -> dict[str, Any]:
    """A rules.yaml with `outage` as system_outage's one rule and a keyword nobody says for the rest."""
    cats: dict[str, Any] = {c: {"rules": [{"any": [f"从不说{i}"]}]} for i, c in enumerate(CATEGORY_IDS) if c != "none"}
    cats["system_outage"] = {"rules": [{"id": "r", **outage}]}
    cats.update(other)
    return {"categories": cats}


def classify(raw: dict[str, Any], segments: list[Segment], synonyms: Any = GROUPS) -> Any:
    return Classifier(compile_rules(raw, priority=CATEGORY_IDS, synonyms=synonyms)).classify(segments)


def said(text: str, speaker: Any = "customer") -> list[Segment]:
    return [Segment(speaker, 0, text)]


# -- category rules ------------------------------------------------------------------------------------


def test_a_keyword_matches_the_other_terms_of_its_group_and_the_evidence_shows_what_was_said() -> None:
    raw = rules({"all": [["网银"], ["登不上"]]})
    result = classify(raw, said("我的网上银行登不上"))
    assert result.labels == ("system_outage",)
    assert [e.words for e in result.evidence] == [("网上银行",), ("登不上",)]
    assert result.evidence[0].span == (2, 6)
    # the longest term of the group where terms overlap, in the original text's own spelling
    assert classify(raw, said("网上银行系统  登不上")).evidence[0].words == ("网上银行系统",)
    assert classify(raw, said("掌上ＡＰＰ登不上")).labels == ("none",), "a term of another group is not a synonym"
    # the group works both ways: a keyword written as the long form matches the abbreviation
    assert classify(rules({"any": ["手机APP"]}), said("掌上银行又打不开")).evidence[0].words == ("掌上银行",)


def test_without_the_group_the_other_term_does_not_match() -> None:
    raw = rules({"all": [["网银"], ["登不上"]]})
    assert classify(raw, said("我的网上银行登不上"), synonyms=()).labels == ("none",)
    assert classify(raw, said("我的网银登不上"), synonyms=()).labels == ("system_outage",)


def test_unless_and_lists_are_expanded_too() -> None:
    raw = rules({"any": ["@banking"], "unless": ["手机银行"]})
    raw["lists"] = {"banking": ["网银"]}
    assert classify(raw, said("网上银行打不开")).labels == ("system_outage",)
    assert classify(raw, said("网上银行打不开，掌上银行可以")).labels == ("none",), "掌上银行 is 手机银行's group"


def test_synonyms_become_more_terms_of_the_same_shapes() -> None:
    plain = compile_rules(
        rules({"any": ["网银", {"word": "手机银行", "not": ["手机银行卡"], "fuzzy": False}]}), priority=CATEGORY_IDS
    )
    grouped = compile_rules(
        rules({"any": ["网银", {"word": "手机银行", "not": ["手机银行卡"], "fuzzy": False}]}),
        priority=CATEGORY_IDS,
        synonyms=GROUPS,
    )
    assert len(grouped.terms) == len(plain.terms) + 4
    assert [r.id for r in grouped.rules] == [r.id for r in plain.rules]
    by_text = {t.text: t for t in grouped.terms}
    assert by_text["网上银行"].norm == "网上银行"
    assert by_text["手机APP"].norm == "手机app"
    # the keyword's own options carry over; its look-alikes belong to its own spelling
    assert by_text["掌上银行"].fuzzy is False and by_text["掌上银行"].not_words == ()
    assert by_text["手机银行"].not_words == ("手机银行卡",)
    rule = grouped.rules[grouped.target("system_outage").rules[0]]
    assert [grouped.terms[t].text for t in rule.groups[0]] == [
        "网银",
        "网上银行",
        "网上银行系统",
        "手机银行",
        "手机APP",
        "掌上银行",
    ]


def test_a_keyword_listed_with_its_synonym_is_listed_once() -> None:
    rs = compile_rules(rules({"any": ["网银", "网上银行"]}), priority=CATEGORY_IDS, synonyms=GROUPS)
    rule = rs.rules[rs.target("system_outage").rules[0]]
    assert [rs.terms[t].text for t in rule.groups[0]] == ["网银", "网上银行", "网上银行系统"]


# -- forbidden phrases ---------------------------------------------------------------------------------


def forbidden(rule: dict[str, Any]) -> dict[str, Any]:
    return {"rules": [{"id": "blame", "title": "甩锅", "alternative": "我们马上核实", **rule}]}


def test_a_forbidden_phrase_matches_its_group_and_the_warning_shows_what_the_agent_said() -> None:
    raw = forbidden({"pairs": [{"first": ["网银"], "then": ["坏了"]}], "unless": ["企业网银"]})
    checker = compile_forbidden(raw, synonyms=(*GROUPS, ("企业网银", "企业网上银行")))
    [hit] = checker.check("我们网上银行坏了")
    assert (hit.phrase, hit.span) == ("网上银行坏了", (2, 8))
    assert compile_forbidden(raw).check("我们网上银行坏了") == [], "without the group"
    assert checker.check("您公司的企业网上银行坏了") == [], "unless is expanded: 企业网上银行 is 企业网银"


def test_grammar_cues_are_not_expanded() -> None:
    """A synonym of a negation cue is no negation: cues are phrasing, not names of things."""
    raw = forbidden({"phrases": ["系统坏了"], "negations": ["不是"]})
    checker = compile_forbidden(raw, synonyms=(("不是", "确实"),))
    assert checker.check("不是系统坏了") == []
    assert [h.phrase for h in checker.check("确实系统坏了")] == ["系统坏了"]


# -- the pack: synonyms.txt recompiles the rules -------------------------------------------------------


def test_editing_synonyms_recompiles_the_rules_and_an_unchanged_file_reuses_them() -> None:
    files = read_pack_dir(DEFAULT_PACK)
    cache = FileCache()
    call = call_segments({}, [], [("customer", "你们的网上银行趴窝了，转账一直失败")])
    before = load_pack(files, cache=cache)
    assert before.classifier.classify(call).labels == ("none",)
    edited = {**files, "synonyms.txt": files["synonyms.txt"] + "宕机 = 趴窝\n"}
    after = load_pack(edited, cache=cache)
    assert after.classifier.rules is not before.classifier.rules
    result = after.classifier.classify(call)
    assert result.labels == ("system_outage",)
    assert "趴窝" in [w for e in result.evidence for w in e.words]
    assert load_pack(edited, cache=cache).classifier.rules is after.classifier.rules, "same files: cached"
    comment_only = {**edited, "synonyms.txt": edited["synonyms.txt"] + "# a comment\n"}
    assert load_pack(comment_only, cache=cache).classifier.rules is after.classifier.rules, "same groups: cached"


# -- speakers -------------------------------------------------------------------------------------------


def test_the_wire_shape_accepts_exactly_the_speakers_the_classifier_knows() -> None:
    assert SPEAKERS == ("customer", "agent", "supervisor", "third_party")
    assert get_args(get_type_hints(CallTranscript)["speaker"]) == SPEAKERS  # protocol.py may not import classifier


def test_supervisor_and_third_party_lines_are_segments_and_unknown_speakers_are_not() -> None:
    lines = [
        ("customer", "你好"),
        ("supervisor", "我是值班主管"),
        ("third_party", "我是她女儿"),
        ("boss", "嗯"),
        ("agent", "好的"),
    ]
    assert [(s.source, s.index) for s in call_segments({}, [], lines)] == [
        ("customer", 0),
        ("supervisor", 1),
        ("third_party", 2),
        ("agent", 4),
    ]
    sample = {"transcript": [{"speaker": "third_party", "text": "我替我妈妈打的"}]}
    assert [s.source for s in sample_segments(sample)] == ["third_party"]
    call = CallState("c", "u")
    call.add_line("supervisor", "我是值班主管", final=True)
    assert [
        s.segment.source for s in call.scans(Classifier(compile_rules(rules({"any": ["主管"]}), priority=CATEGORY_IDS)))
    ] == ["supervisor"]


def test_rules_can_scope_to_the_new_speakers_and_by_default_hear_every_speaker() -> None:
    scoped = rules({"any": ["系统故障"], "in": ["supervisor"]})
    assert classify(scoped, said("系统故障", "supervisor")).labels == ("system_outage",)
    assert classify(scoped, said("系统故障", "customer")).labels == ("none",)
    third = rules({"any": ["系统故障"], "in": ["third_party"]})
    assert classify(third, said("系统故障", "third_party")).labels == ("system_outage",)
    assert classify(third, said("系统故障", "supervisor")).labels == ("none",)
    everyone = rules({"any": ["系统故障"]})
    for speaker in SPEAKERS:
        assert classify(everyone, said("系统故障", speaker)).labels == ("system_outage",), speaker
    assert classify(everyone, [Segment("context", 0, "系统故障", field="queue")]).labels == ("none",)


def test_an_unknown_place_names_every_speaker() -> None:
    with pytest.raises(PackError) as err:
        compile_rules(rules({"any": ["x"], "in": ["boss"]}), priority=CATEGORY_IDS)
    [problem] = err.value.problems
    assert problem.path == ("categories", "system_outage", "rules", 0, "in", 0)
    assert problem.message == (
        "unknown place 'boss'; use customer, agent, supervisor, third_party, note, context or context.<field>"
    )
