"""Measure the default pack's classifier on labelled calls.

    python -m bench.accuracy [FILE.jsonl]

Default: the shared dev set (../shared/samples or /work/shared/samples), else the
default pack's own samples. Prints primary accuracy, per-category precision/recall
and each misclassified call with predicted vs gold labels.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from assist.classifier.categorize import Classifier
from assist.classifier.model import CATEGORY_IDS
from assist.classifier.rules import compile_rules
from assist.classifier.scoring import gold_labels, score
from assist.classifier.segments import sample_segments

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "assist" / "scripts" / "packs" / "default"
DEV_CANDIDATES = (
    Path("/work/shared/samples/calls.dev.jsonl"),
    ROOT.parent / "shared" / "samples" / "calls.dev.jsonl",
)


def default_file() -> Path:
    for p in DEV_CANDIDATES:
        if p.exists():
            return p
    return PACK / "samples.jsonl"


def load_calls(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_classifier() -> Classifier:
    raw = YAML(typ="rt").load((PACK / "rules.yaml").read_text(encoding="utf-8"))
    return Classifier(compile_rules(raw, priority=CATEGORY_IDS))


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else default_file()
    calls = load_calls(path)
    clf = load_classifier()
    predicted = {str(c["id"]): clf.classify(sample_segments(c)).labels for c in calls}
    report = score(gold_labels(calls), predicted)
    print(f"{path}: {report.total} calls")
    print(f"primary accuracy {report.primary_accuracy:.1%}   exact label sets {report.exact_accuracy:.1%}")
    print(f"{'category':24} {'prec':>6} {'recall':>6} {'tp':>4} {'fp':>4} {'fn':>4}")
    for c in report.categories:
        print(f"{c.category:24} {c.precision:6.1%} {c.recall:6.1%} {c.true_pos:4} {c.false_pos:4} {c.false_neg:4}")
    if report.confusions:
        print("confusions (gold -> predicted):")
        for g, p, n in report.confusions:
            print(f"  {g} -> {p}: {n}")
    if report.misses:
        print("misclassified:")
        for m in report.misses:
            print(f"  {m.id}: predicted {list(m.predicted)} gold {list(m.gold)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
