"""Does this tree's classifier say exactly what another revision's says? The check behind every
speed change to `assist/classifier` (docs/performance.md): a faster classifier must give the same
labels, `decided_by`, evidence and scores, to the last float.

The calls: every sample call of the default pack, the held-out sets in bench/heldout, and the shared
development calls when they are there, each whole and brought to 300 characters as `bench.classify`
measures it. Per call, written as text: `classify` with the model and with the rules alone, `decide` of
the per-line scans (the live path), every segment's `scan`, `parts` and the model's `scores`.

`--against REV` writes that text for this tree and for a copy of it whose `assist/classifier` is
REV's (the same pack, model, packing and segmenting code: only the classifier differs), each in its
own process, and compares them line by line; it exits 1 when any line differs.

    python -m bench.classify_same --against main
    python -m bench.classify_same --write OUT.txt       (this tree's text only)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.classify import SHARED_CALLS

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = ROOT / "bench" / "heldout"
CALL_CHARS = 300


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def call_sets(shared: Path | None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(name, calls) of every set the check reads."""
    from assist.config import DEFAULT_PACK

    yield "pack samples", [c for c in _jsonl(DEFAULT_PACK / "samples.jsonl") if c.get("kind", "call") == "call"]
    for folder in sorted(p for p in HELD_OUT.iterdir() if (p / "calls.jsonl").exists()):
        yield folder.name, _jsonl(folder / "calls.jsonl")
    if shared is not None:
        yield "shared dev calls", _jsonl(shared)


def write(out: Path, shared: Path | None) -> int:
    """This tree's results, one line each; returns the number of calls."""
    from assist.classifier.categorize import Classifier
    from assist.classifier.segments import sample_segments
    from assist.cli import pack_with_models
    from assist.config import DEFAULT_PACK
    from bench.classify import to_size

    pack = pack_with_models(DEFAULT_PACK)
    clf = pack.classifier
    assert clf.model is not None, pack.model_problem
    rules = Classifier(clf.rules)
    calls = 0
    with out.open("w", encoding="utf-8") as f:
        for name, items in call_sets(shared):
            for call in items:
                whole = sample_segments(call)
                for size, segments in (("whole", whole), ("300", to_size(whole, CALL_CHARS))):
                    calls += 1
                    tag = f"{name} {call.get('id', '?')} {size}"
                    scans = [clf.scan(s) for s in segments]
                    f.write(f"{tag} classify: {clf.classify(segments)!r}\n")
                    f.write(f"{tag} rules only: {rules.classify(segments)!r}\n")
                    f.write(f"{tag} decide: {clf.decide(scans)!r}\n")
                    f.write(f"{tag} parts: {clf.parts(segments)!r}\n")
                    f.write(f"{tag} scores: {clf.scores(scans)!r}\n")
                    for k, scan in enumerate(scans):
                        f.write(f"{tag} scan {k}: {scan!r}\n")
    return calls


def tree_at(rev: str, into: Path) -> Path:
    """A copy of this tree's `assist` and `bench` with REV's `assist/classifier`."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout

    for folder in ("assist", "bench"):
        shutil.copytree(ROOT / folder, into / folder, ignore=shutil.ignore_patterns("__pycache__"))
    classifier = into / "assist" / "classifier"
    shutil.rmtree(classifier)
    classifier.mkdir()
    for name in git("ls-tree", "--name-only", rev, "assist/classifier/").split():
        (into / name).write_text(git("show", f"{rev}:{name}"), encoding="utf-8")
    return into


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--against", metavar="REV", help="compare with git revision REV's classifier")
    group.add_argument("--write", metavar="OUT", type=Path, help="write this tree's results to OUT")
    ap.add_argument("--shared", type=Path, default=SHARED_CALLS, help="the shared development calls (if present)")
    args = ap.parse_args()
    shared = args.shared if args.shared.exists() else None
    if args.write:
        import assist.classifier

        print(f"{write(args.write, shared)} calls of {Path(assist.classifier.__file__).parent} written to {args.write}")
        return
    with tempfile.TemporaryDirectory(prefix="classify-same-") as tmp:
        base = Path(tmp)
        theirs, mine = base / f"{args.against}.txt", base / "this-tree.txt"
        other = tree_at(args.against, base / "tree")
        for where, out in ((other, theirs), (ROOT, mine)):
            # -m runs the module of the tree in the working directory (it comes first on sys.path)
            command = [sys.executable, "-m", "bench.classify_same", "--write", str(out), "--shared", str(shared or "-")]
            subprocess.run(command, cwd=where, check=True)
        a = theirs.read_text(encoding="utf-8").splitlines()
        b = mine.read_text(encoding="utf-8").splitlines()
        differ = [(x, y) for x, y in zip(a, b, strict=False) if x != y]
        print(f"{len(b)} results compared ({len(a)} at {args.against}): {len(differ)} differ")
        for x, y in differ[:5]:
            print(f"  {args.against}: {x[:300]}\n  this tree: {y[:300]}")
        if differ or len(a) != len(b):
            sys.exit(1)


if __name__ == "__main__":
    main()
