"""A call's running state and the rule that its category does not flap.

The category reflects the whole call so far. A label, once shown, stays for the rest
of the call: a complaint that turns urgent upgrades at once, a later neutral line does
not downgrade it. The one exception is the plan's "one complaint level per grievance":
when a general complaint turns urgent, the urgent label replaces the general one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assist.classifier.categorize import Classifier
from assist.classifier.model import NONE, Classification, Evidence, Segment
from assist.classifier.segments import call_segments

Speaker = Literal["customer", "agent"]

SUBSUMED_BY: Mapping[str, str] = {"complaint.general": "complaint.urgent"}
"""A sticky label that is dropped once the label it maps to is present."""


@dataclass(slots=True)
class Line:
    speaker: Speaker
    text: str
    final: bool


@dataclass
class CallState:
    """What the service knows of one call. Mutated only through the methods below."""

    call_id: str
    user: str
    context: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    transcript: list[Line] = field(default_factory=list)
    result: Classification = field(default_factory=Classification.empty)
    warned: set[tuple[int, str]] = field(default_factory=set)
    """(line, rule) already warned: a revised interim line does not warn twice."""
    ended: bool = False
    disposition: str | None = None
    interim: dict[str, int] = field(default_factory=dict)
    """Per speaker, the index of their line that is still an interim speech-to-text result."""
    last_at: float = 0.0
    """When the agent last sent anything for this call (for expiring abandoned calls)."""
    _scans: dict[Segment, Any] = field(default_factory=dict, repr=False)

    def set_note(self, text: str) -> None:
        """The whole current note, replacing the previous one."""
        self.notes = [text] if text else []

    def add_line(self, speaker: Speaker, text: str, final: bool) -> int:
        """Append a transcript line; a non-final line is replaced by the next line of the same speaker,
        even when the other speaker talked in between. Returns the line's index."""
        index = self.interim.pop(speaker, None)
        if index is None:
            index = len(self.transcript)
            self.transcript.append(Line(speaker, text, final))
        else:
            self.transcript[index] = Line(speaker, text, final)
        if not final:
            self.interim[speaker] = index
        return index

    def segments(self) -> list[Segment]:
        return call_segments(self.context, self.notes, [(ln.speaker, ln.text) for ln in self.transcript])

    def forget_scans(self) -> None:
        """A new pack matches differently: every segment is scanned again."""
        self._scans.clear()

    def classify(self, classifier: Classifier, priority: Sequence[str]) -> Classification:
        """Re-decide the call from cached per-segment scans, then apply the no-flap rule."""
        live: dict[Segment, Any] = {}
        for seg in self.segments():
            scan = self._scans.get(seg)
            if scan is None:
                scan = classifier.scan(seg)
            live[seg] = scan
        self._scans = live
        current = classifier.decide(list(live.values()))
        self.result = sticky(self.result, current, priority)
        return self.result


def sticky(previous: Classification, current: Classification, priority: Sequence[str]) -> Classification:
    """Keep every label shown before, unless the current decision subsumes it."""
    labels = [lb for lb in current.labels if lb != NONE]
    evidence: list[Evidence] = list(current.evidence)
    for lb in previous.labels:
        if lb == NONE or lb in labels:
            continue
        labels.append(lb)
        evidence.extend(e for e in previous.evidence if e.category == lb)
    labels = [lb for lb in labels if SUBSUMED_BY.get(lb) not in labels]
    if not labels:
        return Classification.empty()
    rank = {c: i for i, c in enumerate(priority)}
    labels.sort(key=lambda c: rank.get(c, len(rank)))
    if labels == list(previous.labels) and not current.evidence:
        return previous
    return Classification(labels[0], tuple(labels), tuple(evidence), current.decided_by)
