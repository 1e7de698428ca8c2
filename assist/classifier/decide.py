"""Turn the rule hits of a whole call into labels with evidence.

A rule fires when all its keyword groups were found (in one segment, or anywhere in
the call for `within: call`). A target's score is the sum of its fired rules'
weights; it fires when the score reaches its threshold, everything it `requires`
fired, one of `requires_any` fired, and nothing in `unless` fired. Targets are
evaluated in dependency order (prepared by the compiler). Fired categories become
labels in priority order; with none, the call is `none`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from assist.classifier.model import NONE, Classification, Evidence, RuleHit, SegmentScan
from assist.classifier.ruleset import RuleSet, Target


def decide(rules: RuleSet, scans: Sequence[SegmentScan]) -> Classification:
    """Labels and evidence for the call whose segments produced `scans`."""
    found: dict[int, list[tuple[SegmentScan, RuleHit]]] = defaultdict(list)
    for scan in scans:
        for hit in scan.hits:
            found[hit.rule].append((scan, hit))
    fired_rules: dict[int, list[tuple[SegmentScan, RuleHit]]] = {}
    for ri, hits in found.items():
        rule = rules.rules[ri]
        if rule.within == "segment" or len({h.group for _, h in hits}) == len(rule.groups):
            fired_rules[ri] = hits

    fired: dict[str, list[tuple[SegmentScan, RuleHit]]] = {}
    for target in rules.targets:
        ev = _fires(rules, target, fired_rules, fired)
        if ev is not None:
            fired[target.name] = ev

    labels = [c for c in rules.priority if c != NONE and c in fired]
    if not labels:
        return Classification.empty()
    evidence: list[Evidence] = []
    for label in labels:
        seen: set[tuple[int, int, str, int]] = set()
        for scan, hit in fired[label]:
            seg = scan.segment
            key = (hit.rule, hit.group, seg.source, seg.index)
            if key in seen:
                continue
            seen.add(key)
            evidence.append(
                Evidence(
                    category=label,
                    rule=rules.rules[hit.rule].id,
                    words=(hit.word,),
                    source=seg.source,
                    index=seg.index,
                    span=hit.span,
                    field=seg.field,
                )
            )
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
