"""assist/live/whole_call.py: one whole call in, one result out (`assist classify`, the trainer's try)."""

from __future__ import annotations

import pytest

from assist.live.whole_call import classify_call
from assist.scripts.pack import Pack


def _call(text: str) -> dict[str, object]:
    return {"id": "c", "context": {}, "notes": [], "transcript": [{"speaker": "customer", "text": text}]}


def test_a_rule_label_the_model_overruled_is_named_with_the_rules_words(default_pack_with_models: Pack) -> None:
    """A journalist opening an account: the rules' media interview, overruled by the model, is reported so that a
    trainer sees why the call is ordinary."""
    out = classify_call(default_pack_with_models, _call("我是报社记者，想开一张储蓄卡"))
    assert out["labels"] == ["none"] and out["decided_by"] == "rules+model"
    assert [o["category"] for o in out["overruled"]] == ["media.interview"]
    assert "报社" in out["overruled"][0]["words"]


@pytest.mark.parametrize("text", ["我要投诉你们乱收费", "我想查一下余额"])
def test_nothing_is_overruled_where_the_rules_decided_or_found_nothing(
    default_pack_with_models: Pack, text: str
) -> None:
    assert classify_call(default_pack_with_models, _call(text))["overruled"] == []


def test_a_malformed_call_says_what_is_wrong(default_pack_with_models: Pack) -> None:
    with pytest.raises(ValueError, match="transcript\\[0\\]"):
        classify_call(default_pack_with_models, {"transcript": [{"speaker": "caller", "text": "hi"}]})
