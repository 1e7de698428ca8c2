"""Pure rules of the pack lifecycle: approvals, the sample gate, rebase, rollback."""

from __future__ import annotations

import pytest

from assist.errors import Conflict, Unauthorized
from assist.scripts import lifecycle as lc

FILES = {"pack.yaml": "id: p\n"}
CATS = ("system_outage", "complaint.general", "none")


def passing() -> lc.SampleResult:
    return lc.judge_samples({"a": ["none"]}, {"a": ["none"]}, {"a": ["none"]}, lc.Policy(), CATS)


def test_author_cannot_approve_and_a_second_trainer_can() -> None:
    d, audit = lc.new_draft(1, 3, FILES, "t1", 10.0)
    assert audit.action == "draft.create" and d.editors == ("t1",)
    d, _ = lc.submit(d, "t1", 0, passing(), 11.0)
    with pytest.raises(Unauthorized):
        lc.approve(d, "t1", 12.0)
    d, audit = lc.approve(d, "t2", 12.0)
    assert d.approvals == ("t2",) and audit.user == "t2"
    with pytest.raises(Conflict):
        lc.approve(d, "t2", 13.0)
    assert lc.publish_blockers(d, lc.Policy(), 3, 0, passing()) == []


def test_an_edit_withdraws_approvals_and_makes_the_editor_ineligible() -> None:
    d, _ = lc.new_draft(1, 3, FILES, "t1", 10.0)
    d, _ = lc.submit(d, "t1", 0, passing(), 11.0)
    d, _ = lc.approve(d, "t2", 12.0)
    d, audit = lc.edit(d, {"pack.yaml": "id: q\n"}, "t2", 13.0, ["pack.yaml: changed"])
    assert d.status == "editing" and d.approvals == () and "t2" in d.editors
    assert audit.detail["approvals_withdrawn"] == ["t2"]
    d, _ = lc.submit(d, "t1", 0, passing(), 14.0)
    with pytest.raises(Unauthorized):
        lc.approve(d, "t2", 15.0)


def test_approval_count_is_configurable_and_zero_lets_a_small_center_publish_alone() -> None:
    d, _ = lc.new_draft(1, 3, FILES, "t1", 10.0)
    assert lc.publish_blockers(d, lc.Policy(approvals_required=0), 3, 0, passing()) == []
    two = lc.Policy(approvals_required=2)
    d, _ = lc.submit(d, "t1", 0, passing(), 11.0)
    d, _ = lc.approve(d, "t2", 12.0)
    assert any("2 approval" in b for b in lc.publish_blockers(d, two, 3, 0, passing()))
    d, _ = lc.approve(d, "t3", 13.0)
    assert lc.publish_blockers(d, two, 3, 0, passing()) == []


def test_invalid_pack_failing_samples_or_stale_base_block_publishing() -> None:
    d, _ = lc.new_draft(1, 3, FILES, "t1", 10.0)
    with pytest.raises(Conflict, match="problem"):
        lc.submit(d, "t1", 2, passing(), 11.0)
    policy = lc.Policy(approvals_required=0)
    blockers = lc.publish_blockers(d, policy, 4, 1, None)
    assert any("changed since" in b for b in blockers)
    assert any("problem" in b for b in blockers)
    assert any("samples" in b for b in blockers)


def test_sample_gate_blocks_regressions_and_low_accuracy() -> None:
    gold = {"a": ["system_outage"], "b": ["none"], "c": ["complaint.general"]}
    published = {"a": ["system_outage"], "b": ["system_outage"], "c": ["none"]}
    draft = {"a": ["none"], "b": ["none"], "c": ["complaint.general"]}
    r = lc.judge_samples(gold, published, draft, lc.Policy(), CATS)
    assert not r.passed and "a" in r.gate[0]
    assert {c.id for c in r.changed if c.fixed} == {"b", "c"}
    assert {c.id for c in r.changed if c.broken} == {"a"}
    assert r.report.primary_accuracy == pytest.approx(2 / 3)
    assert lc.judge_samples(gold, published, draft, lc.Policy(allow_regressions=True), CATS).passed
    strict = lc.Policy(allow_regressions=True, min_accuracy=0.9)
    assert "below" in lc.judge_samples(gold, published, draft, strict, CATS).gate[0]
    out = r.to_json()
    outage = next(c for c in out["categories"] if c["category"] == "system_outage")
    assert outage["recall"] == 0.0 and out["published_accuracy"] == pytest.approx(1 / 3)


def test_rebase_takes_files_only_the_published_side_changed_and_refuses_real_conflicts() -> None:
    base = {"a": "1", "b": "1"}
    d, _ = lc.new_draft(1, 3, base, "t1", 10.0)
    d, _ = lc.edit(d, {"a": "mine", "b": "1"}, "t1", 11.0)
    d2, audit = lc.rebase(d, base, {"a": "1", "b": "theirs"}, 4, "t1", 12.0)
    assert d2.files == {"a": "mine", "b": "theirs"} and d2.base_version == 4 and audit.version == 4
    with pytest.raises(Conflict, match="a"):
        lc.rebase(d, base, {"a": "theirs", "b": "1"}, 4, "t1", 12.0)


def test_rollback_is_a_new_version_and_closed_drafts_stay_closed() -> None:
    audit = lc.rollback(2, 7, "t1", 20.0)
    assert (audit.action, audit.version, audit.detail["restored"]) == ("pack.rollback", 7, 2)
    d, _ = lc.new_draft(1, 3, FILES, "t1", 10.0)
    d, _ = lc.publish(d, "t1", 4, 11.0)
    assert d.published_version == 4
    with pytest.raises(Conflict):
        lc.edit(d, FILES, "t1", 12.0)
    assert lc.publish_blockers(d, lc.Policy(), 4, 0, passing()) == ["this draft is published"]
