"""normalize(): folding that rules and calls share, with a map back to the original text."""

from __future__ import annotations

import pytest

from assist.classifier.normalize import normalize, normalize_all, normalize_text


def test_traditional_width_case_and_punctuation_fold() -> None:
    assert normalize_text("我要投訴！ ＡＰＰ 閃退") == "我要投诉app闪退"


def test_variants_fold() -> None:
    assert normalize_text("轉帳失敗，登陸不了") == "转账失败登录不了"


def test_span_maps_back_to_original() -> None:
    original = "喂，我要 投訴你們！"
    n = normalize(original)
    start = n.text.index("投诉")
    a, b = n.span(start, start + 2)
    assert original[a:b] == "投訴"
    assert n.original_slice(start, start + 2) == "投訴"


def test_empty_span() -> None:
    n = normalize("，。")
    assert n.text == ""
    assert n.span(0, 0) == (0, 0)


def test_offset_map_of_characters_that_fold_to_several_or_none() -> None:
    from assist.classifier.normalize import _offsets_slow

    for text in ("㍿ab，c", "½x", "ＡＢ　c", "喂，我要 投訴你們！", "ǅx", "", "，。", "ﬁle ㎏ 帳戶"):
        n = normalize(text)
        assert n.offsets == _offsets_slow(text)
        assert len(n.offsets) == len(n.text)


def test_a_call_normalised_at_once_is_each_segment_normalised_alone() -> None:
    # phrase conversion (乾淨), variants (帳戶, 登陸) at a segment's edge, empty, ASCII-only and
    # punctuation-only segments, a character that folds to several (㍿), line breaks inside a segment
    texts = ["頭髮乾淨", "帳", "戶登", "陸不了", "", "APP crash", "，。", "㍿的\n帳戶", "我要投訴你們"]
    together = normalize_all(texts)
    alone = [normalize(t) for t in texts]
    assert [(n.text, n.original, n.offsets) for n in together] == [(n.text, n.original, n.offsets) for n in alone]
    assert together[0].text == "头发干净" and together[2].text == "户登"  # no variant spans two segments


@pytest.mark.parametrize(
    "texts",
    [
        # folded with one table lookup for the whole call: every character folds to one or to none
        ["頭髮乾淨", "帳", "戶登", "陸不了", "", "APP crash", "，。", "ＡＢＣ１２３的\n帳戶", "我要投訴你們！！"],
        ["", ""],
        [],
        # a character outside the table (an emoji): folded segment by segment
        ["我要投诉😡", "帳戶"],
    ],
)
def test_a_call_folded_at_once_has_each_segments_text_and_offsets(texts: list[str]) -> None:
    together = normalize_all(texts)
    alone = [normalize(t) for t in texts]
    assert [(n.text, n.original, tuple(n.offsets)) for n in together] == [
        (n.text, n.original, tuple(n.offsets)) for n in alone
    ]
    for n in together:
        assert n.span(0, len(n.text)) == normalize(n.original).span(0, len(n.text))
