"""Negation covers the phrase it governs, and '投诉你们' (the bank) is not '投诉你' (this agent)."""

from __future__ import annotations

import pytest

from assist.classifier.segments import call_segments
from assist.scripts.pack import Pack


def labels_of(pack: Pack, text: str) -> tuple[str, ...]:
    """The labels of a one-line call the customer says."""
    return pack.classifier.classify(call_segments({}, [], [("customer", text)])).labels


@pytest.mark.parametrize(
    "text",
    [
        "我也不是说要去12378投诉你们啊，就是想问问这个手续费是怎么收的",
        "我不会去银保监会投诉的，就问一下利率",
    ],
)
def test_a_negated_threat_also_negates_the_complaint_it_carries(default_pack: Pack, text: str) -> None:
    assert labels_of(default_pack, text) == ("none",)


def test_repeated_calls_are_not_negated_by_an_unrelated_cue(default_pack: Pack) -> None:
    labels = labels_of(default_pack, "这已经不是第一次打电话投诉了，上次说三天内回复，到现在没人理我，再拖我就去12378")
    assert labels[0] == "complaint.urgent"


@pytest.mark.parametrize(
    "text", ["我要投诉你们那个支行，存个钱还要我买理财才给办", "我要头诉你们那个支行，存个钱还要我买理财才给办"]
)
def test_complaining_about_the_bank_is_a_general_complaint(default_pack: Pack, text: str) -> None:
    assert labels_of(default_pack, text) == ("complaint.general",)


def test_complaining_about_you_is_about_the_agent(default_pack: Pack) -> None:
    assert labels_of(default_pack, "你态度太差了，我要投诉你")[0] == "complaint.about_agent"


@pytest.mark.parametrize(
    "text", ["转账显示成功了但对方一直没收到，你们那边是不是系统出问题了", "你们系统会不会出故障了？我转账一直失败"]
)
def test_an_a_not_a_question_does_not_negate(default_pack: Pack, text: str) -> None:
    assert labels_of(default_pack, text)[0] == "system_outage"


@pytest.mark.parametrize(
    "text",
    [
        "你们收费太乱了，我要投诉，叫你们领导来",
        "网点排队太久了我很不满意，我要找你们班长反映",
        "我对你们的效率很不满意，信用卡审批太慢了",
    ],
)
def test_asking_for_the_bank_or_its_leaders_keeps_a_general_complaint(default_pack: Pack, text: str) -> None:
    assert labels_of(default_pack, text) == ("complaint.general",)


@pytest.mark.parametrize(("text", "threat"), [("我不找媒体，就想把这事记下来", False), ("我要找媒体曝光你们", True)])
def test_a_cue_that_runs_into_the_keyword_negates_it(default_pack: Pack, text: str, threat: bool) -> None:
    """不找 and the keyword 找媒体 share a character: the rules alone (the model cannot mask them) see no threat."""
    parts = default_pack.classifier.parts(call_segments({}, [], [("customer", text)]))
    assert ("complaint.urgent" in parts.rules.labels) is threat
