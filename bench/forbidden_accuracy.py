"""Measure the default pack's forbidden-phrase rules on labelled agent lines.

    python -m bench.forbidden_accuracy [FILE]

FILE is JSON lines with "text", "forbidden" (bool) and "which" (rule id or null), and
optionally "media" (bool, the call's media flag) and "internal_numbers" (list). Defaults to
the shared dev set if present, else the project's own test lines. Prints accuracy, recall
per kind, false positives, every mistake, and the time per line (median and p99).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from assist.classifier.forbidden_check import ForbiddenChecker
from assist.classifier.forbidden_compile import compile_forbidden

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "assist" / "scripts" / "packs" / "default" / "forbidden.yaml"
DEV = Path("/work/shared/samples/agent_lines.dev.jsonl")
OWN = ROOT / "tests" / "classifier" / "forbidden_lines.jsonl"


def load_checker(path: Path = PACK) -> ForbiddenChecker:
    return compile_forbidden(YAML(typ="rt").load(path.read_text(encoding="utf-8")))


def load_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def predict(checker: ForbiddenChecker, row: dict[str, Any]) -> str | None:
    """The labelled rule if it fires on the line, else the first rule that fires, or None.

    A line may break two rules at once; it counts as right when the labelled one is among them.
    """
    c = checker
    if row.get("internal_numbers"):
        c = checker.with_internal_numbers(row["internal_numbers"])
    hits = c.check(row["text"], media=bool(row.get("media", False)), lang=row.get("lang", "zh-CN"))
    rules = [h.rule for h in hits]
    want = row.get("which") if row.get("forbidden") else None
    if want in rules:
        return str(want)
    return rules[0] if rules else None


def evaluate(checker: ForbiddenChecker, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy (forbidden or not, and the right kind), recall per kind, false positives, mistakes."""
    correct = 0
    per_kind: Counter[str] = Counter()
    found: Counter[str] = Counter()
    false_pos = 0
    mistakes: list[tuple[dict[str, Any], str | None]] = []
    for row in rows:
        want = row.get("which") if row.get("forbidden") else None
        got = predict(checker, row)
        if want is not None:
            per_kind[want] += 1
        if got == want:
            correct += 1
            if want is not None:
                found[want] += 1
        else:
            mistakes.append((row, got))
            if want is None:
                false_pos += 1
    return {
        "n": len(rows),
        "accuracy": correct / len(rows) if rows else 0.0,
        "recall": {k: (found[k], per_kind[k]) for k in sorted(per_kind)},
        "false_positives": false_pos,
        "allowed": sum(1 for r in rows if not r.get("forbidden")),
        "mistakes": mistakes,
    }


def timing(checker: ForbiddenChecker, rows: list[dict[str, Any]], rounds: int = 30) -> tuple[float, float]:
    """Median and p99 microseconds per line over `rounds` passes."""
    samples: list[float] = []
    for _ in range(rounds):
        for row in rows:
            t0 = time.perf_counter_ns()
            checker.check(row["text"], media=bool(row.get("media", False)))
            samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else (DEV if DEV.exists() else OWN)
    rows = load_lines(path)
    checker = load_checker()
    res = evaluate(checker, rows)
    print(f"{path}: {res['n']} lines")
    print(f"accuracy {res['accuracy']:.1%}")
    for kind, (hit, total) in res["recall"].items():
        print(f"  recall {kind:<24} {hit}/{total}")
    print(f"  false positives          {res['false_positives']}/{res['allowed']}")
    if res["mistakes"]:
        print("mistakes:")
        for row, got in res["mistakes"]:
            want = row.get("which") if row.get("forbidden") else None
            print(f"  {row.get('id', '?')}: want {want} got {got}: {row['text']}")
    med, p99 = timing(checker, rows)
    avg_len = statistics.mean(len(r["text"]) for r in rows) if rows else 0
    print(f"time per line (avg {avg_len:.0f} chars): median {med:.1f} µs, p99 {p99:.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
