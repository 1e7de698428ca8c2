"""The call classifier: scan each segment once, then decide on the whole call.

`scan` is the per-line work (keyword matching, the learned model's features) and depends
only on the segment, so callers cache it per segment text and a live call only scans its
newest line; `decide` combines the scans of the call so far and is cheap. Both are pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter

import numpy as np

from assist.classifier.combine import ModelSettings, combine, model_labels
from assist.classifier.decide import Decider
from assist.classifier.learned import FeatureIds, TextModel
from assist.classifier.matching import NOTHING, Found, Matcher, TermHit
from assist.classifier.model import (
    NONE,
    SOURCES,
    Classification,
    RuleHit,
    Segment,
    SegmentScan,
    new_scan,
    reads_alone,
)
from assist.classifier.normalize import Normalized, fold_table, normalize, normalize_all
from assist.classifier.ruleset import Rule, RuleSet

__all__ = ["Classifier", "Parts", "RuleHit", "SegmentScan"]

_START, _END, _SPAN = itemgetter(1), itemgetter(2), itemgetter(1, 2)
"""A TermHit's start, end and both (hits are tuples: C-level sort keys)."""
_new_tuple = tuple.__new__
"""A RuleHit without its named tuple's Python-level constructor (one per rule hit)."""
_ONE, _ALL, _LATER, _NEAR = range(4)
"""How a slot (a keyword group of a rule) turns into rule hits: its first hit alone (a one-group rule, or
any group of a `within: call` rule); with the first hits of the rule's other groups, all present (the first
group of a rule of several groups); by its rule's first group (the other groups); by distance (`near`)."""


def _slot_kind(rule: Rule, group: int) -> int:
    if rule.near is not None:
        return _NEAR if group == 0 else _LATER
    if rule.within == "call" or len(rule.groups) == 1:
        return _ONE
    return _ALL if group == 0 else _LATER


@dataclass(frozen=True, slots=True)
class _Place:
    """What each keyword does where a segment comes from."""

    firsts: Mapping[int, tuple[int, ...]]
    """Every keyword of a rule that applies here -> the slots whose first hit it may be."""
    others: Mapping[int, tuple[tuple[int, ...], tuple[int, ...]]]
    """The keywords that do more -> (the `near` slots it is a hit of, the rules it cancels)."""
    counts_negated: tuple[bool, ...]
    """Per slot: whether a negated hit counts (its rule ignores negation)."""


_NO_OTHERS: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())


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
        fold_table()  # built once per process, here rather than on the first call classified
        self._decide = Decider(rules)
        # A slot is one keyword group of one rule, numbered rule by rule: `_rule_slots[rule]` are its groups'.
        self._rule_slots: tuple[tuple[int, ...], ...] = tuple(
            tuple(range(at, at + len(rule.groups)))
            for rule, at in zip(rules.rules, accumulate((len(r.groups) for r in rules.rules), initial=0), strict=False)
        )
        self._slot_rule = tuple(ri for ri, slots in enumerate(self._rule_slots) for _ in slots)
        self._slot_group = tuple(gi for slots in self._rule_slots for gi in range(len(slots)))
        self._slot_kind = tuple(_slot_kind(rule, gi) for rule in rules.rules for gi in range(len(rule.groups)))
        # Per place a segment can come from (its source, and for context the field when a rule names it):
        # what each keyword does there. None where no rule applies: such a segment is not searched at all.
        fields = {f for rule in rules.rules for f in rule.fields}
        self._fields = frozenset(fields)
        self._places: dict[tuple[str, str | None], _Place | None] = {
            where: self._place_at(*where)
            for where in (*((src, None) for src in SOURCES), *(("context", f) for f in sorted(fields)))
        }

    def _place_at(self, source: str, field_name: str | None) -> _Place | None:
        here = [ri for ri, rule in enumerate(self.rules.rules) if rule.applies_to(source, field_name)]
        if not here:
            return None
        slots: dict[int, dict[int, None]] = defaultdict(dict)
        near: dict[int, dict[int, None]] = defaultdict(dict)
        unless: dict[int, dict[int, None]] = defaultdict(dict)
        terms: dict[int, None] = {}
        for ri in here:
            rule = self.rules.rules[ri]
            for slot, group in zip(self._rule_slots[ri], rule.groups, strict=True):
                for t in group:
                    (slots if rule.near is None else near)[t][slot] = None
                    terms[t] = None
            for t in rule.unless:
                unless[t][ri] = None
                terms[t] = None
        firsts = {t: tuple(slots[t]) for t in terms}
        others = {t: (tuple(near[t]), tuple(unless[t])) for t in terms if near[t] or unless[t]}
        counts_negated = tuple(not self.rules.rules[ri].negation for ri in self._slot_rule)
        return _Place(firsts, others, counts_negated)

    def _uses_for(self, segment: Segment) -> _Place | None:
        field_name = segment.field if segment.field in self._fields else None
        return self._places.get((segment.source, field_name))

    def scan(self, segment: Segment) -> SegmentScan:
        """Match every rule against one segment (the live path: a call's scans are cached per line)."""
        n = normalize(segment.text)
        hits = self._matcher.find(n) if self._uses_for(segment) is not None else NOTHING
        return self._scan(segment, n, hits, self._features(segment, n))

    def _features(self, segment: Segment, n: Normalized) -> FeatureIds:
        """The model's feature ids of one segment."""
        # The model reads what was said and written, not the context: a queue name is no evidence of a category
        # (the samples put every category in every queue), and a model would learn it as a shortcut.
        if self.model is None or segment.source == "context":
            return ()
        return self.model.encode_normalized(n.text, n.original)

    def _scan(self, segment: Segment, n: Normalized, found: Found, features: FeatureIds) -> SegmentScan:
        """One segment's scan from its normalised text, keyword hits (`Matcher.find`) and model features."""
        term_hits, as_found = found
        model = self.model
        alone = model.line_scores(features) if features and model and reads_alone(segment.source, n.text) else ()
        if not term_hits:
            return new_scan(segment, (), features, alone)
        place = self._places.get((segment.source, segment.field if segment.field in self._fields else None))
        if place is None:
            return new_scan(segment, (), features, alone)
        firsts = place.firsts
        # The hits each rule sees, per keyword group: ordered by position, ties in the order the
        # keywords were first found. Only keywords of rules that apply here matter.
        ordered = [h for h in term_hits if h[0] in firsts]
        if not ordered:
            return new_scan(segment, (), features, alone)
        if len(ordered) > 1:
            ordered.sort(key=_END, reverse=True)  # stable both ways: by start, then longest first
            ordered.sort(key=_START)
            # Keywords found at one place (one text: synonyms, look-alike entries) are in the order first
            # found already when the hits are the automaton's as found; otherwise put them in that order.
            if not as_found and len(set(map(_SPAN, ordered))) < len(ordered):
                first_found = {t: i for i, t in enumerate(dict.fromkeys([h[0] for h in term_hits]))}
                ordered.sort(key=lambda h: (h[1], -h[2], first_found[h[0]]))
        # Per slot (one keyword group of one rule): the first hit, or for `near` rules every hit in order.
        every: dict[int, list[TermHit]] = {}
        cancelled: set[int] = set()
        if as_found or not any(h[4] for h in ordered):
            first = {slot: h for h in reversed(ordered) for slot in firsts[h[0]]}  # the earliest is set last
            if place.others:
                for h in ordered:
                    others = place.others.get(h[0])
                    if others is not None:
                        for slot in others[0]:
                            every.setdefault(slot, []).append(h)
                        cancelled.update(others[1])
        else:
            first = {}
            counts_negated = place.counts_negated
            for h in ordered:
                near, unless = place.others.get(h[0], _NO_OTHERS)
                if h[4]:  # negated: counts only for rules that ignore negation, and cancels nothing
                    for slot in firsts[h[0]]:
                        if counts_negated[slot]:
                            first.setdefault(slot, h)
                    for slot in near:
                        if counts_negated[slot]:
                            every.setdefault(slot, []).append(h)
                    continue
                for slot in firsts[h[0]]:
                    first.setdefault(slot, h)
                for slot in near:
                    every.setdefault(slot, []).append(h)
                cancelled.update(unless)
        out: list[RuleHit] = []
        kinds, slot_rule, slot_group, rule_slots = self._slot_kind, self._slot_rule, self._slot_group, self._rule_slots
        offsets = n.offsets
        text = segment.text
        for slot in sorted(first.keys() | every.keys()) if every else sorted(first):
            kind = kinds[slot]
            if kind == _LATER:
                continue
            ri = slot_rule[slot]
            if cancelled and ri in cancelled:
                continue
            if kind == _ONE:
                h = first[slot]
                a = offsets[h[1]]
                b = offsets[h[2] - 1] + 1
                out.append(_new_tuple(RuleHit, (ri, slot_group[slot], text[a:b], (a, b), h[3])))
                continue
            if kind == _ALL:
                group_slots = rule_slots[ri]
                if not all(x in first for x in group_slots):
                    continue
                picked: Sequence[tuple[int, TermHit]] = [(gi, first[x]) for gi, x in enumerate(group_slots)]
            else:
                picked = _near(self.rules.rules[ri].near or 0, [every.get(x, []) for x in rule_slots[ri]])
            for gi, h in picked:
                a = offsets[h[1]]
                b = offsets[h[2] - 1] + 1
                out.append(_new_tuple(RuleHit, (ri, gi, text[a:b], (a, b), h[3])))
        return new_scan(segment, tuple(out), features, alone)

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
        return self.model.lifted(self.model.scores(s.features for s in scans), (s.alone for s in scans if s.alone))

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

        Nothing is cached per segment here, so what can be done once for the whole call is: normalising
        (one table lookup over the call's code points and one phrase conversion), the model's features
        (the model reads the union of its segments' features: a few array operations), the sound search
        and the bigram count of near misses, whose results go to the segments that have any. The exact
        keyword search stays per segment (searching the joined call once measured no faster,
        docs/performance.md), and segments no rule applies to are not searched.
        """
        ns = normalize_all([s.text for s in segments])
        found = self._matcher.find_call(ns, [self._uses_for(seg) is not None for seg in segments])
        scans = [self._scan(seg, n, hits, ()) for seg, n, hits in zip(segments, ns, found, strict=True)]
        by_rules = self._decide(scans)
        if self.model is None:
            return by_rules
        model = self.model
        said = [(seg, n) for seg, n in zip(segments, ns, strict=True) if seg.source != "context"]
        if len(said) == 1:  # one line said is the whole call: reading it alone lifts nothing
            idx = model.encode_call(said[0][1].text, said[0][1].original)
            each = []
        else:  # each line's features once; the call's are their union (no feature spans two lines)
            each = model.encode_lines([n.text for _, n in said], [n.original for _, n in said])
            idx = np.unique(np.concatenate(each)) if each else np.zeros(0, dtype=np.int32)
        scores = model.scores_of(idx)
        if scores is None:
            return by_rules
        alone = [ids for (seg, n), ids in zip(said, each, strict=False) if reads_alone(seg.source, n.text)]
        if alone:
            scores = model.lifted(scores, (model.best_line(alone),))
        return combine(by_rules, scores, self.model, scans, self.settings, self.rules.priority, idx, ns)


def _near(near: int, per_group: list[list[TermHit]]) -> list[tuple[int, TermHit]]:
    """The hits chosen for a `near` rule's groups: the first hit of the first group with, in every other
    group, its first hit at most `near` characters away; [] when there is none.

    `per_group` holds the segment's hits of each group's keywords, ordered by position.
    """
    if not all(per_group):
        return []
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
    return max(0, b[1] - a[2], a[1] - b[2])
