"""Cantonese callers (Hong Kong, Guangdong): their negation and their plural 'you' (你哋, the bank) read as
Mandarin's do. Rules only: the default pack without its models."""

from __future__ import annotations

import pytest

from assist.scripts.pack import Pack
from tests.classifier.test_negation_scope import labels_of


@pytest.mark.parametrize(
    "text",
    [
        "新城電台新聞部，想問你哋對電話騙案有咩回應？唔係直播，我哋寫稿用。",
        "我唔係要投訴，想問下定期利率幾多。",
        "我哋冇喺度直播，只係想問下開戶要咩文件。",
    ],
)
def test_a_cantonese_negation_cancels_the_word_it_governs(default_pack: Pack, text: str) -> None:
    assert "media.live" not in labels_of(default_pack, text)
    assert "complaint.general" not in labels_of(default_pack, text)


def test_complaining_about_you_plural_in_cantonese_is_about_the_bank_not_the_agent(default_pack: Pack) -> None:
    assert labels_of(default_pack, "我要投訴你哋，轉賬三日都未到") == ("complaint.general",)
    assert labels_of(default_pack, "我要投訴你，你咩態度")[0] == "complaint.about_agent"
