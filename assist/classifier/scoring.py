"""Score predicted labels against labelled calls, for the benchmark and the trainer console.

Pure functions over plain data: a labelled call is anything with an `id` and `labels`
(primary first); a prediction maps call id -> predicted labels (primary first). This
lets a trainer see what a rule change fixed and what it broke before publishing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assist.classifier.model import CATEGORY_IDS, NONE

Labels = Sequence[str]


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """Precision and recall of one category over all labels (not just the primary one)."""

    category: str
    true_pos: int
    false_pos: int
    false_neg: int

    @property
    def precision(self) -> float:
        found = self.true_pos + self.false_pos
        return self.true_pos / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Miss:
    """A call whose primary label was wrong."""

    id: str
    gold: tuple[str, ...]
    predicted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    total: int
    primary_correct: int
    exact_correct: int
    categories: tuple[CategoryScore, ...]
    confusions: tuple[tuple[str, str, int], ...]
    misses: tuple[Miss, ...]

    @property
    def primary_accuracy(self) -> float:
        return self.primary_correct / self.total if self.total else 0.0

    @property
    def exact_accuracy(self) -> float:
        """Share of calls whose whole label set is right."""
        return self.exact_correct / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class Change:
    """A call whose prediction differs between two runs, and whether it got better."""

    id: str
    gold: tuple[str, ...]
    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def fixed(self) -> bool:
        return bool(self.gold) and self.after[:1] == self.gold[:1] != self.before[:1]

    @property
    def broken(self) -> bool:
        return bool(self.gold) and self.before[:1] == self.gold[:1] != self.after[:1]


def gold_labels(calls: Sequence[Mapping[str, object]]) -> dict[str, tuple[str, ...]]:
    """id -> gold labels for labelled calls (calls without labels are skipped)."""
    out: dict[str, tuple[str, ...]] = {}
    for call in calls:
        labels = call.get("labels")
        if isinstance(labels, Sequence) and not isinstance(labels, str) and labels:
            out[str(call.get("id"))] = tuple(str(x) for x in labels)
    return out


def score(
    gold: Mapping[str, Labels],
    predicted: Mapping[str, Labels],
    categories: Sequence[str] = CATEGORY_IDS,
) -> Report:
    """Primary accuracy, per-category precision/recall, confusion pairs and misses."""
    total = primary = exact = 0
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    misses: list[Miss] = []
    for call_id, g in gold.items():
        p = tuple(predicted.get(call_id, (NONE,))) or (NONE,)
        g_t = tuple(g)
        total += 1
        if p[0] == g_t[0]:
            primary += 1
        else:
            confusions[(g_t[0], p[0])] += 1
            misses.append(Miss(call_id, g_t, p))
        if set(p) == set(g_t):
            exact += 1
        for c in categories:
            in_g, in_p = c in g_t, c in p
            if in_g and in_p:
                tp[c] += 1
            elif in_p:
                fp[c] += 1
            elif in_g:
                fn[c] += 1
    cats = tuple(CategoryScore(c, tp[c], fp[c], fn[c]) for c in categories)
    pairs = tuple((g, p, n) for (g, p), n in confusions.most_common())
    return Report(total, primary, exact, cats, pairs, tuple(misses))


def changes(gold: Mapping[str, Labels], before: Mapping[str, Labels], after: Mapping[str, Labels]) -> list[Change]:
    """Calls whose predicted labels differ between two runs (e.g. before and after a rule edit)."""
    out: list[Change] = []
    for call_id in sorted(set(before) | set(after)):
        b = tuple(before.get(call_id, ()))
        a = tuple(after.get(call_id, ()))
        if a != b:
            out.append(Change(call_id, tuple(gold.get(call_id, ())), b, a))
    return out
