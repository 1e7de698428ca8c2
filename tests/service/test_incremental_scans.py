"""A live call's edit costs a scan of what it changed, not of the whole call (issue 12).

A pure unit test of `CallState`: the classifier is the default pack's, subclassed only to count
what `scan` is asked to read.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assist.classifier.categorize import Classifier
from assist.classifier.model import Segment, SegmentScan
from assist.config import DEFAULT_PACK
from assist.live.calls import CallState
from assist.scripts.pack import Pack, load_pack_dir

LINES = [
    ("customer", "您好，我想问一下我的信用卡账单"),
    ("agent", "好的，请您提供一下卡号后四位"),
    ("customer", "我昨天在手机银行上转账一直失败"),
    ("agent", "非常抱歉给您带来不便"),
]


class CountingClassifier(Classifier):
    """The pack's own classifier, noting every segment it scans."""

    def __init__(self, base: Classifier) -> None:
        super().__init__(base.rules, base.model, base.settings)
        self.scanned: list[Segment] = []

    def scan(self, segment: Segment) -> SegmentScan:
        self.scanned.append(segment)
        return super().scan(segment)

    def take(self) -> list[tuple[str, int, str]]:
        out: list[tuple[str, int, str]] = [(s.source, s.index, s.text) for s in self.scanned]
        self.scanned.clear()
        return out


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack_dir(DEFAULT_PACK)


@pytest.fixture
def clf(pack: Pack) -> Iterator[CountingClassifier]:
    yield CountingClassifier(pack.classifier)


def call_with_lines(n: int, clf: Classifier, pack: Pack) -> CallState:
    call = CallState("c1", "a1", context={"queue": "retail"})
    for i in range(n):
        speaker, text = LINES[i % len(LINES)]
        call.add_line(speaker, f"{text}（{i}）", True)  # type: ignore[arg-type]
    call.set_note("客户问信用卡额度")
    call.classify(clf, pack.priority)
    return call


@pytest.mark.parametrize("lines", [3, 200])
def test_a_note_edit_scans_the_note_alone_however_long_the_call(
    lines: int, clf: CountingClassifier, pack: Pack
) -> None:
    call = call_with_lines(lines, clf, pack)
    assert len(clf.take()) == lines + 2  # the first decision read everything once: context, note, lines

    call.set_note("客户问信用卡额度；客户说手机银行转账提示系统繁忙，多次失败")
    call.classify(clf, pack.priority)
    assert clf.take() == [("note", 0, "客户问信用卡额度；客户说手机银行转账提示系统繁忙，多次失败")]
    assert "system_outage" in call.result.labels

    call.classify(clf, pack.priority)  # nothing changed: nothing is read again
    assert clf.take() == []


def test_a_new_line_or_a_revised_interim_line_scans_that_line_alone(clf: CountingClassifier, pack: Pack) -> None:
    call = call_with_lines(50, clf, pack)
    clf.take()
    index = call.add_line("customer", "我要投诉", False)
    call.classify(clf, pack.priority)
    assert clf.take() == [("customer", 50, "我要投诉")]
    call.add_line("agent", "好的", True)
    call.add_line("customer", "我要投诉你们的年费", True)  # the interim line is revised in place
    call.classify(clf, pack.priority)
    assert clf.take() == [("customer", index, "我要投诉你们的年费"), ("agent", 51, "好的")]


def test_a_changed_context_rescans_the_context_alone(clf: CountingClassifier, pack: Pack) -> None:
    call = call_with_lines(20, clf, pack)
    clf.take()
    call.context = {**call.context, "subject": "投诉"}
    call.classify(clf, pack.priority)
    assert sorted(clf.take()) == [("context", 0, "retail"), ("context", 0, "投诉")]


def test_the_cached_decision_is_the_decision_of_the_whole_call_read_afresh(clf: CountingClassifier, pack: Pack) -> None:
    call = call_with_lines(30, clf, pack)
    call.add_line("customer", "", True)  # a blank line is no segment
    call.add_line("customer", "你们再不处理我就找记者曝光", False)
    call.set_note("客户对年费不满，要求退还")
    call.classify(clf, pack.priority)
    call.add_line("customer", "你们再不处理我就找记者曝光，我要投诉", True)
    call.context = {"queue": "vip"}
    call.classify(clf, pack.priority)
    assert [s.segment for s in call.scans(clf)] == call.segments()  # cut as `call_segments` cuts a call
    fresh = pack.classifier.classify(call.segments())
    assert fresh.category != "none"
    assert clf.decide(call.scans(clf)) == fresh


def test_a_new_pack_rescans_everything(clf: CountingClassifier, pack: Pack) -> None:
    call = call_with_lines(10, clf, pack)
    clf.take()
    call.forget_scans()
    call.classify(clf, pack.priority)
    assert len(clf.take()) == 12
    other = CountingClassifier(pack.classifier)  # a new pack's classifier is another object
    call.classify(other, pack.priority)
    assert len(other.take()) == 12
