"""The learned text model: features, training, scoring, artifacts, combination with the rules."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from assist.classifier.combine import ModelSettings, Thresholds, combine, model_labels
from assist.classifier.learned import LINE_MARGIN, TextModel, call_features, text_features
from assist.classifier.model import Classification, Evidence, Segment, SegmentScan
from assist.classifier.normalize import normalize_text
from assist.classifier.training import Example, TooFewExamples, _counts, _tfidf, check_counts, cross_validate, train

LABELS = ("complaint.general", "system_outage", "none")
PRIORITY = ("system_outage", "complaint.general", "none")


def examples() -> list[Example]:
    out = []
    for i in range(12):
        out.append(Example((f"手机银行登录失败提示系统繁忙{i}",), ("system_outage",)))
        out.append(Example((f"你们收费太不合理我要投诉{i}",), ("complaint.general",)))
        out.append(Example((f"我想查一下余额和账单{i}",), ("none",)))
    return out


@pytest.fixture(scope="module")
def model() -> TextModel:
    return train(examples(), LABELS)


def test_features_fold_traditional_width_and_case() -> None:
    simplified = set(text_features("系统坏了 APP"))
    assert set(text_features("系統壞了，ＡＰＰ")) == simplified, "traditional, full-width and case meet one form"
    assert {"系统", "统坏", "系", "app"} & simplified == {"系统", "统坏", "系"}
    assert "ap" in simplified and "pp" in simplified


def test_encoding_a_line_finds_exactly_its_known_features(model: TextModel) -> None:
    text = "手机銀行登錄失敗，系統繁忙!!"
    assert set(model.encode(text)) == {model.index[f] for f in text_features(text) if f in model.index}


def test_training_is_deterministic(model: TextModel) -> None:
    assert train(examples(), LABELS).to_bytes() == model.to_bytes()


def test_scores_rank_the_right_label_and_explain_with_words_of_the_call(model: TextModel) -> None:
    enc = model.encode("我的手机银行一直登录失败")
    scores = model.scores([enc])
    assert max(scores, key=scores.__getitem__) == "system_outage"
    words = model.strongest([enc], "system_outage")
    assert words and all(w in "我的手机银行一直登录失败" for w in words)
    assert model.scores([]) == {lb: pytest.approx(b) for lb, b in zip(LABELS, model.bias, strict=True)}


def test_artifact_round_trip_and_corruption(model: TextModel) -> None:
    again = TextModel.from_bytes(model.to_bytes())
    enc = again.encode("收费不合理")
    assert again.scores([enc]) == pytest.approx(model.scores([model.encode("收费不合理")]))
    with pytest.raises(ValueError, match="corrupt"):
        TextModel.from_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="corrupt"):
        TextModel.from_bytes(model.to_bytes()[:-40])


def test_knows_words_seen_in_training_only(model: TextModel) -> None:
    assert model.knows("系统繁忙")
    assert not model.knows("火星文")


def test_too_few_examples_names_the_label() -> None:
    with pytest.raises(TooFewExamples, match="system_outage"):
        check_counts(examples()[:3], LABELS, minimum=2)


def test_cross_validation_scores_each_example_with_a_model_that_never_saw_it() -> None:
    exs = examples()
    held_out = cross_validate(exs, LABELS, folds=3)
    assert len(held_out) == len(exs) and all(set(s) == set(LABELS) for s in held_out)
    right = sum(max(s, key=s.__getitem__) == ex.labels[0] for s, ex in zip(held_out, exs, strict=True))
    assert right >= 0.9 * len(exs)


def test_a_folds_matrix_is_the_one_a_vectoriser_fitted_on_the_fold_alone_gives() -> None:
    """Cross-validation reads every example's features once and keeps, per fold, the columns its examples use:
    the vocabulary, idf and normalised rows must be those of scikit-learn's vectoriser fitted on the fold."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    exs = [*examples(), Example(("只在这一条里出现的词",), ("none",))]
    rows = np.array([i for i in range(len(exs)) if i % 3 != 1 and i != len(exs) - 1])
    features, matrix = _counts(exs)
    x, columns, idf = _tfidf(matrix, rows)
    vec = TfidfVectorizer(analyzer=call_features, binary=True, norm="l2", smooth_idf=True, lowercase=False)
    expected = vec.fit_transform([exs[i].texts for i in rows])
    assert [features[i] for i in columns] == vec.get_feature_names_out().tolist()
    assert "只在" not in [features[i] for i in columns]  # a feature of a left-out example only is not the fold's
    assert np.allclose(idf, vec.idf_, rtol=0, atol=1e-12)
    assert np.allclose(x.toarray(), expected.toarray(), rtol=0, atol=1e-12)


def _scan(model: TextModel, text: str) -> SegmentScan:
    return SegmentScan(Segment("customer", 0, text), (), model.encode(text))


def _rules(category: str, word: str) -> Classification:
    return Classification(category, (category,), (Evidence(category, "r1", (word,), "customer", 0, (0, len(word))),))


def test_model_decides_where_the_rules_are_silent_with_its_evidence(model: TextModel) -> None:
    scans = [_scan(model, "手机银行登录失败")]
    out = combine(
        Classification.empty(), model.scores(s.features for s in scans), model, scans, ModelSettings(), PRIORITY
    )
    assert out.labels == ("system_outage",) and out.decided_by == "model"
    assert out.evidence and all(e.rule == "model" and e.words[0] in "手机银行登录失败" for e in out.evidence)
    strict = ModelSettings(thresholds={"system_outage": Thresholds(alone=9)})
    assert combine(
        Classification.empty(), model.scores(s.features for s in scans), model, scans, strict, PRIORITY
    ).labels == ("none",)


def test_model_vetoes_a_rule_only_about_words_it_learned(model: TextModel) -> None:
    scans = [_scan(model, "我想查一下余额")]
    scores = model.scores(s.features for s in scans)
    known = combine(_rules("complaint.general", "余额"), scores, model, scans, ModelSettings(), PRIORITY)
    assert known.labels == ("none",), "the model knows 余额 from ordinary calls"
    new_word = combine(_rules("complaint.general", "火星文"), scores, model, scans, ModelSettings(), PRIORITY)
    assert new_word.labels == ("complaint.general",), "a keyword the model never saw stands"
    no_veto = ModelSettings(thresholds={"complaint.general": Thresholds(veto=99, overrule=99)})
    assert combine(_rules("complaint.general", "余额"), scores, model, scans, no_veto, PRIORITY).labels == (
        "complaint.general",
    )


def test_model_vetoes_only_a_call_it_would_call_ordinary_itself(model: TextModel) -> None:
    """A veto needs `none` to reach `alone` (as a label of the model's own would): a model unsure of the
    whole call (every score low) leaves the rules' label alone, however its scores are ordered."""
    scans = [_scan(model, "我想查一下余额")]
    unsure = {c: -2.0 for c in PRIORITY} | {"none": -1.0}
    unsure_of_all = combine(_rules("complaint.general", "余额"), unsure, model, scans, ModelSettings(), PRIORITY)
    assert unsure_of_all.labels == ("complaint.general",)
    sure = unsure | {"none": 0.5}
    assert combine(_rules("complaint.general", "余额"), sure, model, scans, ModelSettings(), PRIORITY).labels == (
        "none",
    )


def test_a_category_that_overrules_every_rule_label_is_labelled_below_beside(model: TextModel) -> None:
    """As in "Give me你的staff ID，我要complain你": the rules read one category (here a general complaint), the
    model reads another well above `overrule` but below that one's `beside`. Dropping the rules' label used
    to leave the call `none`; the category that overruled it is labelled, as the model alone would label it."""
    scans = [_scan(model, "手机银行登录失败")]
    scores = {"system_outage": 0.58, "complaint.general": -0.65, "none": -0.5}
    settings = ModelSettings(thresholds={"system_outage": Thresholds(beside=0.6)})
    out = combine(_rules("complaint.general", "登录"), scores, model, scans, settings, PRIORITY)
    assert out.labels == ("system_outage",)
    assert out.evidence and all(e.category == "system_outage" and e.rule == "model" for e in out.evidence)
    ordinary = scores | {"system_outage": -0.9, "none": 0.5}  # vetoed as ordinary: nothing in its place
    assert combine(_rules("complaint.general", "登录"), ordinary, model, scans, settings, PRIORITY).labels == ("none",)


def test_the_model_corrects_the_complaint_level_only_when_it_reads_the_other_level_by_far(model: TextModel) -> None:
    """A threat withdrawn ("上周说要去12378，后来算了") leaves the rules an urgent word in a general complaint. The
    model replaces the rules' level with the other one when it reads that one confidently and by `LEVEL_MARGIN`
    more, about the words of the level's own rules that it learned (a grievance signal's word, which both levels
    require, does not count); not when it would add the rules' level itself, and never a complaint about the
    agent, which is about whom, not how serious."""
    priority = ("complaint.urgent", "complaint.about_agent", "system_outage", "complaint.general", "none")
    scans = [_scan(model, "你们收费太不合理我要投诉")]
    scores = {"complaint.general": 0.8, "complaint.urgent": 0.0, "system_outage": -1.0, "none": -1.0}

    def labels(rule: str, word: str, changed: Mapping[str, float] = {}, signal: str = "火星文") -> tuple[str, ...]:
        evidence = (
            Evidence(rule, f"{rule}/threat", (word,), "customer", 0, (0, len(word))),
            Evidence(rule, "grievance/complaint_word", (signal,), "customer", 0, (0, len(signal))),
        )
        rules = Classification(rule, (rule,), evidence)
        return combine(rules, {**scores, **changed}, model, scans, ModelSettings(), priority).labels

    assert labels("complaint.urgent", "投诉") == ("complaint.general",), "a grievance word new to the model is no bar"
    assert labels("complaint.urgent", "投诉", {"complaint.general": 0.45}) == ("complaint.urgent",), "not by far"
    assert labels("complaint.urgent", "投诉", {"complaint.urgent": 0.5, "complaint.general": 1.5}) == (
        "complaint.urgent",
    ), "the model would label the rules' level itself"
    assert labels("complaint.urgent", "火星文", signal="投诉") == ("complaint.urgent",), "an urgent word it never saw"
    assert "complaint.about_agent" in labels("complaint.about_agent", "投诉", {"complaint.about_agent": -0.2})


def test_lines_score_the_same_one_at_a_time_and_all_at_once(model: TextModel) -> None:
    """The live path scores a line when it is said; the cold path scores every line of a call at once. Both
    must give the same numbers to the last bit, or a call could be labelled differently cold and live."""
    lines = ["手机银行登录失败", "收费太不合理我要投诉", "我想查一下余额", "系统繁忙"]
    each = model.encode_lines([normalize_text(t) for t in lines], lines)
    one_at_a_time = [model.line_scores(model.encode(t)) for t in lines]
    assert model.best_line(each) == tuple(max(column) for column in zip(*one_at_a_time, strict=True))
    assert [model.best_line([ids]) for ids in each] == one_at_a_time


def test_a_line_read_alone_lifts_a_category_but_never_none(model: TextModel) -> None:
    whole = {"system_outage": -0.9, "complaint.general": -0.2, "none": 0.4}
    line = tuple({"system_outage": 0.5, "complaint.general": -1.0, "none": 2.0}[lb] for lb in model.labels)
    lifted = model.lifted(whole, [line])
    assert lifted["system_outage"] == 0.5 - LINE_MARGIN
    assert lifted["complaint.general"] == -0.2 and lifted["none"] == 0.4
    assert model.lifted(whole, [()]) is whole


def test_model_adds_a_confident_second_label(model: TextModel) -> None:
    scans = [_scan(model, "手机银行登录失败提示系统繁忙"), _scan(model, "收费太不合理我要投诉")]
    scores = model.scores(s.features for s in scans)
    out = combine(
        _rules("system_outage", "系统繁忙"),
        scores,
        model,
        scans,
        ModelSettings(thresholds={"complaint.general": Thresholds(beside=-1)}),
        PRIORITY,
    )
    assert out.labels == ("system_outage", "complaint.general") and out.decided_by == "rules+model"
    assert model_labels(scores, ModelSettings(), PRIORITY)[0] in ("system_outage", "complaint.general")
