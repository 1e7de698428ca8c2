"""Fit the learned text model with scikit-learn, and estimate it honestly with k-fold cross-validation.

Pure functions of their inputs (data in, model out; a fixed seed, sorted vocabulary), so
the same samples always give the same model. They are CPU-heavy (about a second per
thousand samples), so the shells run them in a worker process, never in the live loop.
scikit-learn is imported here only: scoring (`learned.TextModel`) needs numpy alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assist.classifier.learned import TextModel, build_model, call_features

C = 0.5
"""LinearSVC regularisation, chosen by cross-validation on the default pack (0.25-1 are within a point)."""
FOLDS = 5
SEED = 0


@dataclass(frozen=True, slots=True)
class Example:
    """One training text (a call's segments, or one agent line) and its labels."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    alone: tuple[bool, ...] = ()
    """Per text: the model also reads it on its own (`TextModel.lifted`: a customer's line)."""


class TooFewExamples(ValueError):
    """A label has too few positive examples to learn from; `labels` names them."""

    def __init__(self, labels: Mapping[str, int], minimum: int) -> None:
        self.labels = dict(labels)
        self.minimum = minimum
        names = ", ".join(f"{k} ({v})" for k, v in labels.items())
        super().__init__(f"too few samples to train the model (at least {minimum} each): {names}")


def check_counts(examples: Sequence[Example], labels: Sequence[str], minimum: int) -> None:
    """Raise TooFewExamples naming every label with fewer than `minimum` positive examples."""
    counts = {lb: 0 for lb in labels}
    for ex in examples:
        for lb in set(ex.labels):
            if lb in counts:
                counts[lb] += 1
    few = {lb: n for lb, n in counts.items() if n < minimum}
    if few:
        raise TooFewExamples(few, minimum)


def _matrix(examples: Sequence[Example]) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        analyzer=call_features, binary=True, norm="l2", use_idf=True, smooth_idf=True, lowercase=False, dtype=np.float64
    )
    x = vec.fit_transform([ex.texts for ex in examples])
    return vec, x


def _fit(x: Any, examples: Sequence[Example], labels: Sequence[str], c: float) -> tuple[Any, Any]:
    """Weights (n_features x n_labels) and biases of one binary LinearSVC per label."""
    from sklearn.svm import LinearSVC

    coef = np.zeros((x.shape[1], len(labels)))
    bias = np.zeros(len(labels))
    for j, lb in enumerate(labels):
        y = np.array([lb in ex.labels for ex in examples], dtype=np.int8)
        if y.min() == y.max():  # nothing to separate: always (never) this label
            bias[j] = 1.0 if y[0] else -1.0
            continue
        clf = LinearSVC(C=c, class_weight="balanced", random_state=SEED, max_iter=5000)
        clf.fit(x, y)
        coef[:, j] = clf.coef_[0]
        bias[j] = clf.intercept_[0]
    return coef, bias


def train(
    examples: Sequence[Example], labels: Sequence[str], *, c: float = C, meta: Mapping[str, Any] | None = None
) -> TextModel:
    """Fit one-vs-rest linear models over binary TF-IDF features and export their weights."""
    vec, x = _matrix(examples)
    coef, bias = _fit(x, examples, labels, c)
    idf = vec.idf_
    features = vec.get_feature_names_out().tolist()
    keep = np.abs(coef).max(axis=1) > 1e-6  # features no label uses cost lookups and bytes for nothing
    weights = coef[keep] * idf[keep, None]
    return build_model(
        labels,
        [f for f, k in zip(features, keep, strict=True) if k],
        weights,
        bias,
        (idf[keep] ** 2),
        {"samples": len(examples), "c": c, **(meta or {})},
    )


def cross_validate(
    examples: Sequence[Example], labels: Sequence[str], *, folds: int = FOLDS, c: float = C
) -> list[dict[str, float]]:
    """Held-out decision scores for every example (k folds, stratified by the first label).

    A score on samples the model was trained on is not a score: each example here is
    scored by a model that never saw it.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    primary = [ex.labels[0] if ex.labels else "" for ex in examples]
    counts: dict[str, int] = {}
    for p in primary:
        counts[p] = counts.get(p, 0) + 1
    out: list[dict[str, float]] = [{} for _ in examples]
    if len(examples) < 2 * folds:
        return out
    # Stratify by primary label when every label has a sample in each fold; otherwise plain folds.
    splitter: Any = (
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
        if min(counts.values()) >= folds
        else KFold(n_splits=folds, shuffle=True, random_state=SEED)
    )
    for train_idx, test_idx in splitter.split(np.zeros(len(examples)), primary):
        model = train([examples[i] for i in train_idx], labels, c=c)
        for i in test_idx:
            encoded = [model.encode(t) for t in examples[i].texts]
            lines = (model.line_scores(e) for e, alone in zip(encoded, examples[i].alone, strict=False) if alone)
            out[i] = model.lifted(model.scores(encoded), lines)
    return out
