"""The call classifier: scan each segment once, then decide on the whole call.

`scan` is the per-line work (keyword matching, the learned model's features) and depends
only on the segment, so callers cache it per segment text and a live call only scans its
newest line; `decide` combines the scans of the call so far and is cheap. Both are pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

from assist.classifier.combine import ModelSettings, combine, model_labels
from assist.classifier.decide import Decider
from assist.classifier.learned import SEPARATOR, FeatureIds, TextModel
from assist.classifier.matching import Matcher, TermHit
from assist.classifier.model import NONE, SOURCES, Classification, RuleHit, Segment, SegmentScan
from assist.classifier.normalize import Normalized, normalize, normalize_all
from assist.classifier.ruleset import Rule, RuleSet

__all__ = ["Classifier", "Parts", "RuleHit", "SegmentScan"]

_START, _END, _SPAN = itemgetter(1), itemgetter(2), itemgetter(1, 2)
"""A TermHit's start, end and both (hits are tuples: C-level sort keys)."""


@dataclass(frozen=True, slots=True)
class Parts:
    """The decision of each part on its own and combined, for back-tests and `assist classify`."""

    rules: Classification
    model: tuple[str, ...] | None
    """The model's labels alone (`("none",)` when it labels nothing); None without a model."""
    combined: Classification


class Classifier:
    """Classifies calls with one compiled RuleSet and, when the pack has one, its learned model."""

    def __init__(self, rules: RuleSet, model: TextModel | None = None, settings: ModelSettings | None = None) -> None:
        self.rules = rules
        self.settings = settings or ModelSettings()
        self.model = model if self.settings.enabled else None
        self._matcher = Matcher(rules)
        self._decide = Decider(rules)
        # Per place a segment can come from (its source, and for context the field when a rule names it):
        # keyword -> the (rule, group) pairs of the rules that apply there; group -1 for a rule's `unless`
        # keywords. None where no rule applies: such a segment is not searched at all.
        fields = {f for rule in rules.rules for f in rule.fields}
        self._fields = frozenset(fields)
        self._uses: dict[tuple[str, str | None], dict[int, tuple[tuple[int, int], ...]] | None] = {
            where: self._uses_at(*where)
            for where in (*((src, None) for src in SOURCES), *(("context", f) for f in sorted(fields)))
        }
        self._sizes = tuple(len(rule.groups) for rule in rules.rules)
        self._negation = tuple(rule.negation for rule in rules.rules)

    def _uses_at(self, source: str, field_name: str | None) -> dict[int, tuple[tuple[int, int], ...]] | None:
        uses: dict[int, dict[tuple[int, int], None]] = defaultdict(dict)
        for ri, rule in enumerate(self.rules.rules):
            if not rule.applies_to(source, field_name):
                continue
            for gi, group in enumerate(rule.groups):
                for t in group:
                    uses[t][(ri, gi)] = None
            for t in rule.unless:
                uses[t][(ri, -1)] = None
        if not any(rule.applies_to(source, field_name) for rule in self.rules.rules):
            return None
        return {t: tuple(pairs) for t, pairs in uses.items()}

    def _uses_for(self, segment: Segment) -> dict[int, tuple[tuple[int, int], ...]] | None:
        field_name = segment.field if segment.field in self._fields else None
        return self._uses.get((segment.source, field_name))

    def scan(self, segment: Segment) -> SegmentScan:
        """Match every rule against one segment (the live path: a call's scans are cached per line)."""
        n = normalize(segment.text)
        hits = self._matcher.find(n) if self._uses_for(segment) is not None else []
        return self._scan(segment, n, hits, self._features(segment, n))

    def _features(self, segment: Segment, n: Normalized) -> FeatureIds:
        """The model's feature ids of one segment."""
        # The model reads what was said and written, not the context: a queue name is no evidence of a category
        # (the samples put every category in every queue), and a model would learn it as a shortcut.
        if self.model is None or segment.source == "context":
            return ()
        return self.model.encode_normalized(n.text)

    def _scan(self, segment: Segment, n: Normalized, term_hits: list[TermHit], features: FeatureIds) -> SegmentScan:
        """One segment's scan from its normalised text, keyword hits and model features."""
        if not term_hits:
            return SegmentScan(segment, (), features)
        uses = self._uses_for(segment)
        if uses is None:
            return SegmentScan(segment, (), features)
        # The hits each rule sees, per keyword group: ordered by position, ties in the order the
        # keywords were first found. Only keywords of rules that apply here matter.
        ordered = [h for h in term_hits if h.term in uses]
        if len(ordered) > 1:
            ordered.sort(key=_END, reverse=True)  # stable both ways: by start, then longest first
            ordered.sort(key=_START)
            if len(set(map(_SPAN, ordered))) < len(ordered):  # two keywords found at one place: rare
                first = {t: i for i, t in enumerate(dict.fromkeys([h.term for h in term_hits]))}
                ordered.sort(key=lambda h: (h.start, -h.end, first[h.term]))
        sizes, negation = self._sizes, self._negation
        seen: dict[int, list[list[TermHit]]] = {}  # rule -> its hits per group
        cancelled: set[int] = set()
        for h in ordered:
            for ri, gi in uses[h.term]:
                if gi < 0:
                    if not h.negated:  # a negated exception ("不是开玩笑") does not cancel the rule
                        cancelled.add(ri)
                    continue
                groups = seen.get(ri)
                if groups is None:
                    groups = seen[ri] = [[] for _ in range(sizes[ri])]
                if not (h.negated and negation[ri]):
                    groups[gi].append(h)
        out: list[RuleHit] = []
        rules = self.rules.rules
        text = segment.text
        for ri in sorted(seen):
            if ri in cancelled:
                continue
            for gi, h in _satisfy(rules[ri], seen[ri]):
                a, b = n.span(h.start, h.end)
                out.append(RuleHit(ri, gi, text[a:b], (a, b), h.how))
        return SegmentScan(segment, tuple(out), features)

    def decide(self, scans: Sequence[SegmentScan]) -> Classification:
        """Label the whole call so far from its segment scans."""
        by_rules = self._decide(scans)
        if self.model is None:
            return by_rules
        return combine(by_rules, self.scores(scans), self.model, scans, self.settings, self.rules.priority)

    def scores(self, scans: Sequence[SegmentScan]) -> dict[str, float] | None:
        """The model's score per category for a call, None when the call has nothing the model knows."""
        if self.model is None or not any(s.features for s in scans):
            return None
        return self.model.scores(s.features for s in scans)

    def parts(self, segments: Sequence[Segment], scores: Mapping[str, float] | None = None) -> Parts:
        """Rules alone, model alone and combined, for one call.

        `scores` replaces the model's own scores: the back-test passes held-out (cross-validated)
        scores, so that the combined decision is judged on calls its model did not learn.
        """
        scans = [self.scan(s) for s in segments]
        by_rules = self._decide(scans)
        if self.model is None:
            return Parts(by_rules, None, by_rules)
        if scores is None:
            scores = self.scores(scans)
        alone = tuple(model_labels(scores, self.settings, self.rules.priority)) if scores else ()
        combined = combine(by_rules, scores, self.model, scans, self.settings, self.rules.priority)
        return Parts(by_rules, alone or (NONE,), combined)

    def classify(self, segments: Sequence[Segment]) -> Classification:
        """Scan every segment and decide: `decide([scan(s) for s in segments])` for a cold call.

        Nothing is cached per segment here, so what can be done once for the whole call is: the
        phrase conversion of normalising, the model's features (the model reads the union of its
        segments' features: a few array operations over the call's code points), and the sound,
        near-miss and Latin-word searches, which then run only on the segments that need them. The
        exact keyword search stays per segment (searching the joined call once measured no faster,
        docs/performance.md), and segments no rule applies to are not searched.
        """
        ns = normalize_all([s.text for s in segments])
        found = self._matcher.find_call(ns, [self._uses_for(seg) is not None for seg in segments])
        scans = [self._scan(seg, n, hits, ()) for seg, n, hits in zip(segments, ns, found, strict=True)]
        by_rules = self._decide(scans)
        if self.model is None:
            return by_rules
        idx = self.model.encode_call(
            SEPARATOR.join(n.text for seg, n in zip(segments, ns, strict=True) if seg.source != "context")
        )
        scores = self.model.scores_of(idx)
        if scores is None:
            return by_rules
        return combine(by_rules, scores, self.model, scans, self.settings, self.rules.priority, idx)


def _satisfy(rule: Rule, per_group: list[list[TermHit]]) -> list[tuple[int, TermHit]]:
    """The hit chosen for each satisfied group; [] when a segment rule is not satisfied.

    `per_group` holds the segment's hits of each group's keywords, ordered by position.
    """
    if rule.within == "call":
        return [(gi, hits[0]) for gi, hits in enumerate(per_group) if hits]
    if not all(per_group):
        return []
    if rule.near is None:
        return [(gi, hits[0]) for gi, hits in enumerate(per_group)]
    near = rule.near
    for anchor in per_group[0]:
        picked: list[tuple[int, TermHit]] = [(0, anchor)]
        for gi, hits in enumerate(per_group[1:], start=1):
            close = next((h for h in hits if _gap(anchor, h) <= near), None)
            if close is None:
                break
            picked.append((gi, close))
        else:
            return picked
    return []


def _gap(a: TermHit, b: TermHit) -> int:
    """Characters between two hits (0 when they touch or overlap)."""
    return max(0, b.start - a.end, a.start - b.end)
