"""One decision from the rules and the learned model.

Rules that fire with evidence stay in charge: trainers own them and they explain
themselves. The model decides where the rules are silent (a clear call worded in a way no
keyword list foresaw: its best category, if it is not `none` and scores at least `alone`),
adds a label beside the rules' when it is confident (`beside`), and overrules a rule only
where the rule is weak and only about words it learned from samples: a decoy it firmly
reads as an ordinary call (its `none` score exceeds the category's by `veto`), such as a
journalist opening an account, a word that here means another category (`overrule`), or a complaint level the
model reads the other way (`LEVEL_MARGIN`: a threat withdrawn).
Each category has its own thresholds (model.yaml in the pack; the defaults were measured on
calls written apart from the pack, docs/quality.md). A label the model chose carries
evidence too: the words of this call that weighed most, `rule: "model"`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assist.classifier.learned import Ids, TextModel
from assist.classifier.model import NONE, Classification, Evidence, SegmentScan
from assist.classifier.normalize import Normalized, normalize

MODEL_RULE = "model"
"""The `rule` of evidence that the learned model gave."""

LEVELS = ("complaint.general", "complaint.urgent")
"""The two levels of one grievance: a call has one of them (categories.md: an urgent complaint is a general one
made serious by a threat, a loss or a deadline), so a rule's level can be the wrong one of the two."""
LEVEL_MARGIN = 0.5
"""The model corrects a rule's complaint level when it reads the other level by this much more, confidently (at
that level's `beside`) — a threat withdrawn or in the past ("上周说要去12378，后来想想算了") leaves the rule's
urgent word but the call is a general complaint. Cross-validated over the folded blind calls: 0.3 and 0.5 alike,
0.7 lost decoys; over all three complaint categories it lost two-label calls about the agent (docs/quality.md,
session 12)."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Model scores (0 is the learned boundary) at which a category is labelled.

    `alone`: when the rules found nothing, the model's best category labels the call if it
    scores at least this.
    `beside`: the model adds the category to the call's labels at this score (higher: a
    second label the rules missed needs more confidence than a first one).
    `veto`: a label the rules found is dropped when the model's `none` score reaches `alone` and
    exceeds the category's score by this much (a large value turns the veto off)...
    `overrule`: ...or when the category scores below `alone` while another category scores at
    least this (the rules fired on a word that, here, means something else).
    """

    alone: float = -0.3
    beside: float = 0.4
    veto: float = -0.1
    overrule: float = 0.2


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """How the learned model takes part; `enabled=False` leaves the rules alone."""

    enabled: bool = True
    thresholds: Mapping[str, Thresholds] = field(default_factory=dict)
    minimum_samples: int = 8

    def for_category(self, category: str) -> Thresholds:
        return self.thresholds.get(category) or Thresholds()


def model_labels(scores: Mapping[str, float], settings: ModelSettings, priority: Sequence[str]) -> list[str]:
    """The model's labels on its own: its best category (at least `alone`) and any at `beside`."""
    best = max(scores, key=lambda c: scores[c])
    if best == NONE or scores[best] < settings.for_category(best).alone:
        return []
    return _ordered({best, *_beside(scores, settings, [best])}, priority)


def _beside(scores: Mapping[str, float], settings: ModelSettings, labels: Sequence[str]) -> list[str]:
    return [
        c
        for c, v in scores.items()
        if c != NONE and c not in labels and not _subsumed(c, labels) and v >= settings.for_category(c).beside
    ]


def _ordered(labels: set[str] | Sequence[str], priority: Sequence[str]) -> list[str]:
    rank = {c: i for i, c in enumerate(priority)}
    return sorted(labels, key=lambda c: rank.get(c, len(rank)))


def combine(
    rules: Classification,
    scores: Mapping[str, float] | None,
    model: TextModel,
    scans: Sequence[SegmentScan],
    settings: ModelSettings,
    priority: Sequence[str],
    features: Ids | None = None,
    normalized: Sequence[Normalized] | None = None,
) -> Classification:
    """The rules' decision, completed (and, for weak rule labels, corrected) by the model's `scores`
    for this call (None: nothing said or written yet that the model knows).

    `features`: the call's sorted feature ids (`TextModel.encode_call`) when the scans do not carry them
    (a cold call, `Classifier.classify`); `normalized`: the scans' segments normalised, when the caller has
    them (the model's evidence is searched for in them).
    """
    if scores is None:
        return rules
    if rules.category == NONE:
        labels = model_labels(scores, settings, priority)
        if not labels:
            return rules
        evidence = tuple(ev for c in labels for ev in model_evidence(model, scans, c, features, normalized))
        return Classification(labels[0], tuple(labels), evidence, "model")
    vetoed = {c for c in rules.labels if _vetoed(c, rules, model, scores, settings)}
    kept = [c for c in rules.labels if c not in vetoed]
    # Every rule label overruled: the model's own labels too (as if the rules were silent), so the category
    # that outscored a rule's word (`overrule`) is labelled even below `beside` rather than nothing at all.
    # A label just vetoed is not added back: a customer's line read alone can lift it to `beside` while the
    # call as a whole reads ordinary ("是不是你们系统出问题了？" answered by "余额不足").
    added = _beside(scores, settings, kept or [NONE])
    if not kept:
        added = _ordered({*added, *model_labels(scores, settings, priority)}, priority)
    added = [c for c in added if c not in vetoed]
    if kept == list(rules.labels) and not added:
        return rules
    if not kept and not added:
        return Classification(NONE, (NONE,), (), "rules+model")
    labels = _ordered({*kept, *added}, priority)
    evidence = (
        *(e for e in rules.evidence if e.category in kept),
        *(ev for c in added for ev in model_evidence(model, scans, c, features, normalized)),
    )
    return Classification(labels[0], tuple(labels), tuple(evidence), "rules+model")


def _vetoed(
    category: str, rules: Classification, model: TextModel, scores: Mapping[str, float], settings: ModelSettings
) -> bool:
    """The model overrules a rule's label only about words it learned from samples.

    A keyword a trainer just added (火星文) is new to the model, so the model has no view on it
    and the rule stands; a word the samples show in both ordinary and serious calls (记者, 系统)
    is one the model can judge in context.
    """
    t = settings.for_category(category)
    mine = scores.get(category, 0.0)
    none = scores.get(NONE, 0.0)
    # ordinary: the model would call it ordinary itself (`none` reaches `alone`, as a category must to be
    # labelled by the model alone) and reads it so by `veto` more than as the category. Without the first
    # part a call the model is unsure of throughout (every score low: names, account numbers, English)
    # lost a plain complaint to a `none` barely less unsure. And never a category the model itself reads
    # most: with a negative `veto` a short outage call ("验证码收不到，系统繁忙": outage 0.40, none 0.32)
    # lost the label both the rule and the model gave it (cross-validation and held-out sets unchanged).
    ordinary = none >= t.alone and none - mine >= t.veto and mine < max(scores.values())
    elsewhere = (
        mine < t.alone and max((v for c, v in scores.items() if c not in (category, NONE)), default=mine) >= t.overrule
    )
    said = [e for e in rules.evidence if e.category == category and e.rule != MODEL_RULE]
    if (ordinary or elsewhere) and _learned(model, [w for e in said for w in e.words]):
        return True
    # A level is set by its own rules' words (an urgent threat); the signals both levels require (a grievance
    # word) stay true of the other level, so they are not what the model must have learned to change it.
    own = [w for e in said if e.rule.startswith(category + "/") for w in e.words]
    return _other_level(category, rules, scores, settings) and _learned(model, own)


def _learned(model: TextModel, words: Sequence[str]) -> bool:
    """Every one of the rules' words is one the model learned from samples (and there is at least one)."""
    return bool(words) and all(model.knows(w) for w in words)


def _other_level(category: str, rules: Classification, scores: Mapping[str, float], settings: ModelSettings) -> bool:
    """The rules found one complaint level, and the model confidently reads the other one instead (`LEVEL_MARGIN`
    more, and at least its `beside`) while it would not have added the rules' level itself (below `beside`): the
    other level is then added as the model's own label (`combine`), so the call keeps a complaint."""
    if category not in LEVELS:
        return False
    other = LEVELS[1 - LEVELS.index(category)]
    mine, theirs = scores.get(category, 0.0), scores.get(other, 0.0)
    return (
        other not in rules.labels
        and mine < settings.for_category(category).beside
        and theirs >= settings.for_category(other).beside
        and theirs - mine >= LEVEL_MARGIN
    )


def _subsumed(category: str, labels: Sequence[str]) -> bool:
    """One complaint level per grievance: the model does not add a general complaint beside an urgent one."""
    general, urgent = LEVELS
    return category == general and urgent in labels


def model_evidence(
    model: TextModel,
    scans: Sequence[SegmentScan],
    category: str,
    features: Ids | None = None,
    normalized: Sequence[Normalized] | None = None,
) -> list[Evidence]:
    """Where the words that weighed most for `category` stand in the call.

    The strongest character pairs are found in the segments and those that touch or overlap are
    joined, so an agent reads "不给我解决我就" rather than three fragments of it. At most three
    stretches, strongest first. `features`, when given, are the call's (the scans then carry none):
    the same words are found, since a segment holds a word only if it has that word as a feature.
    `normalized`, when given, are the scans' segments normalised (else each is normalised when searched).
    """
    words = (
        model.strongest_of(features, category, n=8)
        if features is not None
        else model.strongest((s.features for s in scans), category, n=8)
    )
    found: dict[int, list[tuple[int, int, int]]] = {}  # scan index -> (start, end, rank) in the original
    texts: dict[int, Normalized] = {}  # normalised when first searched: the strongest words are usually early
    for rank, word in enumerate(words):
        for k, scan in enumerate(scans):
            if (scan.segment.source == "context") if features is not None else not scan.features:
                continue
            n = texts.get(k) if normalized is None else normalized[k]
            if n is None:
                n = texts[k] = normalize(scan.segment.text)
            at = n.text.find(word)
            if at >= 0:
                a, b = n.span(at, at + len(word))
                found.setdefault(k, []).append((a, b, rank))
                break
    stretches: list[tuple[int, int, int, int]] = []  # (best rank, scan index, start, end)
    for k, spans in found.items():
        spans.sort()
        cur = list(spans[0])
        for a, b, rank in spans[1:]:
            if a <= cur[1]:
                cur[1], cur[2] = max(cur[1], b), min(cur[2], rank)
            else:
                stretches.append((cur[2], k, cur[0], cur[1]))
                cur = [a, b, rank]
        stretches.append((cur[2], k, cur[0], cur[1]))
    out: list[Evidence] = []
    for _, k, a, b in sorted(stretches)[:3]:
        seg = scans[k].segment
        out.append(Evidence(category, MODEL_RULE, (seg.text[a:b],), seg.source, seg.index, (a, b), seg.field))
    return out
