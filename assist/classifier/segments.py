"""A call as the classifier sees it: one segment per context field, note and transcript line.

The one segmenter: the live desk, `assist classify`, the back-test and the benchmarks all cut
a call here, so they cannot score the same call differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeGuard, get_args

from assist.classifier.model import Segment

Speaker = Literal["customer", "agent", "supervisor", "third_party"]
"""Who said a transcript line: the customer, the agent, a supervisor who joined the call, or a third party
(an interpreter, a relative, a transferred colleague). Only the agent's lines are checked for forbidden phrases."""
SPEAKERS: tuple[Speaker, ...] = get_args(Speaker)


def is_speaker(value: object) -> TypeGuard[Speaker]:
    return value in SPEAKERS


def call_segments(
    context: Mapping[str, Any], notes: Iterable[str], transcript: Iterable[tuple[str, str]]
) -> list[Segment]:
    """Context fields (text values only), notes, then transcript lines of known speakers; blanks skipped."""
    segs: list[Segment] = []
    for key, value in context.items():
        if isinstance(value, str) and value.strip():
            segs.append(Segment("context", 0, value, field=str(key)))
    segs.extend(Segment("note", i, text) for i, text in enumerate(notes) if text)
    for i, (speaker, text) in enumerate(transcript):
        if text and is_speaker(speaker):
            segs.append(Segment(speaker, i, text))
    return segs


def sample_segments(call: Mapping[str, object]) -> list[Segment]:
    """The segments of a call in the samples' JSON shape ({"context", "notes", "transcript"}), leniently:
    malformed parts are skipped (strict parsing is `whole_call.parse_call`'s job)."""
    context = call.get("context")
    notes = call.get("notes")
    transcript = call.get("transcript")
    lines: list[tuple[str, str]] = []
    if isinstance(transcript, Sequence) and not isinstance(transcript, str):
        for line in transcript:
            if isinstance(line, Mapping):
                speaker, text = line.get("speaker"), line.get("text")
                lines.append((str(speaker), text if isinstance(text, str) else ""))
            else:
                lines.append(("", ""))
    return call_segments(
        context if isinstance(context, Mapping) else {},
        [n if isinstance(n, str) else "" for n in notes]
        if isinstance(notes, Sequence) and not isinstance(notes, str)
        else [],
        lines,
    )
