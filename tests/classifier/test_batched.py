"""A cold call is classified with the model's features of the whole call found at once
(`Classifier.classify`); the live desk scans one line at a time (`scan`, cached per line) and
decides on the scans. Both must say the same thing."""

from __future__ import annotations

import pytest

from assist.classifier.categorize import Classifier
from assist.classifier.model import Segment
from assist.classifier.segments import sample_segments
from assist.scripts.pack import Pack


def _cut(segments: list[Segment], chars: int) -> list[Segment]:
    """The call's segments repeated and cut to `chars` characters, as bench.classify measures a call."""
    texts = [s for s in segments if s.source != "context"]
    out = [s for s in segments if s.source == "context"]
    total = sum(len(s.text) for s in out)
    i = 0
    while texts and total < chars:
        seg = texts[i % len(texts)]
        out.append(Segment(seg.source, len(out), seg.text[: chars - total], seg.field))
        total += len(out[-1].text)
        i += 1
    return out


EACH_WAY = 1100
"""About this many sample calls are read whole and as many others cut to 300 characters: a number, not a share,
so that the comparison's cost stays put as the samples grow; taken at even steps over the whole file, so every
source of samples is in it."""


def _calls(pack: Pack) -> list[list[Segment]]:
    calls = [sample_segments(c) for c in pack.samples if c.get("kind", "call") == "call"]
    every = max(2, len(calls) // EACH_WAY)
    return [*calls[::every], *(_cut(ss, 300) for ss in calls[every // 2 :: every])]


def test_sample_calls_classify_the_same_cold_and_line_by_line(default_pack_with_models: Pack) -> None:
    clf = default_pack_with_models.classifier
    assert clf.model is not None
    calls = _calls(default_pack_with_models)
    assert len(calls) >= 2000
    results = []
    for segments in calls:
        per_line = [clf.scan(s) for s in segments]
        results.append(clf.classify(segments))
        assert results[-1] == clf.decide(per_line), segments
    # the comparison is not vacuous: the samples have rule hits, model decisions and model evidence
    assert {r.decided_by for r in results} >= {"rules", "model", "rules+model", "none"}
    assert any(e.rule == "model" for r in results for e in r.evidence)


def test_rules_alone_classify_the_same_cold_and_line_by_line(default_pack_with_models: Pack) -> None:
    clf = Classifier(default_pack_with_models.classifier.rules)
    for segments in _calls(default_pack_with_models):
        assert clf.classify(segments) == clf.decide([clf.scan(s) for s in segments]), segments


@pytest.mark.parametrize(
    "texts",
    [
        ("我要投", "诉你们"),  # a keyword split over two lines is in neither
        ("", "我要投诉", "，。"),  # empty and punctuation-only lines keep their place
        ("不是", "投诉"),  # a cue on one line does not negate a keyword on the next
        ("系统烦忙中请稍后", "我要头诉", "I am a jounalist"),  # fuzzy, sound and English typos, each on its own line
        ("我不给我解", "决我就去网点闹"),  # the model's pairs across two lines are not features of the call
        ("好的好的", "嗯", "我要头诉你门", "系统繁忙"),  # a sound-alike (and a look-alike's) on one line of several
        ("我要投诉", "不是"),  # a cue that opens the next line negates nothing on this one
    ],
)
def test_lines_stay_apart_when_the_call_is_read_at_once(default_pack_with_models: Pack, texts: tuple[str, ...]) -> None:
    clf = default_pack_with_models.classifier
    segments = [Segment("context", 0, "投诉专线", "queue"), *(Segment("customer", i, t) for i, t in enumerate(texts))]
    per_line = [clf.scan(s) for s in segments]
    assert clf.classify(segments) == clf.decide(per_line)
