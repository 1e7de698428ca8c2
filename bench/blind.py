"""Score the default pack on a labelled set: rules alone, model alone, combined; agent lines too.

    python -m bench.blind DIR [--ledger NAME]   # DIR holds calls.jsonl and/or agent_lines.jsonl

A set written apart from the pack is scored here BEFORE it is used for anything; with
`--ledger NAME` that first score is appended to bench/ledger.jsonl (docs/quality.md).
Scoring a set the pack was fitted to is allowed (to check a fix) but never goes in the ledger
as a first score: the command refuses a set name already in the ledger.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from assist.classifier.model import CATEGORY_IDS
from assist.classifier.segments import sample_segments
from assist.scripts.pack import Pack, load_pack, read_pack_dir, train_pack_models

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "assist" / "scripts" / "packs" / "default"
LEDGER = ROOT / "bench" / "ledger.jsonl"


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def default_pack() -> Pack:
    files = read_pack_dir(PACK)
    return load_pack(files, models=train_pack_models(files))


def primary_f1(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """F1 per category of the primary label."""
    out: dict[str, float] = {}
    for c in CATEGORY_IDS:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        out[c] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return out


def score_calls(pack: Pack, calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    gold = [str(c["labels"][0]) for c in calls]
    preds: dict[str, list[tuple[str, ...]]] = {"rules": [], "model": [], "combined": []}
    for c in calls:
        parts = pack.classifier.parts(sample_segments(c))
        preds["rules"].append(parts.rules.labels)
        preds["model"].append(parts.model or ("none",))
        preds["combined"].append(parts.combined.labels)
    decoys = [i for i, c in enumerate(calls) if c.get("decoy")]
    out: dict[str, Any] = {"calls": len(calls), "decoys": len(decoys)}
    for part, labels in preds.items():
        primary = [lb[0] for lb in labels]
        f1 = primary_f1(gold, primary)
        out[part] = {
            "macro_f1": round(sum(f1.values()) / len(f1), 4),
            "accuracy": round(sum(g == p for g, p in zip(gold, primary, strict=True)) / len(gold), 4),
            "exact": round(
                sum(set(lb) == set(c["labels"]) for lb, c in zip(labels, calls, strict=True)) / len(calls), 4
            ),
            "decoys": round(sum(primary[i] == gold[i] for i in decoys) / len(decoys), 4) if decoys else None,
            "f1": {k: round(v, 4) for k, v in f1.items()},
        }
    out["misses"] = [
        (c["id"], c["labels"], list(p)) for c, p in zip(calls, preds["combined"], strict=True) if p[0] != c["labels"][0]
    ]
    return out


def score_lines(pack: Pack, lines: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"lines": len(lines)}
    for part in ("rules", "combined"):
        tp = fp = fn = 0
        for ln in lines:
            media = str(ln.get("context_category") or "").startswith("media.")
            hits = (pack.forbidden.rules if part == "rules" else pack.forbidden).check(ln["text"], media=media)
            found = bool(hits)
            tp += found and ln["forbidden"]
            fp += found and not ln["forbidden"]
            fn += (not found) and ln["forbidden"]
        out[part] = {
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        }
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.blind")
    ap.add_argument("dir", type=Path)
    ap.add_argument("--ledger", help="set name: append this first score to bench/ledger.jsonl")
    ap.add_argument("--note", default="")
    ap.add_argument("--misses", action="store_true", help="print the calls the combined decision got wrong")
    args = ap.parse_args(argv)
    if args.ledger and LEDGER.exists() and any(e.get("set") == args.ledger for e in load_jsonl(LEDGER)):
        print(f"{args.ledger!r} is already in the ledger: only a set's first score goes there", file=sys.stderr)
        return 1
    pack = default_pack()
    entry: dict[str, Any] = {
        "set": args.ledger or args.dir.name,
        "date": datetime.date.today().isoformat(),
        "pack_samples": len(pack.samples),
    }
    calls_file, lines_file = args.dir / "calls.jsonl", args.dir / "agent_lines.jsonl"
    if calls_file.exists():
        entry["calls"] = score_calls(pack, load_jsonl(calls_file))
    if lines_file.exists():
        entry["agent_lines"] = score_lines(pack, load_jsonl(lines_file))
    misses = entry.get("calls", {}).pop("misses", [])
    if args.note:
        entry["note"] = args.note
    print(json.dumps(entry, ensure_ascii=False, indent=1))
    if args.misses:
        for m in misses:
            print(*m)
    if args.ledger:
        with LEDGER.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
