"""Turn the rule hits of a whole call into labels with evidence.

A rule fires when all its keyword groups were found (in one segment, or anywhere in
the call for `within: call`). A target's score is the sum of its fired rules'
weights; it fires when the score reaches its threshold, everything it `requires`
fired, one of `requires_any` fired, and nothing in `unless` fired. Targets are
evaluated in dependency order (prepared by the compiler). Fired categories become
labels in priority order; with none, the call is `none`.
"""

from __future__ import annotations

from collections.abc import Sequence

from assist.classifier.model import NONE, Classification, Evidence, RuleHit, SegmentScan, new_evidence
from assist.classifier.ruleset import RuleSet, Target


def decide(rules: RuleSet, scans: Sequence[SegmentScan]) -> Classification:
    """Labels and evidence for the call whose segments produced `scans`."""
    return Decider(rules)(scans)


class Decider:
    """`decide` for one RuleSet, with what it needs of the rules looked up once (it runs on every line)."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._call_groups = {ri: len(rule.groups) for ri, rule in enumerate(rules.rules) if rule.within != "segment"}
        self._ids = tuple(rule.id for rule in rules.rules)
        self._labels = tuple(c for c in rules.priority if c != NONE)
        # A target with rules and a positive threshold cannot fire unless one of its rules did (its score
        # would be 0): most targets of most calls, skipped without `_fires` (same decisions).
        self._targets = tuple(
            (target, frozenset(target.rules) if target.rules and target.threshold > 0 else None)
            for target in rules.targets
        )
        self._silent = self._decide({})
        """The decision when no rule hit anything (`none`, unless a target needs no rule)."""

    def __call__(self, scans: Sequence[SegmentScan]) -> Classification:
        found: dict[int, list[tuple[SegmentScan, RuleHit]]] = {}
        for scan in scans:
            for hit in scan.hits:
                hits = found.get(hit[0])
                if hits is None:
                    found[hit[0]] = [(scan, hit)]
                else:
                    hits.append((scan, hit))
        if not found:
            return self._silent
        call_groups = self._call_groups
        fired_rules: dict[int, list[tuple[SegmentScan, RuleHit]]] = {}
        for ri, hits in found.items():
            size = call_groups.get(ri)
            if size is None or len({h[1] for _, h in hits}) == size:
                fired_rules[ri] = hits
        return self._decide(fired_rules)

    def _decide(self, fired_rules: dict[int, list[tuple[SegmentScan, RuleHit]]]) -> Classification:
        rules = self.rules
        fired: dict[str, list[tuple[SegmentScan, RuleHit]]] = {}
        for target, needs_one_of in self._targets:
            if needs_one_of is not None and needs_one_of.isdisjoint(fired_rules):
                continue
            ev = _fires(rules, target, fired_rules, fired)
            if ev is not None:
                fired[target.name] = ev
        labels = [c for c in self._labels if c in fired]
        if not labels:
            return Classification.empty()
        ids = self._ids
        evidence: list[Evidence] = []
        for label in labels:
            seen: set[tuple[int, int, str, int]] = set()
            for scan, (rule, group, word, span, _) in fired[label]:
                seg = scan.segment
                source, index = seg.source, seg.index
                key = (rule, group, source, index)
                if key in seen:
                    continue
                seen.add(key)
                evidence.append(new_evidence(label, ids[rule], (word,), source, index, span, seg.field))
        return Classification(labels[0], tuple(labels), tuple(evidence))


def _fires(
    rules: RuleSet,
    target: Target,
    fired_rules: dict[int, list[tuple[SegmentScan, RuleHit]]],
    fired: dict[str, list[tuple[SegmentScan, RuleHit]]],
) -> list[tuple[SegmentScan, RuleHit]] | None:
    """The evidence for `target` if it fires, else None."""
    if any(name not in fired for name in target.requires):
        return None
    if target.requires_any and not any(name in fired for name in target.requires_any):
        return None
    if any(name in fired for name in target.unless):
        return None
    score = 0.0
    evidence: list[tuple[SegmentScan, RuleHit]] = []
    for ri in target.rules:
        hits = fired_rules.get(ri)
        if hits is None:
            continue
        weight = rules.rules[ri].weight
        score += weight
        if weight > 0:
            evidence.extend(hits)
    if target.rules and score < target.threshold:
        return None
    for name in (*target.requires, *target.requires_any):
        dep = fired.get(name)
        if dep is not None and not rules.target(name).is_category:
            evidence.extend(dep)
    return evidence
