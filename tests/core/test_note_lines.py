"""A live note is read as its lines, as the samples write notes, and an edit rescans only the lines it changed."""

from __future__ import annotations

from assist.classifier.categorize import Classifier
from assist.classifier.model import Segment, SegmentScan
from assist.live.calls import CallState
from assist.scripts.pack import Pack


class CountingClassifier(Classifier):
    """The pack's own classifier, noting the text of every segment it scans."""

    def __init__(self, base: Classifier) -> None:
        super().__init__(base.rules, base.model, base.settings)
        self.scanned: list[str] = []

    def scan(self, segment: Segment) -> SegmentScan:
        self.scanned.append(segment.text)
        return super().scan(segment)


def test_a_note_is_one_segment_per_non_blank_line() -> None:
    call = CallState("c1", "a1")
    call.set_note("客户手机银行转账失败\n\n  \r\n客户要求登记投诉\n")
    assert [(s.source, s.index, s.text) for s in call.segments()] == [
        ("note", 0, "客户手机银行转账失败"),
        ("note", 1, "客户要求登记投诉"),
    ]


def test_an_edit_rescans_only_the_lines_it_changed_and_evidence_follows_a_moved_line(default_pack: Pack) -> None:
    clf = CountingClassifier(default_pack.classifier)
    call = CallState("c1", "a1")
    call.set_note("客户来电咨询")
    assert call.classify(clf, default_pack.priority).labels == ("none",)
    clf.scanned.clear()

    call.set_note("客户来电咨询\n手机银行一直提示系统繁忙，转账失败")
    result = call.classify(clf, default_pack.priority)
    assert clf.scanned == ["手机银行一直提示系统繁忙，转账失败"]
    assert result.category == "system_outage"
    assert {(e.source, e.index) for e in result.evidence if e.category == "system_outage"} == {("note", 1)}

    clf.scanned.clear()
    call.set_note("VIP客户\n客户来电咨询\n手机银行一直提示系统繁忙，转账失败")  # a line written above the others
    result = call.classify(clf, default_pack.priority)
    assert clf.scanned == ["VIP客户"]
    assert {(e.source, e.index) for e in result.evidence if e.category == "system_outage"} == {("note", 2)}
