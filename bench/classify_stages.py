"""Where a cold classification's time goes, stage by stage, for this tree and another revision taking
turns: the before/after of a speed step too small to see in `bench.classify`'s p99 on a busy machine.

`Classifier.classify` is replayed stage by stage (normalise, keyword search, hits -> rules, decide, the
model's features, its scores, combine) on every call brought to 300 characters, this tree's and REV's
classifier (`bench.classify --against`'s copy) taking turns on each call. Each stage of each call keeps
its best of the rounds (what the code costs, not what the other processes on the machine took). The
tables give each stage's mean, in microseconds, over every call and over the slowest 2 % (the p99's
neighbourhood), and the median and p99 of whole calls (the sum of a call's stage bests).

    python -m bench.classify_stages [CALLS.jsonl] --against REV [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assist.classifier.model import Segment
from assist.classifier.segments import call_segments
from assist.cli import pack_with_models
from assist.config import DEFAULT_PACK
from bench.classify import CALL_CHARS, classifier_at, load_calls, pct, to_size

STAGES = ("normalise", "keyword search", "hits -> rules", "decide", "model features", "model scores", "combine")


def stage_times(clf: Any, segments: Sequence[Segment]) -> list[float]:
    """Seconds per stage of `clf.classify(segments)`, doing what it does (the rules and model of a pack
    with a model)."""
    mod = sys.modules[type(clf).__module__]
    t = time.perf_counter
    t0 = t()
    ns = mod.normalize_all([s.text for s in segments])
    t1 = t()
    found = clf._matcher.find_call(ns, [clf._uses_for(seg) is not None for seg in segments])
    t2 = t()
    scans = [clf._scan(seg, n, hits, ()) for seg, n, hits in zip(segments, ns, found, strict=True)]
    t3 = t()
    by_rules = clf._decide(scans)
    t4 = t()
    idx = clf.model.encode_call(
        mod.SEPARATOR.join(n.text for seg, n in zip(segments, ns, strict=True) if seg.source != "context")
    )
    t5 = t()
    scores = clf.model.scores_of(idx)
    t6 = t()
    if scores is not None:
        mod.combine(by_rules, scores, clf.model, scans, clf.settings, clf.rules.priority, idx, ns)
    t7 = t()
    return [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6]


def _chars(segments: Sequence[Segment]) -> int:
    """A call's characters as `to_size` counts them (context fields included)."""
    return sum(len(s.text) for s in segments)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("calls", nargs="?", type=Path)
    ap.add_argument("--against", metavar="REV", required=True)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    written = [
        call_segments(
            c.get("context") or {},
            c.get("notes") or [],
            [(t["speaker"], t["text"]) for t in c.get("transcript") or []],
        )
        for c in load_calls(args.calls)
    ]
    segs = [to_size(ss, CALL_CHARS) for ss in written]
    clf = pack_with_models(DEFAULT_PACK).classifier
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        old = classifier_at(args.against, clf, Path(tmp))
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
        sides = {args.against: old, "this tree": clf}
        best: dict[str, list[list[float]]] = {name: [[float("inf")] * len(STAGES) for _ in segs] for name in sides}
        for r in range(args.rounds):
            order = list(sides.items()) if r % 2 == 0 else list(sides.items())[::-1]
            for i, ss in enumerate(segs):
                for name, c in order:
                    kept = best[name][i]
                    for k, v in enumerate(stage_times(c, ss)):
                        if v < kept[k]:
                            kept[k] = v
    print(f"calls: {len(segs)}, rounds: {args.rounds}, best of the rounds per call and stage, µs")
    # the slowest 2 % of calls (the p99's neighbourhood), by both sides' bests (chosen by one side's
    # alone, the other would seem faster by chance), the same calls on both sides
    slow = sorted(range(len(segs)), key=lambda i: -sum(sum(best[name][i]) for name in sides))[: max(1, len(segs) // 50)]
    for title, chosen in (("mean, every call", range(len(segs))), ("mean, slowest 2 %", slow)):
        print(f"{title:18}" + "".join(f"{name[:14]:>16}" for name in sides) + f"{'change':>10}")
        for k, stage in enumerate(STAGES):
            means = [statistics.fmean(best[name][i][k] for i in chosen) * 1e6 for name in sides]
            print(f"  {stage:16}" + "".join(f"{m:16.1f}" for m in means) + f"{means[1] / means[0] - 1:+10.1%}")
    for title, chosen in (("every call", range(len(segs))), ("slowest 2 %", slow)):
        repeated = statistics.fmean(max(0, len(segs[i]) - len(written[i])) for i in chosen)
        print(
            f"{title}: {statistics.fmean(len(segs[i]) for i in chosen):.1f} segments, {repeated:.1f} of them lines "
            f"repeated to reach {CALL_CHARS} characters; {statistics.fmean(_chars(written[i]) for i in chosen):.0f} "
            "characters as written"
        )
    for label, q in (("whole, median", 0.5), ("whole, p99", 0.99)):
        totals = [pct([sum(b) * 1e6 for b in best[name]], q) for name in sides]
        print(f"{label:18}" + "".join(f"{m:16.1f}" for m in totals) + f"{totals[1] / totals[0] - 1:+10.1%}")


if __name__ == "__main__":
    main()
