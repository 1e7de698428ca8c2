"""Measure the model's thresholds (model.yaml `calls`) instead of guessing them.

Every sample call of the default pack written apart from it (ids `blind-…`: sets written from the
category definitions only, then folded in) is scored by a model that never saw it (5-fold
cross-validation, as the back-test does), and the combined decision is taken again under each point of a
grid of thresholds — the same for every category. It prints the combined macro-F1 of the primary label
and the decoys' accuracy for the pack's own thresholds and for the best points of the grid, then scores
the best point and the pack's own on the held-out sets (`bench/heldout/*`, never trained on) as a check
that a choice made on the folds carries over.

    python -m bench.thresholds [--top 10]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assist.classifier.combine import ModelSettings, Thresholds, combine
from assist.classifier.decide import Decider
from assist.classifier.model import Classification
from assist.classifier.segments import sample_segments
from assist.scripts.pack import Pack, cross_validate_pack, read_pack_dir
from bench.blind import PACK, default_pack, load_jsonl, primary_f1

HELDOUT = Path(__file__).resolve().parent / "heldout"
GRID = {
    "alone": (-0.5, -0.3, -0.1, 0.1),
    "beside": (0.0, 0.1, 0.2, 0.3, 0.4, 0.6),
    "veto": (-0.5, -0.3, -0.2, -0.1, 0.0, 0.1, 0.3, 99.0),
    "overrule": (0.0, 0.2, 0.4, 99.0),
}


@dataclass(frozen=True)
class Prepared:
    """One call's rules decision, scans and model scores: what `combine` needs, computed once."""

    gold: str
    labels: frozenset[str]
    decoy: bool
    rules: Classification
    scans: Sequence[Any]
    scores: Mapping[str, float] | None


def prepare(
    pack: Pack, calls: Sequence[Mapping[str, Any]], held_out: Mapping[str, Mapping[str, float]] | None
) -> list[Prepared]:
    clf = pack.classifier
    decide = Decider(clf.rules)
    out = []
    for call in calls:
        scans = [clf.scan(s) for s in sample_segments(call)]
        scores = held_out.get(str(call["id"])) if held_out is not None else clf.scores(scans)
        out.append(
            Prepared(
                str(call["labels"][0]),
                frozenset(call["labels"]),
                bool(call.get("decoy") or call.get("hard")),
                decide(scans),
                scans,
                scores,
            )
        )
    return out


def measure(pack: Pack, calls: Sequence[Prepared], settings: ModelSettings) -> tuple[float, float, float]:
    """Combined macro-F1 of the primary label, the decoys' accuracy, and how often the whole label set is
    right (a second label added or missed counts here)."""
    model = pack.classifier.model
    assert model is not None
    labels = [combine(c.rules, c.scores, model, c.scans, settings, pack.priority).labels for c in calls]
    primary = [lb[0] for lb in labels]
    f1 = primary_f1([c.gold for c in calls], primary)
    decoys = [i for i, c in enumerate(calls) if c.decoy]
    return (
        sum(f1.values()) / len(f1),
        sum(primary[i] == calls[i].gold for i in decoys) / len(decoys) if decoys else 1.0,
        sum(frozenset(lb) == c.labels for lb, c in zip(labels, calls, strict=True)) / len(calls),
    )


def uniform(point: Mapping[str, float], like: ModelSettings) -> ModelSettings:
    t = Thresholds(**point)
    return ModelSettings(like.enabled, dict.fromkeys(like.thresholds, t), like.minimum_samples)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args(argv)
    pack = default_pack()
    own = pack.classifier.settings
    files = read_pack_dir(PACK)
    print("cross-validating the default pack's call model (5 folds) ...", flush=True)
    cv = cross_validate_pack(files)
    apart = [
        c for c in pack.samples if str(c.get("id", "")).startswith("blind-") and c.get("labels") and str(c["id"]) in cv
    ]
    folds = prepare(pack, apart, cv)
    base = measure(pack, folds, own)
    print(f"{len(folds)} calls written apart from the pack, scored by models that never saw them")
    print(f"the pack's own thresholds: macro-F1 {base[0]:.4f}, decoys {base[1]:.4f}, label set {base[2]:.4f}")
    results = []
    for values in itertools.product(*GRID.values()):
        point = dict(zip(GRID, values, strict=True))
        results.append((measure(pack, folds, uniform(point, own)), point))
    results.sort(key=lambda r: (-r[0][0], -r[0][1]))
    print(f"\nbest {args.top} of {len(results)} points (the same thresholds for every category):")
    for (f1, dec, exact), point in results[: args.top]:
        print(f"  macro-F1 {f1:.4f}  decoys {dec:.4f}  label set {exact:.4f}  {point}")
    chosen = [("own", own)] + [(f"#{i + 1}", uniform(p, own)) for i, (_, p) in enumerate(results[:3])]
    print("\nheld-out sets (never trained on; the pack's full model): macro-F1 / decoys / label set")
    print("  " + " " * 8 + "".join(f"{name:>24}" for name, _ in chosen))
    for d in sorted(p for p in HELDOUT.iterdir() if (p / "calls.jsonl").exists()):
        calls = prepare(pack, load_jsonl(d / "calls.jsonl"), None)
        cells = ["{:.3f} / {:.3f} / {:.3f}".format(*measure(pack, calls, st)) for _, st in chosen]
        print(f"  {d.name:8}" + "".join(f"{c:>24}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
