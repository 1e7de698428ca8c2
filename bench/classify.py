"""Classifier latency: per-call median and p99 with the default pack, next to a baseline.

Every sample call is brought to 300 characters (its lines repeated, the last one cut),
the size the target is set for. The baseline, measured in the same run on the same
calls, is text normalisation alone (width, case, traditional -> simplified): the least
any classifier must do. Calls are classified cold (no per-segment cache), as
`assist classify` does; the live service caches each line's scan.

    python -m bench.classify [CALLS.jsonl] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from assist.classifier.model import Segment
from assist.classifier.normalize import normalize
from assist.classifier.segments import call_segments
from assist.cli import pack_with_models
from assist.config import DEFAULT_PACK
from assist.scripts.pack import Pack, load_pack_dir

SHARED_CALLS = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "calls.dev.jsonl"
TARGET_P99_MS = 0.5
CALL_CHARS = 300


def to_size(segments: list[Segment], chars: int) -> list[Segment]:
    """Repeat the call's text segments until they hold `chars` characters, cutting the last one."""
    texts = [s for s in segments if s.source != "context"]
    out = [s for s in segments if s.source == "context"]
    total = sum(len(s.text) for s in out)
    i = 0
    while texts and total < chars:
        seg = texts[i % len(texts)]
        text = seg.text[: chars - total]
        out.append(Segment(seg.source, len(out), text, seg.field))
        total += len(text)
        i += 1
    return out


def load_calls(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        path = SHARED_CALLS if SHARED_CALLS.exists() else DEFAULT_PACK / "samples.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(pack: Pack, segs: list[list[Segment]], rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Per call: normalisation alone (the baseline), a cold classification, and the live path."""
    for ss in segs[:20]:  # warm caches (pinyin, normaliser) as a running service has them
        pack.classifier.classify(ss)
    base: list[float] = []
    full: list[float] = []
    for _ in range(rounds):
        for ss in segs:
            t0 = time.perf_counter()
            for s in ss:
                normalize(s.text)
            t1 = time.perf_counter()
            pack.classifier.classify(ss)
            t2 = time.perf_counter()
            base.append((t1 - t0) * 1000)
            full.append((t2 - t1) * 1000)
    # The live path: a call grows line by line and each line is scanned once (CallState caches scans).
    live: list[float] = []
    for ss in segs:
        scans = []
        for seg in ss:
            t0 = time.perf_counter()
            scans.append(pack.classifier.scan(seg))
            pack.classifier.decide(scans)
            live.append((time.perf_counter() - t0) * 1000)
    return base, full, live


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("calls", nargs="?", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    calls = load_calls(args.calls)
    segs = [to_size(call_segments(c.get("context") or {}, c.get("notes") or [],
                                  [(t["speaker"], t["text"]) for t in c.get("transcript") or []]), CALL_CHARS)
            for c in calls]
    sizes = [sum(len(s.text) for s in ss) for ss in segs]
    print(f"calls: {len(calls)} (mean {statistics.mean(sizes):.0f} chars), rounds: {args.rounds}")
    print(f"{'':32}{'median ms':>12}{'p99 ms':>10}")
    rules_only = load_pack_dir(DEFAULT_PACK)
    with_model = pack_with_models(DEFAULT_PACK)
    base, rules_full, rules_live = timed(rules_only, segs, args.rounds)
    _, full, live = timed(with_model, segs, args.rounds)
    print(f"{'baseline: normalise':32}{statistics.median(base):12.3f}{pct(base, 0.99):10.3f}")
    print(f"{'classify, rules only':32}{statistics.median(rules_full):12.3f}{pct(rules_full, 0.99):10.3f}")
    print(f"{'classify, rules + model':32}{statistics.median(full):12.3f}{pct(full, 0.99):10.3f}")
    print(f"{'live: one more line, rules only':32}{statistics.median(rules_live):12.3f}{pct(rules_live, 0.99):10.3f}")
    print(f"{'live: one more line, + model':32}{statistics.median(live):12.3f}{pct(live, 0.99):10.3f}"
          "   (scan the new line, decide the whole call)")
    p99 = pct(full, 0.99)
    print(f"ratio classify/baseline (median): {statistics.median(full) / statistics.median(base):.1f}x; "
          f"the model adds {statistics.median(full) - statistics.median(rules_full):.3f} ms (median)")
    print(f"p99 for a {CALL_CHARS}-character call, model included: {p99:.3f} ms (target ≤ {TARGET_P99_MS} ms): "
          f"{'OK' if p99 <= TARGET_P99_MS else 'OVER'}")


if __name__ == "__main__":
    main()
