"""A call's running state and the rule that its category does not flap.

The category reflects the whole call so far. A label, once shown, stays for the rest
of the call: a complaint that turns urgent upgrades at once, a later neutral line does
not downgrade it. The one exception is the plan's "one complaint level per grievance":
when a general complaint turns urgent, the urgent label replaces the general one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from assist.classifier.model import NONE, Classification, Evidence, Segment, SegmentScan
from assist.classifier.segments import SPEAKERS, Speaker, call_segments

if TYPE_CHECKING:  # only passed in: the store's schema imports this module, and needs no classifier
    from assist.classifier.categorize import Classifier

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
    # Per-part scan caches, so an edit costs a scan of what it changed and nothing per line of the call:
    # the context's scans (with the context items they were made from), the note's, and one slot per
    # transcript line (None: blank or not yet scanned; `_dirty` lists the lines to scan).
    _by: Classifier | None = field(default=None, repr=False)
    _context_items: tuple[tuple[str, Any], ...] | None = field(default=None, repr=False)
    _context_scans: list[SegmentScan] = field(default_factory=list, repr=False)
    _note_scans: list[SegmentScan] = field(default_factory=list, repr=False)
    _line_scans: list[SegmentScan | None] = field(default_factory=list, repr=False)
    _dirty: set[int] = field(default_factory=set, repr=False)

    def set_note(self, text: str) -> None:
        """The whole current note, replacing the previous one, kept as its non-blank lines: the samples write a
        call's notes as a list of lines, so the model and the rules read a live note cut as they learned it,
        and an edit rescans only the lines it changed."""
        self.notes = [line for line in text.splitlines() if line.strip()]

    def add_line(self, speaker: Speaker, text: str, final: bool) -> int:
        """Append a transcript line; a non-final line is replaced by the next line of the same speaker,
        even when the other speaker talked in between. Returns the line's index."""
        index = self.interim.pop(speaker, None)
        if index is None:
            index = len(self.transcript)
            self.transcript.append(Line(speaker, text, final))
        else:
            self.transcript[index] = Line(speaker, text, final)
        self._dirty.add(index)
        if not final:
            self.interim[speaker] = index
        return index

    def segments(self) -> list[Segment]:
        return call_segments(self.context, self.notes, [(ln.speaker, ln.text) for ln in self.transcript])

    def forget_scans(self) -> None:
        """A new pack matches differently: every segment is scanned again."""
        self._by = None

    def scans(self, classifier: Classifier) -> list[SegmentScan]:
        """Every segment's scan, in `segments()` order; only what changed since the last call is scanned."""
        if self._by is not classifier:
            self._by, self._context_items, self._note_scans = classifier, None, []
            self._line_scans = []
            self._dirty = set(range(len(self.transcript)))
        items = tuple(self.context.items())
        if items != self._context_items:
            self._context_items = items
            self._context_scans = [classifier.scan(seg) for seg in call_segments(self.context, (), ())]
        if [s.segment.text for s in self._note_scans] != self.notes:
            # a line kept from the previous note is not scanned again, only placed (its index may have moved)
            kept = {s.segment.text: s for s in self._note_scans}
            self._note_scans = [
                classifier.scan(seg) if (old := kept.get(seg.text)) is None else replace(old, segment=seg)
                for seg in call_segments({}, self.notes, ())
            ]
        if self._dirty:
            slots = self._line_scans
            slots.extend([None] * (len(self.transcript) - len(slots)))
            for i in sorted(self._dirty):
                line = self.transcript[i]
                # as `call_segments` cuts a transcript (a test holds the two together)
                slots[i] = (
                    classifier.scan(Segment(line.speaker, i, line.text))
                    if line.speaker in SPEAKERS and line.text
                    else None
                )
            self._dirty.clear()
        return [*self._context_scans, *self._note_scans, *(s for s in self._line_scans if s is not None)]

    def classify(self, classifier: Classifier, priority: Sequence[str]) -> Classification:
        """Re-decide the call from cached per-segment scans, then apply the no-flap rule."""
        current = classifier.decide(self.scans(classifier))
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
