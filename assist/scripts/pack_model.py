"""A pack's learned models: what they are trained from, training them, and their stored artifact.

Each pack version carries one artifact (both models, msgpack) stored beside its files, so
a rollback restores rules and models together. The artifact names the digest of what it was
trained from; an artifact that does not match its pack, or that cannot be read, is not used:
the pack then runs on its rules alone, and says so (`Pack.model_problem`).

Trained from:
- the call model: every labelled sample call (`samples.jsonl`);
- the line model: the forbidden rules' examples, the pack's labelled agent lines
  (`agent_lines.jsonl`, and samples of `"kind": "agent_line"` that accepted feedback adds),
  and, as allowed lines, the agent turns of the sample calls that the rules do not flag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from assist.classifier.agent_lines import OK_LABEL
from assist.classifier.forbidden_check import ForbiddenChecker
from assist.classifier.learned import FORMAT, TextModel
from assist.classifier.model import reads_alone
from assist.classifier.normalize import normalize_text
from assist.classifier.segments import sample_segments
from assist.classifier.training import C, Example, check_counts, train

SAMPLES_FILE = "samples.jsonl"
LINES_FILE = "agent_lines.jsonl"
TRAINED_FROM = (SAMPLES_FILE, LINES_FILE, "forbidden.yaml", "pack.yaml")
MIN_LINE_EXAMPLES = 5


class _Stored(msgspec.Struct, frozen=True):
    digest: str
    calls: bytes | None
    lines: bytes | None


@dataclass(frozen=True, slots=True)
class Models:
    calls: TextModel | None
    lines: TextModel | None


def training_digest(files: Mapping[str, str]) -> str:
    """What the models depend on: the training files, the feature format and the settings."""
    h = hashlib.sha256(f"format={FORMAT};c={C}".encode())
    for name in TRAINED_FROM:
        h.update(b"\0" + name.encode() + b"\0" + files.get(name, "").encode())
    return h.hexdigest()[:16]


def sample_calls(samples: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The labelled calls among a pack's samples (agent-line samples are for the line model)."""
    return [s for s in samples if s.get("kind", "call") == "call"]


def call_examples(samples: Sequence[Mapping[str, Any]]) -> list[Example]:
    out: list[Example] = []
    for call in sample_calls(samples):
        labels = tuple(str(x) for x in call.get("labels", ()))
        if labels:
            said = [s for s in sample_segments(call) if s.source != "context"]
            alone = tuple(reads_alone(s.source, normalize_text(s.text)) for s in said)
            out.append(Example(tuple(s.text for s in said), labels, alone))
    return out


def line_examples(
    samples: Sequence[Mapping[str, Any]], lines: Sequence[Mapping[str, Any]], rules: ForbiddenChecker
) -> list[Example]:
    """Labelled agent lines: the rules' examples, the pack's lines, and clean agent turns of sample calls."""
    out: list[Example] = []
    for rule, texts in rules.examples().items():
        out.extend(Example((t,), (rule,)) for t in texts)
    for item in [*lines, *(s for s in samples if s.get("kind") == "agent_line")]:
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        which = item.get("which") or item.get("rule")
        forbidden = bool(item.get("forbidden"))
        out.append(Example((text,), (str(which),) if forbidden and which else (OK_LABEL,)))
    for call in sample_calls(samples):
        transcript = call.get("transcript") or []
        for turn in transcript if isinstance(transcript, list) else []:
            if isinstance(turn, Mapping) and turn.get("speaker") == "agent" and isinstance(turn.get("text"), str):
                text = turn["text"]
                if text.strip() and not rules.check(text, media=True):
                    out.append(Example((text,), (OK_LABEL,)))
    return out


def train_models(
    files: Mapping[str, str],
    samples: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    rules: ForbiddenChecker,
    categories: Sequence[str],
    minimum: int,
    *,
    calls: bool = True,
    agent_lines: bool = True,
) -> bytes:
    """Train the enabled models and return the artifact to store with the pack version.

    Raises training.TooFewExamples when a category has fewer than `minimum` samples. The line
    model is left out when a forbidden rule has fewer than MIN_LINE_EXAMPLES examples.
    """
    calls_model = None
    if calls:
        examples = call_examples(samples)
        check_counts(examples, categories, minimum)
        calls_model = train(examples, categories)
    lines_model = None
    if agent_lines:
        line_ex = line_examples(samples, lines, rules)
        line_labels = [*rules.rule_ids(), OK_LABEL]
        counts = {lb: sum(lb in ex.labels for ex in line_ex) for lb in line_labels}
        if min(counts.values()) >= MIN_LINE_EXAMPLES:
            lines_model = train(line_ex, line_labels)
    stored = _Stored(
        training_digest(files),
        calls_model.to_bytes() if calls_model is not None else None,
        lines_model.to_bytes() if lines_model is not None else None,
    )
    return msgspec.msgpack.encode(stored)


def read_models(artifact: bytes, files: Mapping[str, str]) -> Models:
    """Decode a stored artifact for these pack files; ValueError says why it cannot be used."""
    try:
        stored = msgspec.msgpack.decode(artifact, type=_Stored)
    except msgspec.DecodeError as exc:
        raise ValueError(f"the model artifact is corrupt: {exc}") from None
    if stored.digest != training_digest(files):
        raise ValueError("the model artifact was trained from other samples than this pack's")
    calls = TextModel.from_bytes(stored.calls) if stored.calls is not None else None
    lines = TextModel.from_bytes(stored.lines) if stored.lines is not None else None
    return Models(calls, lines)
