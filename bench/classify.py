"""Classifier latency: per-call median and p99 with the default pack, next to a baseline.

Every sample call is brought to 300 characters (its lines repeated, the last one cut),
the size the target is set for. The baseline, measured in the same run on the same
calls, is text normalisation alone (width, case, traditional -> simplified): the least
any classifier must do. Calls are classified cold (no per-segment cache), as
`assist classify` does (`Classifier.classify`: one pass over the whole call); the same calls
scanned line by line (`decide([scan(s) for s in call])`, what the batched path replaced) are
timed in the same run for comparison. The live service caches each line's scan.

Each call is timed twice: on the wall clock (what a caller waits, including the time other
processes on this 2-core machine take the CPU away) and in CPU time of this thread
(`time.thread_time`: the classifier's own cost). The collector is set up as the service sets it
(`assist/app.py`: long-lived objects frozen, gen-0 threshold 100,000); `--default-gc` keeps
Python's defaults. A last table gives each call's best CPU time over the rounds in which it went
first (half of them): the code's own cost
without what other processes took from it (caches, memory bandwidth), the figure to compare across
runs at different loads (the target's verdict stays on every timing).

`--against REV` also times the classifier of git revision REV (its `assist/classifier`, imported
under another name, on the same compiled rules and model) against this tree's, the two taking turns
on each call: on a shared machine, where figures of separate runs differ by a third, the only
before/after worth quoting.

    python -m bench.classify [CALLS.jsonl] [--rounds N] [--default-gc] [--against REV [--only-against]]
    (N even: each order as often)
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assist.classifier.model import Segment
from assist.classifier.normalize import normalize
from assist.classifier.segments import call_segments
from assist.cli import pack_with_models
from assist.config import DEFAULT_PACK
from assist.scripts.pack import Pack, load_pack_dir

_ROOT = Path(__file__).resolve().parents[1]

SHARED_CALLS = (
    next((p for p in (_ROOT.parent / "shared", _ROOT.parents[1] / "shared") if p.exists()), _ROOT.parent / "shared")
    / "samples"
    / "calls.dev.jsonl"
)
"""The shared development calls, beside the main checkout (../shared) or a worktree of it (../../shared)."""
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


Timings = tuple[list[float], list[float]]
"""Per call, milliseconds: wall clock, CPU time of this thread."""


def timed(pack: Pack, segs: list[list[Segment]], rounds: int) -> tuple[Timings, Timings, Timings, list[float]]:
    """Per call: normalisation alone (the baseline), a cold classification, the same call scanned
    line by line, and the live path."""
    clf = pack.classifier
    for ss in segs[:20]:  # warm caches (pinyin, normaliser) as a running service has them
        clf.classify(ss)
    base: Timings = ([], [])
    full: Timings = ([], [])
    lines: Timings = ([], [])
    wall, cpu = time.perf_counter, time.thread_time
    for r in range(rounds):
        # The second of two classifications of one call finds its caches warm (about 15 % faster):
        # cold and line by line take turns going first.
        first, second = (full, lines) if r % 2 == 0 else (lines, full)
        for ss in segs:
            w0, c0 = wall(), cpu()
            for s in ss:
                normalize(s.text)
            w1, c1 = wall(), cpu()
            if r % 2 == 0:
                clf.classify(ss)
            else:
                clf.decide([clf.scan(s) for s in ss])
            w2, c2 = wall(), cpu()
            if r % 2 == 0:
                clf.decide([clf.scan(s) for s in ss])
            else:
                clf.classify(ss)
            w3, c3 = wall(), cpu()
            base[0].append((w1 - w0) * 1000)
            base[1].append((c1 - c0) * 1000)
            first[0].append((w2 - w1) * 1000)
            first[1].append((c2 - c1) * 1000)
            second[0].append((w3 - w2) * 1000)
            second[1].append((c3 - c2) * 1000)
    # The live path: a call grows line by line and each line is scanned once (CallState caches scans).
    live: list[float] = []
    for ss in segs:
        scans = []
        for seg in ss:
            t0 = time.perf_counter()
            scans.append(pack.classifier.scan(seg))
            pack.classifier.decide(scans)
            live.append((time.perf_counter() - t0) * 1000)
    return base, full, lines, live


def classifier_at(rev: str, clf: Any, into: Path) -> Any:
    """The classifier of git revision `rev` on `clf`'s compiled rules and model (its package copied into
    `into`; the model decoded by `rev`'s code from this tree's artifact)."""
    root = Path(__file__).resolve().parents[1]
    pkg = into / "assist_at_rev" / "classifier"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout

    for name in git("ls-tree", "--name-only", rev, "assist/classifier/").split():
        if name.endswith(".py"):
            text = git("show", f"{rev}:{name}").replace("assist.classifier", "assist_at_rev.classifier")
            (pkg / Path(name).name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(into))
    module = importlib.import_module("assist_at_rev.classifier.categorize")
    learned = importlib.import_module("assist_at_rev.classifier.learned")
    # the model rebuilt by REV's own code (its lookup tables too), so that each side scores with its own
    model = None if clf.model is None else learned.TextModel.from_bytes(clf.model.to_bytes())
    return module.Classifier(clf.rules, model, clf.settings)


def against(rev: str, clf: Any, segs: list[list[Segment]], rounds: int) -> None:
    """Cold classification by `rev`'s classifier and this tree's, taking turns on each call (CPU time)."""
    with tempfile.TemporaryDirectory(prefix="bench-classify-") as tmp:
        old = classifier_at(rev, clf, Path(tmp))
        differ = sum(repr(old.classify(ss)) != repr(clf.classify(ss)) for ss in segs)
        times: dict[str, list[float]] = {rev: [], "this tree": []}
        cpu = time.thread_time
        for r in range(rounds):
            turns = [(rev, old), ("this tree", clf)]
            for ss in segs:
                for name, c in turns if r % 2 == 0 else turns[::-1]:
                    c0 = cpu()
                    c.classify(ss)
                    times[name].append((cpu() - c0) * 1000)
    print(f"{'against ' + rev + ', CPU ms per call':34}{'median':>10}{'p99':>9}{'p99.9':>9}   (taking turns)")
    for name, values in times.items():
        print(row(f"  classify at {name}", values))
    before, after = times[rev], times["this tree"]
    print(
        f"{'  change':34}{statistics.median(after) / statistics.median(before) - 1:+10.1%}"
        + "".join(f"{pct(after, q) / pct(before, q) - 1:+9.1%}" for q in (0.99, 0.999))
    )
    print(f"  results that differ (labels, decided_by, evidence): {differ} of {len(segs)}")


def best_of(values: list[float], calls: int) -> list[float]:
    """Each call's least time over the rounds in which it was classified first, cold (`values`: round after
    round, the calls in order; in the other rounds the line-by-line pass had just warmed its caches)."""
    return [min(values[i :: 2 * calls]) for i in range(calls)]


def row(name: str, values: list[float]) -> str:
    return f"{name:34}{statistics.median(values):10.3f}{pct(values, 0.99):9.3f}{pct(values, 0.999):9.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("calls", nargs="?", type=Path)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--default-gc", action="store_true", help="keep Python's collector settings")
    ap.add_argument("--against", metavar="REV", help="also time git revision REV's classifier, taking turns")
    ap.add_argument("--only-against", action="store_true", help="with --against: skip this tree's own rows")
    args = ap.parse_args()
    calls = load_calls(args.calls)
    segs = [
        to_size(
            call_segments(
                c.get("context") or {},
                c.get("notes") or [],
                [(t["speaker"], t["text"]) for t in c.get("transcript") or []],
            ),
            CALL_CHARS,
        )
        for c in calls
    ]
    sizes = [sum(len(s.text) for s in ss) for ss in segs]
    rules_only = load_pack_dir(DEFAULT_PACK)
    with_model = pack_with_models(DEFAULT_PACK)
    if not args.default_gc:
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
    print(
        f"calls: {len(calls)} (mean {statistics.mean(sizes):.0f} chars), rounds: {args.rounds}, "
        f"gc: {'Python defaults' if args.default_gc else 'as the service (frozen, threshold 100,000)'}"
    )
    if args.against and args.only_against:
        against(args.against, with_model.classifier, segs, args.rounds)
        return
    base, rules_full, rules_lines, rules_live = timed(rules_only, segs, args.rounds)
    _, full, lines, live = timed(with_model, segs, args.rounds)
    for clock, k in (("wall clock", 0), ("CPU time of this thread", 1)):
        print(f"{clock + ', ms per call':34}{'median':>10}{'p99':>9}{'p99.9':>9}")
        print(row("  baseline: normalise", base[k]))
        print(row("  classify, rules only", rules_full[k]))
        print(row("  classify, rules + model", full[k]))
        print(row("  line by line, rules only", rules_lines[k]))
        print(row("  line by line, rules + model", lines[k]))
    print(f"{'live, ms per line (wall clock)':34}{'median':>10}{'p99':>9}{'p99.9':>9}")
    print(row("  one more line, rules only", rules_live))
    print(row("  one more line, + model", live) + "   (scan the new line, decide the whole call)")
    print(
        f"ratio classify/baseline (median, CPU): {statistics.median(full[1]) / statistics.median(base[1]):.1f}x; "
        f"the model adds {statistics.median(full[1]) - statistics.median(rules_full[1]):.3f} ms (median, CPU)"
    )
    # Each call's best CPU time of the rounds: what the code costs without what other processes on a shared
    # machine took from it (cache and memory contention), for comparing figures taken at different loads.
    cold_rounds = (args.rounds + 1) // 2
    print(f"{'CPU, each call its best of ' + str(cold_rounds):34}{'median':>10}{'p99':>9}{'p99.9':>9}")
    print(row("  classify, rules only", best_of(rules_full[1], len(segs))))
    print(row("  classify, rules + model", best_of(full[1], len(segs))))
    if args.against:
        against(args.against, with_model.classifier, segs, args.rounds)
    for clock, k in (("wall clock", 0), ("CPU time", 1)):
        p99 = pct(full[k], 0.99)
        print(
            f"p99 for a {CALL_CHARS}-character call, model included, {clock}: {p99:.3f} ms "
            f"(target ≤ {TARGET_P99_MS} ms): {'OK' if p99 <= TARGET_P99_MS else 'OVER'}"
        )


if __name__ == "__main__":
    main()
