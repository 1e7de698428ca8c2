"""A self-correction right after a keyword cancels it, even past a pause; a plain pause does not."""

from __future__ import annotations

from assist.classifier.categorize import Classifier
from assist.classifier.rules import compile_rules
from assist.classifier.segments import call_segments

RULES = {
    "negation": {"before": ["不是"], "after": ["就算了"], "corrections": ["哦不对"], "window": 4},
    "signals": {"grievance": {"rules": [{"id": "word", "any": ["投诉"], "in": ["customer"]}]}},
    "categories": {
        "complaint.general": {
            "requires": ["grievance"],
            "rules": [{"id": "word", "any": ["投诉"], "in": ["customer"]}],
        },
    },
}
PRIORITY = ["complaint.general", "none"]


def _labels(text: str) -> tuple[str, ...]:
    classifier = Classifier(compile_rules(RULES, priority=PRIORITY))
    return classifier.classify(call_segments({}, [], [("customer", text)])).labels


def test_correction_across_a_pause_cancels_the_keyword() -> None:
    assert _labels("我想投诉……哦不对，我是想咨询一下") == ("none",)


def test_after_cue_does_not_reach_across_a_pause() -> None:
    assert _labels("我要投诉，就算了我也要说") == ("complaint.general",)


def test_keyword_without_a_correction_still_counts() -> None:
    assert _labels("我想投诉……你们太慢了") == ("complaint.general",)
