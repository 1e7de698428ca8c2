"""Word features for Latin-script text: training and every scoring path see exactly the same features.

Normalising drops the spaces that bound an English word, so words are read from the text as written;
these tests hold the scoring paths (per line, per call with and without the code-point tables, `knows`)
to the features training extracts, for mixed Chinese/English text of any shape.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assist.classifier.categorize import Classifier
from assist.classifier.learned import SEPARATOR, WORD_MARK, TextModel, call_features, latin_words, text_features
from assist.classifier.model import Segment
from assist.classifier.normalize import normalize_all, normalize_text
from assist.classifier.training import Example, train
from assist.scripts.pack import Pack

LABELS = ("complaint.general", "system_outage", "none")


def examples() -> list[Example]:
    out = []
    for i in range(10):
        out.append(Example((f"I want to COMPLAIN about the fee 我要投诉 {i}",), ("complaint.general",)))
        out.append(Example((f"the app login failed, system busy 系统繁忙{i}",), ("system_outage",)))
        out.append(Example((f"please check my balance 查一下余额 plain card {i}",), ("none",)))
    return out


@pytest.fixture(scope="module")
def model() -> TextModel:
    return train(examples(), LABELS)


def _without_tables(model: TextModel) -> TextModel:
    """The same model scoring a whole call with its automaton (the path taken when the tables cannot be built)."""
    copy = TextModel.from_bytes(model.to_bytes())
    object.__setattr__(copy, "_lookup", None)
    return copy


PIECES = [
    "complain", "Complain", "COMPLAIN", "ｃｏｍｐｌａｉｎ", "plain", "fee", "app", "system", "busy", "balance",
    "I", "a", "x", "ab", "我要投诉", "系统繁忙", "查一下余额", "系統", "投", " ", "  ", ",", "，", "!", "\n", "\t",
    "3", "42", "é", "ﬁ", "İ", "-", "'", "_",
]  # fmt: skip
mixed_text = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(mixed_text, min_size=1, max_size=4))
def test_every_scoring_path_finds_exactly_the_features_training_extracts(model: TextModel, texts: list[str]) -> None:
    expect_each = [{model.index[f] for f in text_features(t) if f in model.index} for t in texts]
    for t, expect in zip(texts, expect_each, strict=True):
        assert set(model.encode(t)) == expect
        assert set(model.encode_normalized(normalize_text(t), t)) == expect
    call = sorted({model.index[f] for f in call_features(texts) if f in model.index})
    assert call == sorted(set().union(*expect_each))
    ns = normalize_all(texts)
    joined, originals = SEPARATOR.join(n.text for n in ns), SEPARATOR.join(texts)
    assert model._lookup is not None, "the code-point tables are built for a model with word features"
    assert model.encode_call(joined, originals).tolist() == call
    assert _without_tables(model).encode_call(joined, originals).tolist() == call


def test_a_word_is_found_only_whole(model: TextModel) -> None:
    assert " complain" in model.index and " plain" in model.index
    feats = {model.features[i] for i in model.encode("I'll complain!")}
    assert " complain" in feats and " plain" not in feats, "plain is not a word of complain"
    assert {model.features[i] for i in model.encode("投诉complain了")} >= {" complain"}, "Chinese bounds a word"
    assert " plain" in {model.features[i] for i in model.encode("com-plain")}
    call = normalize_all(["I'll complain"])[0]
    ids = model.encode_call(call.text, call.original).tolist()
    assert model.index[" complain"] in ids and model.index[" plain"] not in ids


def test_words_fold_case_and_width_and_never_look_like_pairs() -> None:
    assert latin_words("Ｉ want to ＣＯＭＰＬＡＩＮ, ok?") == [WORD_MARK + w for w in ("want", "to", "complain", "ok")]
    assert latin_words("a b 我") == []
    assert "ok" in text_features("ok") and " ok" in text_features("ok"), "the pair and the word are two features"
    assert all(WORD_MARK not in normalize_text(t) for t in PIECES)


def test_knows_an_english_word_only_if_training_saw_it_as_a_word(model: TextModel) -> None:
    assert model.knows("complain") and model.knows("Complain")
    # every character pair of "lain" and "compla" occurs in "complain": the pairs alone would say known
    assert not model.knows("lain") and not model.knows("compla")
    assert model.knows("系统繁忙") and not model.knows("火星文")


def test_evidence_names_the_english_word_as_it_stands_in_the_call(model: TextModel) -> None:
    enc = model.encode("I really want to complain now")
    words = model.strongest([enc], "complaint.general", n=8)
    assert "complain" in words and not any(w.startswith(WORD_MARK) for w in words)


def test_a_model_trained_without_english_has_no_word_features_and_still_agrees() -> None:
    chinese = [Example(("".join(c for c in ex.texts[0] if ord(c) > 0x2E80),), ex.labels) for ex in examples()]
    m = train(chinese, LABELS)
    assert not any(f.startswith(WORD_MARK) for f in m.features)
    text = "complain 投诉了"
    assert set(m.encode(text)) == {m.index[f] for f in text_features(text) if f in m.index} != set()


def test_an_english_call_is_classified_the_same_cold_and_line_by_line(default_pack_with_models: Pack) -> None:
    clf: Classifier = default_pack_with_models.classifier
    assert clf.model is not None
    segments = [
        Segment("customer", 0, "Hi, I want to make a complaint, your app keeps saying system error"),
        Segment("agent", 1, "我帮您看一下 the login page"),
    ]
    assert clf.classify(segments) == clf.decide([clf.scan(s) for s in segments])
    ns = normalize_all([s.text for s in segments])
    idx = clf.model.encode_call(SEPARATOR.join(n.text for n in ns), SEPARATOR.join(s.text for s in segments))
    assert {clf.model.features[i] for i in idx.tolist()} >= {" complaint", " app", " error", " login"}
