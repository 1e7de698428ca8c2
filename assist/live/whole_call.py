"""Classify one whole call given as JSON: for `assist classify`, the trainer's "try" and the back-test.

Pure: a pack and a call in, a result out. The live desk classifies calls line by line
(`calls.CallState`); this is the same classifier and the same segmenter on a finished call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assist.classifier.model import NONE, Segment
from assist.classifier.segments import SPEAKERS, call_segments
from assist.scripts.pack import Pack

_SPEAKERS = "|".join(f'"{s}"' for s in SPEAKERS)


def parse_call(call: Any) -> tuple[dict[str, Any], list[str], list[tuple[str, str]]]:
    """Context, notes and transcript of a call object; ValueError says what is malformed."""
    if not isinstance(call, dict):
        raise ValueError("each call must be a JSON object")
    context = call.get("context") or {}
    notes = call.get("notes") or []
    transcript = call.get("transcript") or []
    if not isinstance(context, dict):
        raise ValueError("context must be an object")
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ValueError("notes must be a list of strings")
    if not isinstance(transcript, list):
        raise ValueError(f'transcript must be a list of {{"speaker": {_SPEAKERS}, "text": str}}')
    lines: list[tuple[str, str]] = []
    for i, t in enumerate(transcript):
        if not isinstance(t, dict) or t.get("speaker") not in SPEAKERS or not isinstance(t.get("text"), str):
            raise ValueError(f'transcript[{i}] must be {{"speaker": {_SPEAKERS}, "text": str}}')
        lines.append((t["speaker"], t["text"]))
    return context, notes, lines


def classify_call(pack: Pack, call: Any) -> dict[str, Any]:
    """One call in, one result out: labels, which part decided, evidence, the rules' labels the model overruled
    and the agent lines' warnings."""
    context, notes, lines = parse_call(call)
    segments = call_segments(context, notes, lines)
    result = pack.classifier.classify(segments)
    media = any(lb.startswith("media.") for lb in result.labels)
    warnings = [
        {"index": i, **hit.to_json()}
        for i, (speaker, text) in enumerate(lines)
        if speaker == "agent"
        for hit in pack.forbidden.check(text, media=media)
    ]
    return {
        "id": call.get("id"),
        "category": result.category,
        "labels": list(result.labels),
        "decided_by": result.decided_by,
        "evidence": [e.to_json() for e in result.evidence],
        "overruled": overruled(pack, segments, result.labels) if result.decided_by == "rules+model" else [],
        "warnings": warnings,
    }


def overruled(pack: Pack, segments: Sequence[Segment], labels: Sequence[str]) -> list[dict[str, Any]]:
    """The rules' labels the model overruled, each with the rules' words for it: a trainer who added a keyword
    sees why the call is not labelled by it (the model learned those words from samples that read otherwise)."""
    rules = pack.classifier.parts(segments).rules
    return [
        {"category": c, "words": list(dict.fromkeys(w for e in rules.evidence if e.category == c for w in e.words))}
        for c in rules.labels
        if c not in labels and c != NONE
    ]


def predicted_labels(pack: Pack, call: Any) -> tuple[str, ...]:
    """Just the labels (the back-test's prediction for a sample)."""
    context, notes, lines = parse_call(call)
    return pack.classifier.classify(call_segments(context, notes, lines)).labels
