"""The pure feedback core: masking, items and their lifecycle, samples, agreement figures."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assist.errors import Conflict, NotFound, ValidationFailed
from assist.feedback import items as fi
from assist.feedback.agreement import agreement, day_range
from assist.feedback.mask import mask_context, mask_text

KNOWN = ("major_incident", "complaint.urgent", "system_outage", "complaint.general", "none")
TZ = "Asia/Shanghai"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的手机号是13800138000", "我的手机号是138****8000"),
        ("号码 138 0013 8000 对吗", "号码 138 **** 8000 对吗"),
        ("身份证11010119900101123X", "身份证**************123X"),
        ("卡号6222 0212 3456 7890", "卡号**** **** **** 7890"),
        ("打12378投诉", "打12378投诉"),
        ("95588说的", "95588说的"),
        ("2024-01-05那天", "2024-01-05那天"),
        ("邮箱 li.ming@example.com", "邮箱 l***@example.com"),
    ],
)
def test_long_numbers_and_emails_are_masked_service_numbers_kept(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_context_masks_names_and_numbers_keeps_keys() -> None:
    ctx = mask_context(
        {"customer_name": "李女士", "caller_number": "13800138000", "queue": "retail", "vip": True, "ivr": 12345678}
    )
    assert ctx == {
        "customer_name": "李**",
        "caller_number": "138****8000",
        "queue": "retail",
        "vip": True,
        "ivr": "****5678",
    }


def text() -> fi.CallText:
    return fi.call_text(
        {"customer_name": "张三"}, ["客户来电 13800138000"], [("customer", "我要投诉"), ("agent", "这是我们系统的问题")]
    )


def correction(
    existing: fi.FeedbackItem | None = None,
    category: str = "none",
    now: float = 100.0,
    predicted: tuple[str, ...] = ("complaint.general",),
) -> fi.FeedbackItem:
    return fi.correct_category(
        existing,
        key=fi.category_key("c1", "a1"),
        source="agent",
        call_id="c1",
        user="a1",
        role="agent",
        category=category,
        known=KNOWN,
        predicted=predicted,
        call=text(),
        pack_version="v1",
        comment="",
        now=now,
    )


def test_a_category_correction_can_change_while_open_and_not_after() -> None:
    item = correction()
    assert item.id == fi.item_id("category:c1:a1") and item.status == "open" and item.corrected == "none"
    assert item.call.notes == ("客户来电 138****8000",) and item.call.context == {"customer_name": "张*"}
    changed = correction(item, "system_outage", now=200.0)
    assert (changed.id, changed.corrected, changed.created_at, changed.updated_at) == (
        item.id,
        "system_outage",
        100.0,
        200.0,
    )
    rejected = fi.reject(changed, "客户确实在投诉", "t1", 300.0)
    with pytest.raises(Conflict):
        correction(rejected, "none")


def test_bad_corrections_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        correction(category="gossip")
    with pytest.raises(ValidationFailed):
        correction(category="complaint.general")  # what the call already is
    with pytest.raises(ValidationFailed):
        fi.correct_category(
            None,
            key="k",
            source="agent",
            call_id="c1",
            user="a1",
            role="agent",
            category="none",
            known=KNOWN,
            predicted=("system_outage",),
            call=text(),
            pack_version="v1",
            comment="x" * 501,
            now=1.0,
        )


def test_a_warning_report_needs_the_warning_to_have_been_given() -> None:
    args: dict[str, Any] = {
        "call_id": "c1",
        "user": "a1",
        "role": "agent",
        "index": 1,
        "rule": "system_blame",
        "predicted": ("system_outage",),
        "call": text(),
        "pack_version": "v1",
        "comment": "",
        "now": 5.0,
    }
    with pytest.raises(NotFound):
        fi.report_warning(None, pushed=None, **args)
    item = fi.report_warning(None, pushed={"phrase": "系统的问题"}, **args)
    assert (item.kind, item.line_index, item.line_text) == ("warning", 1, "这是我们系统的问题")
    assert item.phrase == "系统的问题"
    assert fi.report_warning(item, pushed={"phrase": "系统的问题"}, **args) is item


def test_accepting_makes_a_sample_in_the_pack_shape() -> None:
    item = correction(predicted=("complaint.general",))
    labels = fi.accepted_labels(item, None, KNOWN)
    assert labels == ("none",)
    assert fi.accepted_labels(item, ["complaint.general", "system_outage"], KNOWN) == (
        "system_outage",
        "complaint.general",
    )
    for bad in (["gossip"], ["none", "system_outage"]):
        with pytest.raises(ValidationFailed):
            fi.accepted_labels(item, bad, KNOWN)
    sample = fi.sample_for(item, labels, "t1")
    assert set(sample) == {"id", "context", "notes", "transcript", "labels", "why"}
    assert sample["transcript"] == [
        {"speaker": "customer", "text": "我要投诉"},
        {"speaker": "agent", "text": "这是我们系统的问题"},
    ]
    assert sample["labels"] == ["none"] and sample["id"] == item.id
    done = fi.accept(item, labels, "t1", 9.0, draft_id=3, sample_id=item.id)
    assert (done.status, done.decided_by, done.draft_id) == ("accepted", "t1", 3)
    with pytest.raises(Conflict):
        fi.accept(done, labels, "t2", 10.0, draft_id=3, sample_id=item.id)
    with pytest.raises(Conflict):
        fi.reject(done, "no", "t2", 10.0)


def test_rejecting_needs_a_reason() -> None:
    with pytest.raises(ValidationFailed):
        fi.reject(correction(), "  ", "t1", 1.0)


def test_agent_lines_and_jsonl_appends() -> None:
    item = fi.report_warning(
        None,
        call_id="c1",
        user="a1",
        role="agent",
        index=1,
        rule="system_blame",
        pushed={"phrase": "系统的问题"},
        predicted=("none",),
        call=text(),
        pack_version="v1",
        comment="",
        now=1.0,
    )
    line = fi.agent_line_for(item, "t1", in_samples=True)
    assert {k: line[k] for k in ("id", "kind", "text", "forbidden", "rule", "labels")} == {
        "id": item.id,
        "kind": "agent_line",
        "text": "这是我们系统的问题",
        "forbidden": False,
        "rule": "system_blame",
        "labels": ["none"],
    }
    assert "labels" not in fi.agent_line_for(item, "t1", in_samples=False)
    text_ = fi.append_line('{"id": "a"}', line)
    assert text_.endswith("\n") and json.loads(text_.splitlines()[1])["id"] == item.id
    assert fi.has_line(text_, item.id) and not fi.has_line(text_, "fb-nope")


def test_replay_rebuilds_a_stored_call_with_interim_lines_replaced() -> None:
    events = [
        {"kind": "transcript", "payload": {"speaker": "customer", "text": "我要", "final": False}},
        {"kind": "transcript", "payload": {"speaker": "customer", "text": "我要投诉 13800138000", "final": True}},
        {"kind": "note", "payload": {"text": "旧"}},
        {"kind": "note", "payload": {"text": "新备注"}},
        {"kind": "labels", "payload": {"labels": ["complaint.general"]}},
    ]
    got = fi.replay("c1", "a1", {"queue": "retail"}, events)
    assert got.transcript == (("customer", "我要投诉 138****8000"),) and got.notes == ("新备注",)


def at(day: str, hour: int = 10) -> float:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=ZoneInfo(TZ)).timestamp()


def test_agreement_per_day_and_category() -> None:
    now = at("2026-03-10", 12)
    calls = [
        ("a", at("2026-03-09"), "system_outage"),
        ("b", at("2026-03-09"), "system_outage"),
        ("c", at("2026-03-10"), "none"),
        ("d", at("2026-03-10", 1), "system_outage"),
        ("old", at("2026-01-01"), "none"),
    ]
    out = agreement(calls, ["b", "old"], now=now, days=2, tz=TZ, priority=KNOWN)
    assert out["days"] == ["2026-03-09", "2026-03-10"]
    assert out["cells"] == [
        {"day": "2026-03-09", "category": "system_outage", "calls": 2, "corrections": 1, "agreement": 0.5},
        {"day": "2026-03-10", "category": "system_outage", "calls": 1, "corrections": 0, "agreement": 1.0},
        {"day": "2026-03-10", "category": "none", "calls": 1, "corrections": 0, "agreement": 1.0},
    ]
    totals = {t["category"]: t for t in out["totals"]}
    assert totals["system_outage"] == {"category": "system_outage", "calls": 3, "corrections": 1, "agreement": 0.6667}
    assert totals["major_incident"]["agreement"] is None
    assert len(day_range(now, 10_000, TZ)) == 366
