"""The default pack labels its own samples (samples.jsonl) right, primary label >= 95 %."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from assist.classifier.categorize import Classifier
from assist.classifier.model import CATEGORY_IDS
from assist.classifier.rules import compile_rules
from assist.classifier.scoring import call_segments, gold_labels, score

PACK = Path(__file__).resolve().parents[2] / "assist" / "scripts" / "packs" / "default"


def test_samples_primary_accuracy() -> None:
    raw = YAML(typ="rt").load((PACK / "rules.yaml").read_text(encoding="utf-8"))
    clf = Classifier(compile_rules(raw, priority=CATEGORY_IDS))
    calls = [json.loads(x) for x in (PACK / "samples.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(calls) >= 150
    assert {c["labels"][0] for c in calls} == set(CATEGORY_IDS)
    predicted = {c["id"]: clf.classify(call_segments(c)).labels for c in calls}
    report = score(gold_labels(calls), predicted)
    misses = [(m.id, m.gold, m.predicted) for m in report.misses]
    assert report.primary_accuracy >= 0.95, misses


def test_scoring_changes() -> None:
    from assist.classifier.scoring import changes

    gold = {"a": ("none",), "b": ("system_outage",)}
    before = {"a": ("none",), "b": ("none",)}
    after = {"a": ("complaint.general",), "b": ("system_outage",)}
    ch = {c.id: c for c in changes(gold, before, after)}
    assert ch["b"].fixed and ch["a"].broken
    r = score(gold, after)
    assert r.primary_accuracy == 0.5
    assert r.confusions == (("none", "complaint.general", 1),)
