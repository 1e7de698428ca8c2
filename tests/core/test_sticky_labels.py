"""The category reflects the whole call and does not flap."""

from __future__ import annotations

from assist.classifier.model import CATEGORY_IDS, Classification, Evidence
from assist.live.calls import CallState, sticky

PRIORITY = list(CATEGORY_IDS)


def _c(*labels: str) -> Classification:
    ev = tuple(Evidence(lb, f"r.{lb}", ("w",), "customer", 0, (0, 1)) for lb in labels if lb != "none")
    return Classification(labels[0], labels, ev)


def test_a_label_once_shown_stays_when_a_later_decision_drops_it() -> None:
    merged = sticky(_c("complaint.general"), Classification.empty(), PRIORITY)
    assert merged.labels == ("complaint.general",)


def test_general_complaint_upgrades_to_urgent_and_general_is_dropped() -> None:
    merged = sticky(_c("complaint.general"), _c("complaint.urgent"), PRIORITY)
    assert merged.labels == ("complaint.urgent",)


def test_urgent_is_not_downgraded_to_general() -> None:
    merged = sticky(_c("complaint.urgent"), _c("complaint.general"), PRIORITY)
    assert merged.labels == ("complaint.urgent",)


def test_new_labels_are_added_in_priority_order() -> None:
    merged = sticky(_c("system_outage"), _c("media.live"), PRIORITY)
    assert merged.labels == ("media.live", "system_outage")
    assert merged.category == "media.live"
    assert {e.category for e in merged.evidence} == {"media.live", "system_outage"}


def test_none_stands_alone() -> None:
    assert sticky(Classification.empty(), Classification.empty(), PRIORITY).labels == ("none",)
    assert sticky(Classification.empty(), _c("system_outage"), PRIORITY).labels == ("system_outage",)


def test_interim_transcript_line_is_replaced_by_the_next_line_of_that_speaker() -> None:
    call = CallState("c", "u")
    assert call.add_line("customer", "我要", final=False) == 0
    assert call.add_line("customer", "我要投诉", final=True) == 0
    assert call.add_line("agent", "好的", final=True) == 1
    assert [ln.text for ln in call.transcript] == ["我要投诉", "好的"]


def test_note_replaces_the_previous_note() -> None:
    call = CallState("c", "u")
    call.set_note("first")
    call.set_note("second")
    assert call.notes == ["second"]
    call.set_note("")
    assert call.notes == []
